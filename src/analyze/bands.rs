//! Pointwise 95 % bands of the curves drawn from the test set: the decision curve of the mean
//! prediction p̄ and its LOWESS calibration smooth. Both come from the seeded subject-level
//! bootstrap that the checkpoint's `*_test_ci_*` columns used (the same seed and number of
//! resamples, read from `metadata`): each resample redraws the test subjects with
//! replacement, the curve is recomputed on it, and the band at each x is the 2.5–97.5
//! percentile range of the recomputed curves there.

use anyhow::{bail, Result};

use super::frames::{floats, ints, Checkpoint};
use crate::metrics::{
    self, dca_thresholds, lowess, percentile_ci, subject_bootstrap, ColumnMetric, Resampling,
    DCA_THRESHOLDS,
};

/// Points at which a calibration band is evaluated, evenly spaced over the observed p̄.
pub const CALIBRATION_GRID: usize = 50;

/// The LOWESS span: the fraction of subjects in each local fit (R's and rms's default).
pub const SPAN: f64 = 2.0 / 3.0;

/// One point of a band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    /// Where on the x axis.
    pub x: f64,
    /// 2.5th percentile of the resampled curves at `x`.
    pub lower: f64,
    /// 97.5th percentile of the resampled curves at `x`.
    pub upper: f64,
}

/// A configuration's test subjects from `predictions`: labels and p̄, in prediction order.
pub fn outcomes(ckpt: &Checkpoint, config_id: i32) -> Result<(Vec<i64>, Vec<f64>)> {
    let df = &ckpt.predictions;
    let (ids, y_true, y_prob) = (
        ints(df, "config_id")?,
        ints(df, "y_true")?,
        floats(df, "y_prob")?,
    );
    let mut y = Vec::new();
    let mut p = Vec::new();
    for i in (0..ids.len()).filter(|&i| ids[i] == Some(config_id)) {
        match (y_true[i], y_prob[i]) {
            (Some(label), Some(prob)) => {
                y.push(i64::from(label));
                p.push(prob);
            }
            _ => bail!(
                "configuration {config_id} has a prediction without `y_prob` or `y_true` in `predictions`"
            ),
        }
    }
    if y.is_empty() {
        bail!("configuration {config_id} has no rows in `predictions`");
    }
    Ok((y, p))
}

/// The band of one x from the resampled values there: `None` when fewer than half the
/// resamples define the curve there; a band of zero width when they all agree.
fn band_at(x: f64, metric: &ColumnMetric, resamples: usize) -> Option<BandPoint> {
    let finite: Vec<f64> = metric
        .values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if finite.len() * 2 < resamples || finite.is_empty() {
        return None;
    }
    let (lower, upper) = percentile_ci(&finite).unwrap_or((finite[0], finite[0]));
    Some(BandPoint { x, lower, upper })
}

/// The band of the decision curve (net benefit of p̄ at the thresholds of `dca_curves`).
pub fn net_benefit(y: &[i64], p: &[f64], resampling: Resampling) -> Result<Vec<BandPoint>> {
    let thresholds = dca_thresholds();
    let per_threshold: [ColumnMetric; DCA_THRESHOLDS as usize] =
        subject_bootstrap(y, p, resampling, |r| {
            match metrics::net_benefits(r.y, r.p, thresholds) {
                Ok(values) => values.map(Ok),
                Err(e) => std::array::from_fn(|_| Err(e.clone())),
            }
        })?;
    Ok(thresholds
        .iter()
        .zip(&per_threshold)
        .filter_map(|(&t, m)| band_at(t, m, resampling.resamples))
        .collect())
}

