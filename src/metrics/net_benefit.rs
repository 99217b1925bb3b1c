//! Clinical utility: [`net_benefit`] at one threshold and the [`decision_curve`] (DCA).

use super::input::validate;
use super::MetricError;

/// Number of DCA thresholds: `k / 100` for `k = 1..=DCA_THRESHOLDS`, i.e. 0.01 to 0.50.
pub const DCA_THRESHOLDS: u32 = 50;

/// One threshold of a decision curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DcaPoint {
    /// Threshold probability t; subjects with `p >= t` are treated.
    pub threshold: f64,
    /// Net benefit of treating by the model.
    pub net_benefit_model: f64,
    /// Net benefit of treating everyone, `π - (1 - π) · t / (1 - t)`, not capped at 0.
    pub net_benefit_all: f64,
    /// Net benefit of treating no one: always 0.
    pub net_benefit_none: f64,
    /// TP / (number of cases) at this threshold; `None` without cases.
    pub sensitivity: Option<f64>,
    /// TN / (number of controls) at this threshold; `None` without controls.
    pub specificity: Option<f64>,
}

/// Net benefit `TP/n - FP/n · t/(1 - t)` at threshold `t`, "positive" meaning `p >= t`.
///
/// Defined for a single class too (the reference checks no classes); `t` must lie strictly
/// between 0 and 1.
pub fn net_benefit(y: &[i64], p: &[f64], threshold: f64) -> Result<f64, MetricError> {
    net_benefits(y, p, [threshold]).map(|[value]| value)
}

/// [`net_benefit`] at each of `thresholds`, from one pass over the subjects.
pub fn net_benefits<const K: usize>(
    y: &[i64],
    p: &[f64],
    thresholds: [f64; K],
) -> Result<[f64; K], MetricError> {
    if let Some(&threshold) = thresholds.iter().find(|&&t| !(t > 0.0 && t < 1.0)) {
        return Err(MetricError::ThresholdOutOfRange { threshold });
    }
    let n = validate(y, p)?.n();
    let mut treated = [(0, 0); K];
    count_treated(y, p, &thresholds, &mut treated);
    Ok(std::array::from_fn(|k| {
        let (tp, fp) = treated[k];
        formula(tp, fp, n, thresholds[k])
    }))
}

/// [`net_benefits`] at thresholds known at run time.
pub fn net_benefits_at(y: &[i64], p: &[f64], thresholds: &[f64]) -> Result<Vec<f64>, MetricError> {
    if let Some(&threshold) = thresholds.iter().find(|&&t| !(t > 0.0 && t < 1.0)) {
        return Err(MetricError::ThresholdOutOfRange { threshold });
    }
    let n = validate(y, p)?.n();
    let mut treated = vec![(0, 0); thresholds.len()];
    count_treated(y, p, thresholds, &mut treated);
    Ok(treated
        .iter()
        .zip(thresholds)
        .map(|(&(tp, fp), &t)| formula(tp, fp, n, t))
        .collect())
}

/// The thresholds of a decision curve: `k / 100`, `k = 1..=DCA_THRESHOLDS`.
pub fn dca_thresholds() -> [f64; DCA_THRESHOLDS as usize] {
    std::array::from_fn(|i| f64::from(i as u32 + 1) / 100.0)
}

/// The decision curve at thresholds `k / 100`, `k = 1..=50`, with the treat-all and
/// treat-none references and the sensitivity and specificity of the model. Defined for a
/// single class too (net benefit and treat-all need only the prevalence); the sensitivity is
/// then `None` without cases and the specificity `None` without controls.
pub fn decision_curve(y: &[i64], p: &[f64]) -> Result<Vec<DcaPoint>, MetricError> {
    let counts = validate(y, p)?;
    let n = counts.n();
    let prevalence = counts.prevalence();
    let thresholds = dca_thresholds();
    let mut treated = [(0, 0); DCA_THRESHOLDS as usize];
    count_treated(y, p, &thresholds, &mut treated);
    let curve = thresholds
        .iter()
        .zip(treated)
        .map(|(&t, (tp, fp))| DcaPoint {
            threshold: t,
            net_benefit_model: formula(tp, fp, n, t),
            net_benefit_all: prevalence - (1.0 - prevalence) * t / (1.0 - t),
            net_benefit_none: 0.0,
            sensitivity: (counts.cases > 0).then(|| tp as f64 / counts.cases as f64),
            specificity: (counts.controls > 0)
                .then(|| (counts.controls - fp) as f64 / counts.controls as f64),
        })
        .collect();
    Ok(curve)
}

