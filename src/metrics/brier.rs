//! [`brier`] and [`scaled_brier`] (the index of prediction accuracy, IPA).

use super::input::{validate, ClassCounts};
use super::summation::numpy_mean;
use super::MetricError;

/// Brier score `mean((p - y)²)`, bit-identical to `sklearn.metrics.brier_score_loss(y, p)`
/// (numpy's pairwise mean). Natural sign: lower is better; defined for a single class too.
pub fn brier(y: &[i64], p: &[f64]) -> Result<f64, MetricError> {
    validate(y, p)?;
    Ok(brier_unchecked(y, p))
}

/// Scaled Brier score (IPA) `1 - BS / (π (1 - π))`, π the prevalence: the Brier score relative
/// to always predicting the prevalence. Requires both classes, since otherwise π (1 - π) is 0.
pub fn scaled_brier(y: &[i64], p: &[f64]) -> Result<f64, MetricError> {
    let counts = validate(y, p)?.require_both()?;
    Ok(scale_brier(brier_unchecked(y, p), counts))
}

/// `1 - bs / (π (1 - π))` for counts with both classes, written as the reference does.
fn scale_brier(bs: f64, counts: ClassCounts) -> f64 {
    let prevalence = counts.prevalence();
    1.0 - bs / (prevalence * (1.0 - prevalence))
}

/// The Brier score of already validated inputs.
fn brier_unchecked(y: &[i64], p: &[f64]) -> f64 {
    numpy_mean(y.len(), &|i| {
        let diff = y[i] as f64 - p[i];
        diff * diff
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brier_by_hand_and_against_sklearn() {
        // ((0.1)² + (0.4)²) / 2 with y = [0, 1], p = [0.1, 0.6]
        assert_eq!(
            brier(&[0, 1], &[0.1, 0.6]).unwrap(),
            (0.1f64 * 0.1 + 0.4 * 0.4) / 2.0
        );
        assert_eq!(brier(&[1, 1], &[1.0, 1.0]).unwrap(), 0.0);
        // sklearn 1.5.2: brier_score_loss(Y, P) == 0.21023636363636367
        assert_eq!(brier(&Y, &P).unwrap(), 0.21023636363636367);
    }

    #[test]
    fn scaled_brier_by_hand_and_against_reference() {
        // Predicting the prevalence everywhere scores exactly 0: BS = π (1 - π) = 0.25.
        assert_eq!(scaled_brier(&[0, 1, 0, 1], &[0.5; 4]).unwrap(), 0.0);
        // 1 - brier_score_loss(Y, P) / (π (1 - π)) with π = Y.mean(): 0.15204666666666644
        assert_eq!(scaled_brier(&Y, &P).unwrap(), 0.15204666666666644);
        assert_eq!(
            scaled_brier(&[0, 0], &[0.1, 0.2]),
            Err(MetricError::SingleClass)
        );
    }

    // Eleven subjects so that the pairwise sum uses its eight-accumulator path.
    const Y: [i64; 11] = [0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1];
    const P: [f64; 11] = [
        0.12, 0.81, 0.43, 0.37, 0.66, 0.05, 0.91, 0.29, 0.5, 0.18, 0.74,
    ];
}
