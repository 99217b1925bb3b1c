//! The configurations as the tables rank them: by the AUROC of the mean prediction p̄
//! (`auroc_pbar`), each metric of p̄ with its test-set interval. `top_pipelines.tex`,
//! `stratos.tex` and the paired comparisons read them from here, so every number they show is
//! the same estimator.

use anyhow::{anyhow, Result};
use polars::prelude::DataFrame;

use super::frames::{floats, ints, strings};
use super::stats::{FACTORS, RESPONSE};
use crate::metrics::catalog;

/// The mean-of-models AUROC, whose model-variability interval the top-pipelines table shows
/// beside the AUROC of p̄.
const MODELS_AUROC: &str = "auroc";

/// A metric of p̄ with its test-set interval.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Interval {
    /// The metric of p̄.
    pub value: Option<f64>,
    /// Lower bound of its 95 % test-set interval.
    pub lower: Option<f64>,
    /// Upper bound of the same interval.
    pub upper: Option<f64>,
}

/// One configuration with the AUROC of p̄ and its model-variability interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// `config_id`.
    pub id: i32,
    /// The run name (`source_name`).
    pub source_name: String,
    /// Level of each of [`FACTORS`], in that order.
    pub levels: [String; 4],
    /// `auroc_pbar` with DeLong's interval.
    pub auroc: Interval,
    /// The model-variability interval of the mean-of-models AUROC (`auroc_ci_*`).
    pub auroc_models: (Option<f64>, Option<f64>),
}

/// Configurations with an `auroc_pbar`, best first (ties by `config_id`).
pub fn ranked(df: &DataFrame) -> Result<Vec<Ranked>> {
    let ids = ints(df, "config_id")?;
    let names = strings(df, "source_name")?;
    let levels: Vec<Vec<String>> = FACTORS
        .iter()
        .map(|(f, _)| strings(df, f))
        .collect::<Result<_>>()?;
    let auroc = intervals(df, RESPONSE)?;
    let [lower, upper] = catalog::model_ci_columns(MODELS_AUROC);
    let (lo, hi) = (floats(df, &lower)?, floats(df, &upper)?);
    let mut out: Vec<Ranked> = (0..df.height())
        .filter_map(|i| {
            let id = ids[i]?;
            auroc[i].value.filter(|a| a.is_finite())?;
            Some(Ranked {
                id,
                source_name: names[i].clone(),
                levels: std::array::from_fn(|f| levels[f][i].clone()),
                auroc: auroc[i],
                auroc_models: (lo[i], hi[i]),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |r: &Ranked| r.auroc.value.unwrap_or(f64::NEG_INFINITY);
        key(b).total_cmp(&key(a)).then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Metric `column` of p̄ with its test-set interval (`<column>_test_ci_*`), per row.
pub fn intervals(df: &DataFrame, column: &str) -> Result<Vec<Interval>> {
    let value = floats(df, column)?;
    let [lower, upper] = catalog::test_ci_columns(column);
    let (lower, upper) = (floats(df, &lower)?, floats(df, &upper)?);
    Ok((0..df.height())
        .map(|i| Interval {
            value: value[i],
            lower: lower[i],
            upper: upper[i],
        })
        .collect())
}

/// The row of configuration `id` in `df`.
pub fn row_of(df: &DataFrame, id: i32) -> Result<usize> {
    ints(df, "config_id")?
        .iter()
        .position(|c| *c == Some(id))
        .ok_or_else(|| anyhow!("no configuration {id} in `essential_metrics`"))
}
