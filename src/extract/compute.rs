//! Every metric of one run, from its validated pickle data (pure; runs on rayon workers).
//!
//! `auroc` and `brier` (with CIs) come from the stored per-iteration values and are
//! cross-checked against a recomputation from the probability matrix; the other headline
//! metrics are computed on the mean prediction p̄, with percentile CIs over the B columns of
//! the matrix. Their test-set intervals come from [`super::test_set`]. A metric that cannot be
//! estimated is `None` with a note saying why.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};

use super::parse::RunData;
use super::test_set::{self, NamedValue};
use crate::metrics::{self, CalibrationBin, DcaPoint, MetricError, Resampling};

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

/// One histogram bin of p̄ for one outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramRow {
    /// True label of the counted subjects.
    pub outcome: u8,
    /// Bin 0..9.
    pub index: usize,
    /// Lower edge.
    pub start: f64,
    /// Upper edge.
    pub end: f64,
    /// Subjects in the bin.
    pub count: usize,
}

/// One metric at one retention rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionRow {
    /// Fraction retained.
    pub rate: f64,
    /// Subjects retained.
    pub n_retained: usize,
    /// `auroc`, `brier`, `scaled_brier` or `net_benefit`.
    pub metric: String,
    /// The value; `None` when the retained subjects are of one class.
    pub value: Option<f64>,
}

/// Summary of p̄ by outcome.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Distribution {
    /// AUROC of p̄.
    pub auroc: Option<f64>,
    /// Median p̄ of label-1 subjects.
    pub median_cases: Option<f64>,
    /// Median p̄ of label-0 subjects.
    pub median_controls: Option<f64>,
    /// Mean p̄ of label-1 subjects.
    pub mean_cases: Option<f64>,
    /// Mean p̄ of label-0 subjects.
    pub mean_controls: Option<f64>,
    /// Label-1 subjects.
    pub n_cases: usize,
    /// Label-0 subjects.
    pub n_controls: usize,
}

/// Every metric of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// Test subjects.
    pub n_test: usize,
    /// Test subjects with label 1.
    pub n_events: usize,
    /// Bootstrap iterations B.
    pub n_bootstrap: usize,
    /// The `essential_metrics` estimates, in schema order.
    pub essential: Vec<NamedEstimate>,
    /// The `essential_metrics` columns of the test-set uncertainty, in schema order, after
    /// the estimates.
    pub test_set: Vec<NamedValue>,
    /// The `supplementary_metrics` estimates, in schema order.
    pub supplementary: Vec<NamedEstimate>,
    /// Ten calibration bins.
    pub calibration: Vec<CalibrationBin>,
    /// The decision curve (empty when undefined, with a note).
    pub dca: Vec<DcaPoint>,
    /// Histogram bins by outcome.
    pub histogram: Vec<HistogramRow>,
    /// Retention curve rows.
    pub retention: Vec<RetentionRow>,
    /// Summary of p̄ by outcome.
    pub distribution: Distribution,
    /// Why values are NULL or what CIs left out, one note per metric.
    pub notes: Vec<Note>,
}

