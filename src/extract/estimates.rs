//! The headline estimates of one run with their model-variability CIs, one per metric of the
//! catalog ([`crate::metrics::catalog`]) that has such a CI, and the notes saying why a value
//! is NULL.
//!
//! A per-iteration metric (`auroc`, `brier`, the supplementary metrics) is the mean of the
//! values the pickle stores per iteration, with a percentile CI over them; `auroc` and `brier`
//! are cross-checked against a recomputation from the probability matrix. A metric of the mean
//! prediction p̄ is computed on p̄, with a percentile CI over the B columns of the matrix. A
//! metric that cannot be estimated is `None` with a note saying why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::parse::RunData;
use crate::metrics::catalog::{self, Computation, Estimand, Metric, MetricFn, Table};
use crate::metrics::{self, Evaluator, MetricError, Sample};

/// A point estimate with its 95 % percentile CI.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate, or `None` when it cannot be estimated (see the run's notes).
    pub value: Option<f64>,
    /// The CI, or `None` when fewer than two usable values or zero spread.
    pub ci: Option<(f64, f64)>,
}

/// An estimate with the names of its three columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedEstimate {
    /// Column of the estimate.
    pub column: String,
    /// Column of the CI's lower bound.
    pub ci_lower: String,
    /// Column of the CI's upper bound.
    pub ci_upper: String,
    /// The values.
    pub estimate: Estimate,
}

/// Why a value is NULL or what its CI left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The metric (column name, or `<column>_ci` for its CI).
    pub metric: String,
    /// Plain-language reason.
    pub reason: String,
}

/// Notes collected while computing, merged per metric.
#[derive(Default)]
pub(super) struct Notes(BTreeMap<String, Vec<String>>);

impl Notes {
    /// Adds a reason to the note about `metric`.
    pub(super) fn add(&mut self, metric: &str, reason: impl Into<String>) {
        self.0
            .entry(metric.to_string())
            .or_default()
            .push(reason.into());
    }

    /// Adds every reason of `other` after this one's, metric by metric.
    pub(super) fn extend(&mut self, other: Notes) {
        for (metric, reasons) in other.0 {
            self.0.entry(metric).or_default().extend(reasons);
        }
    }

    /// The notes, one per metric, reasons joined.
    pub(super) fn into_vec(self) -> Vec<Note> {
        self.0
            .into_iter()
            .map(|(metric, reasons)| Note {
                metric,
                reason: reasons.join("; "),
            })
            .collect()
    }
}

/// Largest difference between a stored mean and its recomputation that passes without a note.
pub const RECOMPUTE_TOLERANCE: f64 = 1e-6;

