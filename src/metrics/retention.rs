//! [`retention_curve`]: metrics on the most certain subjects, for selective classification.

use std::cmp::Ordering;

use super::auroc::auroc;
use super::brier::{brier, scaled_brier};
use super::input::{count_classes, validate};
use super::net_benefit::net_benefit;
use super::MetricError;

/// Number of retention rates: `k / 20` for `k = 1..=RETENTION_RATES`, i.e. 0.05 to 1.0.
pub const RETENTION_RATES: usize = 20;

/// Fewest subjects kept at any rate (unless there are fewer in total).
pub const MIN_RETAINED: usize = 10;

/// Threshold of the net benefit reported along the retention curve.
pub const RETENTION_NET_BENEFIT_THRESHOLD: f64 = 0.15;

/// Metrics of the subjects kept at one retention rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetentionMetrics {
    /// AUROC of the kept subjects.
    pub auroc: f64,
    /// Brier score of the kept subjects, natural sign (lower is better).
    pub brier: f64,
    /// Scaled Brier (IPA) relative to the kept subjects' own prevalence.
    pub scaled_brier: f64,
    /// Net benefit at [`RETENTION_NET_BENEFIT_THRESHOLD`].
    pub net_benefit: f64,
}

impl RetentionMetrics {
    /// The metrics' names (`retention_metrics.metric_name`), in the order of [`Self::values`].
    pub const NAMES: [&'static str; 4] = ["auroc", "brier", "scaled_brier", "net_benefit"];

    /// The values, in the order of [`Self::NAMES`].
    pub fn values(&self) -> [f64; 4] {
        [self.auroc, self.brier, self.scaled_brier, self.net_benefit]
    }
}

/// One retention rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetentionPoint {
    /// Retention rate `k / 20`.
    pub rate: f64,
    /// Number of subjects kept.
    pub kept: usize,
    /// Metrics of the kept subjects; `None` when they are all of one class.
    pub metrics: Option<RetentionMetrics>,
}

