//! [`distribution_stats`]: count, median and mean of the predicted probability per class.

use super::input::validate;
use super::summation::numpy_mean;
use super::MetricError;

/// Summary of the probabilities of one outcome class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassSummary {
    /// Number of subjects in the class.
    pub n: usize,
    /// `numpy.median` of their probabilities; `None` when the class is empty.
    pub median: Option<f64>,
    /// `numpy.mean` of their probabilities; `None` when the class is empty.
    pub mean: Option<f64>,
}

/// Per-class summaries of the predicted probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistributionStats {
    /// Subjects with label 1.
    pub cases: ClassSummary,
    /// Subjects with label 0.
    pub controls: ClassSummary,
}

/// Median and mean of `p` among cases and among controls, with the counts, matching numpy's
/// `median` (mean of the two middle values for an even count) and pairwise `mean`.
pub fn distribution_stats(y: &[i64], p: &[f64]) -> Result<DistributionStats, MetricError> {
    validate(y, p)?;
    Ok(DistributionStats {
        cases: summarize(y, p, 1),
        controls: summarize(y, p, 0),
    })
}

fn summarize(y: &[i64], p: &[f64], label: i64) -> ClassSummary {
    // Subject order is kept for the mean: numpy's pairwise sum depends on it.
    let mut values: Vec<f64> = y
        .iter()
        .zip(p)
        .filter(|&(&yi, _)| yi == label)
        .map(|(_, &pi)| pi)
        .collect();
    let n = values.len();
    if n == 0 {
        return ClassSummary {
            n,
            median: None,
            mean: None,
        };
    }
    let mean = numpy_mean(n, &|i| values[i]);
    values.sort_unstable_by(f64::total_cmp);
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    ClassSummary {
        n,
        median: Some(median),
        mean: Some(mean),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_means_by_hand() {
        let y = [1, 0, 1, 0, 1, 0, 0];
        let p = [0.9, 0.1, 0.6, 0.3, 0.7, 0.2, 0.25];
        let stats = distribution_stats(&y, &p).unwrap();
        assert_eq!(
            stats.cases,
            ClassSummary {
                n: 3,
                median: Some(0.7),
                mean: Some((0.9 + 0.6 + 0.7) / 3.0)
            }
        );
        assert_eq!(stats.controls.n, 4);
        assert_eq!(stats.controls.median, Some((0.2 + 0.25) / 2.0));
        assert_eq!(stats.controls.mean, Some((0.1 + 0.3 + 0.2 + 0.25) / 4.0));
    }

    #[test]
    fn matches_numpy_on_a_larger_class() {
        // numpy 2.1.3 on the ten values below: np.median(v) == 0.455, np.mean(v) == 0.4579999999999999
        let p = [0.71, 0.12, 0.33, 0.58, 0.46, 0.05, 0.99, 0.45, 0.27, 0.62];
        let stats = distribution_stats(&[1; 10], &p).unwrap();
        assert_eq!(stats.cases.median, Some(0.455));
        assert_eq!(stats.cases.mean, Some(0.4579999999999999));
        assert_eq!(
            stats.controls,
            ClassSummary {
                n: 0,
                median: None,
                mean: None
            }
        );
    }
}
