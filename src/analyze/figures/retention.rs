//! Retention (selective classification) curves of the top configurations: each metric of
//! `retention_metrics` on the subjects kept when the most uncertain are referred, one panel
//! per metric.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::curves::{top, Curve, Lines};
use super::{legend, Env};
use crate::analyze::frames::{floats, ints, strings};
use crate::analyze::render::{px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::style::AXIS_PT;

/// The figure name.
pub const NAME: &str = "retention_curves";

/// Panel order and titles of the metrics extraction writes; others follow by name.
const KNOWN: [(&str, &str); 4] = [
    ("auroc", "AUROC"),
    ("brier", "Brier score (lower is better)"),
    ("scaled_brier", "Scaled Brier score"),
    ("net_benefit", "Net benefit at 15%"),
];

struct Retention {
    panels: Vec<Lines>,
}

/// Height in points of one row of panels.
const PANEL_HEIGHT: f64 = 190.0;

/// Draws the retention curves and their sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let df = &env.ckpt.retention;
    let (ids, names) = (ints(df, "config_id")?, strings(df, "metric_name")?);
    let (rates, values) = (floats(df, "retention_rate")?, floats(df, "metric_value")?);
    let present: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let mut metrics: Vec<(String, String)> = KNOWN
        .iter()
        .filter(|(m, _)| present.contains(m))
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    metrics.extend(
        present
            .iter()
            .filter(|m| !KNOWN.iter().any(|(k, _)| k == *m))
            .map(|m| (m.to_string(), m.to_string())),
    );
    if metrics.is_empty() {
        bail!("`retention_metrics` is empty");
    }
    let top = top(env)?;
    let mut panels = Vec::new();
    let mut sidecar = Vec::new();
    for (metric, title) in &metrics {
        let mut curves = Vec::new();
        for (config, label) in &top {
            let points: Vec<(f64, f64)> = (0..ids.len())
                .filter(|&i| ids[i] == Some(config.id) && names[i] == *metric)
                .filter_map(|i| Some((rates[i]?, values[i]?)))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            sidecar.push(json!({
                "metric": metric, "config_id": config.id, "label": label,
                "retention_rate": points.iter().map(|p| num(p.0)).collect::<Vec<_>>(),
                "metric_value": points.iter().map(|p| num(p.1)).collect::<Vec<_>>(),
            }));
            curves.push(Curve {
                label: label.clone(),
                points,
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
            name: NAME,
            title: title.clone(),
            x_desc: "Fraction retained (least uncertain first)",
            y_desc: "Metric on retained subjects",
            curves,
            references: Vec::new(),
            markers: true,
            x_range: (0.0, 1.0),
            y_range: (lo - pad, hi + pad),
        });
    }
    let data =
        json!({ "metrics": metrics.iter().map(|m| &m.0).collect::<Vec<_>>(), "curves": sidecar });
    env.emit(&Retention { panels }, data)
}

impl Retention {
    /// Legend entries: the curves of the first panel (every panel has the same).
    fn legend_items(&self) -> Vec<(String, RGBColor)> {
        self.panels
            .first()
            .map(Lines::legend_items)
            .unwrap_or_default()
    }
}

impl Figure for Retention {
    fn name(&self) -> &str {
        NAME
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        PANEL_HEIGHT * self.panels.len().div_ceil(2) as f64
            + legend::height(&self.legend_items(), width)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let rows = self.panels.len().div_ceil(2);
        let (body, key) = root.split_vertically(px(PANEL_HEIGHT * rows as f64, s));
        legend::draw(&key, &self.legend_items(), s)?;
        let areas = body.split_evenly((rows, 2));
        for (area, panel) in areas.iter().zip(&self.panels) {
            panel.draw_on(area, Some(AXIS_PT), s)?;
        }
        Ok(())
    }
}
