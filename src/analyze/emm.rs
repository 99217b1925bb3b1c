//! Estimated marginal means (EMMs) of the main-effects linear model of AUROC on every
//! factor: for each level of a factor, the model's prediction averaged with equal weights
//! over every level of the other factors (R's `emmeans` default for `lm`). Unlike the mean of
//! a method's configurations, an EMM does not depend on which configurations happen to be
//! missing, so methods of an unbalanced design are compared on the same footing.
//!
//! The model is fitted by least squares on treatment-coded indicators through the Cholesky
//! factor of XᵀX; its residual variance and degrees of freedom give each EMM a standard error
//! and a t interval.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// One level's estimated marginal mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Emm {
    /// The level.
    pub level: String,
    /// The estimated marginal mean.
    pub emm: f64,
    /// Its standard error.
    pub se: f64,
    /// Residual degrees of freedom of the model.
    pub df: f64,
    /// Lower bound of the 95 % t interval.
    pub ci_lower: f64,
    /// Upper bound of the 95 % t interval.
    pub ci_upper: f64,
}

/// A fitted main-effects model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Per factor: its name and its levels in sorted order (the first is the baseline).
    factors: Vec<(String, Vec<String>)>,
    /// Per factor: the index of its first indicator coefficient (levels 2…k follow).
    offsets: Vec<usize>,
    beta: Vec<f64>,
    /// Lower Cholesky factor of XᵀX, row-major, p × p.
    chol: Vec<Vec<f64>>,
    sigma2: f64,
    df: f64,
}

