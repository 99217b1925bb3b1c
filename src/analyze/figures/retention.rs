//! Retention (selective classification) curves of the top configurations: each metric of
//! `retention_metrics` on the subjects kept when the most uncertain are referred, one panel
//! per metric. Points with fewer than `analysis.retention_min_subjects` retained subjects are
//! not drawn, since a metric of a handful of subjects is noise; the number retained is written
//! along the top of each panel.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Result};
use serde_json::json;

use super::curves::{top, Curve, Lines};
use super::panels::Panels;
use super::Env;
use crate::analyze::frames::{floats, ints, strings};
use crate::analyze::sidecar::num;
use crate::metrics::RetentionMetrics;

/// The figure name.
pub const NAME: &str = "retention_curves";

/// Panel titles of the metrics extraction writes ([`RetentionMetrics::NAMES`]), in that order;
/// other metrics follow by name.
const TITLES: [&str; 4] = [
    "AUROC",
    "Brier score (lower is better)",
    "Scaled Brier score",
    "Net benefit at 15%",
];

/// Draws the retention curves and their sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let df = &env.ckpt.retention;
    let (ids, names) = (ints(df, "config_id")?, strings(df, "metric_name")?);
    let (rates, values) = (floats(df, "retention_rate")?, floats(df, "metric_value")?);
    let retained = ints(df, "n_retained")?;
    let min = env.config.analysis.retention_min_subjects;
    let enough = |i: usize| retained[i].is_some_and(|n| usize::try_from(n).unwrap_or(0) >= min);
    let present: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut metrics: Vec<(String, String)> = RetentionMetrics::NAMES
        .iter()
        .zip(TITLES)
        .filter(|(m, _)| present.contains(*m))
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    metrics.extend(
        present
            .iter()
            .filter(|m| !RetentionMetrics::NAMES.contains(m))
            .map(|m| (m.to_string(), m.to_string())),
    );
    if metrics.is_empty() {
        bail!("`retention_metrics` is empty");
    }
    let top = top(env)?;
    let mut panels = Vec::new();
    let mut sidecar = Vec::new();
    let mut counts: Vec<(f64, i32)> = Vec::new();
    for (metric, title) in &metrics {
        let mut curves = Vec::new();
        for (config, label) in &top {
            let rows: Vec<usize> = (0..ids.len())
                .filter(|&i| ids[i] == Some(config.id) && names[i] == *metric && enough(i))
                .collect();
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|&i| Some((rates[i]?, values[i]?)))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            for &i in &rows {
                if let (Some(rate), Some(n)) = (rates[i], retained[i]) {
                    counts.push((rate, n));
                }
            }
            sidecar.push(json!({
                "metric": metric, "config_id": config.id, "label": label,
                "retention_rate": points.iter().map(|p| num(p.0)).collect::<Vec<_>>(),
                "metric_value": points.iter().map(|p| num(p.1)).collect::<Vec<_>>(),
            }));
            curves.push(Curve {
                label: label.clone(),
                points,
                band: Vec::new(),
            });
        }
        let ys = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1));
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), y| {
            (l.min(y), h.max(y))
        });
        if !lo.is_finite() {
            bail!("no `{metric}` value of the top configurations is finite");
        }
        let pad = ((hi - lo) * 0.1).max(0.01);
        panels.push(Lines {
            title: title.clone(),
            x_desc: "Fraction retained, least uncertain first (top: n)",
            y_desc: "Metric on retained subjects",
            curves,
            references: Vec::new(),
            markers: true,
            x_range: (0.0, 1.0),
            y_range: (lo - pad, hi + pad),
            annotations: Vec::new(),
        });
    }
    counts.sort_by(|a, b| a.0.total_cmp(&b.0));
    counts.dedup_by(|a, b| a.0 == b.0);
    let annotations: Vec<(f64, String)> = counts
        .iter()
        .step_by(2)
        .map(|(rate, n)| (*rate, n.to_string()))
        .collect();
    let first = counts.first().map_or(0.0, |c| c.0);
    for panel in &mut panels {
        panel.annotations = annotations.clone();
        panel.x_range = (first - 0.03, 1.03);
    }
    let data = json!({
        "metrics": metrics.iter().map(|m| &m.0).collect::<Vec<_>>(),
        "min_subjects": min,
        "n_retained": counts.iter().map(|(r, n)| json!({"retention_rate": num(*r), "n_retained": n})).collect::<Vec<_>>(),
        "curves": sidecar,
    });
    let fig = Panels {
        name: NAME,
        panels,
        columns: 2,
    };
    env.emit(&fig, data)
}
