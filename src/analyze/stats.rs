//! Statistics over configurations: the ranking of configurations ([`ranked`]) and the
//! comparison of the methods of one factor ([`by_factor`]) by their estimated marginal means,
//! with oracle methods set apart and thinly covered methods marked.

use std::collections::BTreeMap;

use anyhow::Result;
use polars::prelude::DataFrame;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::emm::Model;
use super::frames::{floats, strings};
use super::methods::is_oracle;
use crate::config::Config as Settings;

/// The four factors of the design: checkpoint column and display title.
pub const FACTORS: [(&str, &str); 4] = [
    ("outlier_method", "Outlier detection"),
    ("imputation_method", "Imputation"),
    ("classifier", "Classifier"),
    ("featurization", "Featurization"),
];

/// What a method comparison's estimates are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Estimated marginal means of the main-effects linear model ([`super::emm`]).
    MarginalMeans,
    /// Means of each method's configurations, when the main-effects model is not estimable.
    ConfigurationMeans,
}

impl Basis {
    /// A short description for captions and axis titles.
    pub fn describe(self) -> &'static str {
        match self {
            Basis::MarginalMeans => "estimated marginal mean of the main-effects model, 95% CI",
            Basis::ConfigurationMeans => "mean over configurations, 95% t-CI of the mean",
        }
    }

    /// The axis title of the estimates, short enough for a third of a page (the bars are
    /// 95 % CIs, as the forest plots' axis says).
    pub fn axis(self) -> &'static str {
        match self {
            Basis::MarginalMeans => "Marginal mean AUROC",
            Basis::ConfigurationMeans => "Mean AUROC of configs",
        }
    }

    /// The sidecar's name of the basis.
    pub fn key(self) -> &'static str {
        match self {
            Basis::MarginalMeans => "estimated_marginal_means",
            Basis::ConfigurationMeans => "configuration_means",
        }
    }
}

/// AUROC of the configurations of one method.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The method (factor level).
    pub level: String,
    /// Configurations with a non-NULL AUROC.
    pub n: usize,
    /// The comparison's estimate (see [`Basis`]).
    pub estimate: f64,
    /// Lower bound of the estimate's 95 % CI.
    pub ci_lower: Option<f64>,
    /// Upper bound of the same CI.
    pub ci_upper: Option<f64>,
    /// Mean AUROC of its configurations.
    pub mean: f64,
    /// Sample standard deviation (ddof 1); `None` for a single configuration.
    pub sd: Option<f64>,
    /// Smallest AUROC.
    pub min: f64,
    /// Largest AUROC.
    pub max: f64,
    /// Whether the method is an oracle (`analysis.oracle_categories`): a reference, not a
    /// contender.
    pub oracle: bool,
    /// Whether it has fewer configurations than the factor's best-covered method.
    pub fewer: bool,
}

/// Summarizes non-empty `values` by their mean and its t-based 95 % CI.
pub fn summarize(level: &str, values: &[f64]) -> Summary {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = (n > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
    let half = sd.map(|sd| t_quantile(n - 1) * sd / (n as f64).sqrt());
    Summary {
        level: level.to_string(),
        n,
        estimate: mean,
        ci_lower: half.map(|h| mean - h),
        ci_upper: half.map(|h| mean + h),
        mean,
        sd,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        oracle: false,
        fewer: false,
    }
}

/// The 97.5th percentile of Student's t with `df` degrees of freedom.
fn t_quantile(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df ≥ 1 is a valid t distribution")
        .inverse_cdf(0.975)
}

/// The methods of one factor compared on one basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What the estimates are.
    pub basis: Basis,
    /// One summary per method: contenders best first, then oracles best first (ties by name).
    pub rows: Vec<Summary>,
}

impl Comparison {
    /// The methods that compete (no oracle), best first.
    pub fn contenders(&self) -> impl Iterator<Item = &Summary> {
        self.rows.iter().filter(|r| !r.oracle)
    }

    /// The oracle methods, best first.
    pub fn oracles(&self) -> impl Iterator<Item = &Summary> {
        self.rows.iter().filter(|r| r.oracle)
    }
}

/// Each factor's name with its level per observation.
pub type Levels = Vec<(String, Vec<String>)>;

