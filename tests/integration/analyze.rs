//! Block 2 on the demo checkpoint: every sidecar against the DuckDB values it plots, the
//! report, the ANOVA against statsmodels, every figure's print size, the LaTeX tables through
//! `pdflatex` on an A4 page, and the refusal of a damaged or wrong-version checkpoint.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::extract::query;
use crate::support::{
    compile_on_a4, latex_available, mlrepro, repo_root, run_ok, shared_dir, write_file,
    ProjectConfig,
};

/// A project with the demo checkpoint extracted into it.
struct Project {
    root: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Project {
    /// Extracts the demo store into a new temporary project.
    fn extracted() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = Self::extracted_in(dir.path().to_path_buf());
        Self {
            _dir: Some(dir),
            ..p
        }
    }

    /// Extracts the demo store into the project directory `root`.
    fn extracted_in(root: PathBuf) -> Self {
        ProjectConfig::demo()
            .subjects()
            .figures_and_outputs()
            .analysis("reference_auroc: 0.9")
            .analysis("png_dpi: 100")
            .extra(
                "methods:\n  outlier:\n    names:\n      pupil-gt: {display: 'Ground truth & raw_50%', abbreviation: GT}\n    \
                 categories: [{equals: pupil-gt, category: Ground Truth}]\n  \
                 imputation:\n    categories: [{equals: pupil-gt, category: Ground Truth}]\n",
            )
            .write_in(&root, "config.yaml");
        run_ok(&root, &["-c", "config.yaml", "extract"]);
        Self { root, _dir: None }
    }