/// Adds to `counts` the true and false positives at each threshold `t` (in order), treating
/// every subject with `p >= t`: one pass over the subjects per threshold, counted without
/// branches (whether a subject is treated is as hard to predict as a coin toss near a
/// threshold), which the compiler turns into vector compares.
fn count_treated(y: &[i64], p: &[f64], thresholds: &[f64], counts: &mut [(usize, usize)]) {
    for ((tp, fp), &t) in counts.iter_mut().zip(thresholds) {
        let (mut cases, mut treated) = (0, 0);
        for (&y, &p) in y.iter().zip(p) {
            let treat = usize::from(p >= t);
            treated += treat;
            cases += treat & usize::from(y == 1);
        }
        *tp += cases;
        *fp += treated - cases;
    }
}

/// `TP/n - FP/n * t/(1-t)`, evaluated left to right exactly as CONTRACT.md writes it.
fn formula(tp: usize, fp: usize, n: usize, t: f64) -> f64 {
    let n = n as f64;
    tp as f64 / n - fp as f64 / n * t / (1.0 - t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_benefit_by_hand() {
        // t = 0.25: treated = {0.3, 0.5, 0.25 (p >= t)}, TP = 2, FP = 1, n = 5:
        // 2/5 - 1/5 · 0.25 / 0.75 = 0.4 - 0.0666…
        let y = [1, 0, 1, 0, 1];
        let p = [0.3, 0.5, 0.25, 0.1, 0.2];
        assert_eq!(
            net_benefit(&y, &p, 0.25).unwrap(),
            2.0 / 5.0 - 1.0 / 5.0 * 0.25 / 0.75
        );
        assert_eq!(net_benefit(&[0, 0], &[0.9, 0.1], 0.5).unwrap(), -0.5);
        assert_eq!(
            net_benefit(&y, &p, 1.0),
            Err(MetricError::ThresholdOutOfRange { threshold: 1.0 })
        );
        assert!(matches!(
            net_benefit(&y, &p, f64::NAN),
            Err(MetricError::ThresholdOutOfRange { .. })
        ));
    }

    #[test]
    fn several_thresholds_in_one_pass_match_one_at_a_time() {
        let y = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
        let p = [0.9, 0.8, 0.15, 0.2, 0.05, 0.15, 0.6, 0.3, 0.1, 0.0, 0.14];
        let thresholds = [0.05, 0.1, 0.15, 0.2];
        let all = net_benefits(&y, &p, thresholds).unwrap();
        for (value, t) in all.into_iter().zip(thresholds) {
            assert_eq!(value, net_benefit(&y, &p, t).unwrap());
        }
        assert_eq!(
            net_benefits(&y, &p, [0.1, 0.0]),
            Err(MetricError::ThresholdOutOfRange { threshold: 0.0 })
        );
    }

    #[test]
    fn net_benefit_matches_the_reference_expression() {
        // Python: tp / n - fp / n * t / (1 - t) with tp = 4, fp = 3, n = 11, t = 0.15
        // == 0.31550802139037437
        let y = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
        let p = [0.9, 0.8, 0.15, 0.2, 0.05, 0.15, 0.6, 0.3, 0.1, 0.0, 0.14];
        assert_eq!(net_benefit(&y, &p, 0.15).unwrap(), 0.31550802139037437);
    }

    #[test]
    fn decision_curve_thresholds_and_references() {
        let y = [1, 0, 1, 0, 0, 0, 1, 0];
        let p = [0.45, 0.3, 0.02, 0.015, 0.6, 0.2, 0.9, 0.0];
        let curve = decision_curve(&y, &p).unwrap();
        assert_eq!(curve.len(), 50);
        assert_eq!(curve[0].threshold, 0.01);
        assert_eq!(curve[6].threshold, 0.07);
        assert_eq!(curve[49].threshold, 0.5);
        // Treat-all goes negative, uncapped: π = 3/8, t = 0.5 → 0.375 - 0.625 = -0.25.
        assert_eq!(curve[49].net_benefit_all, -0.25);
        assert!(curve.iter().all(|point| point.net_benefit_none == 0.0));
        // t = 0.02: treated are 0.45, 0.3, 0.02, 0.6, 0.2, 0.9 → TP 3, FP 3, TN 2.
        let at = curve[1];
        assert_eq!(at.sensitivity, Some(1.0));
        assert_eq!(at.specificity, Some(2.0 / 5.0));
        assert_eq!(
            at.net_benefit_model,
            3.0 / 8.0 - 3.0 / 8.0 * 0.02 / (1.0 - 0.02)
        );
        // t = 0.5: TP 1 (0.9), FP 1 (0.6).
        assert_eq!(curve[49].sensitivity, Some(1.0 / 3.0));
        assert_eq!(curve[49].specificity, Some(4.0 / 5.0));
        // A single class: the net benefits stay defined, the undefined rate is None.
        let only_cases = decision_curve(&[1, 1], &[0.2, 0.3]).unwrap();
        assert_eq!(only_cases[9].sensitivity, Some(1.0));
        assert_eq!(only_cases[9].specificity, None);
        assert_eq!(only_cases[9].net_benefit_all, 1.0);
    }
}
