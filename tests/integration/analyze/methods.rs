//! The figures that compare methods, against the demo checkpoint: the dashboard, the
//! factorial design, the mean ranks, the forest plots (and R's emmeans), the heatmap and
//! the specification curve.

use std::path::Path;

use serde_json::Value as Json;

use super::{close, f, r_golden, scalar, text, Project};
use crate::extract::query;

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
