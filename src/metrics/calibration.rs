//! Calibration on the logit scale: [`calibration_slope_intercept`], the joint logistic
//! recalibration fit, and the clipping and logit helpers that the offset fit of
//! [`super::calibration_in_the_large`] shares.
//!
//! The fit is unpenalized maximum likelihood by Newton's method (IRLS), iterated to machine
//! precision so that it agrees with statsmodels' `Logit` far inside 1e-6.

use super::input::{count_classes, validate};
use super::subject_bootstrap::Resample;
use super::subjects::{Drawn, InOrder, Subjects};
use super::MetricError;

/// Probabilities are clipped to `[LOGIT_CLIP, 1 - LOGIT_CLIP]` before `logit`.
pub const LOGIT_CLIP: f64 = 1e-10;

/// Iteration cap of both Newton solvers; convergence takes well under 30 iterations.
pub(super) const MAX_ITERATIONS: usize = 100;

/// A Newton step smaller than this, relative to `1 + |parameter|`, ends the iteration: the
/// quadratic convergence makes the next iterate exact to machine precision.
pub(super) const STEP_TOLERANCE: f64 = 1e-10;

/// Relative change of the log-likelihood that counts as rounding noise, not as a decrease.
const LOG_LIKELIHOOD_NOISE: f64 = 1e-12;

/// Newton steps no larger than this (relative to the coefficients) are taken whole, without
/// evaluating the likelihood: near the optimum a Newton step of the concave log-likelihood
/// raises it by about half the Newton decrement, so only larger steps can overshoot.
const CHECKED_STEP: f64 = 0.1;

/// Step halving stops at this fraction of the Newton step.
const MIN_STEP_SCALE: f64 = 1e-3;

/// The joint recalibration fit `logit P(y = 1) = intercept + slope · logit(p)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationFit {
    /// β: 1 is ideal, below 1 the predictions are too extreme, above 1 too timid.
    pub slope: f64,
    /// α of the joint fit; not the calibration-in-the-large.
    pub intercept: f64,
}

/// Calibration slope and intercept: unpenalized logistic regression of `y` on
/// `logit(clip(p))`, the reference's `calibration_slope_intercept`.
///
/// Fails with [`MetricError::SingleClass`], [`MetricError::NoVariance`] (all logits equal) or
/// [`MetricError::PerfectlySeparated`] (`max l[y=0] <= min l[y=1]` or the reverse), where the
/// MLE does not exist, and with [`MetricError::NotConverged`] if Newton stalls.
pub fn calibration_slope_intercept(y: &[i64], p: &[f64]) -> Result<CalibrationFit, MetricError> {
    calibration_slope_intercept_from(y, p, None)
}

/// [`calibration_slope_intercept`], with Newton started from `start` (a fit of similar data,
/// such as the mean prediction's when fitting each bootstrap column) instead of from the
/// prevalence with slope 0. The MLE is the same; a near start only needs fewer iterations.
pub fn calibration_slope_intercept_from(
    y: &[i64],
    p: &[f64],
    start: Option<CalibrationFit>,
) -> Result<CalibrationFit, MetricError> {
    validate(y, p)?.require_both()?;
    let x: Vec<f64> = p.iter().map(|&p| clipped_logit(p)).collect();
    calibration_slope_intercept_on_logits(y, &x, start)
}

/// [`calibration_slope_intercept_from`] on the logits `clipped_logit(p)` of valid
/// probabilities, computed once by the caller, for fits repeated on resamples of one set of
/// predictions.
pub fn calibration_slope_intercept_on_logits(
    y: &[i64],
    x: &[f64],
    start: Option<CalibrationFit>,
) -> Result<CalibrationFit, MetricError> {
    solve(&InOrder { y, values: x }, start)
}

/// [`calibration_slope_intercept_on_logits`] on a test-set resample: the same fit, with the
/// exponentials and logarithms of a subject drawn more than once computed once per pass.
pub fn calibration_slope_intercept_on_resample(
    r: &Resample,
    start: Option<CalibrationFit>,
) -> Result<CalibrationFit, MetricError> {
    solve(&Drawn::logits(r), start)
}

