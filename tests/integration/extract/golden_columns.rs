//! Every column of an extraction from each fixture store against the golden files, and the
//! same content whatever the thread count.

use std::collections::BTreeMap;

use duckdb::types::Value;
use serde_json::Value as Json;

use super::{as_text, extract_fixture, query, Extraction};
use crate::golden::{self, float};

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::Double(x) => Some(*x),
        Value::Int(x) => Some(f64::from(*x)),
        Value::BigInt(x) => Some(*x as f64),
        other => panic!("{other:?} is not a number"),
    }
}

/// Asserts two optional floats agree: both absent, or within `abs` (or `rel` relative).
fn close(what: &str, got: Option<f64>, want: Option<f64>, abs: f64, rel: f64) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            let tol = abs.max(rel * w.abs());
            assert!(
                (g - w).abs() <= tol,
                "{what}: got {g}, golden {w} (difference {:e})",
                (g - w).abs()
            );
        }
        _ => panic!("{what}: got {got:?}, golden {want:?}"),
    }
}

const ABS: f64 = 1e-9;
const LOGISTIC: [&str; 3] = [
    "calibration_slope",
    "calibration_intercept",
    "calibration_in_the_large",
];

/// The relative tolerance of column `col`: 1e-6 for the iteratively fitted logistic metrics,
/// none for the rest.
fn relative_tolerance(col: &str) -> f64 {
    if LOGISTIC.iter().any(|m| col.starts_with(m)) {
        1e-6
    } else {
        0.0
    }
}

