//! numpy's pairwise summation, so that sums and means match `numpy.sum` / `numpy.mean` bit for
//! bit instead of merely to rounding error.

/// Sums `term(0) + … + term(n - 1)` in the order numpy's `add.reduce` uses for a contiguous
/// float64 array: blocks of up to 128 values in eight interleaved accumulators, split in halves
/// (multiples of 8) above that.
pub(crate) fn numpy_sum(n: usize, term: &impl Fn(usize) -> f64) -> f64 {
    pairwise(0, n, term)
}

/// The mean of `term(0) … term(n - 1)` as `numpy.mean` computes it: the pairwise sum divided
/// by `n`.
pub(crate) fn numpy_mean(n: usize, term: &impl Fn(usize) -> f64) -> f64 {
    numpy_sum(n, term) / n as f64
}

fn pairwise(start: usize, n: usize, term: &impl Fn(usize) -> f64) -> f64 {
    const BLOCK: usize = 128;
    if n < 8 {
        let mut sum = 0.0;
        for i in start..start + n {
            sum += term(i);
        }
        sum
    } else if n <= BLOCK {
        let mut acc = [0.0; 8];
        for (j, slot) in acc.iter_mut().enumerate() {
            *slot = term(start + j);
        }
        let mut i = 8;
        while i < n - n % 8 {
            for (j, slot) in acc.iter_mut().enumerate() {
                *slot += term(start + i + j);
            }
            i += 8;
        }
        let mut sum =
            ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        while i < n {
            sum += term(start + i);
            i += 1;
        }
        sum
    } else {
        let half = n / 2;
        let half = half - half % 8;
        pairwise(start, half, term) + pairwise(start + half, n - half, term)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_sum_bit_for_bit() {
        // numpy 2.1.3: np.sum(np.arange(1, 21) / 10.0) == 21.0 (a left-to-right loop gives
        // 20.999999999999996) and np.sum(np.arange(1, 201) / 10.0) == 2009.9999999999998 (the
        // loop gives 2010.0000000000002); the second exercises the split above 128 values.
        let tenths = |i: usize| (i + 1) as f64 / 10.0;
        assert_eq!(numpy_sum(20, &tenths), 21.0);
        assert_eq!(numpy_sum(200, &tenths), 2009.9999999999998);
        // np.mean(np.arange(1, 201) / 10.0) == 10.049999999999999
        assert_eq!(numpy_mean(200, &tenths), 10.049999999999999);
        assert_eq!(numpy_sum(0, &tenths), 0.0);
        assert_eq!(numpy_mean(3, &|i| [1.0, 2.0, 4.0][i]), 7.0 / 3.0);
    }
}