/// The smooth of outcomes `y` on predictions `p`: the points sorted by prediction then
/// outcome, and the LOWESS at each.
pub fn smooth(p: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut pairs: Vec<(f64, f64)> = p.iter().copied().zip(y.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let (predicted, observed): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
    let fitted = lowess(&predicted, &observed, SPAN);
    (predicted, observed, fitted)
}

/// The value at `at` of the piecewise-linear curve through (`xs`, `ys`) (`xs` ascending);
/// NaN outside its range.
fn interpolate(xs: &[f64], ys: &[f64], at: f64) -> f64 {
    let (Some(&first), Some(&last)) = (xs.first(), xs.last()) else {
        return f64::NAN;
    };
    if at < first || at > last {
        return f64::NAN;
    }
    let i = xs.partition_point(|&x| x < at);
    if xs[i] == at || i == 0 {
        return ys[i];
    }
    let (x0, x1, y0, y1) = (xs[i - 1], xs[i], ys[i - 1], ys[i]);
    y0 + (y1 - y0) * (at - x0) / (x1 - x0)
}

/// The `CALIBRATION_GRID` points evenly spaced from the smallest to the largest of `p`.
pub fn calibration_grid(p: &[f64]) -> [f64; CALIBRATION_GRID] {
    let lo = p.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    std::array::from_fn(|i| lo + (hi - lo) * i as f64 / (CALIBRATION_GRID - 1) as f64)
}

/// The band of the LOWESS calibration smooth at [`calibration_grid`] points: each resample's
/// smooth is interpolated at the grid points inside the range of its own predictions.
pub fn calibration(y: &[i64], p: &[f64], resampling: Resampling) -> Result<Vec<BandPoint>> {
    let grid = calibration_grid(p);
    let per_point: [ColumnMetric; CALIBRATION_GRID] = subject_bootstrap(y, p, resampling, |r| {
        let outcome: Vec<f64> = r.y.iter().map(|&v| v as f64).collect();
        let (xs, _, fitted) = smooth(r.p, &outcome);
        grid.map(|at| Ok(interpolate(&xs, &fitted, at)))
    })?;
    Ok(grid
        .iter()
        .zip(&per_point)
        .filter_map(|(&x, m)| band_at(x, m, resampling.resamples))
        .map(|b| BandPoint {
            lower: b.lower.clamp(0.0, 1.0),
            upper: b.upper.clamp(0.0, 1.0),
            ..b
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: [i64; 12] = [0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0];
    const P: [f64; 12] = [
        0.2, 0.7, 0.4, 0.55, 0.9, 0.1, 0.35, 0.3, 0.15, 0.25, 0.6, 0.45,
    ];
    const SETTINGS: Resampling = Resampling {
        resamples: 400,
        seed: 11,
    };

    #[test]
    fn interpolation_is_linear_inside_and_undefined_outside() {
        let xs = [0.0, 1.0, 3.0];
        let ys = [0.0, 2.0, 6.0];
        assert_eq!(interpolate(&xs, &ys, 0.5), 1.0);
        assert_eq!(interpolate(&xs, &ys, 2.0), 4.0);
        assert_eq!(interpolate(&xs, &ys, 3.0), 6.0);
        assert!(interpolate(&xs, &ys, 3.5).is_nan());
        assert!(interpolate(&xs, &ys, -0.1).is_nan());
    }

    #[test]
    fn net_benefit_bands_hold_the_curve_and_repeat_with_the_seed() {
        let bands = net_benefit(&Y, &P, SETTINGS).unwrap();
        assert_eq!(bands, net_benefit(&Y, &P, SETTINGS).unwrap());
        let curve = metrics::decision_curve(&Y, &P).unwrap();
        assert_eq!(bands.len(), curve.len(), "every threshold has a band");
        for (b, c) in bands.iter().zip(&curve) {
            assert_eq!(b.x, c.threshold);
            assert!(b.lower <= b.upper);
            assert!(
                b.lower - 1e-12 <= c.net_benefit_model && c.net_benefit_model <= b.upper + 1e-12,
                "{b:?} {c:?}"
            );
        }
        let other = net_benefit(
            &Y,
            &P,
            Resampling {
                seed: 12,
                ..SETTINGS
            },
        )
        .unwrap();
        assert_ne!(bands, other, "another seed draws other resamples");
    }

    #[test]
    fn calibration_bands_stay_in_the_unit_square_inside_the_predictions() {
        let bands = calibration(&Y, &P, SETTINGS).unwrap();
        assert!(bands.len() > CALIBRATION_GRID / 2, "{}", bands.len());
        for b in &bands {
            assert!((0.1..=0.9).contains(&b.x));
            assert!(
                0.0 <= b.lower && b.lower <= b.upper && b.upper <= 1.0,
                "{b:?}"
            );
        }
        let outcome: Vec<f64> = Y.iter().map(|&v| v as f64).collect();
        let (xs, _, fitted) = smooth(&P, &outcome);
        let inside = bands
            .iter()
            .filter(|b| {
                let f = interpolate(&xs, &fitted, b.x).clamp(0.0, 1.0);
                b.lower - 1e-9 <= f && f <= b.upper + 1e-9
            })
            .count();
        assert!(
            inside * 10 >= bands.len() * 9,
            "the smooth lies inside its band at most points: {inside} of {}",
            bands.len()
        );
    }
}
