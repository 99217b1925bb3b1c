//! DeLong's method for the AUROC (DeLong, DeLong and Clarke-Pearson 1988): the variance of
//! one AUROC and the paired test of two AUROCs on the same subjects, as R's pROC computes
//! them (`ci.auc(method = "delong")`, `roc.test(method = "delong", paired = TRUE)`), with
//! cases scored higher than controls (pROC's `direction = "<"`).
//!
//! Both rest on the placements: a case's share of controls it outscores, a control's share
//! of cases that outscore it, ties counting one half. Their means are the AUROC; their
//! sample variances, divided by the class sizes, give its variance. Computed from sorted
//! scores in O(n log n).

use super::input::{validate, ClassCounts};
use super::MetricError;

/// The 97.5th percentile of the standard normal distribution (R's `qnorm(0.975)`).
pub const Z_975: f64 = 1.959_963_984_540_054;

/// An AUROC with its DeLong variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelongAuc {
    /// The AUROC, the mean of the case placements.
    pub auc: f64,
    /// DeLong's variance of the AUROC.
    pub variance: f64,
}

impl DelongAuc {
    /// The 95 % interval `auc ± Z_975 · √variance`, clipped to [0, 1] as pROC clips it.
    pub fn ci(&self) -> (f64, f64) {
        let half = Z_975 * self.variance.sqrt();
        ((self.auc - half).max(0.0), (self.auc + half).min(1.0))
    }
}

/// The paired DeLong test of two AUROCs measured on the same subjects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedDelong {
    /// AUROC of the first predictor.
    pub auc_1: f64,
    /// AUROC of the second predictor.
    pub auc_2: f64,
    /// The z statistic `(auc_1 − auc_2) / sd`, sd the DeLong standard deviation of the
    /// difference; 0 when the AUROCs are equal and sd is 0 (as pROC sets it).
    pub z: f64,
    /// Two-sided p-value `2 Φ(−|z|)`.
    pub p_value: f64,
}

/// The AUROC of `p` for labels `y` with its DeLong variance.
///
/// Needs at least two subjects of each class ([`MetricError::SingleClass`],
/// [`MetricError::TooFewPerClass`] otherwise).
pub fn delong(y: &[i64], p: &[f64]) -> Result<DelongAuc, MetricError> {
    let counts = checked_counts(y, p)?;
    let placements = Placements::of(y, p, counts);
    Ok(DelongAuc {
        auc: placements.theta,
        variance: placements.covariance(&placements, counts),
    })
}

/// The paired DeLong test of `p1` against `p2`, both scoring the subjects labelled `y`.
pub fn delong_paired(y: &[i64], p1: &[f64], p2: &[f64]) -> Result<PairedDelong, MetricError> {
    let counts = checked_counts(y, p1)?;
    validate(y, p2)?;
    let a = Placements::of(y, p1, counts);
    let b = Placements::of(y, p2, counts);
    let variance =
        a.covariance(&a, counts) + b.covariance(&b, counts) - 2.0 * a.covariance(&b, counts);
    let difference = a.theta - b.theta;
    let mut z = difference / variance.max(0.0).sqrt();
    if z.is_nan() && a.theta == b.theta {
        z = 0.0;
    }
    Ok(PairedDelong {
        auc_1: a.theta,
        auc_2: b.theta,
        z,
        p_value: statrs::function::erf::erfc(z.abs() / std::f64::consts::SQRT_2),
    })
}

/// Valid inputs with at least two subjects of each class.
fn checked_counts(y: &[i64], p: &[f64]) -> Result<ClassCounts, MetricError> {
    let counts = validate(y, p)?.require_both()?;
    if counts.cases < 2 || counts.controls < 2 {
        return Err(MetricError::TooFewPerClass);
    }
    Ok(counts)
}

/// The placements of one predictor and their mean.
struct Placements {
    /// Per case (in subject order): the share of controls it outscores.
    cases: Vec<f64>,
    /// Per control (in subject order): the share of cases that outscore it.
    controls: Vec<f64>,
    /// The AUROC: the mean case placement.
    theta: f64,
}