fn check_against_golden(backend: &str, x: &Extraction) {
    let db = x.db();
    let anon: BTreeMap<String, String> = serde_json::from_value(
        golden::load(&format!("anonymization/{backend}.json"))["mapping"].clone(),
    )
    .expect("anonymization golden has a mapping");
    let essential_cols: Vec<String> = query(&db, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'essential_metrics' ORDER BY column_index")
        .into_iter()
        .map(|r| as_text(&r[0]))
        .collect();
    let delong_golden = golden::load("delong.json");
    let delong = delong_golden["runs"].as_array().unwrap();
    let mut delong_checked = 0;
    let golden_bootstrap = golden::load("test_bootstrap.json");
    let bootstrap = golden_bootstrap["runs"].as_array().unwrap();
    let defaults = mlrepro::config::TestBootstrapConfig::default();
    assert_eq!(golden_bootstrap["seed"].as_u64(), Some(defaults.seed));
    assert_eq!(
        golden_bootstrap["resamples"].as_u64(),
        Some(defaults.resamples as u64)
    );
    let mut bootstrap_checked = 0;
    let mut included = 0;
    for run in golden::manifest_runs(backend) {
        let status = query(
            &db,
            &format!(
                "SELECT status, reason, config_id FROM extraction_runs WHERE run_id = '{}'",
                run.run_id
            ),
        );
        assert_eq!(
            status.len(),
            1,
            "run {} ({}) is not listed in extraction_runs",
            run.run_id,
            run.key
        );
        let reason = as_text(&status[0][1]);
        assert_eq!(
            as_text(&status[0][0]),
            run.expected,
            "run {} ({}): {reason}",
            run.run_id,
            run.key
        );
        if let Some(keyword) = &run.reason {
            let expected = match keyword.as_str() {
                "duplicate" => "duplicate of",
                "deleted" => "deleted run",
                "status" => "run status is",
                "synthetic" => "synthetic run",
                "run_name" => "run name",
                "missing_pickle" => "not found",
                "truncated_pickle" => "truncated",
                "unsafe_global" => "refused global",
                _ => "",
            };
            assert!(
                reason.contains(expected),
                "run {} ({}): reason `{reason}` does not say `{expected}`",
                run.run_id,
                run.key
            );
        }
        if run.expected != "included" {
            continue;
        }
        included += 1;
        let g = golden::load(&format!("metrics/{backend}/{}.json", run.run_id));
        let config_id = as_f64(&status[0][2]).unwrap() as i64;
        let row = &query(
            &db,
            &format!("SELECT * FROM essential_metrics WHERE config_id = {config_id}"),
        )[0];
        for (i, col) in essential_cols.iter().enumerate() {
            let Some(want) = g.get(col) else { continue };
            if [
                "run_id",
                "source_name",
                "classifier",
                "featurization",
                "imputation_method",
                "outlier_method",
            ]
            .contains(&col.as_str())
            {
                continue;
            }
            let rel = relative_tolerance(col);
            close(
                &format!("{} {col}", run.key),
                as_f64(&row[i]),
                float(want),
                ABS,
                rel,
            );
        }
        // The AUROC of p̄ and its DeLong interval against R's pROC.
        if let Some(d) = delong.iter().find(|d| {
            d["backend"].as_str() == Some(backend) && d["run_id"].as_str() == Some(&run.run_id)
        }) {
            for (col, key) in [
                ("auroc_pbar", "auc"),
                ("auroc_pbar_test_ci_lower", "ci_lower"),
                ("auroc_pbar_test_ci_upper", "ci_upper"),
            ] {
                let i = essential_cols.iter().position(|c| c == col).unwrap();
                close(
                    &format!("{} {col} (pROC)", run.key),
                    as_f64(&row[i]),
                    float(&d[key]),
                    ABS,
                    0.0,
                );
            }
            delong_checked += 1;
        }
        // The test-set bootstrap against an independent Python implementation.
        if let Some(b) = bootstrap.iter().find(|b| {
            backend == golden_bootstrap["backend"].as_str().unwrap()
                && b["run_id"].as_str() == Some(&run.run_id)
        }) {
            for (i, col) in essential_cols.iter().enumerate() {
                let Some(want) = b
                    .get(col)
                    .filter(|_| col.contains("_pbar") || col.contains("_test_ci_"))
                else {
                    continue;
                };
                let rel = relative_tolerance(col);
                close(
                    &format!("{} {col} (test bootstrap)", run.key),
                    as_f64(&row[i]),
                    float(want),
                    ABS,
                    rel,
                );
            }
            for (key, want) in b.as_object().unwrap() {
                let Some(metric) = key.strip_suffix("_left_out") else {
                    continue;
                };
                let reason = query(
                    &db,
                    &format!("SELECT reason FROM metric_notes WHERE config_id = {config_id} AND metric = '{metric}'"),
                )
                .first()
                .map(|r| as_text(&r[0]))
                .unwrap_or_default();
                let left_out: u64 = reason
                    .split("; ")
                    .filter(|part| part.contains(" test-set resamples left out"))
                    .map(|part| part.split(' ').next().unwrap().parse::<u64>().unwrap())
                    .sum();
                assert_eq!(
                    left_out,
                    want.as_u64().unwrap(),
                    "{} {metric}: {reason}",
                    run.key
                );
            }
            bootstrap_checked += 1;
        }
        let preds = query(&db, &format!("SELECT subject_code, y_true, y_prob, y_prob_std FROM predictions WHERE config_id = {config_id} ORDER BY prediction_id"));
        let gp = g["predictions"].as_array().unwrap();
        assert_eq!(preds.len(), gp.len(), "{}: predictions", run.key);
        for (p, w) in preds.iter().zip(gp) {
            assert_eq!(
                as_text(&p[0]),
                anon[w["original_code"].as_str().unwrap()],
                "{}: anonymous code",
                run.key
            );
            assert_eq!(as_f64(&p[1]), float(&w["y_true"]));
            close("y_prob", as_f64(&p[2]), float(&w["y_prob"]), 0.0, 0.0);
            close(
                "y_prob_std",
                as_f64(&p[3]),
                float(&w["y_prob_std"]),
                0.0,
                0.0,
            );
        }
        let dca = query(&db, &format!("SELECT threshold, net_benefit_model, net_benefit_all, net_benefit_none, sensitivity, specificity FROM dca_curves WHERE config_id = {config_id} ORDER BY threshold"));
        let gd = g["dca"].as_array().unwrap();
        assert_eq!(dca.len(), gd.len(), "{}: DCA rows", run.key);
        for (d, w) in dca.iter().zip(gd) {
            for (i, k) in [
                "threshold",
                "net_benefit_model",
                "net_benefit_all",
                "net_benefit_none",
                "sensitivity",
                "specificity",
            ]
            .iter()
            .enumerate()
            {
                close(
                    &format!("{} dca {k}", run.key),
                    as_f64(&d[i]),
                    float(&w[*k]),
                    ABS,
                    0.0,
                );
            }
        }
        let cal = query(&db, &format!("SELECT bin_lower, bin_upper, n_samples, predicted_mean, observed_proportion FROM calibration_curves WHERE config_id = {config_id} ORDER BY bin_index"));
        let gc = g["calibration_curve"].as_array().unwrap();
        assert_eq!(cal.len(), gc.len(), "{}: calibration bins", run.key);
        for (c, w) in cal.iter().zip(gc) {
            for (i, k) in [
                "bin_lower",
                "bin_upper",
                "n_samples",
                "predicted_mean",
                "observed_proportion",
            ]
            .iter()
            .enumerate()
            {
                close(
                    &format!("{} calibration {k}", run.key),
                    as_f64(&c[i]),
                    float(&w[*k]),
                    ABS,
                    0.0,
                );
            }
        }
        let hist = query(&db, &format!("SELECT outcome, bin_index, bin_start, bin_end, count FROM probability_distributions WHERE config_id = {config_id} ORDER BY outcome, bin_index"));
        let gh: Vec<&Json> = g["probability_distributions"]
            .as_array()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(hist.len(), gh.len(), "{}: histogram rows", run.key);
        for (h, w) in hist.iter().zip(gh) {
            for (i, k) in ["outcome", "bin_index", "bin_lower", "bin_upper", "count"]
                .iter()
                .enumerate()
            {
                close(
                    &format!("{} histogram {k}", run.key),
                    as_f64(&h[i]),
                    float(&w[*k]),
                    0.0,
                    0.0,
                );
            }
        }
        let dist = &query(&db, &format!("SELECT auroc, median_cases, mean_cases, median_controls, mean_controls, n_cases, n_controls FROM distribution_stats WHERE config_id = {config_id}"))[0];
        for (i, k) in [
            "auroc",
            "median_cases",
            "mean_cases",
            "median_controls",
            "mean_controls",
            "n_cases",
            "n_controls",
        ]
        .iter()
        .enumerate()
        {
            close(
                &format!("{} distribution {k}", run.key),
                as_f64(&dist[i]),
                float(&g["distribution_stats"][*k]),
                ABS,
                0.0,
            );
        }
        for w in g["retention"].as_array().unwrap() {
            let rate = float(&w["retention_rate"]).unwrap();
            for k in ["auroc", "brier", "scaled_brier", "net_benefit"] {
                let got = query(&db, &format!("SELECT metric_value, n_retained FROM retention_metrics WHERE config_id = {config_id} AND metric_name = '{k}' AND retention_rate = {rate:?}"));
                assert_eq!(got.len(), 1, "{}: retention {k} at {rate}", run.key);
                assert_eq!(
                    as_f64(&got[0][1]),
                    float(&w["n_kept"]),
                    "{}: retained at {rate}",
                    run.key
                );
                close(
                    &format!("{} retention {k} at {rate}", run.key),
                    as_f64(&got[0][0]),
                    float(&w[k]),
                    ABS,
                    0.0,
                );
            }
        }
        let supp = &query(&db, &format!("SELECT f1_score, f1_score_ci_lower, f1_score_ci_upper, aupr, aupr_ci_lower, aupr_ci_upper, sensitivity, sensitivity_ci_lower, sensitivity_ci_upper, specificity, specificity_ci_lower, specificity_ci_upper, ppv, ppv_ci_lower, ppv_ci_upper, npv, npv_ci_lower, npv_ci_upper, accuracy, accuracy_ci_lower, accuracy_ci_upper FROM supplementary_metrics WHERE config_id = {config_id}"))[0];
        for (i, key) in [
            "F1",
            "AUPR",
            "sensitivity",
            "specificity",
            "PPV",
            "NPV",
            "accuracy",
        ]
        .iter()
        .enumerate()
        {
            let w = &g["supplementary"][*key];
            for (j, k) in ["mean", "ci_lower", "ci_upper"].iter().enumerate() {
                close(
                    &format!("{} supplementary {key} {k}", run.key),
                    as_f64(&supp[3 * i + j]),
                    float(&w[*k]),
                    ABS,
                    0.0,
                );
            }
        }
    }
    assert!(
        included >= 6,
        "only {included} included runs in the {backend} manifest"
    );
    assert_eq!(x.summary["included"].as_u64().unwrap(), included as u64);
    assert!(
        delong_checked >= 5,
        "only {delong_checked} runs checked against pROC"
    );
    if backend == golden_bootstrap["backend"].as_str().unwrap() {
        assert!(
            bootstrap_checked >= 5,
            "only {bootstrap_checked} runs checked against the Python test bootstrap"
        );
    }
}

#[test]
fn filestore_extraction_matches_golden() {
    check_against_golden("filestore", &extract_fixture("filestore", 2));
}

#[test]
fn sqlite_extraction_matches_golden() {
    check_against_golden("sqlite", &extract_fixture("sqlite", 2));
}

#[test]
fn thread_count_does_not_change_content() {
    let one = extract_fixture("filestore", 1);
    let four = extract_fixture("filestore", 4);
    assert_eq!(
        one.summary["logical_digest"],
        four.summary["logical_digest"]
    );
}
