//! Pure metric functions: labels and probabilities in, a number or a typed reason out.
//!
//! Everything here is deterministic, allocation-light, free of I/O and safe to call from many
//! threads at once. Labels are `&[i64]` holding 0 or 1 (the dtype of the pickled labels),
//! probabilities `&[f64]` in [0, 1]; anything else, and any input on which a metric is
//! undefined, yields a [`MetricError`] instead of a made-up value or a silent NaN.
//!
//! Numbers follow `tests/fixtures/CONTRACT.md` and reproduce the Python reference bit for bit
//! where it matters: [`auroc()`] is scikit-learn's `roc_auc_score`, sums and means use numpy's
//! pairwise summation, [`nanpercentile`] and [`linspace`] are numpy's. The logistic fits
//! ([`calibration_slope_intercept`], [`calibration_in_the_large`]) are exact MLEs, matching
//! statsmodels to far better than 1e-6.
//!
//! One family per file: `auroc`, `brier` (and IPA), `calibration` (the joint logistic fit),
//! `calibration_in_the_large` (the offset fit, O:E), `calibration_curve`, `histogram`,
//! `net_benefit` (and DCA), `distribution`, `retention`, `bootstrap` (percentiles, means),
//! `column_ci` (a metric over bootstrap columns), `delong` (the DeLong variance and paired test
//! of the AUROC), `rng` (the seeded generator) and `subject_bootstrap` (a metric over test-set
//! resamples). [`catalog`] declares every headline metric of a run once: its columns, its
//! description, its LaTeX header and how it is computed; [`Evaluator`] computes the metrics of
//! the mean prediction it declares on p̄, bootstrap columns and resamples.

mod auroc;
mod bins;
mod bootstrap;
mod brier;
mod calibration;
mod calibration_curve;
mod calibration_in_the_large;
pub mod catalog;
mod column_ci;
mod delong;
mod distribution;
mod error;
mod evaluator;
mod histogram;
mod input;
mod lowess;
mod net_benefit;
mod retention;
mod rng;
mod subject_bootstrap;
mod subjects;
mod summation;

pub use auroc::auroc;
pub use bins::linspace;
pub use bootstrap::{nanmean, nanpercentile, percentile_ci, CI_PERCENTILES};
pub use brier::{brier, scaled_brier};
pub use calibration::{
    calibration_slope_intercept, calibration_slope_intercept_from,
    calibration_slope_intercept_on_logits, calibration_slope_intercept_on_resample, clipped_logit,
    clipped_odds, CalibrationFit, LOGIT_CLIP,
};
pub use calibration_curve::{calibration_curve, CalibrationBin};
pub use calibration_in_the_large::{
    calibration_in_the_large, calibration_in_the_large_from, calibration_in_the_large_on_odds,
    calibration_in_the_large_on_resample, observed_expected_ratio,
};
pub use column_ci::{per_column, per_column_each, ColumnMetric};
pub use delong::{delong, delong_paired, DelongAuc, PairedDelong, Z_975};
pub use distribution::{distribution_stats, ClassSummary, DistributionStats};
pub use error::MetricError;
pub use evaluator::{Evaluator, Sample};
pub use histogram::{probability_histograms, HistogramBin};
pub use input::{validate, ClassCounts};
pub use lowess::lowess;
pub use net_benefit::{
    dca_thresholds, decision_curve, net_benefit, net_benefits, net_benefits_at, DcaPoint,
    DCA_THRESHOLDS,
};
pub use retention::{
    retention_curve, RetentionMetrics, RetentionPoint, MIN_RETAINED,
    RETENTION_NET_BENEFIT_THRESHOLD, RETENTION_RATES,
};
pub use rng::Xoshiro256StarStar;
pub use subject_bootstrap::{subject_bootstrap, subject_bootstrap_each, Resample, Resampling};
