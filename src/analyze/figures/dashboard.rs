//! The overview dashboard: the estimated marginal mean AUROC with its 95 % CI by outlier
//! method, imputation method and featurization, side by side on one shared AUROC scale, with
//! oracle methods as reference lines.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::forest::Panel;
use super::parts::{category_legend, extent, methods_json, references, row_colours, row_labels};
use super::{legend, Env};
use crate::analyze::methods::factor_style;
use crate::analyze::render::{px, Figure, Span};
use crate::analyze::stats::{by_factor, Basis, Summary};

/// The figure name.
pub const NAME: &str = "dashboard";

/// The factors shown, with panel titles.
const PANELS: [(&str, &str); 3] = [
    ("outlier_method", "Outlier detection"),
    ("imputation_method", "Imputation"),
    ("featurization", "Featurization"),
];

struct Column {
    title: String,
    rows: Vec<Summary>,
    labels: Vec<String>,
    colours: Vec<RGBColor>,
    references: Vec<(String, f64)>,
}

struct Dashboard {
    columns: Vec<Column>,
    basis: Basis,
    legend: Vec<(String, RGBColor)>,
}

/// Draws the dashboard and its sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let mut columns = Vec::new();
    let mut panels = Vec::new();
    let mut legend = Vec::new();
    let mut basis = Basis::MarginalMeans;
    for (factor, title) in PANELS {
        let cmp = by_factor(&env.ckpt.essential, env.config, factor)?;
        let rows: Vec<Summary> = cmp.contenders().cloned().collect();
        if rows.is_empty() {
            bail!("no configuration of a non-oracle method has an AUROC");
        }
        basis = cmp.basis;
        let st = factor_style(env.config, factor);
        panels.push(json!({
            "factor": factor,
            "title": title,
            "basis": cmp.basis.key(),
            "estimate": cmp.basis.describe(),
            "methods": methods_json(st, &cmp.rows),
        }));
        let colours = row_colours(env, st, &rows);
        for entry in category_legend(st, &rows, &colours) {
            if !legend.contains(&entry) {
                legend.push(entry);
            }
        }
        columns.push(Column {
            title: title.to_string(),
            labels: row_labels(st, &rows),
            references: references(env, st, &cmp),
            colours,
            rows,
        });
    }
    let data = json!({
        "reference_auroc": env.config.analysis.reference_auroc,
        "panels": panels,
    });
    env.emit(
        &Dashboard {
            columns,
            basis,
            legend,
        },
        data,
    )
}

impl Dashboard {
    /// Height in points of the panels (the tallest).
    fn panels_height(&self) -> f64 {
        let rows = self.columns.iter().map(|c| c.rows.len()).max().unwrap_or(1);
        Panel::height(rows)
    }
}

impl Figure for Dashboard {
    fn name(&self) -> &str {
        NAME
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        self.panels_height() + legend::height(&self.legend, width)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (body, key) = root.split_vertically(px(self.panels_height(), s));
        legend::draw(&key, &self.legend, s)?;
        let (lo, hi) = self
            .columns
            .iter()
            .map(|c| extent(&c.rows, &c.references))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (a, b)| {
                (l.min(a), h.max(b))
            });
        let x_desc = self.basis.axis();
        // Every panel's plot is equally wide, so that the shared AUROC scale reads the same.
        let frames: Vec<f64> = self
            .columns
            .iter()
            .map(|c| Panel::frame_width(&c.labels))
            .collect();
        let total = f64::from(body.dim_in_pixel().0) / s;
        let plot = ((total - frames.iter().sum::<f64>()) / frames.len() as f64).max(1.0);
        let mut rest = body;
        for (c, frame) in self.columns.iter().zip(&frames) {
            let (area, right) = rest.split_horizontally(px(frame + plot, s));
            rest = right;
            Panel {
                title: &c.title,
                rows: &c.rows,
                labels: &c.labels,
                colours: &c.colours,
                references: &c.references,
                x_desc,
                x_range: Some((lo, hi)),
            }
            .draw(&area, s)?;
        }
        Ok(())
    }
}
