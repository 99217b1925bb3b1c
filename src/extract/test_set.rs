//! The test-set uncertainty of one run's metrics of the mean prediction p̄: the AUROC of p̄
//! with its DeLong interval, and every other metric of p̄ with the percentile interval of a
//! seeded subject-level bootstrap ([`metrics::subject_bootstrap`]).
//!
//! These intervals say how much a metric would move with another test set of the same size.
//! The `<metric>_ci_*` columns say something else: how much it moves between the B models
//! retrained on resampled training data, scored on this one test set.

use serde::{Deserialize, Serialize};

use super::estimates::Notes;
use super::parse::RunData;
use crate::config::TestBootstrapConfig;
use crate::metrics::catalog::{self, Computation, Metric, TestInterval};
use crate::metrics::{self, ColumnMetric, Evaluator, Resampling, Sample};

/// One value of an `essential_metrics` column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedValue {
    /// The column.
    pub column: String,
    /// The value; `None` is NULL (the reason is in the run's notes).
    pub value: Option<f64>,
}

/// The resampling that the `test_bootstrap` section configures.
pub fn resampling(config: &TestBootstrapConfig) -> Resampling {
    Resampling {
        resamples: config.resamples,
        seed: config.seed,
    }
}

/// The test-set columns of a run, in schema order: each metric of p̄ that is a column only
/// with its test-set interval ([`catalog::pbar_only`]: `auroc_pbar` with DeLong's interval,
/// `brier_pbar`), then the bootstrap interval of each metric of p̄ that has a model-variability
/// CI.
pub(super) fn columns(
    data: &RunData,
    resampling: Resampling,
    notes: &mut Notes,
) -> Vec<NamedValue> {
    let (y, p) = (&data.labels[..], &data.prob_mean[..]);
    let bootstrapped: Vec<&Metric> = catalog::test_bootstrapped().collect();
    let intervals = bootstrap(data, resampling, &bootstrapped, notes);
    let interval_of = |metric: &Metric| {
        bootstrapped
            .iter()
            .position(|m| m.name == metric.name)
            .and_then(|k| intervals[k])
    };
    let mut out = Vec::new();
    for (metric, computation, test_interval) in catalog::pbar_only() {
        let value = Evaluator::cold(&[computation])
            .on(Sample::Predictions(y, p))
            .remove(0);
        if let Err(e) = &value {
            notes.add(metric.name, e.to_string());
        }
        let ci = match test_interval {
            TestInterval::DeLong => match metrics::delong(y, p) {
                Ok(d) => Some(d.ci()),
                Err(e) => {
                    if value.is_ok() {
                        notes.add(&format!("{}_test_ci", metric.name), e.to_string());
                    }
                    None
                }
            },
            TestInterval::Bootstrap => interval_of(metric),
        };
        push(&mut out, metric.name, value.ok(), ci);
    }
    for metric in catalog::with_both_intervals() {
        push_interval(&mut out, metric.name, interval_of(metric));
    }
    out
}

/// A value with its test-set interval: three columns.
fn push(out: &mut Vec<NamedValue>, column: &str, value: Option<f64>, ci: Option<(f64, f64)>) {
    out.push(NamedValue {
        column: column.into(),
        value,
    });
    push_interval(out, column, ci);
}

/// The test-set interval of metric `name`: two columns.
fn push_interval(out: &mut Vec<NamedValue>, name: &str, ci: Option<(f64, f64)>) {
    let [lower, upper] = catalog::test_ci_columns(name);
    out.push(NamedValue {
        column: lower,
        value: ci.map(|c| c.0),
    });
    out.push(NamedValue {
        column: upper,
        value: ci.map(|c| c.1),
    });
}

/// The percentile intervals of `metrics` over the test-set resamples, with a note
/// `<metric>_test_ci` for resamples left out or an interval that cannot be formed. The
/// metrics are computed together on each resample (one draw of subjects serves all, one
/// logistic fit gives both of its coefficients), their fits started from those of p̄.
fn bootstrap(
    data: &RunData,
    resampling: Resampling,
    metrics: &[&Metric],
    notes: &mut Notes,
) -> Vec<Option<(f64, f64)>> {
    let key: Vec<String> = metrics
        .iter()
        .map(|m| format!("{}_test_ci", m.name))
        .collect();
    let computations: Vec<Computation> = metrics.iter().filter_map(|m| m.of_pbar()).collect();
    let start = Evaluator::around(&computations, &data.labels, &data.prob_mean);
    match metrics::subject_bootstrap_each(
        &data.labels,
        &data.prob_mean,
        resampling,
        computations.len(),
        |r| start.on(Sample::Resample(r)),
    ) {
        Ok(per_metric) => per_metric
            .iter()
            .zip(&key)
            .map(|(values, key)| interval(values, key, resampling, notes))
            .collect(),
        Err(e) => {
            for k in &key {
                notes.add(k, e.to_string());
            }
            vec![None; key.len()]
        }
    }
}

