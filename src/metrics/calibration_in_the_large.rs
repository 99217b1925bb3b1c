//! Mean calibration: [`calibration_in_the_large`] (the intercept of the logistic fit with
//! logit(p) as offset) and [`observed_expected_ratio`].
//!
//! The offset fit is unpenalized maximum likelihood by safeguarded Newton, iterated to machine
//! precision so that it agrees with statsmodels' `GLM` with an offset far inside 1e-6.

use super::calibration::{
    clip, clipped_odds, logit, paired_counts, MAX_ITERATIONS, STEP_TOLERANCE,
};
use super::input::validate;
use super::subject_bootstrap::Resample;
use super::subjects::{Drawn, InOrder, Subjects};
use super::summation::numpy_mean;
use super::{MetricError, LOGIT_CLIP};

/// Calibration-in-the-large: the intercept α of `logit P(y = 1) = α + logit(clip(p))` with the
/// slope fixed at 1 (logit(p) as offset), the STRATOS definition; 0 is ideal.
///
/// The MLE exists whenever both classes are present, so only [`MetricError::SingleClass`] and
/// input errors are possible (and [`MetricError::NotConverged`], which bracketing rules out in
/// practice).
pub fn calibration_in_the_large(y: &[i64], p: &[f64]) -> Result<f64, MetricError> {
    calibration_in_the_large_from(y, p, None)
}

/// [`calibration_in_the_large`], with Newton started from `start` (the α of similar data, such
/// as the mean prediction's when fitting each bootstrap column) where it lies inside the
/// bracket of the root. The MLE is the same; a near start only needs fewer iterations.
pub fn calibration_in_the_large_from(
    y: &[i64],
    p: &[f64],
    start: Option<f64>,
) -> Result<f64, MetricError> {
    validate(y, p)?.require_both()?;
    let odds: Vec<f64> = p.iter().map(|&p| clipped_odds(p)).collect();
    calibration_in_the_large_on_odds(y, &odds, start)
}

/// [`calibration_in_the_large_from`] on the odds `clipped_odds(p)` of valid probabilities,
/// computed once by the caller, for fits repeated on resamples of one set of predictions.
pub fn calibration_in_the_large_on_odds(
    y: &[i64],
    odds: &[f64],
    start: Option<f64>,
) -> Result<f64, MetricError> {
    solve(&InOrder { y, values: odds }, start)
}

/// [`calibration_in_the_large_on_odds`] on a test-set resample: the same fit, with the
/// reciprocals of a subject drawn more than once computed once per iteration.
pub fn calibration_in_the_large_on_resample(
    r: &Resample,
    start: Option<f64>,
) -> Result<f64, MetricError> {
    solve(&Drawn::odds(r), start)
}

/// Safeguarded Newton on `subjects`, whose regressors are the odds.
fn solve<S: Subjects>(subjects: &S, start: Option<f64>) -> Result<f64, MetricError> {
    let (y, odds) = (subjects.labels(), subjects.values());
    let counts = paired_counts(y, odds)?;
    // With the odds o = p / (1 - p) of the clipped predictions, expit(α + logit p) is
    // k·o / (1 + k·o) for k = e^α: one exponential per iteration, none per subject.
    let cases = counts.cases as f64;
    // score(α) = Σ y - Σ expit(α + logit p) falls from n₁ to n₁ - n; the root lies where
    // expit(α + logit p) averages to the prevalence, hence between logit(π) - ln max o and
    // logit(π) - ln min o.
    let (min_odds, max_odds) = odds
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &o| {
            (lo.min(o), hi.max(o))
        });
    let centre = logit(counts.prevalence());
    let (mut lo, mut hi) = (centre - max_odds.ln(), centre - min_odds.ln());
    let mut alpha = match start {
        Some(a) if a > lo && a < hi => a,
        _ => (lo + hi) / 2.0,
    };
    // 1 / (1 + k·o) per subject at the current α.
    let mut complements = vec![0.0; subjects.table_len()];
    for _ in 0..MAX_ITERATIONS {
        let k = alpha.exp();
        subjects.fill(&mut complements, |o| 1.0 / (1.0 + k * o));
        let (mut expected, mut information) = (0.0, 0.0);
        for (i, &o) in odds.iter().enumerate() {
            let complement = complements[subjects.entry(i)];
            let mu = k * o * complement;
            expected += mu;
            information += mu * complement;
        }
        let score = cases - expected;
        if score == 0.0 || lo >= hi {
            return Ok(alpha);
        }
        if score > 0.0 {
            lo = alpha;
        } else {
            hi = alpha;
        }
        // Converged once the Newton step is negligible: quadratic convergence makes the
        // iterate after it exact to machine precision. A bisection step never ends the search.
        let step = score / information;
        if step.abs() <= STEP_TOLERANCE * (1.0 + alpha.abs()) {
            return Ok(alpha + step);
        }
        let newton = alpha + step;
        // Safeguarded Newton: fall back to bisection when the step leaves the bracket.
        alpha = if newton > lo && newton < hi {
            newton
        } else {
            (lo + hi) / 2.0
        };
    }
    Err(MetricError::NotConverged {
        iterations: MAX_ITERATIONS,
    })
}

