//! Aggregation over bootstrap iterations, numpy-compatible: [`nanpercentile`], [`nanmean`] and
//! the percentile interval [`percentile_ci`].

use super::summation::numpy_sum;

/// Lower and upper percentiles of the 95 % percentile bootstrap interval.
pub const CI_PERCENTILES: (f64, f64) = (2.5, 97.5);

/// `numpy.nanpercentile(values, q)` with the default linear interpolation, bit for bit: NaN
/// is ignored, infinities are kept. `None` when every value is NaN or `q` is outside [0, 100].
pub fn nanpercentile(values: &[f64], q: f64) -> Option<f64> {
    if !(0.0..=100.0).contains(&q) {
        return None;
    }
    let mut kept: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if kept.is_empty() {
        return None;
    }
    Some(percentile_of(&mut kept, q))
}

/// The 95 % percentile interval `nanpercentile(values, [2.5, 97.5])`, or `None` when fewer
/// than two finite values remain or all finite values are equal (zero spread).
///
/// Non-finite values (NaN and ±inf) are ignored, as the reference does for curve arrays. Zero
/// spread means `min == max` rather than the reference's `nanstd == 0`, which rounding can make
/// non-zero for equal values.
pub fn percentile_ci(values: &[f64]) -> Option<(f64, f64)> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let min = finite.iter().copied().min_by(f64::total_cmp)?;
    let max = finite.iter().copied().max_by(f64::total_cmp)?;
    (finite.len() >= 2 && min != max).then(|| {
        (
            percentile_of(&mut finite, CI_PERCENTILES.0),
            percentile_of(&mut finite, CI_PERCENTILES.1),
        )
    })
}

/// `numpy.nanmean(values)` bit for bit (NaN counted as 0 in the pairwise sum, divided by the
/// number of non-NaN values); `None` when every value is NaN.
pub fn nanmean(values: &[f64]) -> Option<f64> {
    let count = values.iter().filter(|v| !v.is_nan()).count();
    if count == 0 {
        return None;
    }
    let sum = numpy_sum(values.len(), &|i| {
        if values[i].is_nan() {
            0.0
        } else {
            values[i]
        }
    });
    Some(sum / count as f64)
}

/// numpy's "linear" quantile at percentile `q` in [0, 100] of a non-empty slice, whose order
/// it changes: the one or two order statistics it interpolates (in `total_cmp` order, which
/// sorting would give) are selected in linear time, not the whole slice sorted.
fn percentile_of(values: &mut [f64], q: f64) -> f64 {
    let last = values.len() - 1;
    let virtual_index = last as f64 * (q / 100.0);
    // numpy clamps the neighbours to the last value from `n - 1` on and then measures gamma
    // from index -1; the interpolation between equal neighbours gives that value either way.
    let (previous, next, gamma) = if virtual_index >= last as f64 {
        (last, last, virtual_index + 1.0)
    } else {
        let floor = virtual_index.floor();
        (floor as usize, floor as usize + 1, virtual_index - floor)
    };
    let (_, &mut low, above) = values.select_nth_unstable_by(previous, f64::total_cmp);
    let high = if next == previous {
        low
    } else {
        // The next order statistic is the least of those above.
        above
            .iter()
            .copied()
            .min_by(f64::total_cmp)
            .expect("next <= last")
    };
    lerp(low, high, gamma)
}

/// numpy's `_lerp`: interpolates from the nearer end so that `t = 1` returns `b` exactly.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanpercentile_matches_numpy() {
        // numpy 2.1.3: np.nanpercentile(V, q) for q in (0, 2.5, 25, 50, 97.5, 100, 33, 71.3)
        for (q, expected) in NANPERCENTILE {
            assert_eq!(nanpercentile(&V, q), Some(expected), "q = {q}");
        }
        assert_eq!(nanpercentile(&[f64::NAN, f64::NAN], 50.0), None);
        assert_eq!(nanpercentile(&[1.0], 97.5), Some(1.0));
        assert_eq!(nanpercentile(&[1.0, 2.0], 101.0), None);
    }

    #[test]
    fn percentile_ci_matches_numpy_and_refuses_degenerate_sets() {
        // np.nanpercentile(V, [2.5, 97.5])
        assert_eq!(
            percentile_ci(&V),
            Some((NANPERCENTILE[1].1, NANPERCENTILE[4].1))
        );
        // Infinities are dropped like NaN.
        let mut with_inf = V.to_vec();
        with_inf.push(f64::INFINITY);
        assert_eq!(percentile_ci(&with_inf), percentile_ci(&V));
        assert_eq!(percentile_ci(&[0.5; 1000]), None);
        assert_eq!(percentile_ci(&[0.7, f64::NAN]), None);
        assert_eq!(percentile_ci(&[]), None);
        // Two values: 0 + 1 · 0.025 and 1 - 1 · 0.025.
        assert_eq!(percentile_ci(&[1.0, 0.0]), Some((0.025, 0.975)));
    }

    use proptest::prelude::*;

    proptest! {
        /// Selecting the order statistics gives the bits that sorting gives, ties, signed
        /// zeros and infinities included.
        #[test]
        fn selected_percentiles_equal_sorted_ones(
            values in prop::collection::vec(
                prop_oneof![
                    (0u8..6).prop_map(|k| f64::from(k) / 4.0),
                    prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::INFINITE,
                ],
                1..300,
            ),
            q in 0.0..=100.0f64,
        ) {
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            let last = sorted.len() - 1;
            let virtual_index = last as f64 * (q / 100.0);
            let expected = if virtual_index >= last as f64 {
                lerp(sorted[last], sorted[last], virtual_index + 1.0)
            } else {
                let floor = virtual_index.floor();
                let k = floor as usize;
                lerp(sorted[k], sorted[k + 1], virtual_index - floor)
            };
            let got = percentile_of(&mut values.clone(), q);
            prop_assert_eq!(got.to_bits(), expected.to_bits());
        }
    }

    #[test]
    fn nanmean_matches_numpy() {
        // np.nanmean(V) == NANMEAN
        assert_eq!(nanmean(&V), Some(NANMEAN));
        assert_eq!(nanmean(&[f64::NAN]), None);
        assert_eq!(nanmean(&[1.0, f64::NAN, 2.0]), Some(1.5));
    }

    // np.random.default_rng(7).random(23).round(4), with V[3] and V[17] set to NaN.
    const V: [f64; 23] = [
        0.6251,
        0.8972,
        0.7757,
        f64::NAN,
        0.3002,
        0.8736,
        0.0053,
        0.8212,
        0.7971,
        0.4679,
        0.303,
        0.2784,
        0.2549,
        0.4451,
        0.5045,
        0.5535,
        0.9955,
        f64::NAN,
        0.6222,
        0.989,
        0.2153,
        0.1602,
        0.6125,
    ];
    const NANPERCENTILE: [(f64, f64); 8] = [
        (0.0, 0.0053),
        (2.5, 0.08275),
        (25.0, 0.3002),
        (50.0, 0.5535),
        (97.5, 0.9922500000000001),
        (100.0, 0.9955),
        (33.0, 0.38826000000000005),
        (71.3, 0.781264),
    ];
    const NANMEAN: f64 = 0.5474952380952381;
}
