//! DeLong's method and Holm's adjustment against R's pROC and `p.adjust`
//! (`tests/fixtures/golden/delong.json`, written by `scripts/fixtures/delong_golden.R` from
//! the fixture stores' decoded p̄), within 1e-9.

use serde_json::Value as Json;

use crate::golden::{float, load};

const TOLERANCE: f64 = 1e-9;

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOLERANCE,
        "{what}: {got} but pROC says {want}"
    );
}

fn labels(v: &Json) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| float(x).unwrap())
        .collect()
}

#[test]
fn delong_ci_matches_proc_ci_auc_on_every_fixture_run() {
    let golden = load("delong.json");
    let runs = golden["runs"].as_array().unwrap();
    assert!(runs.len() >= 10, "{} runs", runs.len());
    for run in runs {
        let id = run["run_id"].as_str().unwrap();
        let d = mlrepro::metrics::delong(&labels(&run["y"]), &floats(&run["p"])).unwrap();
        close(&format!("{id} auc"), d.auc, float(&run["auc"]).unwrap());
        close(
            &format!("{id} variance"),
            d.variance,
            float(&run["variance"]).unwrap(),
        );
        let (lo, hi) = d.ci();
        close(
            &format!("{id} ci lower"),
            lo,
            float(&run["ci_lower"]).unwrap(),
        );
        close(
            &format!("{id} ci upper"),
            hi,
            float(&run["ci_upper"]).unwrap(),
        );
    }
}

#[test]
fn paired_delong_matches_proc_roc_test() {
    let golden = load("delong.json");
    let pairs = golden["pairs"].as_array().unwrap();
    assert!(
        pairs
            .iter()
            .any(|p| p["name"].as_str().unwrap().contains("tie-heavy")),
        "a tie-heavy pair is covered"
    );
    for pair in pairs {
        let name = pair["name"].as_str().unwrap();
        let t = mlrepro::metrics::delong_paired(
            &labels(&pair["y"]),
            &floats(&pair["p1"]),
            &floats(&pair["p2"]),
        )
        .unwrap();
        close(
            &format!("{name} auc1"),
            t.auc_1,
            float(&pair["auc1"]).unwrap(),
        );
        close(
            &format!("{name} auc2"),
            t.auc_2,
            float(&pair["auc2"]).unwrap(),
        );
        close(&format!("{name} z"), t.z, float(&pair["z"]).unwrap());
        close(
            &format!("{name} p"),
            t.p_value,
            float(&pair["p_value"]).unwrap(),
        );
    }
}

#[test]
fn holm_matches_r_p_adjust() {
    let golden = load("delong.json");
    for case in golden["holm"].as_array().unwrap() {
        let adjusted = mlrepro::analyze::paired::holm(&floats(&case["p"]));
        for (got, want) in adjusted.iter().zip(floats(&case["adjusted"])) {
            close("holm", *got, want);
        }
    }
}
