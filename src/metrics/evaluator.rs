//! [`Evaluator`]: the metrics of p̄ that the catalog declares ([`Computation`]), computed on
//! one sample at a time (p̄ itself, a bootstrap column or a test-set resample), sharing work
//! between them.

use super::catalog::Computation;
use super::{
    calibration_in_the_large_from, calibration_in_the_large_on_resample,
    calibration_slope_intercept, calibration_slope_intercept_from,
    calibration_slope_intercept_on_resample, net_benefits_at, CalibrationFit, MetricError,
    Resample,
};

/// One sample the metrics of p̄ are computed on.
#[derive(Clone, Copy)]
pub enum Sample<'a> {
    /// Labels and probabilities: p̄ itself, or one bootstrap column.
    Predictions(&'a [i64], &'a [f64]),
    /// A test-set resample, with the transforms the fits read.
    Resample(&'a Resample<'a>),
}

impl Sample<'_> {
    fn labels_and_probabilities(&self) -> (&[i64], &[f64]) {
        match self {
            Sample::Predictions(y, p) => (y, p),
            Sample::Resample(r) => (r.y, r.p),
        }
    }
}

/// Computes metrics of p̄ on samples, sharing work between them: one joint logistic fit
/// gives both of its coefficients, one pass gives the net benefit at every threshold. The fits
/// start from those of p̄ when asked (a near start needs fewer Newton iterations; the fit is
/// the same).
#[derive(Debug, Clone)]
pub struct Evaluator<'a> {
    computations: &'a [Computation],
    thresholds: Vec<f64>,
    fit: Option<CalibrationFit>,
    in_the_large: Option<f64>,
}

impl<'a> Evaluator<'a> {
    /// `computations`, with fits started from scratch, for p̄ itself.
    pub fn cold(computations: &'a [Computation]) -> Self {
        let thresholds = computations
            .iter()
            .filter_map(|c| match c {
                Computation::NetBenefit(t) => Some(*t),
                _ => None,
            })
            .collect();
        Self {
            computations,
            thresholds,
            fit: None,
            in_the_large: None,
        }
    }

    /// `computations`, with fits started from those of the labels `y` and p̄ `p`, for samples
    /// around p̄.
    pub fn around(computations: &'a [Computation], y: &[i64], p: &[f64]) -> Self {
        Self {
            fit: calibration_slope_intercept(y, p).ok(),
            in_the_large: calibration_in_the_large_from(y, p, None).ok(),
            ..Self::cold(computations)
        }
    }

    /// Each computation on `sample`, in order.
    pub fn on(&self, sample: Sample) -> Vec<Result<f64, MetricError>> {
        let (y, p) = sample.labels_and_probabilities();
        let mut fit: Option<Result<CalibrationFit, MetricError>> = None;
        let mut net_benefits: Option<Result<Vec<f64>, MetricError>> = None;
        let mut next_threshold = 0;
        self.computations
            .iter()
            .map(|c| match *c {
                Computation::Of(f) => f(y, p),
                Computation::CalibrationSlope | Computation::CalibrationIntercept => {
                    let fit = fit
                        .get_or_insert_with(|| match sample {
                            Sample::Predictions(y, p) => {
                                calibration_slope_intercept_from(y, p, self.fit)
                            }
                            Sample::Resample(r) => {
                                calibration_slope_intercept_on_resample(r, self.fit)
                            }
                        })
                        .clone()?;
                    Ok(match c {
                        Computation::CalibrationSlope => fit.slope,
                        _ => fit.intercept,
                    })
                }
                Computation::CalibrationInTheLarge => match sample {
                    Sample::Predictions(y, p) => {
                        calibration_in_the_large_from(y, p, self.in_the_large)
                    }
                    Sample::Resample(r) => {
                        calibration_in_the_large_on_resample(r, self.in_the_large)
                    }
                },
                Computation::NetBenefit(_) => {
                    // The k-th net benefit is at the k-th of `thresholds`.
                    let k = next_threshold;
                    next_threshold += 1;
                    let values = net_benefits
                        .get_or_insert_with(|| net_benefits_at(y, p, &self.thresholds))
                        .as_ref()
                        .map_err(Clone::clone)?;
                    Ok(values[k])
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{calibration_in_the_large, net_benefit};

    #[test]
    fn shared_fits_give_what_each_fit_gives_alone() {
        let y = [0, 1, 0, 1, 1, 0, 0, 1];
        let p = [0.2, 0.7, 0.4, 0.55, 0.9, 0.1, 0.35, 0.3];
        let all = [
            Computation::CalibrationSlope,
            Computation::CalibrationIntercept,
            Computation::CalibrationInTheLarge,
            Computation::NetBenefit(0.15),
        ];
        let values = Evaluator::cold(&all).on(Sample::Predictions(&y, &p));
        let fit = calibration_slope_intercept(&y, &p).unwrap();
        assert_eq!(values[0], Ok(fit.slope));
        assert_eq!(values[1], Ok(fit.intercept));
        assert_eq!(values[2], calibration_in_the_large(&y, &p));
        assert_eq!(values[3], net_benefit(&y, &p, 0.15));
        let single = Evaluator::cold(&all[..2]).on(Sample::Predictions(&[1, 1], &[0.2, 0.4]));
        assert_eq!(single, vec![Err(MetricError::SingleClass); 2]);
    }
}