/// The retention curve: at each rate `k / 20` keep the `min(n, max(10, ⌊n k / 20⌋))` subjects
/// with the smallest `uncertainty` (ties in subject order, like a stable argsort) and compute
/// their metrics.
///
/// `uncertainty` is the per-subject standard deviation over the bootstrap models and must be
/// finite and non-negative.
pub fn retention_curve(
    y: &[i64],
    p: &[f64],
    uncertainty: &[f64],
) -> Result<Vec<RetentionPoint>, MetricError> {
    let n = validate(y, p)?.n();
    if uncertainty.len() != n {
        return Err(MetricError::LengthMismatch {
            labels: n,
            values: uncertainty.len(),
        });
    }
    if let Some(index) = uncertainty
        .iter()
        .position(|u| !(u.is_finite() && *u >= 0.0))
    {
        return Err(MetricError::InvalidUncertainty { index });
    }

    let mut order: Vec<usize> = (0..n).collect();
    // Stable sort; the values are finite, so `partial_cmp` never fails.
    order.sort_by(|&a, &b| {
        uncertainty[a]
            .partial_cmp(&uncertainty[b])
            .unwrap_or(Ordering::Equal)
    });

    let mut kept_y = Vec::with_capacity(n);
    let mut kept_p = Vec::with_capacity(n);
    (1..=RETENTION_RATES)
        .map(|k| {
            let kept = n.min(MIN_RETAINED.max(n * k / RETENTION_RATES));
            kept_y.clear();
            kept_p.clear();
            kept_y.extend(order[..kept].iter().map(|&i| y[i]));
            kept_p.extend(order[..kept].iter().map(|&i| p[i]));
            let counts = count_classes(&kept_y)?;
            let metrics = if counts.cases == 0 || counts.controls == 0 {
                None
            } else {
                Some(RetentionMetrics {
                    auroc: auroc(&kept_y, &kept_p)?,
                    brier: brier(&kept_y, &kept_p)?,
                    scaled_brier: scaled_brier(&kept_y, &kept_p)?,
                    net_benefit: net_benefit(&kept_y, &kept_p, RETENTION_NET_BENEFIT_THRESHOLD)?,
                })
            };
            Ok(RetentionPoint {
                rate: k as f64 / RETENTION_RATES as f64,
                kept,
                metrics,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cohort_keeps_everyone_at_every_rate() {
        let y = [0, 1, 0, 1];
        let p = [0.2, 0.7, 0.4, 0.9];
        let curve = retention_curve(&y, &p, &[0.1, 0.2, 0.3, 0.4]).unwrap();
        assert_eq!(curve.len(), 20);
        assert_eq!(curve[0].rate, 0.05);
        assert_eq!(curve[2].rate, 0.15);
        assert_eq!(curve[19].rate, 1.0);
        assert!(curve.iter().all(|point| point.kept == 4));
        let full = curve[19].metrics.unwrap();
        assert_eq!(full.auroc, 1.0);
        assert_eq!(full.brier, brier(&y, &p).unwrap());
    }

    #[test]
    fn ties_keep_subject_order_and_subsets_match_sklearn() {
        let curve = retention_curve(&Y, &P, &U).unwrap();
        let kept: Vec<usize> = curve.iter().map(|point| point.kept).collect();
        assert_eq!(kept, KEPT);
        for (point, expected) in curve.iter().zip(EXPECTED) {
            assert_eq!(point.metrics, expected, "rate {}", point.rate);
        }
    }

    #[test]
    fn invalid_uncertainty_is_an_error() {
        assert_eq!(
            retention_curve(&[0, 1], &[0.2, 0.7], &[0.1, f64::NAN]),
            Err(MetricError::InvalidUncertainty { index: 1 })
        );
        assert_eq!(
            retention_curve(&[0, 1], &[0.2, 0.7], &[-0.1, 0.0]),
            Err(MetricError::InvalidUncertainty { index: 0 })
        );
        assert_eq!(
            retention_curve(&[0, 1], &[0.2, 0.7], &[0.1]),
            Err(MetricError::LengthMismatch {
                labels: 2,
                values: 1
            })
        );
    }

    // numpy.random.default_rng(11): U = np.round(rng.uniform(0, 0.3, 24), 1) (many ties),
    // the ten most certain subjects under np.argsort(U, kind="stable") set to controls and the
    // eleventh (tied with four of them) to a case, P = np.round(rng.uniform(0, 1, 24), 2).
    const Y: [i64; 24] = [
        0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1,
    ];
    const P: [f64; 24] = [
        0.67, 0.2, 0.9, 0.22, 0.03, 0.2, 0.35, 0.47, 0.91, 0.7, 0.34, 0.02, 0.16, 1.0, 0.46, 0.69,
        0.05, 0.03, 0.85, 0.59, 0.31, 0.32, 0.09, 0.17,
    ];
    const U: [f64; 24] = [
        0.0, 0.1, 0.2, 0.0, 0.0, 0.3, 0.0, 0.0, 0.3, 0.2, 0.1, 0.2, 0.2, 0.1, 0.0, 0.2, 0.2, 0.2,
        0.2, 0.2, 0.3, 0.1, 0.2, 0.1,
    ];
    const KEPT: [usize; 20] = [
        10, 10, 10, 10, 10, 10, 10, 10, 10, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 24,
    ];
    // Per kept subset (idx = order[:m]): roc_auc_score, brier_score_loss,
    // 1 - BS / (pi (1 - pi)) and tp / n - fp / n * 0.15 / (1 - 0.15) (sklearn 1.5.2).
    const EXPECTED: [Option<RetentionMetrics>; 20] = [
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        Some(RetentionMetrics {
            auroc: 0.5,
            brier: 0.25084166666666663,
            scaled_brier: -0.8060599999999996,
            net_benefit: 0.03431372549019607,
        }),
        Some(RetentionMetrics {
            auroc: 0.6333333333333333,
            brier: 0.2384692307692307,
            scaled_brier: -0.34337666666666644,
            net_benefit: 0.10859728506787332,
        }),
        Some(RetentionMetrics {
            auroc: 0.6666666666666666,
            brier: 0.22146428571428567,
            scaled_brier: -0.31536363636363607,
            net_benefit: 0.10084033613445376,
        }),
        Some(RetentionMetrics {
            auroc: 0.5454545454545454,
            brier: 0.25373999999999997,
            scaled_brier: -0.29753409090909066,
            net_benefit: 0.16078431372549018,
        }),
        Some(RetentionMetrics {
            auroc: 0.5416666666666666,
            brier: 0.2676375,
            scaled_brier: -0.4273999999999998,
            net_benefit: 0.13970588235294118,
        }),
        Some(RetentionMetrics {
            auroc: 0.6071428571428572,
            brier: 0.23808888888888888,
            scaled_brier: -0.3775142857142857,
            net_benefit: 0.1241830065359477,
        }),
        Some(RetentionMetrics {
            auroc: 0.6714285714285715,
            brier: 0.22674210526315788,
            scaled_brier: -0.16934142857142853,
            net_benefit: 0.1702786377708978,
        }),
        Some(RetentionMetrics {
            auroc: 0.6904761904761905,
            brier: 0.22380999999999998,
            scaled_brier: -0.06576190476190469,
            net_benefit: 0.2117647058823529,
        }),
        Some(RetentionMetrics {
            auroc: 0.711111111111111,
            brier: 0.2135380952380952,
            scaled_brier: -0.04633666666666647,
            net_benefit: 0.20168067226890757,
        }),
        Some(RetentionMetrics {
            auroc: 0.7083333333333333,
            brier: 0.20564999999999997,
            scaled_brier: -0.0368187499999999,
            net_benefit: 0.18449197860962563,
        }),
        Some(RetentionMetrics {
            auroc: 0.7394957983193278,
            brier: 0.19285416666666663,
            scaled_brier: 0.0665210084033615,
            net_benefit: 0.2034313725490196,
        }),
    ];
}