fn interval(
    values: &ColumnMetric,
    key: &str,
    resampling: Resampling,
    notes: &mut Notes,
) -> Option<(f64, f64)> {
    for (reason, count) in &values.left_out {
        notes.add(
            key,
            format!(
                "{count} of {} test-set resamples left out: {reason}",
                resampling.resamples
            ),
        );
    }
    let ci = values.ci();
    if ci.is_none() {
        notes.add(
            key,
            "fewer than 2 usable test-set resamples, or zero spread",
        );
    }
    ci
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Eight subjects, two of them events: many resamples hold no event.
    fn run() -> RunData {
        let labels = vec![0, 1, 0, 0, 1, 0, 0, 0];
        let prob_mean = vec![0.2, 0.7, 0.4, 0.1, 0.35, 0.3, 0.05, 0.5];
        RunData {
            subject_codes: (0..8).map(|i| format!("PLR{i}")).collect(),
            labels,
            prob_mean: prob_mean.clone(),
            prob_std: vec![0.01; 8],
            prob_matrix: prob_mean,
            n_bootstrap: 1,
            iteration_scalars: BTreeMap::new(),
        }
    }

    const RESAMPLING: Resampling = Resampling {
        resamples: 500,
        seed: 3,
    };

    fn value(columns: &[NamedValue], name: &str) -> Option<f64> {
        columns.iter().find(|c| c.column == name).unwrap().value
    }

    #[test]
    fn columns_come_in_schema_order_with_intervals_around_the_values() {
        let mut notes = Notes::default();
        let columns = columns(&run(), RESAMPLING, &mut notes);
        let schema = crate::db::schema::table("essential_metrics").unwrap();
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        let ours: Vec<&str> = columns.iter().map(|c| c.column.as_str()).collect();
        assert_eq!(names[names.len() - ours.len()..], ours[..]);
        let auroc = value(&columns, "auroc_pbar").unwrap();
        assert_eq!(
            auroc,
            metrics::auroc(&run().labels, &run().prob_mean).unwrap()
        );
        assert!(value(&columns, "auroc_pbar_test_ci_lower").unwrap() <= auroc);
        let brier = value(&columns, "brier_pbar").unwrap();
        let (lo, hi) = (
            value(&columns, "brier_pbar_test_ci_lower").unwrap(),
            value(&columns, "brier_pbar_test_ci_upper").unwrap(),
        );
        assert!(lo < brier && brier < hi, "{lo} {brier} {hi}");
    }

    #[test]
    fn resamples_without_an_event_are_left_out_and_noted_by_key() {
        let mut notes = Notes::default();
        columns(&run(), RESAMPLING, &mut notes);
        let notes = notes.into_vec();
        let scaled = notes
            .iter()
            .find(|n| n.metric == "scaled_brier_test_ci")
            .expect("a note on the scaled Brier's test-set interval");
        // (6/8)^8 ≈ 10 % of the resamples hold no event; a Python transcription of the
        // generator draws 55 such resamples of these 500.
        assert_eq!(
            scaled.reason,
            "55 of 500 test-set resamples left out: single class in test labels"
        );
        // The Brier score is defined on one class: nothing left out, no note.
        assert!(notes.iter().all(|n| n.metric != "brier_pbar_test_ci"));
        for n in &notes {
            assert!(!n.reason.contains("PLR"), "{}", n.reason);
        }
    }

    #[test]
    fn the_same_settings_give_the_same_columns() {
        let compute = |seed| {
            let mut notes = Notes::default();
            columns(&run(), Resampling { seed, ..RESAMPLING }, &mut notes)
        };
        assert_eq!(compute(3), compute(3));
        assert_ne!(compute(3), compute(4));
    }
}
