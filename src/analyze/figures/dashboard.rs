//! The overview dashboard: the estimated marginal mean AUROC with its 95 % CI by outlier
//! method, imputation method and featurization, side by side on one shared AUROC scale, with
//! oracle methods as reference lines.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::curves::{legend_column, legend_width};
use super::forest::{
    category_legend, extent, methods_json, references, row_colours, row_labels, Panel,
};
use super::{factor_style, Env};
use crate::analyze::render::{px, Figure};
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
    /// Points the category legend needs (none without one).
    fn legend_width(&self) -> f64 {
        if self.legend.is_empty() {
            return 0.0;
        }
        legend_width(
            &self
                .legend
                .iter()
                .map(|(l, _)| l.clone())
                .collect::<Vec<_>>(),
        )
    }
}

impl Figure for Dashboard {
    fn name(&self) -> &str {
        NAME
    }

    fn size(&self) -> (f64, f64) {
        let rows = self.columns.iter().map(|c| c.rows.len()).max().unwrap_or(1);
        (10.5 + self.legend_width() / 72.0, 1.4 + 0.3 * rows as f64)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let width = root.dim_in_pixel().0 - px(self.legend_width(), s);
        let (body, legend) = root.split_horizontally(width);
        legend_column(&legend, &self.legend, s)?;
        let (lo, hi) = self
            .columns
            .iter()
            .map(|c| extent(&c.rows, &c.references))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (a, b)| {
                (l.min(a), h.max(b))
            });
        let x_desc = format!("AUROC ({})", self.basis.axis());
        let areas = body.split_evenly((1, self.columns.len()));
        for (area, c) in areas.iter().zip(&self.columns) {
            Panel {
                title: &c.title,
                rows: &c.rows,
                labels: &c.labels,
                colours: &c.colours,
                references: &c.references,
                x_desc: &x_desc,
                x_range: Some((lo, hi)),
            }
            .draw(area, s)?;
        }
        Ok(())
    }
}
