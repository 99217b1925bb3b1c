//! Every metric of one run, from its validated pickle data (pure; runs on rayon workers).
//!
//! The headline metrics of the catalog come from [`super::estimates`] (values with their
//! model-variability CIs) and [`super::test_set`] (the test-set intervals of the metrics of the
//! mean prediction p̄); this module adds the curves, the histogram, the retention rows and the
//! distribution summary. A value that cannot be computed is `None` or absent, with a note
//! saying why.

use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};

use super::estimates::{self, NamedEstimate, Note, Notes};
use super::parse::RunData;
use super::test_set::{self, NamedValue};
use crate::metrics::catalog::Table;
use crate::metrics::{self, CalibrationBin, DcaPoint, Resampling, RetentionMetrics};

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
    /// One of [`RetentionMetrics::NAMES`].
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

const BINS: NonZeroUsize = NonZeroUsize::new(10).expect("10 is not zero");

/// Computes every metric of a run; the test-set bootstrap draws `resampling`.
pub fn run_metrics(data: &RunData, resampling: Resampling) -> RunMetrics {
    let y = &data.labels;
    let p = &data.prob_mean;
    let b = data.n_bootstrap;
    // The three headline computations are independent: they run in parallel (a run computed
    // alone, as after one run is added, gets every core), each with its own notes, merged in
    // the order a sequential computation would give.
    let (mut notes, mut test_notes, mut supplementary_notes) =
        (Notes::default(), Notes::default(), Notes::default());
    let ((essential, test_set), supplementary) = rayon::join(
        || {
            rayon::join(
                || estimates::estimates(data, Table::Essential, &mut notes),
                || test_set::columns(data, resampling, &mut test_notes),
            )
        },
        || estimates::estimates(data, Table::Supplementary, &mut supplementary_notes),
    );
    notes.extend(test_notes);
    notes.extend(supplementary_notes);

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

fn retention_rows(data: &RunData, notes: &mut Notes) -> Vec<RetentionRow> {
    match metrics::retention_curve(&data.labels, &data.prob_mean, &data.prob_std) {
        Ok(points) => points
            .into_iter()
            .flat_map(|pt| {
                let values = pt.metrics.map(|m| m.values());
                RetentionMetrics::NAMES
                    .iter()
                    .enumerate()
                    .map(move |(k, metric)| RetentionRow {
                        rate: pt.rate,
                        n_retained: pt.kept,
                        metric: (*metric).into(),
                        value: values.map(|v| v[k]),
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
