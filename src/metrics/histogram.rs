//! [`probability_histograms`]: counts of predicted probabilities per outcome class.

use std::num::NonZeroUsize;

use super::bins::{bin_index, linspace};
use super::input::validate;
use super::MetricError;

/// One bin of a probability histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramBin {
    /// Lower edge (inclusive).
    pub lower: f64,
    /// Upper edge (exclusive, except 1.0 for the last bin).
    pub upper: f64,
    /// Number of probabilities in the bin.
    pub count: usize,
}

/// `numpy.histogram(p[y == c], bins=linspace(0, 1, bins + 1))` for c = 0 and c = 1, indexed by
/// the outcome; a class without subjects gives `None`, as the reference skips it.
pub fn probability_histograms(
    y: &[i64],
    p: &[f64],
    bins: NonZeroUsize,
) -> Result<[Option<Vec<HistogramBin>>; 2], MetricError> {
    let counts = validate(y, p)?;
    let edges = linspace(0.0, 1.0, bins.get() + 1);
    let mut tallies = [vec![0usize; bins.get()], vec![0usize; bins.get()]];
    for (&yi, &pi) in y.iter().zip(p) {
        tallies[usize::from(yi == 1)][bin_index(&edges, pi)] += 1;
    }
    let to_bins = |tally: &[usize]| -> Vec<HistogramBin> {
        tally
            .iter()
            .zip(edges.windows(2))
            .map(|(&count, edge)| HistogramBin {
                lower: edge[0],
                upper: edge[1],
                count,
            })
            .collect()
    };
    Ok([
        (counts.controls > 0).then(|| to_bins(&tallies[0])),
        (counts.cases > 0).then(|| to_bins(&tallies[1])),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: NonZeroUsize = NonZeroUsize::new(10).unwrap();

    fn counts(bins: &Option<Vec<HistogramBin>>) -> Vec<usize> {
        bins.as_ref().unwrap().iter().map(|bin| bin.count).collect()
    }

    #[test]
    fn edge_values_match_numpy_histogram() {
        // numpy 2.1.3: np.histogram([0.0, 0.1, 0.3, 0.30000000000000004, 0.5, 0.7, 0.95, 1.0],
        //                           bins=np.linspace(0, 1, 11))[0] == [1, 1, 1, 1, 0, 1, 1, 0, 0, 2]
        let p = [0.0, 0.1, 0.3, 0.30000000000000004, 0.5, 0.7, 0.95, 1.0];
        let [controls, cases] = probability_histograms(&[0; 8], &p, TEN).unwrap();
        assert_eq!(counts(&controls), [1, 1, 1, 1, 0, 1, 1, 0, 0, 2]);
        assert_eq!(cases, None);
        let bins = controls.unwrap();
        assert_eq!((bins[3].lower, bins[3].upper), (0.30000000000000004, 0.4));
        assert_eq!(bins[9].upper, 1.0);
    }

    #[test]
    fn splits_by_outcome() {
        let y = [1, 0, 1, 0, 1];
        let p = [0.05, 0.15, 0.12, 0.95, 1.0];
        let [controls, cases] =
            probability_histograms(&y, &p, NonZeroUsize::new(2).unwrap()).unwrap();
        assert_eq!(counts(&controls), [1, 1]);
        assert_eq!(counts(&cases), [2, 1]);
    }
}
