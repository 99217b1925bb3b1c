//! The factorial design: the levels of every factor and which configurations the checkpoint
//! holds out of all possible combinations. Each cell of the outlier × imputation grid counts
//! the classifier × featurization configurations present for that pipeline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::style::RGBColor;
use serde_json::json;

use super::heatmap::Grid;
use super::Env;
use crate::analyze::frames::strings;
use crate::analyze::methods::{self, factor_style};
use crate::analyze::stats::FACTORS;

/// The figure name.
pub const NAME: &str = "factorial_design";

/// Draws the design grid and its sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let df = &env.ckpt.essential;
    let columns: Vec<Vec<String>> = FACTORS
        .iter()
        .map(|(f, _)| strings(df, f))
        .collect::<Result<_>>()?;
    if df.height() == 0 {
        bail!("the checkpoint holds no configuration");
    }
    let levels: Vec<Vec<String>> = columns
        .iter()
        .map(|c| {
            c.iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .collect();
    let present: BTreeSet<[String; 4]> = (0..df.height())
        .map(|i| std::array::from_fn(|f| columns[f][i].clone()))
        .collect();
    let possible: usize = levels.iter().map(Vec::len).product();
    let per_cell = levels[2].len() * levels[3].len();
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for c in &present {
        *counts.entry((c[0].as_str(), c[1].as_str())).or_default() += 1;
    }
    let mut missing = Vec::new();
    for o in &levels[0] {
        for i in &levels[1] {
            for c in &levels[2] {
                for f in &levels[3] {
                    let key = [o.clone(), i.clone(), c.clone(), f.clone()];
                    if !present.contains(&key) {
                        missing.push(json!({
                            "outlier_method": o, "imputation_method": i,
                            "classifier": c, "featurization": f,
                        }));
                    }
                }
            }
        }
    }
    let count = |o: &String, i: &String| counts.get(&(o.as_str(), i.as_str())).copied();
    let (so, si) = (
        factor_style(env.config, "outlier_method"),
        factor_style(env.config, "imputation_method"),
    );
    let fig = Grid {
        name: NAME,
        title: format!(
            "Factorial design: {} of {possible} configurations present",
            present.len()
        ),
        rows: levels[0].iter().map(|l| methods::label(so, l)).collect(),
        cols: levels[1].iter().map(|l| methods::label(si, l)).collect(),
        fill: levels[0]
            .iter()
            .map(|o| {
                levels[1]
                    .iter()
                    .map(|i| count(o, i).map(|n| shade(n as f64 / per_cell as f64)))
                    .collect()
            })
            .collect(),
        text: levels[0]
            .iter()
            .map(|o| {
                levels[1]
                    .iter()
                    .map(|i| format!("{}/{per_cell}", count(o, i).unwrap_or(0)))
                    .collect()
            })
            .collect(),
        y_desc: "Outlier method".into(),
        x_desc: format!(
            "Imputation method (cell: present of {} classifier × {} featurization)",
            levels[2].len(),
            levels[3].len()
        ),
        bar: None,
    };
    let data = json!({
        "factors": FACTORS.iter().zip(&levels).map(|((f, _), l)| json!({
            "factor": f, "levels": l, "n_levels": l.len(),
            "labels": l.iter().map(|x| methods::label(factor_style(env.config, f), x)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "possible": possible,
        "present": present.len(),
        "rows": levels[0], "cols": levels[1],
        "cell_capacity": per_cell,
        "cells": levels[0].iter().map(|o| levels[1].iter().map(|i| count(o, i).unwrap_or(0)).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "missing": missing,
    });
    env.emit(&fig, data)
}

/// Light to dark blue as the share of a pipeline's configurations present grows.
fn shade(share: f64) -> RGBColor {
    let t = share.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(222.0, 107.0), mix(235.0, 174.0), mix(247.0, 214.0))
}