impl Placements {
    fn of(y: &[i64], p: &[f64], counts: ClassCounts) -> Self {
        let mut case_scores: Vec<f64> = Vec::with_capacity(counts.cases);
        let mut control_scores: Vec<f64> = Vec::with_capacity(counts.controls);
        for (&label, &score) in y.iter().zip(p) {
            if label == 1 {
                case_scores.push(score);
            } else {
                control_scores.push(score);
            }
        }
        let mut sorted_cases = case_scores.clone();
        let mut sorted_controls = control_scores.clone();
        sorted_cases.sort_unstable_by(f64::total_cmp);
        sorted_controls.sort_unstable_by(f64::total_cmp);
        let (n1, n0) = (counts.cases as f64, counts.controls as f64);
        // (below, tied) of `score` in `sorted`.
        let rank = |sorted: &[f64], score: f64| {
            let below = sorted.partition_point(|&s| s < score);
            let not_above = sorted.partition_point(|&s| s <= score);
            (below, not_above - below)
        };
        let cases: Vec<f64> = case_scores
            .iter()
            .map(|&x| {
                let (below, tied) = rank(&sorted_controls, x);
                (below as f64 + 0.5 * tied as f64) / n0
            })
            .collect();
        let controls: Vec<f64> = control_scores
            .iter()
            .map(|&x| {
                let (below, tied) = rank(&sorted_cases, x);
                let above = counts.cases - below - tied;
                (above as f64 + 0.5 * tied as f64) / n1
            })
            .collect();
        let theta = cases.iter().sum::<f64>() / n1;
        Self {
            cases,
            controls,
            theta,
        }
    }

    /// DeLong's covariance of the AUROCs of `self` and `other` (the variance when they are
    /// the same): `S10 / n1 + S01 / n0` from the placements' sample covariances.
    fn covariance(&self, other: &Self, counts: ClassCounts) -> f64 {
        let cov = |a: &[f64], ta: f64, b: &[f64], tb: f64| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - ta) * (y - tb))
                .sum::<f64>()
                / (a.len() - 1) as f64
        };
        let s10 = cov(&self.cases, self.theta, &other.cases, other.theta);
        let s01 = cov(&self.controls, self.theta, &other.controls, other.theta);
        s10 / counts.cases as f64 + s01 / counts.controls as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::auroc;

    #[test]
    fn the_auc_is_the_mann_whitney_statistic() {
        let y = [0, 0, 1, 1, 0, 1];
        let p = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4];
        let d = delong(&y, &p).unwrap();
        assert!((d.auc - auroc(&y, &p).unwrap()).abs() < 1e-15);
    }

    #[test]
    fn variance_by_hand() {
        // Cases 0.8, 0.6; controls 0.7, 0.2. Case placements 1 and 1/2, mean 0.75.
        // Control placements: 0.7 is outscored by 1 of 2 cases (1/2), 0.2 by both (1).
        // S10 = S01 = ((0.5 − 0.75)² + (1 − 0.75)²) / 1 = 0.125; var = 0.125/2 + 0.125/2.
        let d = delong(&[1, 1, 0, 0], &[0.8, 0.6, 0.7, 0.2]).unwrap();
        assert_eq!(d.auc, 0.75);
        assert_eq!(d.variance, 0.125);
        let (lo, hi) = d.ci();
        assert_eq!(hi, 1.0, "clipped at 1");
        assert!((lo - (0.75 - Z_975 * 0.125f64.sqrt())).abs() < 1e-15);
    }

    #[test]
    fn a_predictor_against_itself_is_not_different() {
        let y = [1, 1, 0, 0, 1, 0];
        let p = [0.8, 0.6, 0.7, 0.2, 0.3, 0.1];
        let t = delong_paired(&y, &p, &p).unwrap();
        assert_eq!((t.z, t.p_value), (0.0, 1.0));
    }

    #[test]
    fn too_few_subjects_per_class_are_degenerate() {
        assert_eq!(
            delong(&[1, 0, 0], &[0.5, 0.2, 0.3]),
            Err(MetricError::TooFewPerClass)
        );
        assert_eq!(
            delong(&[0, 0, 0], &[0.5, 0.2, 0.3]),
            Err(MetricError::SingleClass)
        );
        assert!(MetricError::TooFewPerClass.is_degenerate());
    }
}