/// Observed-to-expected ratio `mean(y) / max(mean(clip(p)), LOGIT_CLIP)`; 1 is ideal. Defined
/// for a single class too (0 when there are no events).
pub fn observed_expected_ratio(y: &[i64], p: &[f64]) -> Result<f64, MetricError> {
    let counts = validate(y, p)?;
    let expected = numpy_mean(p.len(), &|i| clip(p[i]));
    Ok(counts.prevalence() / expected.max(LOGIT_CLIP))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::calibration::clipped_logit;
    use crate::metrics::calibration::tests::{assert_close, expit, CITL, P, Y};

    #[test]
    fn a_start_changes_the_iterations_not_the_calibration_in_the_large() {
        let cold = calibration_in_the_large(&Y, &P).unwrap();
        for start in [
            Some(cold),
            Some(cold + 0.5),
            Some(-40.0),
            Some(f64::NAN),
            None,
        ] {
            let warm = calibration_in_the_large_from(&Y, &P, start).unwrap();
            assert!(
                (warm - cold).abs() <= 1e-12 * (1.0 + cold.abs()),
                "{start:?}"
            );
        }
    }

    #[test]
    fn calibration_in_the_large_matches_statsmodels_glm_with_offset() {
        // sm.GLM(Y, np.ones((len(Y), 1)), family=sm.families.Binomial(), offset=l).fit().params[0]
        assert_close(calibration_in_the_large(&Y, &P).unwrap(), CITL);
        // With all logits equal the slope is undefined but the offset fit is not:
        // α = logit(π) - logit(p) = logit(0.5) - logit(0.2) = ln 4.
        assert_close(
            calibration_in_the_large(&[0, 1, 0, 1], &[0.2; 4]).unwrap(),
            4f64.ln(),
        );
    }

    #[test]
    fn offset_fit_with_exact_zeros_and_ones_solves_its_score_equation() {
        // statsmodels 0.14.4's GLM(..., offset=l).fit() reports "converged" at 4.5e14 here
        // (exp overflow on the ±23 offsets); the true root makes Σ y = Σ expit(α + l).
        let y = [0, 0, 1, 1, 1, 1, 1, 1, 0, 1];
        let p = [
            0.202, 0.859, 0.574, 1.0, 1.0, 0.185, 0.186, 0.552, 0.014, 1.0,
        ];
        let alpha = calibration_in_the_large(&y, &p).unwrap();
        let expected: f64 = p.iter().map(|&pi| expit(alpha + clipped_logit(pi))).sum();
        assert!((expected - 7.0).abs() < 1e-12, "{alpha} {expected}");
    }

    #[test]
    fn observed_expected_ratio_by_hand() {
        // mean(y) = 0.5, mean(p) = 0.25
        assert_eq!(
            observed_expected_ratio(&[0, 1, 0, 1], &[0.1, 0.4, 0.2, 0.3]).unwrap(),
            2.0
        );
        // All-zero predictions are clipped to 1e-10 before dividing.
        assert_eq!(
            observed_expected_ratio(&[0, 1], &[0.0, 0.0]).unwrap(),
            0.5 / 1e-10
        );
    }
}