    /// The demo checkpoint extracted and analysed once for the whole test run, shared by the
    /// tests that only read what the analysis wrote; returned with its logical digest.
    fn analyzed() -> (&'static Self, &'static str) {
        static ANALYZED: OnceLock<(Project, String)> = OnceLock::new();
        let (p, digest) = ANALYZED.get_or_init(|| {
            let p = Self::extracted_in(shared_dir("analyze-demo"));
            let out = p.analyze();
            assert!(
                out.status.success(),
                "analyze failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let digest = crate::extract::logical_digest(&p.db());
            (p, digest)
        });
        (p, digest)
    }

    fn dir(&self) -> &Path {
        &self.root
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir().join(rel)
    }

    fn db(&self) -> PathBuf {
        self.path("public/results.duckdb")
    }

    fn analyze(&self) -> std::process::Output {
        mlrepro(self.dir())
            .args(["-c", "config.yaml", "analyze"])
            .output()
            .unwrap()
    }

    /// Runs `analyze --json`, requires success and returns its summary.
    fn analyze_json(&self) -> Json {
        let out = run_ok(self.dir(), &["-c", "config.yaml", "--json", "analyze"]);
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn sidecar(&self, name: &str) -> Json {
        let text =
            std::fs::read_to_string(self.path(&format!("figures/data/{name}.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

fn f(v: &Json) -> Option<f64> {
    v.as_f64()
}

fn close(what: &str, got: Option<f64>, want: Option<f64>, tol: f64) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() <= tol, "{what}: got {g}, want {w}"),
        (g, w) => assert_eq!(g, w, "{what}"),
    }
}

fn scalar(db: &Path, sql: &str) -> Option<f64> {
    match &query(db, sql)[0][0] {
        duckdb::types::Value::Double(x) => Some(*x),
        duckdb::types::Value::BigInt(x) => Some(*x as f64),
        duckdb::types::Value::HugeInt(x) => Some(*x as f64),
        duckdb::types::Value::Int(x) => Some(f64::from(*x)),
        duckdb::types::Value::Null => None,
        other => panic!("unexpected value {other:?} for {sql}"),
    }
}

fn text(db: &Path, sql: &str) -> Vec<String> {
    query(db, sql)
        .into_iter()
        .map(|r| match &r[0] {
            duckdb::types::Value::Text(s) => s.clone(),
            other => panic!("unexpected value {other:?}"),
        })
        .collect()
}

#[test]
fn every_figure_has_its_print_size() {
    let (p, _) = Project::analyzed();
    // Without the demo's abbreviations, the pipeline labels make the mean-rank diagram span
    // both columns.
    let printed = crate::print::check_print_sizes(
        &p.path("figures"),
        &crate::print::SINGLE_COLUMN,
        (183.0, 89.0),
        100,
    );
    assert_eq!(
        printed.len(),
        14,
        "every figure, the traces too: {printed:?}"
    );
}

/// A project of its own, extracted and analysed once, for a test that analyses it again.
fn analyzed_project() -> Project {
    let p = Project::extracted();
    let out = p.analyze();
    assert!(
        out.status.success(),
        "analyze failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p
}

#[test]
fn an_unchanged_checkpoint_is_not_analysed_again_nor_its_report_rewritten() {
    let p = analyzed_project();
    let report_before = std::fs::metadata(p.path("outputs/analysis_report.json"))
        .unwrap()
        .modified()
        .unwrap();
    let summary = p.analyze_json();
    for step in summary["steps"].as_array().unwrap() {
        assert_eq!(
            step["status"], "cached",
            "an unchanged checkpoint is not analysed again: {step}"
        );
    }
    let report_after = std::fs::metadata(p.path("outputs/analysis_report.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        report_before, report_after,
        "an unchanged report is not rewritten"
    );
}

#[test]
fn without_the_private_traces_only_the_traces_figure_reruns_and_is_skipped_with_its_reason() {
    let p = analyzed_project();
    std::fs::remove_file(p.path("private/demo_subjects_traces.pkl")).unwrap();
    let summary = p.analyze_json();
    let ran: Vec<&str> = summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "ran")
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(ran, ["subject_traces"]);
    let report = report_json(&p);
    assert_eq!(report["status"], "success");
    let traces = report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "subject_traces")
        .unwrap();
    assert_eq!(traces["status"], "skipped");
    assert!(
        traces["reason"]
            .as_str()
            .unwrap()
            .contains("demo_subjects_traces.pkl"),
        "{traces}"
    );
}

fn report_json(p: &Project) -> Json {
    serde_json::from_str(&std::fs::read_to_string(p.path("outputs/analysis_report.json")).unwrap())
        .unwrap()
}

/// The per-method rows of a sidecar against the checkpoint: N, mean, SD and the t-based CI
/// of the mean of AUROC over each level of `factor`, best first.
/// A method comparison's rows: every method once, with its configurations' count, mean and SD
/// from the checkpoint; the estimate inside its CI; contenders best first, then oracles (the
/// demo's ground-truth methods); thinly covered methods flagged.
fn check_methods(db: &Path, what: &str, factor: &str, methods: &[Json]) {
    let levels = text(
        db,
        &format!("SELECT DISTINCT {factor} FROM essential_metrics WHERE auroc_pbar IS NOT NULL"),
    );
    assert_eq!(methods.len(), levels.len(), "{what}");
    let most = scalar(db, &format!("SELECT max(n) FROM (SELECT count(*) AS n FROM essential_metrics WHERE auroc_pbar IS NOT NULL GROUP BY {factor})")).unwrap();
    let mut previous = (false, f64::INFINITY);
    for m in methods {
        let level = m["method"].as_str().unwrap();
        let filter =
            format!("FROM essential_metrics WHERE {factor} = '{level}' AND auroc_pbar IS NOT NULL");
        let n = scalar(db, &format!("SELECT count(*) {filter}")).unwrap();
        let mean = scalar(db, &format!("SELECT avg(auroc_pbar) {filter}"));
        let sd = scalar(db, &format!("SELECT stddev_samp(auroc_pbar) {filter}"));
        assert_eq!(m["n"].as_f64(), Some(n), "{what} {level}");
        close(
            &format!("{what} {level} mean"),
            f(&m["mean_auroc"]),
            mean,
            1e-12,
        );
        close(&format!("{what} {level} sd"), f(&m["sd"]), sd, 1e-12);
        let (lo, est, hi) = (
            f(&m["ci_lower"]).unwrap(),
            f(&m["estimate"]).unwrap(),
            f(&m["ci_upper"]).unwrap(),
        );
        assert!(lo < est && est < hi, "{what} {level}: {lo} {est} {hi}");
        assert_eq!(m["oracle"], level == "pupil-gt", "{what} {level} oracle");
        assert_eq!(m["fewer_configurations"], n < most, "{what} {level} fewer");
        let key = (m["oracle"].as_bool().unwrap(), est);
        assert!(
            (key.0 && !previous.0) || (key.0 == previous.0 && est <= previous.1),
            "{what}: contenders best first, then oracles"
        );
        previous = key;
    }
}

#[test]
fn dashboard_panels_summarise_each_method_from_the_checkpoint() {
    let (p, _) = Project::analyzed();
    let side = p.sidecar("dashboard");
    let panels = side["data"]["panels"].as_array().unwrap();
    let factors: Vec<&str> = panels
        .iter()
        .map(|x| x["factor"].as_str().unwrap())
        .collect();
    assert_eq!(
        factors,
        ["outlier_method", "imputation_method", "featurization"]
    );
    for panel in panels {
        let factor = panel["factor"].as_str().unwrap();
        check_methods(
            &p.db(),
            &format!("dashboard {factor}"),
            factor,
            panel["methods"].as_array().unwrap(),
        );
    }
}

#[test]
fn factorial_design_counts_the_checkpoint_s_configurations() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let data = &p.sidecar("factorial_design")["data"];
    let present = scalar(&db, "SELECT count(*) FROM (SELECT DISTINCT outlier_method, imputation_method, classifier, featurization FROM essential_metrics)");
    assert_eq!(f(&data["present"]), present);
    let mut possible = 1.0;
    for factor in data["factors"].as_array().unwrap() {
        let name = factor["factor"].as_str().unwrap();
        let levels = text(
            &db,
            &format!("SELECT DISTINCT {name} FROM essential_metrics ORDER BY 1"),
        );
        let got: Vec<&str> = factor["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(got, levels, "{name} levels");
        possible *= levels.len() as f64;
    }
    assert_eq!(f(&data["possible"]), Some(possible));
    assert_eq!(
        data["missing"].as_array().unwrap().len() as f64,
        possible - present.unwrap()
    );
    for (i, o) in data["rows"].as_array().unwrap().iter().enumerate() {
        for (j, m) in data["cols"].as_array().unwrap().iter().enumerate() {
            let want = scalar(&db, &format!("SELECT count(*) FROM essential_metrics WHERE outlier_method = '{}' AND imputation_method = '{}'", o.as_str().unwrap(), m.as_str().unwrap()));
            assert_eq!(f(&data["cells"][i][j]), want, "factorial cell {o} {m}");
        }
    }
}

#[test]
fn mean_rank_ranks_the_complete_sub_design_without_oracles() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let data = &p.sidecar("mean_rank")["data"];
    let got = data["pipelines"].as_array().unwrap();
    let blocks: Vec<String> = data["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "('{}', '{}')",
                b["classifier"].as_str().unwrap(),
                b["featurization"].as_str().unwrap()
            )
        })
        .collect();
    let pipelines: Vec<String> = got
        .iter()
        .map(|g| {
            format!(
                "('{}', '{}')",
                g["outlier_method"].as_str().unwrap(),
                g["imputation_method"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        !pipelines.iter().any(|p| p.contains("pupil-gt")),
        "oracle pipelines are not ranked"
    );
    // The demo's largest complete sub-design without ground truth: CSDI never meets the
    // embedding features, so only the three handcrafted-feature blocks hold all six pipelines.
    assert_eq!((blocks.len(), pipelines.len()), (3, 6));
    let rows = query(
        &db,
        &format!(
            "SELECT outlier_method, imputation_method, avg(r)::DOUBLE, count(*) FROM ( \
               SELECT outlier_method, imputation_method, \
                 (rank() OVER w + count(*) OVER (PARTITION BY classifier, featurization, auroc_pbar) - 1 + rank() OVER w) / 2.0 AS r \
               FROM essential_metrics WHERE auroc_pbar IS NOT NULL \
                 AND (classifier, featurization) IN ({}) AND (outlier_method, imputation_method) IN ({}) \
               WINDOW w AS (PARTITION BY classifier, featurization ORDER BY auroc_pbar DESC)) \
             GROUP BY ALL ORDER BY 3, 1, 2",
            blocks.join(", "),
            pipelines.join(", ")
        ),
    );
    assert_eq!(got.len(), rows.len());
    for (g, w) in got.iter().zip(rows) {
        let (
            duckdb::types::Value::Text(o),
            duckdb::types::Value::Text(i),
            duckdb::types::Value::Double(r),
            duckdb::types::Value::BigInt(n),
        ) = (&w[0], &w[1], &w[2], &w[3])
        else {
            panic!("{w:?}")
        };
        assert_eq!(g["outlier_method"], o.as_str());
        assert_eq!(g["imputation_method"], i.as_str());
        close(
            &format!("mean rank {o} {i}"),
            f(&g["mean_rank"]),
            Some(*r),
            1e-12,
        );
        assert_eq!(g["n_blocks"].as_i64(), Some(*n));
        assert_eq!(
            g["n_blocks"].as_u64(),
            Some(blocks.len() as u64),
            "complete"
        );
    }
    assert!(data["note"]
        .as_str()
        .unwrap()
        .contains("no significance test"));
}

/// The best `k` configurations that use no oracle method (the demo's `pupil-gt`).
fn top_ids(db: &Path, k: usize) -> Vec<i64> {
    query(db, &format!("SELECT config_id FROM essential_metrics WHERE auroc_pbar IS NOT NULL AND outlier_method <> 'pupil-gt' AND imputation_method <> 'pupil-gt' ORDER BY auroc_pbar DESC, config_id LIMIT {k}"))
        .into_iter()
        .map(|r| match r[0] { duckdb::types::Value::Int(i) => i64::from(i), ref o => panic!("{o:?}") })
        .collect()
}

#[test]
fn probability_distributions_count_the_top_configurations_predictions() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let panels = p.sidecar("probability_distributions")["data"]["panels"]
        .as_array()
        .unwrap()
        .clone();
    let ids: Vec<i64> = panels
        .iter()
        .map(|x| x["config_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, top_ids(&db, 4));
    for panel in &panels {
        let id = panel["config_id"].as_i64().unwrap();
        for outcome in [0, 1] {
            let got: Vec<f64> = panel[format!("count_outcome_{outcome}")]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let want: Vec<f64> = (0..got.len())
                .map(|b| scalar(&db, &format!("SELECT coalesce(sum(count), 0) FROM probability_distributions WHERE config_id = {id} AND outcome = {outcome} AND bin_index = {b}")).unwrap())
                .collect();
            assert_eq!(got, want, "distribution {id} outcome {outcome}");
        }
        let total: f64 = ["count_outcome_0", "count_outcome_1"]
            .iter()
            .flat_map(|k| {
                panel[*k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
            })
            .sum();
        assert_eq!(
            Some(total),
            scalar(
                &db,
                &format!("SELECT n_test FROM essential_metrics WHERE config_id = {id}")
            )
        );
    }
}

#[test]
fn retention_curves_match_the_checkpoint_down_to_thirty_subjects() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let data = &p.sidecar("retention_curves")["data"];
    let metrics = text(
        &db,
        "SELECT DISTINCT metric_name FROM retention_metrics ORDER BY 1",
    );
    let mut got_metrics: Vec<String> = data["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    got_metrics.sort();
    assert_eq!(got_metrics, metrics);
    let top = top_ids(&db, 5);
    let curves = data["curves"].as_array().unwrap();
    assert_eq!(curves.len(), metrics.len() * top.len());
    for c in curves {
        let (id, metric) = (
            c["config_id"].as_i64().unwrap(),
            c["metric"].as_str().unwrap(),
        );
        assert!(top.contains(&id));
        let rows = query(&db, &format!("SELECT retention_rate, metric_value FROM retention_metrics WHERE config_id = {id} AND metric_name = '{metric}' AND metric_value IS NOT NULL AND n_retained >= 30 ORDER BY retention_rate"));
        assert!(
            !rows.is_empty() && rows.len() < 20,
            "retention {id} {metric}: stops at 30 subjects"
        );
        same_points(
            &format!("retention {id} {metric}"),
            &c["retention_rate"],
            &c["metric_value"],
            &rows,
        );
    }
}

/// A sidecar's plotted points (`xs`, `ys`) are exactly the checkpoint's `rows` of two DOUBLE
/// columns, in order.
fn same_points(what: &str, xs: &Json, ys: &Json, rows: &[Vec<duckdb::types::Value>]) {
    let (xs, ys) = (xs.as_array().unwrap(), ys.as_array().unwrap());
    assert_eq!(xs.len(), rows.len(), "{what}");
    assert_eq!(ys.len(), rows.len(), "{what}");
    for (k, r) in rows.iter().enumerate() {
        let (duckdb::types::Value::Double(x), duckdb::types::Value::Double(y)) = (&r[0], &r[1])
        else {
            panic!("{what}: {r:?}")
        };
        assert_eq!((f(&xs[k]), f(&ys[k])), (Some(*x), Some(*y)), "{what} [{k}]");
    }
}

#[test]
fn subject_traces_show_the_demo_subjects_full_traces() {
    let (p, _) = Project::analyzed();
    let subjects = p.sidecar("subject_traces")["data"]["subjects"]
        .as_array()
        .unwrap()
        .clone();
    let codes: Vec<&str> = subjects
        .iter()
        .map(|s| s["subject_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["G001", "H001"]);
    for s in &subjects {
        let n = s["time"].as_array().unwrap().len();
        assert!(n > 100, "a trace has its samples");
        for key in ["pupil_raw", "pupil_gt", "outlier_mask"] {
            assert_eq!(s[key].as_array().unwrap().len(), n, "{key}");
        }
    }
}

#[test]
fn the_analysis_report_lists_every_figure_and_table_with_their_files() {
    let (p, digest) = Project::analyzed();
    let report: Json = serde_json::from_str(
        &std::fs::read_to_string(p.path("outputs/analysis_report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["status"], "success", "{report:#}");
    assert_eq!(report["logical_digest"], digest);
    assert_eq!(report["tool_version"], env!("CARGO_PKG_VERSION"));
    let figures = report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e, true));
    let names: Vec<&str> = report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "factorial_design",
            "dashboard",
            "forest_outlier",
            "forest_imputation",
            "forest_classifier",
            "forest_featurization",
            "heatmap",
            "specification_curve",
            "mean_rank",
            "calibration_curves",
            "decision_curves",
            "probability_distributions",
            "retention_curves",
            "subject_traces",
        ]
    );
    let tables = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e, false));
    for (e, is_figure) in figures.chain(tables) {
        assert_eq!(e["status"], "generated", "{e}");
        for file in e["files"].as_array().unwrap() {
            let name = file.as_str().unwrap();
            let dir = match (is_figure, name.ends_with(".json")) {
                (true, true) => "figures/data",
                (true, false) => "figures",
                (false, _) => "outputs",
            };
            let bytes = std::fs::read(p.path(&format!("{dir}/{name}"))).unwrap();
            assert!(!bytes.is_empty(), "{name} is empty");
            if name.ends_with(".png") {
                assert!(bytes.starts_with(b"\x89PNG"), "{name}");
            } else if name.ends_with(".pdf") {
                assert!(bytes.starts_with(b"%PDF"), "{name}");
            } else if name.ends_with(".svg") {
                assert!(String::from_utf8_lossy(&bytes).contains("<svg"), "{name}");
            }
        }
    }
}

#[test]
fn forest_plots_match_the_checkpoint_and_r_emmeans() {
    let (p, digest) = Project::analyzed();
    for factor in [
        "outlier_method",
        "imputation_method",
        "classifier",
        "featurization",
    ] {
        let name = format!("forest_{}", factor.trim_end_matches("_method"));
        let side = p.sidecar(&name);
        assert_eq!(side["logical_digest"], digest);
        assert_eq!(side["tool_version"], env!("CARGO_PKG_VERSION"));
        check_methods(
            &p.db(),
            &name,
            factor,
            side["data"]["methods"].as_array().unwrap(),
        );
        assert_eq!(f(&side["data"]["reference_auroc"]), Some(0.9));
        for row in r_golden()
            .iter()
            .filter(|r| r[0] == "emm" && r[1] == factor)
        {
            let m = side["data"]["methods"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["method"] == row[2].as_str())
                .unwrap_or_else(|| panic!("{name}: no method {}", row[2]));
            let r = |i: usize| row[i].parse::<f64>().ok();
            close(
                &format!("{name} {} EMM", row[2]),
                f(&m["estimate"]),
                r(3),
                1e-9,
            );
            close(
                &format!("{name} {} lower", row[2]),
                f(&m["ci_lower"]),
                r(6),
                1e-9,
            );
            close(
                &format!("{name} {} upper", row[2]),
                f(&m["ci_upper"]),
                r(7),
                1e-9,
            );
        }
    }
}

#[test]
fn heatmap_cells_are_mean_aurocs_of_the_most_covered_classifier() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let side = p.sidecar("heatmap");
    let clf = side["data"]["classifier"].as_str().unwrap().to_string();
    let most = text(
        &db,
        "SELECT classifier FROM essential_metrics WHERE auroc_pbar IS NOT NULL GROUP BY classifier ORDER BY count(*) DESC, classifier LIMIT 1",
    );
    assert_eq!(clf, most[0]);
    let rows = side["data"]["rows"].as_array().unwrap();
    let cols = side["data"]["cols"].as_array().unwrap();
    for (i, r) in rows.iter().enumerate() {
        for (j, c) in cols.iter().enumerate() {
            let want = scalar(
                &db,
                &format!(
                    "SELECT avg(auroc_pbar) FROM essential_metrics WHERE classifier = '{clf}' AND outlier_method = '{}' AND imputation_method = '{}' AND auroc_pbar IS NOT NULL",
                    r.as_str().unwrap(),
                    c.as_str().unwrap()
                ),
            );
            close(
                &format!("heatmap {r} {c}"),
                f(&side["data"]["values"][i][j]),
                want,
                1e-12,
            );
        }
    }
}

#[test]
fn specification_curve_plots_every_configuration_of_the_checkpoint() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let side = p.sidecar("specification_curve");
    let configs = side["data"]["configs"].as_array().unwrap();
    assert_eq!(
        Some(configs.len() as f64),
        scalar(&db, "SELECT count(auroc_pbar) FROM essential_metrics")
    );
    for c in configs {
        let id = c["config_id"].as_i64().unwrap();
        for col in [
            "auroc_pbar",
            "auroc_pbar_test_ci_lower",
            "auroc_pbar_test_ci_upper",
        ] {
            let want = scalar(
                &db,
                &format!("SELECT {col} FROM essential_metrics WHERE config_id = {id}"),
            );
            close(&format!("spec {id} {col}"), f(&c[col]), want, 0.0);
        }
        for col in [
            "outlier_method",
            "imputation_method",
            "classifier",
            "featurization",
        ] {
            let want = text(
                &db,
                &format!("SELECT {col} FROM essential_metrics WHERE config_id = {id}"),
            );
            assert_eq!(c[col], want[0].as_str());
        }
    }
}

#[test]
fn decision_curves_plot_the_top_configurations_and_treat_all_from_the_checkpoint() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let top = top_ids(&db, 5);
    let side = p.sidecar("decision_curves");
    let curves = side["data"]["curves"].as_array().unwrap();
    let ids: Vec<i64> = curves
        .iter()
        .map(|c| c["config_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids, top,
        "decision curves: the top_k configurations without an oracle"
    );
    for c in curves {
        let id = c["config_id"].as_i64().unwrap();
        let rows = query(
            &db,
            &format!("SELECT threshold, net_benefit_model FROM dca_curves WHERE config_id = {id} AND net_benefit_model IS NOT NULL ORDER BY threshold"),
        );
        same_points(
            &format!("dca {id}"),
            &c["threshold"],
            &c["net_benefit_model"],
            &rows,
        );
    }
    let first = side["data"]["curves"][0]["config_id"].as_i64().unwrap();
    let all = query(
        &db,
        &format!(
            "SELECT net_benefit_all FROM dca_curves WHERE config_id = {first} ORDER BY threshold"
        ),
    );
    let got = side["data"]["treat_all"]["net_benefit"].as_array().unwrap();
    assert_eq!(got.len(), all.len());
    for (g, w) in got.iter().zip(all) {
        assert_eq!(
            Some(g.as_f64().unwrap()),
            match w[0] {
                duckdb::types::Value::Double(d) => Some(d),
                _ => None,
            }
        );
    }
}

#[test]
fn calibration_panels_plot_the_top_configurations_predictions_and_events() {
    let (p, _) = Project::analyzed();
    let db = p.db();
    let top = top_ids(&db, 5);
    let panels = p.sidecar("calibration_curves")["data"]["panels"]
        .as_array()
        .unwrap()
        .clone();
    let ids: Vec<i64> = panels
        .iter()
        .map(|c| c["config_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, top, "calibration panels");
    for c in &panels {
        let id = c["config_id"].as_i64().unwrap();
        let rows = query(
            &db,
            &format!("SELECT y_prob, y_true::DOUBLE FROM predictions WHERE config_id = {id} ORDER BY y_prob, y_true"),
        );
        same_points(
            &format!("calibration {id}"),
            &c["predicted"],
            &c["observed"],
            &rows,
        );
        let fit = c["fitted"].as_array().unwrap();
        assert_eq!(fit.len(), rows.len(), "calibration {id}");
        for (k, v) in fit.iter().enumerate() {
            assert!(f(v).is_some(), "calibration {id} fitted[{k}]");
        }
        let events = scalar(
            &db,
            &format!("SELECT n_events FROM essential_metrics WHERE config_id = {id}"),
        );
        assert_eq!(f(&c["events"]), events, "calibration {id} events");
    }
}

/// The R golden values of the demo checkpoint (`scripts/fixtures/emmeans.sh`): one row per
/// level (`emm`) or factor (`f_test`).
fn r_golden() -> Vec<Vec<String>> {
    std::fs::read_to_string(repo_root().join("tests/fixtures/golden/emm/demo_expected.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|c| c.trim_matches('"').to_string())
                .collect()
        })
        .collect()
}

/// The ANOVA of the AUROC of p̄ agrees with R's drop1 F tests (the type II tests of a
/// main-effects model) on the demo checkpoint.
#[test]
fn anova_agrees_with_r_drop1() {
    let (p, _) = Project::analyzed();
    let ours: Json =
        serde_json::from_str(&std::fs::read_to_string(p.path("outputs/anova.json")).unwrap())
            .unwrap();
    let terms = ours["terms"].as_array().unwrap();
    let golden: Vec<Vec<String>> = r_golden()
        .into_iter()
        .filter(|r| r[0] == "f_test")
        .collect();
    assert_eq!(
        terms.len(),
        golden.len() + 1,
        "every factor and the residual"
    );
    for row in golden {
        let t = terms
            .iter()
            .find(|t| t["term"] == row[1].as_str())
            .unwrap_or_else(|| panic!("no term {}", row[1]));
        let r = |i: usize| row[i].parse::<f64>().ok();
        close(&format!("{} F", row[1]), f(&t["f"]), r(3), 1e-9);
        close(&format!("{} df", row[1]), f(&t["df"]), r(4), 1e-9);
        close(&format!("{} p", row[1]), f(&t["p"]), r(6), 1e-9);
    }
}

#[test]
fn latex_tables_name_their_provenance_quote_the_checkpoint_and_compile() {
    let (p, digest) = Project::analyzed();
    let outputs = p.path("outputs");
    let mut tex: Vec<String> = std::fs::read_dir(&outputs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tex"))
        .collect();
    tex.sort();
    assert_eq!(tex.len(), 9, "{tex:?}");
    for name in &tex {
        let body = std::fs::read_to_string(outputs.join(name)).unwrap();
        assert!(
            body.contains(digest) && body.contains(env!("CARGO_PKG_VERSION")),
            "{name} names its provenance"
        );
    }
    let numbers = std::fs::read_to_string(outputs.join("numbers.tex")).unwrap();
    let n = scalar(&p.db(), "SELECT count(auroc_pbar) FROM essential_metrics").unwrap();
    assert!(
        numbers.contains(&format!("\\providecommand{{\\nConfigs}}{{{n}}}")),
        "{numbers}"
    );
    let comparison = std::fs::read_to_string(outputs.join("comparison_outlier.tex")).unwrap();
    assert!(
        comparison.contains("Ground truth \\& raw\\_\\allowbreak{}50\\%"),
        "{comparison}"
    );
    let sizes = query(
        &p.db(),
        "SELECT DISTINCT n_test, n_events, n_bootstrap FROM essential_metrics",
    );
    assert_eq!(sizes.len(), 1, "the demo has one test set and one B");
    let [n, events, b] = [0, 1, 2].map(|i| match &sizes[0][i] {
        duckdb::types::Value::Int(v) => v.to_string(),
        other => panic!("unexpected {other:?}"),
    });
    for name in tex.iter().filter(|t| *t != "numbers.tex") {
        let body = std::fs::read_to_string(outputs.join(name)).unwrap();
        let caption = body.lines().find(|l| l.starts_with("\\caption{")).unwrap();
        assert!(
            caption.contains(&format!(
                "Test set of {n} subjects, {events} with the event; $B = {b}$"
            )),
            "{name} gives the test set and B: {caption}"
        );
        for (abbreviation, used) in [
            (
                "GT, Ground truth \\& raw\\_50\\%",
                body.contains("& GT &") || body.contains("GT +"),
            ),
            ("Ens-7, Ensemble (7 detectors)", body.contains("Ens-7")),
            ("HC, Handcrafted", body.contains("& HC &")),
            ("O:E, observed:expected ratio", body.contains("{O:E}")),
        ] {
            assert_eq!(
                caption.contains(abbreviation),
                used,
                "{name} defines {abbreviation} exactly when it uses it: {caption}"
            );
        }
    }
    let count = |sql: &str| scalar(&p.db(), sql).unwrap().to_string();
    for (name, value) in [
        ("nSubjects", n.clone()),
        ("nEvents", events.clone()),
        ("nBootstrap", b),
        (
            "nPossibleConfigs",
            count("SELECT count(DISTINCT outlier_method) * count(DISTINCT imputation_method) * count(DISTINCT classifier) * count(DISTINCT featurization) FROM essential_metrics"),
        ),
        (
            "nPresentConfigs",
            count("SELECT count(*) FROM (SELECT DISTINCT outlier_method, imputation_method, classifier, featurization FROM essential_metrics)"),
        ),
    ] {
        assert!(
            numbers.contains(&format!("\\providecommand{{\\{name}}}{{{value}}}")),
            "{name}: {numbers}"
        );
    }
    // The ANOVA macros say what anova.json says (checked against statsmodels above).
    let anova: Json =
        serde_json::from_str(&std::fs::read_to_string(outputs.join("anova.json")).unwrap())
            .unwrap();
    for t in anova["terms"].as_array().unwrap() {
        let camel: String = t["term"]
            .as_str()
            .unwrap()
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        let mut want = vec![(
            format!("anovaDf{camel}"),
            format!("{:.0}", f(&t["df"]).unwrap()),
        )];
        if let Some(fv) = f(&t["f"]) {
            want.push((format!("anovaF{camel}"), format!("{fv:.2}")));
        }
        for (name, value) in want {
            assert!(
                numbers.contains(&format!("\\providecommand{{\\{name}}}{{{value}}}")),
                "{name} = {value}: {numbers}"
            );
        }
    }
    if !latex_available() {
        return;
    }
    for name in &tex {
        let uses_numbers = name == "numbers.tex";
        let log = compile_on_a4(
            &outputs.join(name),
            if !uses_numbers {
                ""
            } else {
                "Best: \\bestPipeline, \\bestAUROC; \\nSubjects subjects, \\nEvents events (\\prevalencePercent), B = \\nBootstrap; outlier F = \\anovaFOutlierMethod, p = \\anovaPOutlierMethod."
            },
        );
        assert!(
            !log.contains("Overfull \\hbox"),
            "{name} is wider than an A4 text width:\n{}",
            log.lines()
                .filter(|l| l.starts_with("Overfull"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// `paired_comparisons.json` against DeLong recomputed from the checkpoint's predictions, its
/// reference against the rule (best `auroc_pbar` without a ground-truth method), and the
/// tables and macros that quote the same numbers.
#[test]
fn paired_comparisons_match_delong_recomputed_from_the_predictions() {
    let (p, digest) = Project::analyzed();
    let doc: Json = serde_json::from_str(
        &std::fs::read_to_string(p.path("outputs/paired_comparisons.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["logical_digest"], digest);
    let db = p.db();
    let best = text(
        &db,
        "SELECT source_name FROM essential_metrics WHERE outlier_method <> 'pupil-gt' \
         AND imputation_method <> 'pupil-gt' ORDER BY auroc_pbar DESC, config_id LIMIT 1",
    );
    let reference = &doc["reference"];
    assert_eq!(reference["source_name"].as_str().unwrap(), best[0]);
    let ref_id = reference["config_id"].as_i64().unwrap();
    close(
        "reference auroc_pbar",
        f(&reference["auroc_pbar"]),
        scalar(
            &db,
            &format!("SELECT auroc_pbar FROM essential_metrics WHERE config_id = {ref_id}"),
        ),
        0.0,
    );
    let comparisons = doc["comparisons"].as_array().unwrap();
    let n = scalar(&db, "SELECT count(*) FROM essential_metrics").unwrap() as usize;
    assert_eq!(comparisons.len(), n - 1);
    let predictions = |id: i64| -> (Vec<i64>, Vec<f64>) {
        query(
            &db,
            &format!("SELECT y_true::BIGINT, y_prob FROM predictions WHERE config_id = {id} ORDER BY subject_code"),
        )
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (duckdb::types::Value::BigInt(y), duckdb::types::Value::Double(p)) => (*y, *p),
            other => panic!("unexpected {other:?}"),
        })
        .unzip()
    };
    let (y, p_ref) = predictions(ref_id);
    let mut p_values = Vec::new();
    for c in comparisons {
        assert_eq!(c["n_paired"].as_u64(), Some(y.len() as u64), "{c}");
        let (y_c, p_c) = predictions(c["config_id"].as_i64().unwrap());
        assert_eq!(y_c, y, "the demo's configurations share their subjects");
        let t = mlrepro::metrics::delong_paired(&y, &p_c, &p_ref).unwrap();
        close("z", f(&c["z"]), Some(t.z), 1e-12);
        close("p", f(&c["p_value"]), Some(t.p_value), 1e-12);
        p_values.push(t.p_value);
    }
    let holm = mlrepro::analyze::paired::holm(&p_values);
    for (c, adjusted) in comparisons.iter().zip(holm) {
        close("p_holm", f(&c["p_holm"]), Some(adjusted), 1e-12);
    }
    let numbers = std::fs::read_to_string(p.path("outputs/numbers.tex")).unwrap();
    let auroc = format!("{:.3}", f(&reference["auroc_pbar"]).unwrap());
    assert!(
        numbers.contains(&format!(
            "\\providecommand{{\\pairedReferenceAUROC}}{{{auroc}}}"
        )),
        "{numbers}"
    );
    assert!(numbers.contains(&format!(
        "\\providecommand{{\\pairedSignificant}}{{{}}}",
        doc["n_significant"]
    )));
    // The top pipelines table ranks by the same estimator and quotes the same interval.
    let top = std::fs::read_to_string(p.path("outputs/top_pipelines.tex")).unwrap();
    let max = scalar(&db, "SELECT max(auroc_pbar) FROM essential_metrics").unwrap();
    assert!(top.contains("\n1 & "), "{top}");
    assert!(top.contains(&format!("{max:.3}")), "{top}");
    let stratos = std::fs::read_to_string(p.path("outputs/stratos.tex")).unwrap();
    let reference_row = text(
        &db,
        &format!("SELECT printf('%.3f--%.3f', auroc_pbar_test_ci_lower, auroc_pbar_test_ci_upper) FROM essential_metrics WHERE config_id = {ref_id}"),
    );
    assert!(
        stratos.contains(&reference_row[0]) && top.contains(&reference_row[0]),
        "the reference's DeLong interval {} is in both tables",
        reference_row[0]
    );
}

#[test]
fn an_unknown_reference_config_is_a_configuration_error() {
    let p = Project::extracted();
    let config = std::fs::read_to_string(p.path("config.yaml")).unwrap();
    write_file(
        p.dir(),
        "config.yaml",
        &config.replace(
            "analysis:\n",
            "analysis:\n  reference_config: 'no such run'\n",
        ),
    );
    let out = p.analyze();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("analysis.reference_config"), "{stderr}");
    assert!(!stderr.contains("no such run"), "{stderr}");
}

/// Rewrites the `.sha256` beside `db` to match its content, as for a checkpoint changed on
/// purpose.
pub fn rewrite_checksum(db: &Path) {
    let digest = Sha256::digest(std::fs::read(db).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let name = db.file_name().unwrap().to_string_lossy();
    std::fs::write(
        db.with_extension("duckdb.sha256"),
        format!("{hex}  {name}\n"),
    )
    .unwrap();
}

#[test]
fn analyze_refuses_a_damaged_checkpoint() {
    let p = Project::extracted();
    let db = p.db();
    let mut damaged = std::fs::read(&db).unwrap();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0xff;
    std::fs::write(&db, &damaged).unwrap();
    let out = p.analyze();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A project whose checkpoint says it has schema version 999 (its `.sha256` agreeing), and
/// the output of `analyze` on it.
fn analyzed_with_another_schema_version() -> (Project, std::process::Output) {
    let p = Project::extracted();
    let db = p.db();
    {
        let conn = duckdb::Connection::open(&db).unwrap();
        conn.execute_batch("UPDATE metadata SET value = '999' WHERE key = 'schema_version'")
            .unwrap();
    }
    rewrite_checksum(&db);
    let out = p.analyze();
    (p, out)
}

#[test]
fn analyze_refuses_a_checkpoint_of_another_schema_version_naming_both() {
    let (_p, out) = analyzed_with_another_schema_version();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("schema_version") && err.contains("999"),
        "{err}"
    );
}

#[test]
fn a_refused_checkpoint_draws_nothing_and_the_report_says_why() {
    let (p, _) = analyzed_with_another_schema_version();
    assert!(
        !p.path("figures/heatmap.png").exists(),
        "no figure is drawn from a refused checkpoint"
    );
    let report = report_json(&p);
    assert_eq!(report["status"], "failed");
    for e in report["figures"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["tables"].as_array().unwrap())
    {
        assert_eq!(e["status"], "not_run", "{e}");
        assert!(
            e["reason"].as_str().unwrap().contains("`verify` failed"),
            "{e}"
        );
    }
}

fn step_of<'a>(summary: &'a Json, name: &str) -> &'a Json {
    summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {summary}"))
}

#[test]
fn custom_steps_are_cached_retried_and_never_leave_a_broken_output() {
    let p = Project::extracted();
    let config = std::fs::read_to_string(p.path("config.yaml")).unwrap();
    write_file(
        p.dir(),
        "config.yaml",
        &format!(
            "{config}runner:\n  attempts: 3\n  backoff_initial_ms: 1\n  backoff_max_ms: 2\n  custom_steps:\n    \
             - {{name: r-figure, command: [sh, fig.sh], inputs: [fig.sh, public/results.duckdb], outputs: [outputs/fig.txt]}}\n"
        ),
    );
    let run = || {
        let out = mlrepro(p.dir())
            .args(["-c", "config.yaml", "--json", "analyze"])
            .output()
            .unwrap();
        let summary: Json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
        (
            out.status.code(),
            summary,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    write_file(
        p.dir(),
        "fig.sh",
        "test -n \"$MLREPRO_DB\" && mkdir -p outputs && echo v1 > outputs/fig.txt\n",
    );
    let (code, summary, err) = run();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(step_of(&summary, "custom:r-figure")["status"], "ran");
    assert_eq!(
        std::fs::read_to_string(p.path("outputs/fig.txt")).unwrap(),
        "v1\n"
    );

    let (code, summary, _) = run();
    assert_eq!(code, Some(0));
    assert_eq!(step_of(&summary, "custom:r-figure")["status"], "cached");

    // A failing script: not retried, its half-written output replaced by the previous one.
    write_file(
        p.dir(),
        "fig.sh",
        "echo partial > outputs/fig.txt\necho boom >&2\nexit 3\n",
    );
    let (code, summary, err) = run();
    assert_eq!(code, Some(1), "{err}");
    let step = step_of(&summary, "custom:r-figure");
    assert_eq!(step["status"], "failed");
    assert_eq!(step["attempts"], 1);
    let error = step["error"].as_str().unwrap();
    assert!(
        error.contains("exited with status 3") && error.contains("boom"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(p.path("outputs/fig.txt")).unwrap(),
        "v1\n"
    );
    assert_eq!(
        step_of(&summary, "tables")["status"],
        "cached",
        "other steps are unaffected"
    );

    // Exit status 75 (EX_TEMPFAIL) is transient: retried, and recorded as flaky.
    write_file(
        p.dir(),
        "fig.sh",
        "n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count\n[ $n -ge 2 ] || exit 75\necho v2 > outputs/fig.txt\n",
    );
    let (code, summary, err) = run();
    assert_eq!(code, Some(0), "{err}");
    let step = step_of(&summary, "custom:r-figure");
    assert_eq!(step["status"], "flaky");
    assert_eq!(step["attempts"], 2);
    assert_eq!(
        std::fs::read_to_string(p.path("outputs/fig.txt")).unwrap(),
        "v2\n"
    );
}