/// The column every comparison of methods reads: the AUROC of the mean prediction p̄.
pub const RESPONSE: &str = "auroc_pbar";

/// The configurations of `df` with a finite AUROC of p̄: that AUROC and their level of each
/// factor.
pub fn observations(df: &DataFrame) -> Result<(Vec<f64>, Levels)> {
    let auroc = floats(df, RESPONSE)?;
    let keep: Vec<usize> = (0..auroc.len())
        .filter(|&i| auroc[i].is_some_and(f64::is_finite))
        .collect();
    let y = keep.iter().map(|&i| auroc[i].unwrap_or_default()).collect();
    let mut factors = Vec::new();
    for (name, _) in FACTORS {
        let all = strings(df, name)?;
        factors.push((
            name.to_string(),
            keep.iter().map(|&i| all[i].clone()).collect(),
        ));
    }
    Ok((y, factors))
}

/// Compares the levels of `factor` over the configurations with an AUROC: by estimated
/// marginal means when the main-effects model is estimable, else by configuration means.
pub fn by_factor(df: &DataFrame, settings: &Settings, factor: &str) -> Result<Comparison> {
    let (y, factors) = observations(df)?;
    let Some((_, levels)) = factors.iter().find(|(f, _)| f == factor) else {
        anyhow::bail!("`{factor}` is not a factor of the design");
    };
    let mut groups: BTreeMap<&String, Vec<f64>> = BTreeMap::new();
    for (level, a) in levels.iter().zip(&y) {
        groups.entry(level).or_default().push(*a);
    }
    let most = groups.values().map(Vec::len).max().unwrap_or(0);
    let mut rows: Vec<Summary> = groups.iter().map(|(l, v)| summarize(l, v)).collect();
    let basis = match Model::fit(&y, &factors) {
        Ok(model) => {
            for (row, e) in rows.iter_mut().zip(model.emms(factor)) {
                row.estimate = e.emm;
                row.ci_lower = Some(e.ci_lower);
                row.ci_upper = Some(e.ci_upper);
            }
            Basis::MarginalMeans
        }
        Err(_) => Basis::ConfigurationMeans,
    };
    for row in &mut rows {
        row.oracle = is_oracle(settings, factor, &row.level);
        row.fewer = row.n < most;
    }
    rows.sort_by(|a, b| {
        a.oracle
            .cmp(&b.oracle)
            .then(b.estimate.total_cmp(&a.estimate))
            .then_with(|| a.level.cmp(&b.level))
    });
    Ok(Comparison { basis, rows })
}

/// One configuration's identity and AUROC of the mean prediction p̄ with DeLong's test-set
/// interval: the one AUROC every figure, table and macro shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `config_id`.
    pub id: i32,
    /// Level of each of [`FACTORS`], in that order.
    pub levels: [String; 4],
    /// `auroc_pbar`.
    pub auroc: f64,
    /// `auroc_pbar_test_ci_lower`.
    pub ci_lower: Option<f64>,
    /// `auroc_pbar_test_ci_upper`.
    pub ci_upper: Option<f64>,
}

/// Configurations with an AUROC of p̄, best first (ties by `config_id`), as
/// [`super::pbar::ranked`] orders them.
pub fn ranked(df: &DataFrame) -> Result<Vec<Config>> {
    Ok(super::pbar::ranked(df)?
        .into_iter()
        .filter_map(|r| {
            Some(Config {
                id: r.id,
                auroc: r.auroc.value?,
                ci_lower: r.auroc.lower,
                ci_upper: r.auroc.upper,
                levels: r.levels,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_of_the_mean_uses_t() {
        let s = summarize("x", &[0.7, 0.8, 0.9]);
        assert!((s.estimate - 0.8).abs() < 1e-12);
        assert!((s.sd.unwrap() - 0.1).abs() < 1e-12);
        // t(0.975, 2) = 4.302652729911275 (scipy).
        let half = 4.302652729911275 * 0.1 / 3f64.sqrt();
        assert!((s.ci_upper.unwrap() - (0.8 + half)).abs() < 1e-9);
        assert_eq!(summarize("y", &[0.5]).ci_lower, None);
    }
}
