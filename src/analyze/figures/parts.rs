//! Chart pieces that several figures share: the rows of a method comparison (colours,
//! labels, reference lines, sidecar rows, extent, category legend) and the area of a
//! bootstrap band.

use plotters::prelude::*;
use serde_json::{json, Value};

use super::Env;
use crate::analyze::bands::BandPoint;
use crate::analyze::methods;
use crate::analyze::sidecar::{num, opt};
use crate::analyze::stats::{Comparison, Summary};
use crate::config::FactorStyle;

/// The colour of each row's method category.
pub fn row_colours(env: &Env, st: &FactorStyle, rows: &[Summary]) -> Vec<RGBColor> {
    rows.iter()
        .map(|r| methods::category_colour(&env.config.methods, &methods::category(st, &r.level)))
        .collect()
}

/// The axis label of each row: the method's label, with its count when it has fewer
/// configurations than the others.
pub fn row_labels(st: &FactorStyle, rows: &[Summary]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            let label = methods::label(st, &r.level);
            if r.fewer {
                format!("{label} (n={})", r.n)
            } else {
                label
            }
        })
        .collect()
}

/// The reference lines of a comparison: each oracle method at its estimate, and the
/// configured reference AUROC.
pub fn references(env: &Env, st: &FactorStyle, cmp: &Comparison) -> Vec<(String, f64)> {
    cmp.oracles()
        .map(|r| {
            (
                format!("{} (oracle)", methods::label(st, &r.level)),
                r.estimate,
            )
        })
        .chain(
            env.config
                .analysis
                .reference_auroc
                .map(|r| ("Reference".to_string(), r)),
        )
        .collect()
}

/// The per-method rows of a sidecar: every method of the comparison, oracles included.
pub fn methods_json(st: &FactorStyle, rows: &[Summary]) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            json!({
                "method": r.level, "label": methods::label(st, &r.level),
                "category": methods::category(st, &r.level), "n": r.n,
                "oracle": r.oracle, "fewer_configurations": r.fewer,
                "estimate": num(r.estimate),
                "ci_lower": opt(r.ci_lower), "ci_upper": opt(r.ci_upper),
                "mean_auroc": num(r.mean), "sd": opt(r.sd),
            })
        })
        .collect()
}

/// The smallest and largest of the estimates, CI bounds and reference lines of `rows`.
pub fn extent(rows: &[Summary], references: &[(String, f64)]) -> (f64, f64) {
    rows.iter()
        .flat_map(|r| [Some(r.estimate), r.ci_lower, r.ci_upper])
        .chain(references.iter().map(|(_, v)| Some(*v)))
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        })
}

/// Legend entries for the method categories of `rows` in `colours`, when there are several.
pub fn category_legend(
    st: &FactorStyle,
    rows: &[Summary],
    colours: &[RGBColor],
) -> Vec<(String, RGBColor)> {
    let mut out: Vec<(String, RGBColor)> = Vec::new();
    for (r, c) in rows.iter().zip(colours) {
        let category = methods::category(st, &r.level);
        if !out.iter().any(|(k, _)| *k == category) {
            out.push((category, *c));
        }
    }
    if out.len() < 2 {
        out.clear();
    }
    out
}

/// The area of a band, filled in `colour`: along its upper bounds and back along its lower.
pub fn band_area(band: &[BandPoint], colour: RGBAColor) -> Polygon<(f64, f64)> {
    let outline: Vec<(f64, f64)> = band
        .iter()
        .map(|b| (b.x, b.upper))
        .chain(band.iter().rev().map(|b| (b.x, b.lower)))
        .collect();
    Polygon::new(outline, colour.filled())
}
