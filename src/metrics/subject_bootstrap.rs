//! [`subject_bootstrap`]: the test-set interval of a metric of the mean prediction p̄, from a
//! seeded, deterministic bootstrap over the test subjects.
//!
//! Each resample draws n subjects with replacement from the n test subjects (labels and p̄
//! together) with the generator of [`super::rng`]; the metric is recomputed on it and the
//! 95 % percentile interval is taken over the resamples. The same seed gives the same
//! resamples to every metric and every run of the same size, so the result does not depend
//! on the order or the thread in which runs are computed. A resample on which the metric is
//! undefined (one class, separation) is left out and counted. Buffers are allocated once per
//! call, never per resample.

use super::calibration::{clipped_logit, clipped_odds};
use super::column_ci::{Collected, ColumnMetric};
use super::input::validate;
use super::rng::Xoshiro256StarStar;
use super::MetricError;

/// How many resamples to draw, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resampling {
    /// Number of resamples.
    pub resamples: usize,
    /// Seed of the generator.
    pub seed: u64,
}

/// One resample of the test set: labels and p̄ with the per-subject transforms that the
/// calibration fits read, all for the same drawn subjects.
#[derive(Debug, Clone, Copy)]
pub struct Resample<'a> {
    /// Labels of the drawn subjects.
    pub y: &'a [i64],
    /// p̄ of the drawn subjects.
    pub p: &'a [f64],
    /// `clipped_logit(p̄)` of the drawn subjects.
    pub logits: &'a [f64],
    /// `clipped_odds(p̄)` of the drawn subjects.
    pub odds: &'a [f64],
    /// The index of each drawn subject among the test subjects, in draw order.
    pub drawn: &'a [usize],
    /// The indices of the subjects drawn at least once, each once.
    pub distinct: &'a [usize],
    /// `clipped_logit(p̄)` of every test subject, drawn or not.
    pub subject_logits: &'a [f64],
    /// `clipped_odds(p̄)` of every test subject, drawn or not.
    pub subject_odds: &'a [f64],
}

/// Applies `metrics` (`K` metrics, computed together so that fits can share work) to
/// `resampling.resamples` subject-level resamples of labels `y` and probabilities `p`: one
/// [`ColumnMetric`] per metric, each with the resamples on which it is degenerate left out
/// and counted. One draw of subjects per resample serves all `K`.
pub fn subject_bootstrap<const K: usize, F>(
    y: &[i64],
    p: &[f64],
    resampling: Resampling,
    mut metrics: F,
) -> Result<[ColumnMetric; K], MetricError>
where
    F: FnMut(&Resample) -> [Result<f64, MetricError>; K],
{
    let mut per_metric =
        subject_bootstrap_each(y, p, resampling, K, |r| Vec::from(metrics(r)))?.into_iter();
    Ok(std::array::from_fn(|_| {
        per_metric.next().expect("one ColumnMetric per metric")
    }))
}

