//! Turning extracted runs into rows of the public tables, with anonymous codes only.

use anyhow::Result;
use duckdb::types::Value;

use super::anonymize::CodeMap;
use super::select::Excluded;
use super::Extracted;
use crate::db::writer::TableRows;
use crate::mlflow::Experiment;

fn int(v: usize) -> Value {
    Value::Int(i32::try_from(v).unwrap_or(i32::MAX))
}

fn double(v: f64) -> Value {
    Value::Double(v)
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Double)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// Builds every table's rows. `extracted` must be in configuration order (source name, run
/// id): configuration ids are assigned 1..N in that order.
pub fn build(
    extracted: &[Extracted],
    excluded: &[Excluded],
    failed: &[Excluded],
    codes: &CodeMap,
) -> Result<TableRows> {
    let mut t = TableRows::default();
    let (mut prediction_id, mut curve_id, mut dca_id, mut dist_id, mut retention_id) =
        (0, 0, 0, 0, 0);
    let next = |counter: &mut usize| {
        *counter += 1;
        int(*counter)
    };
    let mut runs: Vec<(String, Vec<(&str, Value)>)> = Vec::new();
    for (i, run) in extracted.iter().enumerate() {
        let config_id = i + 1;
        let cid = || int(config_id);
        let r = &run.candidate.run;
        let f = &run.candidate.factors;
        let m = &run.metrics;

        let mut essential = vec![
            ("config_id", cid()),
            ("run_id", text(&r.run_id)),
            ("source_name", text(&r.run_name)),
            ("classifier", text(&f.classifier)),
            ("featurization", text(&f.featurization)),
            ("imputation_method", text(&f.imputation)),
            ("outlier_method", text(&f.outlier)),
            ("n_test", int(m.n_test)),
            ("n_events", int(m.n_events)),
            ("n_bootstrap", int(m.n_bootstrap)),
        ];
        push_estimates(&mut essential, &m.essential);
        t.push("essential_metrics", essential)?;

        let mut supplementary = vec![("config_id", cid())];
        push_estimates(&mut supplementary, &m.supplementary);
        t.push("supplementary_metrics", supplementary)?;

        for ((pseudonym, label), (mean, std)) in run
            .pseudonyms
            .iter()
            .zip(&run.labels)
            .zip(run.prob_mean.iter().zip(&run.prob_std))
        {
            t.push(
                "predictions",
                vec![
                    ("prediction_id", next(&mut prediction_id)),
                    ("config_id", cid()),
                    ("subject_code", text(codes.anonymous(pseudonym)?)),
                    ("y_true", Value::Int(i32::from(*label == 1))),
                    ("y_prob", double(*mean)),
                    ("y_prob_std", double(*std)),
                ],
            )?;
        }
        for (index, bin) in m.calibration.iter().enumerate() {
            t.push(
                "calibration_curves",
                vec![
                    ("curve_id", next(&mut curve_id)),
                    ("config_id", cid()),
                    ("bin_index", int(index)),
                    ("bin_lower", double(bin.lower)),
                    ("bin_upper", double(bin.upper)),
                    ("bin_midpoint", double((bin.lower + bin.upper) / 2.0)),
                    ("predicted_mean", opt(bin.predicted_mean)),
                    ("observed_proportion", opt(bin.observed_proportion)),
                    ("n_samples", int(bin.n)),
                ],
            )?;
        }
        for p in &m.dca {
            t.push(
                "dca_curves",
                vec![
                    ("dca_id", next(&mut dca_id)),
                    ("config_id", cid()),
                    ("threshold", double(p.threshold)),
                    ("net_benefit_model", double(p.net_benefit_model)),
                    ("net_benefit_all", double(p.net_benefit_all)),
                    ("net_benefit_none", double(p.net_benefit_none)),
                    ("sensitivity", opt(p.sensitivity)),
                    ("specificity", opt(p.specificity)),
                ],
            )?;
        }
        for h in &m.histogram {
            t.push(
                "probability_distributions",
                vec![
                    ("dist_id", next(&mut dist_id)),
                    ("config_id", cid()),
                    ("outcome", Value::Int(i32::from(h.outcome))),
                    ("bin_index", int(h.index)),
                    ("bin_start", double(h.start)),
                    ("bin_end", double(h.end)),
                    ("count", int(h.count)),
                ],
            )?;
        }
        for row in &m.retention {
            t.push(
                "retention_metrics",
                vec![
                    ("retention_id", next(&mut retention_id)),
                    ("config_id", cid()),
                    ("retention_rate", double(row.rate)),
                    ("n_retained", int(row.n_retained)),
                    ("metric_name", text(&row.metric)),
                    ("metric_value", opt(row.value)),
                ],
            )?;
        }
        let d = &m.distribution;
        t.push(
            "distribution_stats",
            vec![
                ("config_id", cid()),
                ("auroc", opt(d.auroc)),
                ("median_cases", opt(d.median_cases)),
                ("median_controls", opt(d.median_controls)),
                ("mean_cases", opt(d.mean_cases)),
                ("mean_controls", opt(d.mean_controls)),
                ("n_cases", int(d.n_cases)),
                ("n_controls", int(d.n_controls)),
            ],
        )?;
        for note in &m.notes {
            t.push(
                "metric_notes",
                vec![
                    ("config_id", cid()),
                    ("metric", text(&note.metric)),
                    ("reason", text(&note.reason)),
                ],
            )?;
        }
        runs.push((
            r.run_id.clone(),
            vec![
                ("run_id", text(&r.run_id)),
                ("source_name", text(&r.run_name)),
                ("status", text("included")),
                ("reason", text("included")),
                ("config_id", cid()),
                ("mlflow_status", text(&r.status.to_string())),
                ("lifecycle_stage", text(&r.lifecycle_stage.to_string())),
            ],
        ));
    }
    for e in excluded {
        runs.push((
            e.run.run_id.clone(),
            seen_row(&e.run, "excluded", &e.reason),
        ));
    }
    for f in failed {
        runs.push((f.run.run_id.clone(), seen_row(&f.run, "failed", &f.reason)));
    }
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, row) in runs {
        t.push("extraction_runs", row)?;
    }
    Ok(t)
}

