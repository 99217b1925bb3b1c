//! Descriptive statistics over configurations: per-method summaries with the t-based 95 % CI
//! of the mean ([`Summary`]), grouped by one factor of the design.

use anyhow::Result;
use polars::prelude::DataFrame;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::frames::{floats, strings};

/// The four factors of the design: checkpoint column and display title.
pub const FACTORS: [(&str, &str); 4] = [
    ("outlier_method", "Outlier detection"),
    ("imputation_method", "Imputation"),
    ("classifier", "Classifier"),
    ("featurization", "Featurization"),
];

/// AUROC of the configurations of one method.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The method (factor level).
    pub level: String,
    /// Configurations with a non-NULL AUROC.
    pub n: usize,
    /// Mean AUROC.
    pub mean: f64,
    /// Sample standard deviation (ddof 1); `None` for a single configuration.
    pub sd: Option<f64>,
    /// Smallest AUROC.
    pub min: f64,
    /// Largest AUROC.
    pub max: f64,
    /// Lower bound of the 95 % CI of the mean (t distribution, n − 1 df).
    pub ci_lower: Option<f64>,
    /// Upper bound of the same CI.
    pub ci_upper: Option<f64>,
}

/// Summarizes non-empty `values`.
pub fn summarize(level: &str, values: &[f64]) -> Summary {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = (n > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
    let half = sd.map(|sd| t_quantile(n - 1) * sd / (n as f64).sqrt());
    Summary {
        level: level.to_string(),
        n,
        mean,
        sd,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ci_lower: half.map(|h| mean - h),
        ci_upper: half.map(|h| mean + h),
    }
}

/// The 97.5th percentile of Student's t with `df` degrees of freedom.
fn t_quantile(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df ≥ 1 is a valid t distribution")
        .inverse_cdf(0.975)
}

/// One summary per level of `factor` over configurations with an AUROC, best mean first
/// (ties by name).
pub fn by_factor(df: &DataFrame, factor: &str) -> Result<Vec<Summary>> {
    let levels = strings(df, factor)?;
    let auroc = floats(df, "auroc")?;
    let mut groups: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for (level, a) in levels.into_iter().zip(auroc) {
        if let Some(a) = a.filter(|a| a.is_finite()) {
            groups.entry(level).or_default().push(a);
        }
    }
    let mut out: Vec<Summary> = groups.iter().map(|(l, v)| summarize(l, v)).collect();
    out.sort_by(|a, b| {
        b.mean
            .total_cmp(&a.mean)
            .then_with(|| a.level.cmp(&b.level))
    });
    Ok(out)
}

/// One configuration's identity and AUROC with its bootstrap CI.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `config_id`.
    pub id: i32,
    /// Level of each of [`FACTORS`], in that order.
    pub levels: [String; 4],
    /// AUROC.
    pub auroc: f64,
    /// `auroc_ci_lower`.
    pub ci_lower: Option<f64>,
    /// `auroc_ci_upper`.
    pub ci_upper: Option<f64>,
}

/// Configurations with an AUROC, best first (ties by `config_id`).
pub fn ranked(df: &DataFrame) -> Result<Vec<Config>> {
    let ids = super::frames::ints(df, "config_id")?;
    let cols: Vec<Vec<String>> = FACTORS
        .iter()
        .map(|(f, _)| strings(df, f))
        .collect::<Result<_>>()?;
    let (auroc, lo, hi) = (
        floats(df, "auroc")?,
        floats(df, "auroc_ci_lower")?,
        floats(df, "auroc_ci_upper")?,
    );
    let mut out = Vec::new();
    for i in 0..df.height() {
        if let (Some(id), Some(a)) = (ids[i], auroc[i].filter(|a| a.is_finite())) {
            let levels = std::array::from_fn(|f| cols[f][i].clone());
            out.push(Config {
                id,
                levels,
                auroc: a,
                ci_lower: lo[i],
                ci_upper: hi[i],
            });
        }
    }
    out.sort_by(|a, b| b.auroc.total_cmp(&a.auroc).then(a.id.cmp(&b.id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_of_the_mean_uses_t() {
        let s = summarize("x", &[0.7, 0.8, 0.9]);
        assert!((s.mean - 0.8).abs() < 1e-12);
        assert!((s.sd.unwrap() - 0.1).abs() < 1e-12);
        // t(0.975, 2) = 4.302652729911275 (scipy).
        let half = 4.302652729911275 * 0.1 / 3f64.sqrt();
        assert!((s.ci_upper.unwrap() - (0.8 + half)).abs() < 1e-9);
        assert_eq!(summarize("y", &[0.5]).ci_lower, None);
    }
}
