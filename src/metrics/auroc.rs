//! [`auroc`]: the area under the ROC curve, computed the way scikit-learn's `roc_auc_score`
//! computes it so that the stored value is the same float, not just the same number.

use super::input::validate;
use super::summation::numpy_sum;
use super::MetricError;

/// AUROC of probabilities `p` for 0/1 labels `y`, bit-identical to
/// `sklearn.metrics.roc_auc_score(y, p)`.
///
/// Tied scores count one half, so the value is the Mann–Whitney U / (n₁ n₀). It is computed as
/// scikit-learn does (ROC points at the distinct scores, collinear points dropped, trapezoids
/// summed with numpy's pairwise sum) because the rank-sum formula, though equal in exact
/// arithmetic, differs from scikit-learn in the last bit for about a third of inputs.
/// O(n log n). Requires both classes.
pub fn auroc(y: &[i64], p: &[f64]) -> Result<f64, MetricError> {
    validate(y, p)?.require_both()?;

    // Each subject as one integer, score above label: the bits of a probability in [0, 1]
    // order as its value does (`+ 0.0` makes -0.0 the score 0.0, as numpy's `diff` treats
    // it), and a bit is left free below them. Integers sort faster than pairs of floats;
    // the order within tied scores does not matter, as only each score's last point counts.
    let mut scored: Vec<u64> = p
        .iter()
        .zip(y)
        .map(|(&p, &y)| ((p + 0.0).to_bits() << 1) | u64::from(y == 1))
        .collect();
    scored.sort_unstable();
    let score = |key: u64| key >> 1;

    // (false positives, true positives) after each distinct score, highest score first.
    let mut points: Vec<(u64, u64)> = Vec::with_capacity(scored.len() + 1);
    let (mut fp, mut tp) = (0, 0);
    for (i, &key) in scored.iter().enumerate().rev() {
        if key & 1 == 1 {
            tp += 1;
        } else {
            fp += 1;
        }
        if i == 0 || score(scored[i - 1]) != score(key) {
            points.push((fp, tp));
        }
    }

    // `roc_curve(drop_intermediate=True)` keeps the end points and every point where the
    // curve bends (a non-zero second difference), then prepends the origin.
    let mut curve: Vec<(u64, u64)> = Vec::with_capacity(points.len() + 1);
    curve.push((0, 0));
    let last = points.len() - 1;
    for (i, &point) in points.iter().enumerate() {
        let keep = i == 0
            || i == last
            || bends(points[i - 1].0, point.0, points[i + 1].0)
            || bends(points[i - 1].1, point.1, points[i + 1].1);
        if keep {
            curve.push(point);
        }
    }

    let (fp_total, tp_total) = (fp as f64, tp as f64);
    let fpr = |k: usize| curve[k].0 as f64 / fp_total;
    let tpr = |k: usize| curve[k].1 as f64 / tp_total;
    // numpy.trapezoid(tpr, fpr): sum of diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0.
    let area = numpy_sum(curve.len() - 1, &|k| {
        (fpr(k + 1) - fpr(k)) * (tpr(k + 1) + tpr(k)) / 2.0
    });
    Ok(area)
}

/// Whether the second difference `after - 2 * at + before` is non-zero.
fn bends(before: u64, at: u64, after: u64) -> bool {
    before + after != 2 * at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mann–Whitney AUROC with midranks, exact up to the final division.
    fn rank_sum_auroc(y: &[i64], p: &[f64]) -> f64 {
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[a].partial_cmp(&p[b]).unwrap());
        let mut twice_rank_sum = 0u64;
        let mut start = 0;
        while start < order.len() {
            let mut end = start;
            while end < order.len() && p[order[end]] == p[order[start]] {
                end += 1;
            }
            // Midrank of positions start..end (1-based ranks start+1 ..= end), doubled.
            let twice_midrank = (start + 1 + end) as u64;
            twice_rank_sum +=
                twice_midrank * order[start..end].iter().filter(|&&i| y[i] == 1).count() as u64;
            start = end;
        }
        let cases = y.iter().filter(|&&v| v == 1).count() as u64;
        let controls = y.len() as u64 - cases;
        (twice_rank_sum - cases * (cases + 1)) as f64 / (2 * cases * controls) as f64
    }

    #[test]
    fn matches_sklearn_without_ties() {
        // sklearn 1.5.2: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_eq!(auroc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]).unwrap(), 0.75);
        assert_eq!(auroc(&[0, 1], &[0.2, 0.9]).unwrap(), 1.0);
        assert_eq!(auroc(&[0, 1], &[0.9, 0.2]).unwrap(), 0.0);
    }

    #[test]
    fn ties_count_one_half_as_in_sklearn() {
        // All scores tied: roc_auc_score([0, 1, 0, 1], [0.5] * 4) == 0.5
        assert_eq!(auroc(&[0, 1, 0, 1], &[0.5; 4]).unwrap(), 0.5);
        // roc_auc_score(Y_TIES, P_TIES) == 0.68
        assert_eq!(auroc(&Y_TIES, &P_TIES).unwrap(), 0.68);
        // -0.0 and 0.0 are one score: roc_auc_score([0, 1], [0.0, -0.0]) would be 0.5.
        assert_eq!(auroc(&[0, 1], &[0.0, -0.0]).unwrap(), 0.5);
    }

    #[test]
    fn last_bit_agrees_with_sklearn_where_the_rank_sum_does_not() {
        // roc_auc_score([0, 1, 1, 1], [0.6, 0.6, 0.7, 1.0]) == 0.8333333333333333 while the
        // exact U / (n1 n0) = 5/6 rounds to 0.8333333333333334.
        let (y, p) = ([0, 1, 1, 1], [0.6, 0.6, 0.7, 1.0]);
        assert_eq!(auroc(&y, &p).unwrap(), 0.8333333333333333);
        assert_eq!(rank_sum_auroc(&y, &p), 0.8333333333333334);
    }

    #[test]
    fn agrees_with_the_rank_sum_to_rounding_on_many_tie_heavy_inputs() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..500 {
            let n = 2 + (next() % 150) as usize;
            let y: Vec<i64> = (0..n).map(|_| (next() % 2) as i64).collect();
            if y.iter().all(|&v| v == y[0]) {
                continue;
            }
            let p: Vec<f64> = (0..n).map(|_| (next() % 11) as f64 / 10.0).collect();
            let fast = auroc(&y, &p).unwrap();
            let exact = rank_sum_auroc(&y, &p);
            assert!(
                (fast - exact).abs() <= 4.0 * f64::EPSILON,
                "{fast} vs {exact}"
            );
        }
    }

    #[test]
    fn single_class_and_bad_input_are_errors() {
        assert_eq!(
            auroc(&[1, 1, 1], &[0.1, 0.2, 0.3]),
            Err(MetricError::SingleClass)
        );
        assert_eq!(auroc(&[], &[]), Err(MetricError::Empty));
        assert_eq!(
            auroc(&[0, 1], &[0.1, f64::INFINITY]),
            Err(MetricError::ProbabilityNotFinite { index: 1 })
        );
    }

    const Y_TIES: [i64; 10] = [0, 1, 0, 1, 1, 0, 0, 1, 0, 1];
    const P_TIES: [f64; 10] = [0.5, 0.5, 0.2, 0.9, 0.5, 0.5, 0.7, 0.2, 0.1, 0.7];
}
