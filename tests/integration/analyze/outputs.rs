//! What `analyze` writes beside the figures, on the demo checkpoint: the analysis report,
//! the ANOVA against R's drop1, the LaTeX tables and macros (provenance, captions, A4 width
//! through `pdflatex`) and the paired DeLong comparisons.

use serde_json::Value as Json;

use super::{close, f, r_golden, scalar, text, Project};
use crate::extract::query;
use crate::support::{compile_on_a4, latex_available};

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