/// Names of an estimate's columns: `(value, ci_lower, ci_upper)`.
pub(super) type Columns = (&'static str, &'static str, &'static str);

const AUROC: Columns = ("auroc", "auroc_ci_lower", "auroc_ci_upper");
const BRIER: Columns = ("brier", "brier_ci_lower", "brier_ci_upper");
const SCALED_BRIER: Columns = (
    "scaled_brier",
    "scaled_brier_ci_lower",
    "scaled_brier_ci_upper",
);
const SLOPE: Columns = (
    "calibration_slope",
    "calibration_slope_ci_lower",
    "calibration_slope_ci_upper",
);
const INTERCEPT: Columns = (
    "calibration_intercept",
    "calibration_intercept_ci_lower",
    "calibration_intercept_ci_upper",
);
const CITL: Columns = (
    "calibration_in_the_large",
    "calibration_in_the_large_ci_lower",
    "calibration_in_the_large_ci_upper",
);
const OE: Columns = ("o_e_ratio", "o_e_ratio_ci_lower", "o_e_ratio_ci_upper");
pub(super) const NET_BENEFITS: [(Columns, f64); 4] = [
    (
        (
            "net_benefit_5pct",
            "net_benefit_5pct_ci_lower",
            "net_benefit_5pct_ci_upper",
        ),
        0.05,
    ),
    (
        (
            "net_benefit_10pct",
            "net_benefit_10pct_ci_lower",
            "net_benefit_10pct_ci_upper",
        ),
        0.10,
    ),
    (
        (
            "net_benefit_15pct",
            "net_benefit_15pct_ci_lower",
            "net_benefit_15pct_ci_upper",
        ),
        0.15,
    ),
    (
        (
            "net_benefit_20pct",
            "net_benefit_20pct_ci_lower",
            "net_benefit_20pct_ci_upper",
        ),
        0.20,
    ),
];

/// Supplementary columns and the pickle keys they come from.
const SUPPLEMENTARY: [(Columns, &str); 7] = [
    (("f1_score", "f1_score_ci_lower", "f1_score_ci_upper"), "F1"),
    (("aupr", "aupr_ci_lower", "aupr_ci_upper"), "AUPR"),
    (
        (
            "sensitivity",
            "sensitivity_ci_lower",
            "sensitivity_ci_upper",
        ),
        "sensitivity",
    ),
    (
        (
            "specificity",
            "specificity_ci_lower",
            "specificity_ci_upper",
        ),
        "specificity",
    ),
    (("ppv", "ppv_ci_lower", "ppv_ci_upper"), "PPV"),
    (("npv", "npv_ci_lower", "npv_ci_upper"), "NPV"),
    (
        ("accuracy", "accuracy_ci_lower", "accuracy_ci_upper"),
        "accuracy",
    ),
];

/// Largest difference between a stored mean and its recomputation that passes without a note.
pub const RECOMPUTE_TOLERANCE: f64 = 1e-6;

const BINS: NonZeroUsize = NonZeroUsize::new(10).expect("10 is not zero");

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

/// Computes every metric of a run; the test-set bootstrap draws `resampling`.
pub fn run_metrics(data: &RunData, resampling: Resampling) -> RunMetrics {
    let y = &data.labels;
    let p = &data.prob_mean;
    let b = data.n_bootstrap;
    let mut notes = Notes::default();

    let mut essential = vec![
        stored(data, "AUROC", AUROC, &mut notes, |y, p| {
            metrics::auroc(y, p)
        }),
        stored(data, "Brier", BRIER, &mut notes, |y, p| {
            metrics::brier(y, p)
        }),
        on_mean(data, SCALED_BRIER, &mut notes, metrics::scaled_brier),
    ];
    // One logistic fit per column gives both coefficients; each column's Newton starts from
    // the fit of p̄, which the columns scatter around.
    let fit = metrics::calibration_slope_intercept(y, p);
    let start = fit.as_ref().ok().copied();
    let fit = fit.map(|f| [f.slope, f.intercept]);
    essential.extend(on_mean_n(
        data,
        [SLOPE, INTERCEPT],
        &mut notes,
        fit,
        |y, p| {
            metrics::calibration_slope_intercept_from(y, p, start).map(|f| [f.slope, f.intercept])
        },
    ));
    let citl = metrics::calibration_in_the_large(y, p);
    let start = citl.as_ref().ok().copied();
    let [citl] = on_mean_n(data, [CITL], &mut notes, citl.map(|v| [v]), |y, p| {
        metrics::calibration_in_the_large_from(y, p, start).map(|v| [v])
    });
    essential.extend([
        citl,
        on_mean(data, OE, &mut notes, metrics::observed_expected_ratio),
    ]);
    let thresholds = NET_BENEFITS.map(|(_, t)| t);
    essential.extend(on_mean_n(
        data,
        NET_BENEFITS.map(|(columns, _)| columns),
        &mut notes,
        metrics::net_benefits(y, p, thresholds),
        |y, p| metrics::net_benefits(y, p, thresholds),
    ));

    let test_set = test_set::columns(data, resampling, &mut notes);

    let supplementary = SUPPLEMENTARY
        .iter()
        .map(|(columns, key)| {
            let estimate = match data.iteration_scalars.get(*key) {
                Some(values) => iteration_estimate(values, columns.0, &mut notes),
                None => {
                    notes.add(
                        columns.0,
                        format!("the pickle stores no per-iteration `{key}`"),
                    );
                    Estimate::default()
                }
            };
            named(*columns, estimate)
        })
        .collect();

    let calibration = metrics::calibration_curve(y, p, BINS).unwrap_or_else(|e| {
        notes.add("calibration_curves", e.to_string());
        Vec::new()
    });
    let dca = metrics::decision_curve(y, p).unwrap_or_else(|e| {
        notes.add("dca_curves", e.to_string());
        Vec::new()
    });
    let histogram = match metrics::probability_histograms(y, p, BINS) {
        Ok(by_outcome) => by_outcome
            .iter()
            .enumerate()
            .flat_map(|(outcome, bins)| {
                bins.iter()
                    .flatten()
                    .enumerate()
                    .map(move |(index, bin)| HistogramRow {
                        outcome: outcome as u8,
                        index,
                        start: bin.lower,
                        end: bin.upper,
                        count: bin.count,
                    })
            })
            .collect(),
        Err(e) => {
            notes.add("probability_distributions", e.to_string());
            Vec::new()
        }
    };
    let retention = retention_rows(data, &mut notes);
    let distribution = distribution(data, &mut notes);
    let n_events = y.iter().filter(|&&l| l == 1).count();
    RunMetrics {
        n_test: y.len(),
        n_events,
        n_bootstrap: b,
        essential,
        test_set,
        supplementary,
        calibration,
        dca,
        histogram,
        retention,
        distribution,
        notes: notes.into_vec(),
    }
}

fn named(columns: Columns, estimate: Estimate) -> NamedEstimate {
    NamedEstimate {
        column: columns.0.into(),
        ci_lower: columns.1.into(),
        ci_upper: columns.2.into(),
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

/// A metric stored per iteration (`AUROC`, `Brier`), cross-checked against recomputation.
fn stored(
    data: &RunData,
    key: &str,
    columns: Columns,
    notes: &mut Notes,
    recompute: impl FnMut(&[i64], &[f64]) -> Result<f64, MetricError>,
) -> NamedEstimate {
    let Some(values) = data.iteration_scalars.get(key) else {
        notes.add(
            columns.0,
            format!("the pickle stores no per-iteration `{key}`"),
        );
        return named(columns, Estimate::default());
    };
    let estimate = iteration_estimate(values, columns.0, notes);
    if let (Some(stored_mean), Ok(recomputed)) = (
        estimate.value,
        metrics::per_column(&data.labels, &data.prob_matrix, data.n_bootstrap, recompute),
    ) {
        if let Some(mean) = recomputed.mean() {
            if (mean - stored_mean).abs() > RECOMPUTE_TOLERANCE {
                notes.add(
                    columns.0,
                    format!("stored per-iteration mean {stored_mean} differs from {mean} recomputed from the probability matrix"),
                );
            }
        }
    }
    named(columns, estimate)
}

/// A metric of the mean prediction p̄, with a percentile CI over the bootstrap columns.
fn on_mean(
    data: &RunData,
    columns: Columns,
    notes: &mut Notes,
    mut metric: impl FnMut(&[i64], &[f64]) -> Result<f64, MetricError>,
) -> NamedEstimate {
    let value = metric(&data.labels, &data.prob_mean).map(|v| [v]);
    let [estimate] = on_mean_n(data, [columns], notes, value, |y, p| {
        metric(y, p).map(|v| [v])
    });
    estimate
}

/// [`on_mean`] for `K` metrics that come from one computation (a fit's coefficients): `value`
/// is their value on p̄, `metric` computes them on each bootstrap column.
fn on_mean_n<const K: usize>(
    data: &RunData,
    columns: [Columns; K],
    notes: &mut Notes,
    value: Result<[f64; K], MetricError>,
    metric: impl FnMut(&[i64], &[f64]) -> Result<[f64; K], MetricError>,
) -> [NamedEstimate; K] {
    let values: [Option<f64>; K] = match value {
        Ok(v) => v.map(Some),
        Err(e) => {
            for c in &columns {
                notes.add(c.0, e.to_string());
            }
            [None; K]
        }
    };
    let ci_metrics = columns.map(|c| format!("{}_ci", c.0));
    let cis: [Option<(f64, f64)>; K] = if single_class(&data.labels) {
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
        [None; K]
    } else {
        match metrics::per_column_n(&data.labels, &data.prob_matrix, data.n_bootstrap, metric) {
            Ok(per_column) => std::array::from_fn(|k| {
                let c = &per_column[k];
                for (reason, count) in &c.left_out {
                    notes.add(
                        &ci_metrics[k],
                        format!(
                            "{count} of {} bootstrap columns left out: {reason}",
                            data.n_bootstrap
                        ),
                    );
                }
                let ci = c.ci();
                if ci.is_none() && values[k].is_some() {
                    notes.add(
                        &ci_metrics[k],
                        "fewer than 2 usable bootstrap columns, or zero spread",
                    );
                }
                ci
            }),
            Err(e) => {
                for ci_metric in &ci_metrics {
                    notes.add(ci_metric, e.to_string());
                }
                [None; K]
            }
        }
    };
    std::array::from_fn(|k| {
        named(
            columns[k],
            Estimate {
                value: values[k],
                ci: cis[k],
            },
        )
    })
}

fn single_class(y: &[i64]) -> bool {
    y.iter().all(|&l| l == y[0])
}

fn retention_rows(data: &RunData, notes: &mut Notes) -> Vec<RetentionRow> {
    match metrics::retention_curve(&data.labels, &data.prob_mean, &data.prob_std) {
        Ok(points) => points
            .into_iter()
            .flat_map(|pt| {
                let m = pt.metrics;
                [
                    ("auroc", m.map(|m| m.auroc)),
                    ("brier", m.map(|m| m.brier)),
                    ("scaled_brier", m.map(|m| m.scaled_brier)),
                    ("net_benefit", m.map(|m| m.net_benefit)),
                ]
                .map(|(metric, value)| RetentionRow {
                    rate: pt.rate,
                    n_retained: pt.kept,
                    metric: metric.into(),
                    value,
                })
            })
            .collect(),
        Err(e) => {
            notes.add("retention_metrics", e.to_string());
            Vec::new()
        }
    }
}

fn distribution(data: &RunData, notes: &mut Notes) -> Distribution {
    let auroc = match metrics::auroc(&data.labels, &data.prob_mean) {
        Ok(v) => Some(v),
        Err(e) => {
            notes.add("distribution_auroc", e.to_string());
            None
        }
    };
    match metrics::distribution_stats(&data.labels, &data.prob_mean) {
        Ok(s) => Distribution {
            auroc,
            median_cases: s.cases.median,
            median_controls: s.controls.median,
            mean_cases: s.cases.mean,
            mean_controls: s.controls.mean,
            n_cases: s.cases.n,
            n_controls: s.controls.n,
        },
        Err(e) => {
            notes.add("distribution_stats", e.to_string());
            Distribution {
                auroc,
                ..Default::default()
            }
        }
    }
}
