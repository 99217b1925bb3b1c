//! The figures of the best configurations and of subjects, against the demo checkpoint:
//! probability distributions, retention, decision and calibration curves, the subject
//! traces, and every figure's print size.

use std::path::Path;

use serde_json::Value as Json;

use super::{f, scalar, text, Project};
use crate::extract::query;

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