/// The estimates of `table`'s metrics that have a model-variability CI, in catalog (column)
/// order.
pub(super) fn estimates(data: &RunData, table: Table, notes: &mut Notes) -> Vec<NamedEstimate> {
    let metrics: Vec<&Metric> = catalog::with_model_ci(table).collect();
    let of_pbar: Vec<Computation> = metrics
        .iter()
        .filter_map(|m| match m.estimand {
            Estimand::OfPbar(c) => Some(c),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = metrics
        .iter()
        .filter(|m| matches!(m.estimand, Estimand::OfPbar(_)))
        .map(|m| m.name)
        .collect();
    let mut on_mean = on_mean(data, &names, &of_pbar, notes).into_iter();
    metrics
        .iter()
        .map(|m| {
            let estimate = match m.estimand {
                Estimand::PerIteration { key, check } => stored(data, key, m.name, check, notes),
                _ => on_mean.next().unwrap_or_default(),
            };
            named(m.name, estimate)
        })
        .collect()
}

fn named(name: &str, estimate: Estimate) -> NamedEstimate {
    let [ci_lower, ci_upper] = catalog::model_ci_columns(name);
    NamedEstimate {
        column: name.into(),
        ci_lower,
        ci_upper,
        estimate,
    }
}

/// Mean and percentile CI of stored per-iteration values.
fn iteration_estimate(values: &[f64], metric: &str, notes: &mut Notes) -> Estimate {
    let nan = values.iter().filter(|v| v.is_nan()).count();
    if nan > 0 {
        notes.add(
            metric,
            format!(
                "{nan} of {} per-iteration values are NaN and were ignored",
                values.len()
            ),
        );
    }
    let value = metrics::nanmean(values);
    if value.is_none() {
        notes.add(metric, "every per-iteration value is NaN");
    }
    let ci = metrics::percentile_ci(values);
    if ci.is_none() && value.is_some() {
        notes.add(
            &format!("{metric}_ci"),
            "fewer than 2 usable per-iteration values, or zero spread",
        );
    }
    Estimate { value, ci }
}

/// A metric stored per iteration under `key`, cross-checked against `check` when given.
fn stored(
    data: &RunData,
    key: &str,
    name: &str,
    check: Option<MetricFn>,
    notes: &mut Notes,
) -> Estimate {
    let Some(values) = data.iteration_scalars.get(key) else {
        notes.add(name, format!("the pickle stores no per-iteration `{key}`"));
        return Estimate::default();
    };
    let estimate = iteration_estimate(values, name, notes);
    if let (Some(check), Some(stored_mean)) = (check, estimate.value) {
        if let Ok(recomputed) =
            metrics::per_column(&data.labels, &data.prob_matrix, data.n_bootstrap, check)
        {
            if let Some(mean) = recomputed.mean() {
                if (mean - stored_mean).abs() > RECOMPUTE_TOLERANCE {
                    notes.add(
                        name,
                        format!("stored per-iteration mean {stored_mean} differs from {mean} recomputed from the probability matrix"),
                    );
                }
            }
        }
    }
    estimate
}

/// Metrics of the mean prediction p̄ (named `names`, computed by `computations`), each with
/// a percentile CI over the bootstrap columns. They are computed together on each column, so
/// that one logistic fit gives both of its coefficients; each column's fits start from those
/// of p̄, which the columns scatter around.
fn on_mean(
    data: &RunData,
    names: &[&str],
    computations: &[Computation],
    notes: &mut Notes,
) -> Vec<Estimate> {
    let (y, p) = (&data.labels[..], &data.prob_mean[..]);
    let values: Vec<Option<f64>> = Evaluator::cold(computations)
        .on(Sample::Predictions(y, p))
        .into_iter()
        .zip(names)
        .map(|(value, name)| value.map_err(|e| notes.add(name, e.to_string())).ok())
        .collect();
    let ci_metrics: Vec<String> = names.iter().map(|n| format!("{n}_ci")).collect();
    let cis: Vec<Option<(f64, f64)>> = if single_class(y) {
        // Every bootstrap column shares the labels, so every column is left out.
        for ci_metric in &ci_metrics {
            notes.add(
                ci_metric,
                format!(
                    "all {} bootstrap columns left out: {}",
                    data.n_bootstrap,
                    MetricError::SingleClass
                ),
            );
        }
        vec![None; names.len()]
    } else {
        let start = Evaluator::around(computations, y, p);
        match metrics::per_column_each(
            y,
            &data.prob_matrix,
            data.n_bootstrap,
            computations.len(),
            |y, p| start.on(Sample::Predictions(y, p)),
        ) {
            Ok(per_column) => per_column
                .into_iter()
                .zip(&ci_metrics)
                .zip(&values)
                .map(|((column, ci_metric), value)| match column {
                    Ok(c) => {
                        for (reason, count) in &c.left_out {
                            notes.add(
                                ci_metric,
                                format!(
                                    "{count} of {} bootstrap columns left out: {reason}",
                                    data.n_bootstrap
                                ),
                            );
                        }
                        let ci = c.ci();
                        if ci.is_none() && value.is_some() {
                            notes.add(
                                ci_metric,
                                "fewer than 2 usable bootstrap columns, or zero spread",
                            );
                        }
                        ci
                    }
                    Err(e) => {
                        notes.add(ci_metric, e.to_string());
                        None
                    }
                })
                .collect(),
            Err(e) => {
                for ci_metric in &ci_metrics {
                    notes.add(ci_metric, e.to_string());
                }
                vec![None; names.len()]
            }
        }
    };
    values
        .into_iter()
        .zip(cis)
        .map(|(value, ci)| Estimate { value, ci })
        .collect()
}

fn single_class(y: &[i64]) -> bool {
    y.iter().all(|&l| l == y[0])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::catalog::CATALOG;

    #[test]
    fn notes_computed_apart_merge_as_if_added_in_sequence() {
        let mut sequential = Notes::default();
        for (metric, reason) in [("brier", "a"), ("auroc", "b"), ("brier", "c"), ("f1", "d")] {
            sequential.add(metric, reason);
        }
        let (mut first, mut second) = (Notes::default(), Notes::default());
        first.add("brier", "a");
        first.add("auroc", "b");
        second.add("brier", "c");
        second.add("f1", "d");
        first.extend(second);
        let reasons = |notes: Notes| -> Vec<(String, String)> {
            notes
                .into_vec()
                .into_iter()
                .map(|n| (n.metric, n.reason))
                .collect()
        };
        assert_eq!(reasons(first), reasons(sequential));
    }

    /// Twelve subjects, three bootstrap columns around p̄, and the per-iteration values of
    /// `AUROC`, `Brier` and `F1` only.
    fn run() -> RunData {
        let labels = vec![0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0];
        let prob_mean = vec![
            0.2, 0.7, 0.4, 0.55, 0.9, 0.1, 0.35, 0.3, 0.25, 0.6, 0.8, 0.15,
        ];
        let prob_matrix = prob_mean
            .iter()
            .flat_map(|&p: &f64| [p, (p * 0.9).max(0.05), (p * 1.1).min(0.95)])
            .collect();
        RunData {
            subject_codes: (0..12).map(|i| format!("PLR{i}")).collect(),
            labels,
            prob_mean,
            prob_std: vec![0.01; 12],
            prob_matrix,
            n_bootstrap: 3,
            iteration_scalars: BTreeMap::from([
                ("AUROC".into(), vec![0.8, 0.75, 0.7]),
                ("Brier".into(), vec![0.2, 0.21, 0.19]),
                ("F1".into(), vec![0.6, 0.7, 0.65]),
            ]),
        }
    }

    #[test]
    fn estimates_come_in_schema_order_within_their_bounds() {
        let mut notes = Notes::default();
        for (table, name) in [
            (Table::Essential, "essential_metrics"),
            (Table::Supplementary, "supplementary_metrics"),
        ] {
            let estimates = estimates(&run(), table, &mut notes);
            let schema: Vec<&str> = crate::db::schema::table(name)
                .unwrap()
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            let ours: Vec<&str> = estimates
                .iter()
                .flat_map(|e| [e.column.as_str(), &e.ci_lower, &e.ci_upper])
                .collect();
            let start = schema.iter().position(|c| *c == ours[0]).unwrap();
            assert_eq!(schema[start..start + ours.len()], ours[..]);
            for e in &estimates {
                let (lo, hi) = CATALOG.iter().find(|m| m.name == e.column).unwrap().bounds;
                let within = |v: f64| lo <= v && v <= hi;
                let Estimate { value, ci } = e.estimate;
                assert!(value.is_none_or(within), "{}: {value:?}", e.column);
                assert!(
                    ci.is_none_or(|(a, b)| within(a) && within(b) && a <= b),
                    "{}: {ci:?}",
                    e.column
                );
            }
        }
        let notes = notes.into_vec();
        let aupr = notes.iter().find(|n| n.metric == "aupr").unwrap();
        assert_eq!(aupr.reason, "the pickle stores no per-iteration `AUPR`");
    }
}