/// Newton's method on `subjects`, started from `start` or from the prevalence with slope 0.
fn solve<S: Subjects>(
    subjects: &S,
    start: Option<CalibrationFit>,
) -> Result<CalibrationFit, MetricError> {
    let (y, x) = (subjects.labels(), subjects.values());
    let counts = paired_counts(y, x)?;
    check_slope_estimable(y, x)?;

    let mut beta = match start {
        Some(fit) if fit.intercept.is_finite() && fit.slope.is_finite() => {
            [fit.intercept, fit.slope]
        }
        _ => [logit(counts.prevalence()), 0.0],
    };
    // e^{-|η|} per subject at `beta`, from the latest `Newton::at`: the log-likelihood at the
    // same β reuses them instead of computing every exponential again.
    let mut exps = vec![0.0; subjects.table_len()];
    let mut logs = vec![0.0; subjects.table_len()];
    let mut at = Newton::at(subjects, beta, &mut exps);
    // The log-likelihood at `beta`, once computed.
    let mut log_lik = None;
    for iteration in 1..=MAX_ITERATIONS {
        let Newton {
            g0,
            g1,
            h00,
            h01,
            h11,
        } = at;
        let det = h00 * h11 - h01 * h01;
        if !(det > 0.0 && det.is_finite()) {
            return Err(MetricError::NotConverged {
                iterations: iteration,
            });
        }
        let step = [(h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det];

        // Converged once the full Newton step is negligible: quadratic convergence makes the
        // iterate after it exact to machine precision. This is judged on the full step, never
        // on a shortened one.
        if (0..2).all(|j| step[j].abs() <= STEP_TOLERANCE * (1.0 + beta[j].abs())) {
            return Ok(CalibrationFit {
                slope: beta[1] + step[1],
                intercept: beta[0] + step[0],
            });
        }

        let (next, next_at, next_log_lik) =
            if (0..2).all(|j| step[j].abs() <= CHECKED_STEP * (1.0 + beta[j].abs())) {
                let next = [beta[0] + step[0], beta[1] + step[1]];
                (next, Newton::at(subjects, next, &mut exps), None)
            } else {
                // Far from the optimum a full step can overshoot: halve it while it lowers the
                // likelihood by more than rounding noise.
                let current =
                    log_lik.unwrap_or_else(|| log_likelihood(subjects, beta, &exps, &mut logs));
                let noise = LOG_LIKELIHOOD_NOISE * (1.0 + current.abs());
                let mut scale = 1.0;
                loop {
                    let candidate = [beta[0] + scale * step[0], beta[1] + scale * step[1]];
                    let candidate_at = Newton::at(subjects, candidate, &mut exps);
                    let candidate_log_lik = log_likelihood(subjects, candidate, &exps, &mut logs);
                    if candidate_log_lik >= current - noise || scale < MIN_STEP_SCALE {
                        break (candidate, candidate_at, Some(candidate_log_lik));
                    }
                    scale *= 0.5;
                }
            };
        if !(next[0].is_finite()
            && next[1].is_finite()
            && !next_log_lik.is_some_and(f64::is_infinite))
        {
            return Err(MetricError::NotConverged {
                iterations: iteration,
            });
        }
        beta = next;
        log_lik = next_log_lik.filter(|l| !l.is_nan());
        at = next_at;
    }
    Err(MetricError::NotConverged {
        iterations: MAX_ITERATIONS,
    })
}

/// Rejects logits from which no slope can be estimated: all equal, or perfectly separating
/// the two classes (CONTRACT.md, including ties at the boundary).
fn check_slope_estimable(y: &[i64], x: &[f64]) -> Result<(), MetricError> {
    let mut controls = (f64::INFINITY, f64::NEG_INFINITY);
    let mut cases = (f64::INFINITY, f64::NEG_INFINITY);
    for (&yi, &xi) in y.iter().zip(x) {
        let range = if yi == 1 { &mut cases } else { &mut controls };
        range.0 = range.0.min(xi);
        range.1 = range.1.max(xi);
    }
    if controls.0.min(cases.0) == controls.1.max(cases.1) {
        return Err(MetricError::NoVariance);
    }
    if controls.1 <= cases.0 || cases.1 <= controls.0 {
        return Err(MetricError::PerfectlySeparated);
    }
    Ok(())
}

/// The gradient and Hessian (the Fisher information) of the joint model's log-likelihood
/// Σ y·η − log(1 + e^η) at one β.
struct Newton {
    g0: f64,
    g1: f64,
    h00: f64,
    h01: f64,
    h11: f64,
}

impl Newton {
    /// The gradient and Hessian at `beta`, from one exponential per subject, which it leaves
    /// in `exps` ([`Subjects::fill`]) for [`log_likelihood`] at the same β.
    fn at<S: Subjects>(subjects: &S, beta: [f64; 2], exps: &mut [f64]) -> Self {
        let mut n = Newton {
            g0: 0.0,
            g1: 0.0,
            h00: 0.0,
            h01: 0.0,
            h11: 0.0,
        };
        // The exponentials first, then the sums: the calls to `exp` and the divisions that
        // depend on them then overlap instead of waiting on each other.
        subjects.fill(exps, |xi| (-(beta[0] + beta[1] * xi).abs()).exp());
        let (y, x) = (subjects.labels(), subjects.values());
        for (i, (&yi, &xi)) in y.iter().zip(x).enumerate() {
            let e = exps[subjects.entry(i)];
            let eta = beta[0] + beta[1] * xi;
            // e = e^{-|η|} gives the logistic function and its derivative
            // μ(1 - μ) = e / (1 + e)² without overflow; both branches are computed so none
            // is taken.
            let r = 1.0 / (1.0 + e);
            let mu = if eta >= 0.0 { r } else { e * r };
            let residual = yi as f64 - mu;
            let weight = e * r * r;
            n.g0 += residual;
            n.g1 += residual * xi;
            n.h00 += weight;
            n.h01 += weight * xi;
            n.h11 += weight * xi * xi;
        }
        n
    }
}

/// The log-likelihood Σ y·η − log(1 + e^η) at `beta`, from the `exps` that [`Newton::at`]
/// left for the same β: log(1 + e^η) = max(η, 0) + log(1 + e^{-|η|}), without overflow.
/// `logs` receives log(1 + e^{-|η|}) per table entry.
fn log_likelihood<S: Subjects>(
    subjects: &S,
    beta: [f64; 2],
    exps: &[f64],
    logs: &mut [f64],
) -> f64 {
    subjects.map(exps, logs, f64::ln_1p);
    let (y, x) = (subjects.labels(), subjects.values());
    let mut log_lik = 0.0;
    for (i, (&yi, &xi)) in y.iter().zip(x).enumerate() {
        let eta = beta[0] + beta[1] * xi;
        let softplus = eta.max(0.0) + logs[subjects.entry(i)];
        log_lik += yi as f64 * eta - softplus;
    }
    log_lik
}

/// `p` clipped to `[LOGIT_CLIP, 1 - LOGIT_CLIP]`.
pub(super) fn clip(p: f64) -> f64 {
    p.clamp(LOGIT_CLIP, 1.0 - LOGIT_CLIP)
}

/// `logit(clip(p))`: the regressor of the calibration fits.
pub fn clipped_logit(p: f64) -> f64 {
    logit(clip(p))
}

/// `clip(p) / (1 - clip(p))`: the odds that calibration-in-the-large scales.
pub fn clipped_odds(p: f64) -> f64 {
    odds(clip(p))
}

/// The class counts of `y`, which pairs with `values`; both classes required.
pub(super) fn paired_counts(y: &[i64], values: &[f64]) -> Result<super::ClassCounts, MetricError> {
    if y.len() != values.len() {
        return Err(MetricError::LengthMismatch {
            labels: y.len(),
            values: values.len(),
        });
    }
    count_classes(y)?.require_both()
}

/// `ln(p / (1 - p))`, as the reference writes it.
pub(super) fn logit(p: f64) -> f64 {
    odds(p).ln()
}

/// `p / (1 - p)`.
fn odds(p: f64) -> f64 {
    p / (1.0 - p)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::metrics::calibration_in_the_large;

    /// The logistic function, without overflow for large |η|.
    pub(crate) fn expit(eta: f64) -> f64 {
        if eta >= 0.0 {
            1.0 / (1.0 + (-eta).exp())
        } else {
            let e = eta.exp();
            e / (1.0 + e)
        }
    }

    pub(crate) fn assert_close(actual: f64, expected: f64) {
        let tolerance = 1e-9f64.max(1e-6 * expected.abs());
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} vs {expected}"
        );
    }

    #[test]
    fn slope_and_intercept_match_statsmodels_logit() {
        // statsmodels 0.14.4: l = np.log(pc / (1 - pc)), pc = np.clip(P, 1e-10, 1 - 1e-10);
        // sm.Logit(Y, sm.add_constant(l)).fit(disp=0).params
        let fit = calibration_slope_intercept(&Y, &P).unwrap();
        assert_close(fit.intercept, INTERCEPT);
        assert_close(fit.slope, SLOPE);
    }

    #[test]
    fn steep_slope_of_timid_predictions_matches_statsmodels() {
        // Predictions squeezed into [0.45, 0.55] (same generator, continued): slope ≈ 11.6.
        // sm.Logit(...).fit().params == [-0.3676689376613603, 11.63836044286476];
        // GLM with offset: -0.4868457396591713
        let y = [
            0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1,
            0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1,
        ];
        let p = [
            0.5168, 0.4971, 0.5065, 0.5265, 0.5135, 0.5054, 0.5059, 0.4804, 0.4531, 0.4937, 0.4715,
            0.4909, 0.5353, 0.4734, 0.4558, 0.4781, 0.4794, 0.5162, 0.5057, 0.5284, 0.5164, 0.4906,
            0.5314, 0.4667, 0.4523, 0.459, 0.5222, 0.4962, 0.4661, 0.5001, 0.4652, 0.5196, 0.4946,
            0.4881, 0.4802, 0.513, 0.4862, 0.4588, 0.4618, 0.5462,
        ];
        let fit = calibration_slope_intercept(&y, &p).unwrap();
        assert_close(fit.intercept, -0.3676689376613603);
        assert_close(fit.slope, 11.63836044286476);
        assert_close(
            calibration_in_the_large(&y, &p).unwrap(),
            -0.4868457396591713,
        );
    }

    #[test]
    fn a_start_changes_the_iterations_not_the_fit() {
        let cold = calibration_slope_intercept(&Y, &P).unwrap();
        let starts = [
            Some(cold),
            Some(CalibrationFit {
                slope: 3.0,
                intercept: -2.0,
            }),
            Some(CalibrationFit {
                slope: f64::NAN,
                intercept: 0.0,
            }),
            None,
        ];
        for start in starts {
            let warm = calibration_slope_intercept_from(&Y, &P, start).unwrap();
            assert!((warm.slope - cold.slope).abs() <= 1e-12 * cold.slope.abs());
            assert!(
                (warm.intercept - cold.intercept).abs() <= 1e-12 * (1.0 + cold.intercept.abs())
            );
        }
    }

    #[test]
    fn well_calibrated_data_fit_slope_one_intercept_zero() {
        // Each p appears with exactly p·m cases out of m, so the MLE is (0, 1).
        let mut y = Vec::new();
        let mut p = Vec::new();
        for (prob, cases, total) in [(0.2, 1, 5), (0.5, 2, 4), (0.75, 3, 4), (0.9, 9, 10)] {
            for i in 0..total {
                p.push(prob);
                y.push(i64::from(i < cases));
            }
        }
        let fit = calibration_slope_intercept(&y, &p).unwrap();
        assert!(fit.intercept.abs() < 1e-12, "{fit:?}");
        assert!((fit.slope - 1.0).abs() < 1e-12, "{fit:?}");
        assert!(calibration_in_the_large(&y, &p).unwrap().abs() < 1e-12);
    }

    #[test]
    fn separated_and_constant_predictions_are_detected() {
        assert_eq!(
            calibration_slope_intercept(&[0, 0, 1, 1], &[0.1, 0.3, 0.6, 0.9]),
            Err(MetricError::PerfectlySeparated)
        );
        // Reversed separation and a tie at the boundary (quasi-complete) count too.
        assert_eq!(
            calibration_slope_intercept(&[1, 1, 0, 0], &[0.1, 0.3, 0.3, 0.9]),
            Err(MetricError::PerfectlySeparated)
        );
        // 0 and 1e-12 clip to the same value, so the logits have no variance.
        assert_eq!(
            calibration_slope_intercept(&[0, 1, 0], &[0.0, 1e-12, 0.0]),
            Err(MetricError::NoVariance)
        );
        assert_eq!(
            calibration_slope_intercept(&[1, 1], &[0.2, 0.4]),
            Err(MetricError::SingleClass)
        );
        assert_eq!(
            calibration_in_the_large(&[0, 0], &[0.2, 0.4]),
            Err(MetricError::SingleClass)
        );
    }

    #[test]
    fn extreme_probabilities_are_clipped_not_fatal() {
        // p = 0 and p = 1 become logits of about ∓23; the overlap keeps the MLE finite.
        let y = [0, 1, 0, 1, 1, 0];
        let p = [0.0, 0.0, 0.4, 1.0, 0.7, 1.0];
        let fit = calibration_slope_intercept(&y, &p).unwrap();
        assert!(fit.slope.is_finite() && fit.intercept.is_finite());
        assert!(calibration_in_the_large(&y, &p).unwrap().is_finite());
    }

    /// The score equations Σ (y - μ) and Σ (y - μ) x of the joint fit at (α, β).
    fn joint_score(y: &[i64], p: &[f64], alpha: f64, beta: f64) -> (f64, f64) {
        y.iter().zip(p).fold((0.0, 0.0), |(s0, s1), (&yi, &pi)| {
            let x = clipped_logit(pi);
            let residual = yi as f64 - expit(alpha + beta * x);
            (s0 + residual, s1 + residual * x)
        })
    }

    #[test]
    fn nearly_separated_data_converge_to_the_root_of_the_score() {
        // Cases above controls except for one crossing pair: a steep but finite MLE.
        let y = [0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
        let p = [0.47, 0.45, 0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.05, 0.99];
        let fit = calibration_slope_intercept(&y, &p).unwrap();
        assert!(fit.slope > 3.0, "{fit:?}");
        let (s0, s1) = joint_score(&y, &p, fit.intercept, fit.slope);
        assert!(s0.abs() < 1e-12 && s1.abs() < 1e-12, "{s0} {s1}");
    }

    // numpy.random.default_rng(42): P = np.round(rng.uniform(0.02, 0.98, 30), 3),
    // Y = (rng.uniform(size=30) < P**1.5).astype(int)
    pub(crate) const Y: [i64; 30] = [
        0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1,
    ];
    pub(crate) const P: [f64; 30] = [
        0.763, 0.441, 0.844, 0.689, 0.11, 0.957, 0.751, 0.775, 0.143, 0.452, 0.376, 0.91, 0.638,
        0.81, 0.446, 0.238, 0.552, 0.081, 0.815, 0.626, 0.748, 0.36, 0.952, 0.877, 0.767, 0.207,
        0.468, 0.062, 0.168, 0.676,
    ];
    const SLOPE: f64 = 1.8461009097366856;
    const INTERCEPT: f64 = -0.710597381944672;
    pub(crate) const CITL: f64 = -0.33175935405269413;
}
