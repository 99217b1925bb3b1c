//! LOWESS (Cleveland 1979): locally weighted linear regression with tricube weights over the
//! nearest `frac · n` points, without robustness iterations, as `rms::val.prob` smooths a
//! calibration curve (`lowess(p, y, iter = 0)`). Matches statsmodels'
//! `lowess(y, x, frac, it=0, delta=0)` on the same sorted input.

/// The smoothed value at each `x` (sorted ascending, paired with `y`); ties in `x` share the
/// value fitted at the first of them. A neighbourhood with fewer than two positive weights
/// keeps the point's own `y`, as statsmodels does.
pub fn lowess(x: &[f64], y: &[f64], frac: f64) -> Vec<f64> {
    let n = x.len().min(y.len());
    if n == 0 {
        return Vec::new();
    }
    let k = ((frac * n as f64 + 1e-10) as usize).clamp(2.min(n), n);
    let mut fit = vec![0.0; n];
    let mut weights = vec![0.0; n];
    let (mut left, mut right) = (0, k);
    let mut i = 0;
    while i < n {
        let at = x[i];
        // Slide the window of k points right while its centre lies left of `at`.
        while right < n && at > (x[left] + x[right]) / 2.0 {
            left += 1;
            right += 1;
        }
        let radius = (at - x[left]).max(x[right - 1] - at);
        fit[i] =
            local_fit(&x[left..right], &y[left..right], &mut weights, at, radius).unwrap_or(y[i]);
        let mut next = i + 1;
        while next < n && x[next] == at {
            fit[next] = fit[i];
            next += 1;
        }
        i = next;
    }
    fit
}

/// The weighted linear fit at `at` over one neighbourhood, or `None` when fewer than two
/// points carry weight.
fn local_fit(x: &[f64], y: &[f64], weights: &mut [f64], at: f64, radius: f64) -> Option<f64> {
    let w = &mut weights[..x.len()];
    for (wj, xj) in w.iter_mut().zip(x) {
        let d = (xj - at).abs() / radius;
        let t = 1.0 - d * d * d;
        *wj = t * t * t;
    }
    let positive = w.iter().filter(|&&wj| wj > 1e-12).count();
    if positive < 2 {
        return None;
    }
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|wj| *wj /= total);
    let mean: f64 = w.iter().zip(x).map(|(wj, xj)| wj * xj).sum();
    let spread: f64 = w
        .iter()
        .zip(x)
        .map(|(wj, xj)| wj * (xj - mean) * (xj - mean))
        .sum::<f64>()
        .max(1e-12);
    Some(
        w.iter()
            .zip(x.iter().zip(y))
            .map(|(wj, (xj, yj))| wj * (1.0 + (at - mean) * (xj - mean) / spread) * yj)
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_line_is_reproduced() {
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 0.5 * v + 1.0).collect();
        for (f, want) in lowess(&x, &y, 0.5).iter().zip(&y) {
            assert!((f - want).abs() < 1e-9, "{f} {want}");
        }
    }

    #[test]
    fn ties_share_one_fitted_value() {
        let x = [0.1, 0.2, 0.2, 0.3, 0.5, 0.8];
        let y = [0.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let f = lowess(&x, &y, 2.0 / 3.0);
        assert_eq!(f[1], f[2]);
    }
}

/// Agreement with statsmodels on the demo checkpoint's predictions and on tied ones
/// (`tests/fixtures/golden/lowess.json`, written by `scripts/fixtures/lowess.py`).
#[cfg(test)]
mod golden {
    use super::*;

    #[test]
    fn lowess_matches_statsmodels() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/golden/lowess.json"
        );
        let cases: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let floats = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let cases = cases.as_array().unwrap();
        assert_eq!(cases.len(), 4);
        for case in cases {
            let (x, y, want) = (
                floats(&case["x"]),
                floats(&case["y"]),
                floats(&case["fitted"]),
            );
            let got = lowess(&x, &y, case["frac"].as_f64().unwrap());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() < 1e-9,
                    "{} point {i}: ours {g}, statsmodels {w}",
                    case["name"]
                );
            }
        }
    }
}