fn push_estimates<'a>(
    row: &mut Vec<(&'a str, Value)>,
    estimates: &'a [super::compute::NamedEstimate],
) {
    for e in estimates {
        row.push((&e.column, opt(e.estimate.value)));
        row.push((&e.ci_lower, opt(e.estimate.ci.map(|c| c.0))));
        row.push((&e.ci_upper, opt(e.estimate.ci.map(|c| c.1))));
    }
}

fn seen_row(run: &crate::mlflow::Run, status: &str, reason: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("run_id", text(&run.run_id)),
        ("source_name", text(&run.run_name)),
        ("status", text(status)),
        ("reason", text(reason)),
        ("config_id", Value::Null),
        ("mlflow_status", text(&run.status.to_string())),
        ("lifecycle_stage", text(&run.lifecycle_stage.to_string())),
    ]
}

/// Metadata rows: schema facts and counts (no timestamps, no absolute paths).
pub fn metadata(
    experiment: &Experiment,
    extracted: &[Extracted],
    excluded: &[Excluded],
    failed: &[Excluded],
    codes: &CodeMap,
) -> Vec<(&'static str, String)> {
    vec![
        ("tool_version", env!("CARGO_PKG_VERSION").to_string()),
        ("experiment_name", experiment.name.clone()),
        ("experiment_id", experiment.id.clone()),
        ("n_configs", extracted.len().to_string()),
        ("n_runs_excluded", excluded.len().to_string()),
        ("n_runs_failed", failed.len().to_string()),
        ("n_subjects", codes.len().to_string()),
        (
            "anonymization",
            "label prefix + number in HMAC-SHA256(secret, original code) order".to_string(),
        ),
    ]
}