impl Model {
    /// Fits `y` on the main effects of `factors` (name, level per observation).
    pub fn fit(y: &[f64], factors: &[(String, Vec<String>)]) -> Result<Self> {
        let n = y.len();
        let mut levels = Vec::new();
        let mut offsets = Vec::new();
        let mut p = 1;
        for (name, obs) in factors {
            if obs.len() != n {
                bail!(
                    "factor `{name}` has {} values for {n} observations",
                    obs.len()
                );
            }
            let mut distinct: Vec<String> = obs.clone();
            distinct.sort();
            distinct.dedup();
            offsets.push(p);
            p += distinct.len().saturating_sub(1);
            levels.push((name.clone(), distinct));
        }
        if n <= p {
            bail!("the main-effects model needs more configurations than parameters ({n} configurations, {p} parameters)");
        }
        let rows: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                let mut x = vec![0.0; p];
                x[0] = 1.0;
                for (f, (_, obs)) in factors.iter().enumerate() {
                    let k = levels[f].1.binary_search(&obs[i]).unwrap_or_default();
                    if k > 0 {
                        x[offsets[f] + k - 1] = 1.0;
                    }
                }
                x
            })
            .collect();
        let mut xtx = vec![vec![0.0; p]; p];
        let mut xty = vec![0.0; p];
        for (x, yi) in rows.iter().zip(y) {
            for a in 0..p {
                if x[a] == 0.0 {
                    continue;
                }
                xty[a] += x[a] * yi;
                for b in 0..p {
                    xtx[a][b] += x[a] * x[b];
                }
            }
        }
        let Some(chol) = cholesky(&xtx) else {
            bail!("the main-effects model is not estimable: a method's level is confounded with the levels of other factors");
        };
        let beta = solve(&chol, &xty);
        let rss: f64 = rows
            .iter()
            .zip(y)
            .map(|(x, yi)| (yi - dot(x, &beta)).powi(2))
            .sum();
        let df = (n - p) as f64;
        Ok(Self {
            factors: levels,
            offsets,
            beta,
            chol,
            sigma2: rss / df,
            df,
        })
    }

    /// The EMMs of every level of `factor`, in sorted level order (empty for an unknown one).
    pub fn emms(&self, factor: &str) -> Vec<Emm> {
        let Some(f) = self.factors.iter().position(|(name, _)| name == factor) else {
            return Vec::new();
        };
        let t = StudentsT::new(0.0, 1.0, self.df)
            .map(|d| d.inverse_cdf(0.975))
            .unwrap_or(f64::NAN);
        self.factors[f]
            .1
            .iter()
            .enumerate()
            .map(|(k, level)| {
                let c = self.contrast(f, k);
                let emm = dot(&c, &self.beta);
                let z = forward(&self.chol, &c);
                let se = (self.sigma2 * dot(&z, &z)).sqrt();
                Emm {
                    level: level.clone(),
                    emm,
                    se,
                    df: self.df,
                    ci_lower: emm - t * se,
                    ci_upper: emm + t * se,
                }
            })
            .collect()
    }

    /// The EMMs of every factor, by factor name.
    pub fn all(&self) -> BTreeMap<String, Vec<Emm>> {
        self.factors
            .iter()
            .map(|(name, _)| (name.clone(), self.emms(name)))
            .collect()
    }

    /// The coefficient weights of level `k` of factor `f` averaged over the other factors.
    fn contrast(&self, f: usize, k: usize) -> Vec<f64> {
        let mut c = vec![0.0; self.beta.len()];
        c[0] = 1.0;
        for (g, (_, levels)) in self.factors.iter().enumerate() {
            if g == f {
                if k > 0 {
                    c[self.offsets[g] + k - 1] = 1.0;
                }
            } else {
                let w = 1.0 / levels.len() as f64;
                for j in 1..levels.len() {
                    c[self.offsets[g] + j - 1] = w;
                }
            }
        }
        c
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The lower Cholesky factor of the symmetric `a`, or `None` when `a` is (numerically) not
/// positive definite: some column of the design is a combination of others.
fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let p = a.len();
    let scale = (0..p).map(|i| a[i][i]).fold(0.0, f64::max);
    let mut l = vec![vec![0.0; p]; p];
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 1e-10 * scale.max(1.0) {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves L z = b.
fn forward(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; b.len()];
    for i in 0..b.len() {
        let s: f64 = (0..i).map(|k| l[i][k] * z[k]).sum();
        z[i] = (b[i] - s) / l[i][i];
    }
    z
}

/// Solves L Lᵀ x = b.
fn solve(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let z = forward(l, b);
    let p = b.len();
    let mut x = vec![0.0; p];
    for i in (0..p).rev() {
        let s: f64 = (i + 1..p).map(|k| l[k][i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i][i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_balanced_design_s_emms_are_the_level_means() {
        let y = [1.0, 2.0, 4.0, 7.0];
        let a = strings(&["a", "a", "b", "b"]);
        let b = strings(&["x", "y", "x", "y"]);
        let m = Model::fit(&y, &[("A".into(), a), ("B".into(), b)]).unwrap();
        let e = m.emms("A");
        assert!((e[0].emm - 1.5).abs() < 1e-12 && (e[1].emm - 5.5).abs() < 1e-12);
    }

    #[test]
    fn a_missing_cell_does_not_pull_the_emm_towards_the_other_factor() {
        // y = 10·[A = b] + [B = y] exactly; the cell (b, y) is missing. The raw mean of
        // A = a is 0.5 and of A = b is 10; the EMMs are 0.5 and 10.5, 10 apart as the model says.
        let y = [0.0, 1.0, 10.0, 0.0];
        let a = strings(&["a", "a", "b", "a"]);
        let b = strings(&["x", "y", "x", "x"]);
        let m = Model::fit(&y, &[("A".into(), a), ("B".into(), b)]).unwrap();
        let e = m.emms("A");
        assert!(
            (e[0].emm - 0.5).abs() < 1e-9 && (e[1].emm - 10.5).abs() < 1e-9,
            "{e:?}"
        );
    }

    #[test]
    fn a_confounded_design_is_refused() {
        let y = [1.0, 2.0, 3.0, 4.0];
        let a = strings(&["a", "a", "b", "b"]);
        let err = Model::fit(&y, &[("A".into(), a.clone()), ("B".into(), a)]).unwrap_err();
        assert!(err.to_string().contains("not estimable"), "{err}");
    }
}

/// Agreement with R's emmeans and drop1 on the demo checkpoint and an unbalanced subset of it
/// (`tests/fixtures/golden/emm`, written by `scripts/fixtures/emmeans.sh`).
#[cfg(test)]
mod golden {
    use super::*;
    use crate::analyze::anova;

    fn csv(name: &str) -> Vec<Vec<String>> {
        let path = format!(
            "{}/tests/fixtures/golden/emm/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
            .lines()
            .skip(1)
            .map(|l| {
                l.split(',')
                    .map(|f| f.trim_matches('"').to_string())
                    .collect()
            })
            .collect()
    }

    fn close(what: &str, ours: f64, r: &str) {
        let r: f64 = r
            .parse()
            .unwrap_or_else(|_| panic!("{what}: `{r}` is not a number"));
        assert!((ours - r).abs() < 1e-9, "{what}: ours {ours}, R {r}");
    }

    fn check(name: &str) {
        let input = csv(&format!("{name}_input.csv"));
        let y: Vec<f64> = input.iter().map(|r| r[0].parse().unwrap()).collect();
        let names = [
            "outlier_method",
            "imputation_method",
            "classifier",
            "featurization",
        ];
        let factors: Vec<(String, Vec<String>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.to_string(),
                    input.iter().map(|r| r[i + 1].clone()).collect(),
                )
            })
            .collect();
        let model = Model::fit(&y, &factors).unwrap();
        let terms = anova::type2(&y, &factors).unwrap();
        let expected = csv(&format!("{name}_expected.csv"));
        assert!(expected.len() > 8, "{name}: too few golden rows");
        for row in expected {
            let what = format!("{name} {} {} {}", row[0], row[1], row[2]);
            if row[0] == "emm" {
                let emms = model.emms(&row[1]);
                let e = emms.iter().find(|e| e.level == row[2]).expect(&what);
                close(&format!("{what} emmean"), e.emm, &row[3]);
                close(&format!("{what} SE"), e.se, &row[4]);
                close(&format!("{what} df"), e.df, &row[5]);
                close(&format!("{what} lower"), e.ci_lower, &row[6]);
                close(&format!("{what} upper"), e.ci_upper, &row[7]);
            } else {
                let t = terms.iter().find(|t| t.term == row[1]).expect(&what);
                close(&format!("{what} F"), t.f.unwrap(), &row[3]);
                close(&format!("{what} df"), t.df, &row[4]);
                close(&format!("{what} p"), t.p.unwrap(), &row[6]);
            }
        }
    }

    #[test]
    fn emms_and_type2_tests_match_r_on_the_demo() {
        check("demo");
    }

    #[test]
    fn emms_and_type2_tests_match_r_on_an_unbalanced_subset() {
        check("subset");
    }
}
