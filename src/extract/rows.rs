//! Turning extracted runs into rows of the public tables, with anonymous codes only.

use anyhow::Result;

use super::anonymize::CodeMap;
use super::select::Excluded;
use super::Extracted;
use crate::config::TestBootstrapConfig;
use crate::db::table_rows::{Cell, TableRows};
use crate::mlflow::{Experiment, Run};

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
        Cell::count(*counter)
    };
    let mut runs: Vec<SeenRow> = Vec::new();
    for (i, run) in extracted.iter().enumerate() {
        let config_id = i + 1;
        let cid = Cell::count(config_id)?;
        let r = &run.candidate.run;
        let f = &run.candidate.factors;
        let m = &run.metrics;

        let mut essential = vec![
            ("config_id", cid),
            ("run_id", Cell::Text(&r.run_id)),
            ("source_name", Cell::Text(&r.run_name)),
            ("classifier", Cell::Text(&f.classifier)),
            ("featurization", Cell::Text(&f.featurization)),
            ("imputation_method", Cell::Text(&f.imputation)),
            ("outlier_method", Cell::Text(&f.outlier)),
            ("n_test", Cell::count(m.n_test)?),
            ("n_events", Cell::count(m.n_events)?),
            ("n_bootstrap", Cell::count(m.n_bootstrap)?),
        ];
        push_estimates(&mut essential, &m.essential);
        essential.extend(
            m.test_set
                .iter()
                .map(|v| (v.column.as_str(), Cell::opt_double(v.value))),
        );
        t.push("essential_metrics", &essential)?;

        let mut supplementary = vec![("config_id", cid)];
        push_estimates(&mut supplementary, &m.supplementary);
        t.push("supplementary_metrics", &supplementary)?;

        for ((pseudonym, label), (mean, std)) in run
            .pseudonyms
            .iter()
            .zip(&run.labels)
            .zip(run.prob_mean.iter().zip(&run.prob_std))
        {
            t.push(
                "predictions",
                &[
                    ("prediction_id", next(&mut prediction_id)?),
                    ("config_id", cid),
                    ("subject_code", Cell::Text(codes.anonymous(pseudonym)?)),
                    ("y_true", Cell::Integer(i32::from(*label == 1))),
                    ("y_prob", Cell::Double(*mean)),
                    ("y_prob_std", Cell::Double(*std)),
                ],
            )?;
        }
        for (index, bin) in m.calibration.iter().enumerate() {
            t.push(
                "calibration_curves",
                &[
                    ("curve_id", next(&mut curve_id)?),
                    ("config_id", cid),
                    ("bin_index", Cell::count(index)?),
                    ("bin_lower", Cell::Double(bin.lower)),
                    ("bin_upper", Cell::Double(bin.upper)),
                    ("bin_midpoint", Cell::Double((bin.lower + bin.upper) / 2.0)),
                    ("predicted_mean", Cell::opt_double(bin.predicted_mean)),
                    (
                        "observed_proportion",
                        Cell::opt_double(bin.observed_proportion),
                    ),
                    ("n_samples", Cell::count(bin.n)?),
                ],
            )?;
        }
        for p in &m.dca {
            t.push(
                "dca_curves",
                &[
                    ("dca_id", next(&mut dca_id)?),
                    ("config_id", cid),
                    ("threshold", Cell::Double(p.threshold)),
                    ("net_benefit_model", Cell::Double(p.net_benefit_model)),
                    ("net_benefit_all", Cell::Double(p.net_benefit_all)),
                    ("net_benefit_none", Cell::Double(p.net_benefit_none)),
                    ("sensitivity", Cell::opt_double(p.sensitivity)),
                    ("specificity", Cell::opt_double(p.specificity)),
                ],
            )?;
        }
        for h in &m.histogram {
            t.push(
                "probability_distributions",
                &[
                    ("dist_id", next(&mut dist_id)?),
                    ("config_id", cid),
                    ("outcome", Cell::Integer(i32::from(h.outcome))),
                    ("bin_index", Cell::count(h.index)?),
                    ("bin_start", Cell::Double(h.start)),
                    ("bin_end", Cell::Double(h.end)),
                    ("count", Cell::count(h.count)?),
                ],
            )?;
        }
        for row in &m.retention {
            t.push(
                "retention_metrics",
                &[
                    ("retention_id", next(&mut retention_id)?),
                    ("config_id", cid),
                    ("retention_rate", Cell::Double(row.rate)),
                    ("n_retained", Cell::count(row.n_retained)?),
                    ("metric_name", Cell::Text(&row.metric)),
                    ("metric_value", Cell::opt_double(row.value)),
                ],
            )?;
        }
        let d = &m.distribution;
        t.push(
            "distribution_stats",
            &[
                ("config_id", cid),
                ("auroc", Cell::opt_double(d.auroc)),
                ("median_cases", Cell::opt_double(d.median_cases)),
                ("median_controls", Cell::opt_double(d.median_controls)),
                ("mean_cases", Cell::opt_double(d.mean_cases)),
                ("mean_controls", Cell::opt_double(d.mean_controls)),
                ("n_cases", Cell::count(d.n_cases)?),
                ("n_controls", Cell::count(d.n_controls)?),
            ],
        )?;
        for note in &m.notes {
            t.push(
                "metric_notes",
                &[
                    ("config_id", cid),
                    ("metric", Cell::Text(&note.metric)),
                    ("reason", Cell::Text(&note.reason)),
                ],
            )?;
        }
        runs.push(SeenRow {
            run: r,
            status: "included",
            reason: "included",
            config_id: Some(config_id),
        });
    }
    runs.extend(excluded.iter().map(|e| SeenRow {
        run: &e.run,
        status: "excluded",
        reason: &e.reason,
        config_id: None,
    }));
    runs.extend(failed.iter().map(|f| SeenRow {
        run: &f.run,
        status: "failed",
        reason: &f.reason,
        config_id: None,
    }));
    runs.sort_by(|a, b| a.run.run_id.cmp(&b.run.run_id));
    for seen in runs {
        let run = seen.run;
        t.push(
            "extraction_runs",
            &[
                ("run_id", Cell::Text(&run.run_id)),
                ("source_name", Cell::Text(&run.run_name)),
                ("status", Cell::Text(seen.status)),
                ("reason", Cell::Text(seen.reason)),
                (
                    "config_id",
                    seen.config_id.map_or(Ok(Cell::Null), Cell::count)?,
                ),
                ("mlflow_status", Cell::Text(&run.status.to_string())),
                (
                    "lifecycle_stage",
                    Cell::Text(&run.lifecycle_stage.to_string()),
                ),
            ],
        )?;
    }
    Ok(t)
}

/// A run's fate, for its row of `extraction_runs`.
struct SeenRow<'a> {
    run: &'a Run,
    status: &'static str,
    reason: &'a str,
    config_id: Option<usize>,
}

fn push_estimates<'a>(
    row: &mut Vec<(&'a str, Cell<'a>)>,
    estimates: &'a [super::estimates::NamedEstimate],
) {
    for e in estimates {
        row.push((&e.column, Cell::opt_double(e.estimate.value)));
        row.push((&e.ci_lower, Cell::opt_double(e.estimate.ci.map(|c| c.0))));
        row.push((&e.ci_upper, Cell::opt_double(e.estimate.ci.map(|c| c.1))));
    }
}

/// Metadata rows: schema facts, counts and the test-set bootstrap's settings (no
/// timestamps, no absolute paths).
pub fn metadata(
    test_bootstrap: &TestBootstrapConfig,
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
        ("test_bootstrap_seed", test_bootstrap.seed.to_string()),
        (
            "test_bootstrap_resamples",
            test_bootstrap.resamples.to_string(),
        ),
    ]
}
