//! [`calibration_curve`]: observed proportion against mean prediction in uniform bins.

use std::num::NonZeroUsize;

use super::bins::{bin_index, linspace};
use super::input::validate;
use super::MetricError;

/// One bin of a calibration curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationBin {
    /// Lower edge (inclusive).
    pub lower: f64,
    /// Upper edge (exclusive, except 1.0 for the last bin).
    pub upper: f64,
    /// Number of subjects in the bin.
    pub n: usize,
    /// Mean probability of the subjects in the bin; `None` when the bin is empty.
    pub predicted_mean: Option<f64>,
    /// Fraction of cases among the subjects in the bin; `None` when the bin is empty.
    pub observed_proportion: Option<f64>,
}

/// Calibration curve over `bins` uniform bins with edges `linspace(0, 1, bins + 1)`; a value
/// `x` falls in the bin with `lower <= x < upper`, the last bin also taking 1.0.
///
/// Sums accumulate in subject order (`numpy.bincount`, as scikit-learn's `calibration_curve`
/// does), so the means match it bit for bit. Empty bins are kept, with `None` means, so that
/// the table always has `bins` rows.
pub fn calibration_curve(
    y: &[i64],
    p: &[f64],
    bins: NonZeroUsize,
) -> Result<Vec<CalibrationBin>, MetricError> {
    validate(y, p)?;
    let edges = linspace(0.0, 1.0, bins.get() + 1);
    let mut sums = vec![(0usize, 0.0, 0.0); bins.get()];
    for (&yi, &pi) in y.iter().zip(p) {
        let bin = &mut sums[bin_index(&edges, pi)];
        bin.0 += 1;
        bin.1 += pi;
        bin.2 += yi as f64;
    }
    let curve = sums
        .iter()
        .zip(edges.windows(2))
        .map(|(&(n, p_sum, y_sum), edge)| {
            let mean = |sum: f64| (n > 0).then(|| sum / n as f64);
            CalibrationBin {
                lower: edge[0],
                upper: edge[1],
                n,
                predicted_mean: mean(p_sum),
                observed_proportion: mean(y_sum),
            }
        })
        .collect();
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: NonZeroUsize = NonZeroUsize::new(10).unwrap();

    #[test]
    fn bins_by_hand() {
        let y = [0, 1, 1, 0, 1];
        let p = [0.05, 0.15, 0.12, 0.95, 1.0];
        let curve = calibration_curve(&y, &p, TEN).unwrap();
        assert_eq!(curve.len(), 10);
        assert_eq!((curve[0].lower, curve[0].upper), (0.0, 0.1));
        assert_eq!((curve[9].lower, curve[9].upper), (0.9, 1.0));
        assert_eq!(curve[0].n, 1);
        assert_eq!(curve[1].n, 2);
        assert_eq!(curve[1].predicted_mean, Some((0.15 + 0.12) / 2.0));
        assert_eq!(curve[1].observed_proportion, Some(1.0));
        assert_eq!(
            curve[5],
            CalibrationBin {
                lower: 0.5,
                upper: 0.6000000000000001,
                n: 0,
                predicted_mean: None,
                observed_proportion: None,
            }
        );
        // 0.95 and 1.0 share the closed last bin.
        assert_eq!(curve[9].n, 2);
        assert_eq!(curve[9].observed_proportion, Some(0.5));
    }

    #[test]
    fn edge_values_follow_the_numpy_histogram_rule() {
        // 0.3 < linspace(0, 1, 11)[3] = 0.30000000000000004 stays in bin 2; 0.5 is an exact
        // edge and opens bin 5; 0.7 < 0.7000000000000001 stays in bin 6.
        let curve = calibration_curve(&[1, 0, 1], &[0.3, 0.5, 0.7], TEN).unwrap();
        let counts: Vec<usize> = curve.iter().map(|bin| bin.n).collect();
        assert_eq!(counts, [0, 0, 1, 0, 0, 1, 1, 0, 0, 0]);
    }

    #[test]
    fn means_match_sklearn_calibration_curve() {
        // sklearn 1.5.2: calibration_curve(y, p, n_bins=10) == ([0.5555555555555556], [0.55])
        // for nine values in [0.5, 0.6); numpy's pairwise np.mean(p) would be 0.5499999999999999.
        let p = [0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.57, 0.58, 0.59];
        let y = [1, 0, 1, 0, 1, 0, 1, 0, 1];
        let curve = calibration_curve(&y, &p, TEN).unwrap();
        assert_eq!(curve[5].predicted_mean, Some(0.55));
        assert_eq!(curve[5].observed_proportion, Some(5.0 / 9.0));
    }
}
