//! Type II ANOVA of the AUROC of p̄ on the main effects of every factor with at least two levels
//! (the variance decomposition; matches statsmodels `anova_lm(typ=2)`).
//!
//! In a main-effects model a term's type II sum of squares is the rise in residual sum of
//! squares when the term alone is dropped. Least squares uses modified Gram–Schmidt with
//! re-orthogonalization, which drops aliased columns, so an unbalanced design works.

use anyhow::{bail, Result};
use polars::prelude::DataFrame;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use super::stats::observations;

/// One row of the ANOVA table; the last row is `Residual` (no F, p or effect sizes).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Term {
    /// Factor column, or `Residual`.
    pub term: String,
    /// Sum of squares.
    pub sum_sq: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// F statistic.
    pub f: Option<f64>,
    /// p-value from the F distribution.
    pub p: Option<f64>,
    /// Partial η² = SS / (SS + SS_residual).
    pub partial_eta_sq: Option<f64>,
    /// ω² = (SS − df·MS_residual) / (SS_total + MS_residual).
    pub omega_sq: Option<f64>,
}

/// The ANOVA of `auroc` over the configurations of `df` that have one.
pub fn from_frame(df: &DataFrame) -> Result<Vec<Term>> {
    let (y, factors) = observations(df)?;
    type2(&y, &factors)
}

/// The type II ANOVA of `y` on the factors (name, level per observation) with ≥ 2 levels.
pub fn type2(y: &[f64], factors: &[(String, Vec<String>)]) -> Result<Vec<Term>> {
    let n = y.len();
    let blocks: Vec<(&str, Vec<Vec<f64>>)> = factors
        .iter()
        .map(|(name, levels)| (name.as_str(), dummies(levels)))
        .filter(|(_, d)| !d.is_empty())
        .collect();
    let design = |skip: Option<usize>| -> Vec<Vec<f64>> {
        let mut cols = vec![vec![1.0; n]];
        for (i, (_, d)) in blocks.iter().enumerate() {
            if Some(i) != skip {
                cols.extend(d.iter().cloned());
            }
        }
        cols
    };
    let (rss, rank) = least_squares(y, &design(None));
    let df_res = n as f64 - rank as f64;
    if df_res < 1.0 {
        bail!("the ANOVA needs more configurations than model parameters ({n} configurations, {rank} parameters)");
    }
    let ms_res = rss / df_res;
    let mean = y.iter().sum::<f64>() / n as f64;
    let ss_total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let fdist = |df: f64| FisherSnedecor::new(df, df_res).ok();
    let mut out = Vec::new();
    for (i, (name, _)) in blocks.iter().enumerate() {
        let (rss_without, rank_without) = least_squares(y, &design(Some(i)));
        let ss = rss_without - rss;
        let df = (rank - rank_without) as f64;
        let f = (ss / df) / ms_res;
        out.push(Term {
            term: name.to_string(),
            sum_sq: ss,
            df,
            f: Some(f),
            p: fdist(df).map(|d| d.sf(f)),
            partial_eta_sq: Some(ss / (ss + rss)),
            omega_sq: Some((ss - df * ms_res) / (ss_total + ms_res)),
        });
    }
    out.push(Term {
        term: "Residual".into(),
        sum_sq: rss,
        df: df_res,
        f: None,
        p: None,
        partial_eta_sq: None,
        omega_sq: None,
    });
    Ok(out)
}

/// Treatment-coded indicator columns (first level in sorted order is the baseline); empty
/// for a factor with fewer than two levels.
fn dummies(levels: &[String]) -> Vec<Vec<f64>> {
    let mut distinct: Vec<&String> = levels.iter().collect();
    distinct.sort();
    distinct.dedup();
    distinct
        .iter()
        .skip(1)
        .map(|level| {
            levels
                .iter()
                .map(|l| if l == *level { 1.0 } else { 0.0 })
                .collect()
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn remove_projections(v: &mut [f64], basis: &[Vec<f64>]) {
    for _ in 0..2 {
        for q in basis {
            let d = dot(q, v);
            v.iter_mut().zip(q).for_each(|(x, qi)| *x -= d * qi);
        }
    }
}

/// Residual sum of squares of `y` on the span of `cols`, and the rank of `cols`.
fn least_squares(y: &[f64], cols: &[Vec<f64>]) -> (f64, usize) {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for c in cols {
        let norm0 = dot(c, c).sqrt();
        let mut v = c.clone();
        remove_projections(&mut v, &basis);
        let norm = dot(&v, &v).sqrt();
        if norm0 > 0.0 && norm > 1e-10 * norm0 {
            v.iter_mut().for_each(|x| *x /= norm);
            basis.push(v);
        }
    }
    let mut r = y.to_vec();
    remove_projections(&mut r, &basis);
    (dot(&r, &r), basis.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_one_way_matches_hand_computation() {
        let y = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0];
        let g: Vec<String> = ["a", "a", "a", "b", "b", "b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let t = type2(&y, &[("g".into(), g)]).unwrap();
        assert!((t[0].sum_sq - 24.0).abs() < 1e-12);
        assert!((t[1].sum_sq - 4.0).abs() < 1e-12);
        assert_eq!((t[0].df, t[1].df), (1.0, 4.0));
        assert!((t[0].f.unwrap() - 24.0).abs() < 1e-12);
    }

    #[test]
    fn single_level_factors_are_left_out() {
        let y = [1.0, 2.0, 3.0, 5.0];
        let one: Vec<String> = vec!["x".into(); 4];
        let two: Vec<String> = ["a", "a", "b", "b"].iter().map(|s| s.to_string()).collect();
        let t = type2(&y, &[("one".into(), one), ("two".into(), two)]).unwrap();
        assert_eq!(
            t.iter().map(|t| t.term.as_str()).collect::<Vec<_>>(),
            ["two", "Residual"]
        );
    }

    /// Agreement with statsmodels' `anova_lm(typ=2)` on the demo store's mean-of-models AUROC
    /// (`tests/fixtures/golden/demo_anova.json`), sums of squares included.
    #[test]
    fn type2_matches_statsmodels_on_the_demo_store() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/golden/demo_anova.json"
        );
        let golden: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let runs = golden["runs"].as_array().unwrap();
        let y: Vec<f64> = runs.iter().map(|r| r["auroc"].as_f64().unwrap()).collect();
        let factors: Vec<(String, Vec<String>)> = [
            "classifier",
            "featurization",
            "imputation_method",
            "outlier_method",
        ]
        .iter()
        .map(|f| {
            let levels = runs
                .iter()
                .map(|r| r[*f].as_str().unwrap().to_string())
                .collect();
            (f.to_string(), levels)
        })
        .collect();
        let ours = type2(&y, &factors).unwrap();
        let want = golden["terms"].as_array().unwrap();
        assert_eq!(ours.len(), want.len());
        for w in want {
            let name = w["term"].as_str().unwrap();
            let bare = name.trim_start_matches("C(").trim_end_matches(')');
            let t = ours.iter().find(|t| t.term == bare).unwrap();
            let close = |what: &str, a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{name} {what}: {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{name} {what}"),
            };
            close("SS", Some(t.sum_sq), w["sum_sq"].as_f64());
            close("df", Some(t.df), w["df"].as_f64());
            close("F", t.f, w["F"].as_f64());
            close("p", t.p, w["PR(>F)"].as_f64());
        }
    }
}