/// [`subject_bootstrap`] for `count` metrics, a number known at run time: `metrics` returns
/// one result per metric, in order.
pub fn subject_bootstrap_each<F>(
    y: &[i64],
    p: &[f64],
    resampling: Resampling,
    count: usize,
    mut metrics: F,
) -> Result<Vec<ColumnMetric>, MetricError>
where
    F: FnMut(&Resample) -> Vec<Result<f64, MetricError>>,
{
    let n = validate(y, p)?.n();
    let logits: Vec<f64> = p.iter().map(|&v| clipped_logit(v)).collect();
    let odds: Vec<f64> = p.iter().map(|&v| clipped_odds(v)).collect();
    let (mut yb, mut pb) = (vec![0; n], vec![0.0; n]);
    let (mut lb, mut ob) = (vec![0.0; n], vec![0.0; n]);
    let (mut drawn, mut distinct, mut seen) = (vec![0; n], Vec::with_capacity(n), vec![false; n]);
    let mut rng = Xoshiro256StarStar::seed_from(resampling.seed);
    let mut collected: Vec<Collected> = (0..count)
        .map(|_| Collected::new(resampling.resamples))
        .collect();
    for _ in 0..resampling.resamples {
        distinct.clear();
        seen.fill(false);
        for i in 0..n {
            let j = rng.below(n);
            drawn[i] = j;
            if !seen[j] {
                seen[j] = true;
                distinct.push(j);
            }
            yb[i] = y[j];
            pb[i] = p[j];
            lb[i] = logits[j];
            ob[i] = odds[j];
        }
        let values = metrics(&Resample {
            y: &yb,
            p: &pb,
            logits: &lb,
            odds: &ob,
            drawn: &drawn,
            distinct: &distinct,
            subject_logits: &logits,
            subject_odds: &odds,
        });
        for (c, value) in collected.iter_mut().zip(values) {
            c.add(value)?;
        }
    }
    Ok(collected.into_iter().map(Collected::finish).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{
        brier, calibration_in_the_large, calibration_in_the_large_on_odds,
        calibration_in_the_large_on_resample, calibration_slope_intercept,
        calibration_slope_intercept_on_logits, calibration_slope_intercept_on_resample,
        scaled_brier, CalibrationFit,
    };

    const Y: [i64; 8] = [0, 1, 0, 1, 1, 0, 0, 1];
    const P: [f64; 8] = [0.2, 0.7, 0.4, 0.55, 0.9, 0.1, 0.35, 0.3];
    const SETTINGS: Resampling = Resampling {
        resamples: 200,
        seed: 7,
    };

    #[test]
    fn the_same_seed_gives_the_same_resamples() {
        let run = || subject_bootstrap(&Y, &P, SETTINGS, |r| [brier(r.y, r.p)]).unwrap();
        assert_eq!(run(), run());
        let other = subject_bootstrap(
            &Y,
            &P,
            Resampling {
                seed: 8,
                ..SETTINGS
            },
            |r| [brier(r.y, r.p)],
        )
        .unwrap();
        assert_ne!(run()[0].values, other[0].values);
        assert_eq!(run()[0].values.len(), 200);
    }

    #[test]
    fn resamples_of_one_class_are_left_out_and_counted() {
        // Eight subjects, four of each class: about 2 · 0.5⁸ of the resamples hold one class
        // only; a Python transcription of the generator finds 2 of these 200.
        let [scaled, plain] = subject_bootstrap(&Y, &P, SETTINGS, |r| {
            [scaled_brier(r.y, r.p), brier(r.y, r.p)]
        })
        .unwrap();
        assert_eq!(scaled.left_out, [(MetricError::SingleClass, 2)]);
        assert_eq!(scaled.values.len() + scaled.left_out_count(), 200);
        assert!(plain.left_out.is_empty(), "each metric counts its own");
    }

    #[test]
    fn transforms_follow_the_drawn_subjects() {
        let [a, b] = subject_bootstrap(&Y, &P, SETTINGS, |r| {
            let direct = calibration_slope_intercept(r.y, r.p);
            let on_logits = calibration_slope_intercept_on_logits(r.y, r.logits, None);
            [direct.map(|f| f.slope), on_logits.map(|f| f.slope)]
        })
        .unwrap();
        assert_eq!(a.values, b.values);
        assert!(a.left_out_count() > 0, "separated resamples are left out");
    }

    #[test]
    fn fits_on_the_drawn_subjects_equal_the_fits_on_their_copies_to_the_bit() {
        let start = calibration_slope_intercept(&Y, &P).ok();
        let citl_start = calibration_in_the_large(&Y, &P).ok();
        let mut repeated = 0;
        let [slopes, offsets] = subject_bootstrap(&Y, &P, SETTINGS, |r| {
            assert!(r.drawn.iter().all(|j| r.distinct.contains(j)));
            assert_eq!(r.y, r.drawn.iter().map(|&j| Y[j]).collect::<Vec<_>>());
            repeated += usize::from(r.distinct.len() < r.drawn.len());
            let copies = calibration_slope_intercept_on_logits(r.y, r.logits, start);
            let drawn = calibration_slope_intercept_on_resample(r, start);
            let bits = |fit: Result<CalibrationFit, MetricError>| {
                fit.map(|f| (f.slope.to_bits(), f.intercept.to_bits()))
            };
            assert_eq!(bits(copies.clone()), bits(drawn.clone()));
            let in_the_large = |alpha: Result<f64, MetricError>| alpha.map(f64::to_bits);
            let citl_copies = calibration_in_the_large_on_odds(r.y, r.odds, citl_start);
            let citl_drawn = calibration_in_the_large_on_resample(r, citl_start);
            assert_eq!(in_the_large(citl_copies.clone()), in_the_large(citl_drawn));
            [copies.map(|f| f.slope), citl_copies]
        })
        .unwrap();
        assert!(repeated > 100, "most resamples draw a subject twice");
        assert!(slopes.values.len() > 100 && offsets.values.len() > 100);
    }

    #[test]
    fn broken_input_is_an_error() {
        assert_eq!(
            subject_bootstrap(&[0, 1], &[0.5, 1.5], SETTINGS, |r| [brier(r.y, r.p)]),
            Err(MetricError::ProbabilityOutOfRange {
                index: 1,
                value: 1.5
            })
        );
    }
}
