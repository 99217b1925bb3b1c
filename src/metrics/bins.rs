//! Uniform bins over [0, 1] exactly as numpy builds them: [`linspace`] for the edges and the
//! half-open bin rule of `numpy.histogram`.

/// `numpy.linspace(a, b, n)`: `step = (b - a) / (n - 1)`, `x[i] = a + i * step`, and the last
/// point is exactly `b`; `n == 1` gives `[a]` and `n == 0` nothing.
///
/// The edges are not the decimal fractions they look like (`linspace(0, 1, 11)[3]` is
/// `0.30000000000000004`), which decides the bin of a value such as 0.3.
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![a],
        _ => {
            let step = (b - a) / (n - 1) as f64;
            let mut points: Vec<f64> = (0..n).map(|i| a + i as f64 * step).collect();
            points[n - 1] = b;
            points
        }
    }
}

/// Index of the bin holding `x` for ascending `edges`: `edges[i] <= x < edges[i + 1]`, the last
/// bin also taking `x == edges[last]`. `x` must lie within the edges (callers pass validated
/// probabilities and edges from `linspace(0, 1, ·)`).
pub(crate) fn bin_index(edges: &[f64], x: f64) -> usize {
    let bins = edges.len() - 1;
    let at_or_below = edges.partition_point(|&edge| edge <= x);
    at_or_below.saturating_sub(1).min(bins - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy() {
        // numpy 2.1.3: np.linspace(0, 1, 11).tolist()
        let expected = [
            0.0,
            0.1,
            0.2,
            0.30000000000000004,
            0.4,
            0.5,
            0.6000000000000001,
            0.7000000000000001,
            0.8,
            0.9,
            1.0,
        ];
        assert_eq!(linspace(0.0, 1.0, 11), expected);
        // np.linspace(0, 1, 10).tolist()[1:3] == [0.1111111111111111, 0.2222222222222222]
        let ten = linspace(0.0, 1.0, 10);
        assert_eq!(ten[1..3], [0.1111111111111111, 0.2222222222222222]);
        assert_eq!(ten[9], 1.0);
        assert_eq!(linspace(0.5, 2.0, 1), [0.5]);
        assert!(linspace(0.0, 1.0, 0).is_empty());
    }

    #[test]
    fn bins_are_half_open_and_the_last_is_closed() {
        let edges = linspace(0.0, 1.0, 11);
        assert_eq!(bin_index(&edges, 0.0), 0);
        assert_eq!(bin_index(&edges, 0.1), 1);
        // 0.3 < 0.30000000000000004, so it stays in [0.2, 0.3).
        assert_eq!(bin_index(&edges, 0.3), 2);
        assert_eq!(bin_index(&edges, 0.30000000000000004), 3);
        assert_eq!(bin_index(&edges, 0.7), 6);
        assert_eq!(bin_index(&edges, 0.5), 5);
        assert_eq!(bin_index(&edges, 0.9999999999999999), 9);
        assert_eq!(bin_index(&edges, 1.0), 9);
    }
}
