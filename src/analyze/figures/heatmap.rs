//! Heatmap of mean AUROC by outlier method × imputation method for one classifier (the
//! configured `analysis.heatmap_classifier`, else the classifier with most configurations),
//! cells annotated with their count of configurations; a cell with fewer configurations than
//! the best-covered cell is marked with a dagger, since its mean covers fewer featurizations.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::json;

use super::{factor_style, label_width, text_width, Env};
use crate::analyze::render::{font, px, Figure};
use crate::analyze::sidecar::num;
use crate::analyze::stats::ranked;
use crate::analyze::style;

/// The figure name.
pub const NAME: &str = "heatmap";

/// A grid of annotated, coloured cells: rows bottom to top in order, columns left to right.
pub struct Grid {
    /// File stem.
    pub name: &'static str,
    /// Caption.
    pub title: String,
    /// Row labels, first at the top.
    pub rows: Vec<String>,
    /// Column labels.
    pub cols: Vec<String>,
    /// Fill of each cell: a colour, or `None` for an empty cell (light grey).
    pub fill: Vec<Vec<Option<RGBColor>>>,
    /// Text of each cell.
    pub text: Vec<Vec<String>>,
    /// Row-axis description.
    pub y_desc: String,
    /// Column-axis description.
    pub x_desc: String,
}

/// The classifier of the heatmap: the configured one, else the one with most
/// configurations (ties by name).
pub fn classifier(env: &Env, classifiers: &[String]) -> Result<String> {
    if let Some(c) = &env.config.analysis.heatmap_classifier {
        if !classifiers.contains(c) {
            bail!("`analysis.heatmap_classifier` is `{c}`, which no configuration uses (classifiers: {})", classifiers.join(", "));
        }
        return Ok(c.clone());
    }
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for c in classifiers {
        *counts.entry(c).or_default() += 1;
    }
    let best = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(c, _)| (*c).clone());
    best.ok_or_else(|| anyhow::anyhow!("no configuration has an AUROC"))
}

/// Draws the heatmap and its sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let configs = ranked(&env.ckpt.essential)?;
    let all: Vec<String> = configs.iter().map(|c| c.levels[2].clone()).collect();
    let clf = classifier(env, &all)?;
    let mut cells: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for c in configs.iter().filter(|c| c.levels[2] == clf) {
        cells
            .entry((c.levels[0].clone(), c.levels[1].clone()))
            .or_default()
            .push(c.auroc);
    }
    let mut rows: Vec<String> = cells.keys().map(|k| k.0.clone()).collect();
    let mut cols: Vec<String> = cells.keys().map(|k| k.1.clone()).collect();
    rows.dedup();
    cols.sort();
    cols.dedup();
    let values: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| {
                    cells
                        .get(&(r.clone(), c.clone()))
                        .map_or(f64::NAN, |v| v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect()
        })
        .collect();
    let most = cells.values().map(Vec::len).max().unwrap_or(0);
    let (so, si) = (
        factor_style(env.config, "outlier_method"),
        factor_style(env.config, "imputation_method"),
    );
    let finite: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let colour = |v: f64| {
        v.is_finite()
            .then(|| style::viridis(if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }))
    };
    let fig = Grid {
        name: NAME,
        title: format!(
            "Mean AUROC by outlier and imputation method, {}",
            style::label(factor_style(env.config, "classifier"), &clf)
        ),
        rows: rows.iter().map(|r| style::label(so, r)).collect(),
        cols: cols.iter().map(|c| style::label(si, c)).collect(),
        fill: values
            .iter()
            .map(|r| r.iter().map(|v| colour(*v)).collect())
            .collect(),
        text: rows
            .iter()
            .zip(&values)
            .map(|(r, vs)| {
                cols.iter()
                    .zip(vs)
                    .map(|(c, v)| match cells.get(&(r.clone(), c.clone())) {
                        Some(n) if v.is_finite() && n.len() < most => {
                            format!("{v:.3} (n={})†", n.len())
                        }
                        Some(n) if v.is_finite() => format!("{v:.3} (n={})", n.len()),
                        _ => "–".into(),
                    })
                    .collect()
            })
            .collect(),
        y_desc: "Outlier method".into(),
        x_desc:
            "Imputation method (cell: mean AUROC over n configurations; † fewer than the others)"
                .into(),
    };
    let data = json!({
        "classifier": clf,
        "rows": rows, "cols": cols,
        "row_labels": fig.rows, "col_labels": fig.cols,
        "colour_scale": { "red": num(lo), "green": num(hi) },
        "values": values.iter().map(|r| r.iter().map(|v| num(*v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "n_configs": cols.iter().flat_map(|c| rows.iter().map(move |r| (r, c)))
            .map(|(r, c)| cells.get(&(r.clone(), c.clone())).map_or(0, Vec::len)).collect::<Vec<_>>(),
    });
    env.emit(&fig, data)
}

impl Figure for Grid {
    fn name(&self) -> &str {
        self.name
    }

    fn size(&self) -> (f64, f64) {
        let left = label_width(&self.rows, 9.0) / 72.0;
        let col_w = (label_width(&self.cols, 8.0) / 72.0).max(0.8);
        let grid = left + 0.6 + col_w * self.cols.len() as f64;
        let title = text_width(&self.title, 11.0) / 72.0 + 0.4;
        let x_desc = left + text_width(&self.x_desc, 9.5) / 72.0 + 0.4;
        (
            grid.max(title).max(x_desc),
            1.4 + 0.35 * self.rows.len() as f64,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (nr, nc) = (self.rows.len() as i32, self.cols.len() as i32);
        let (rows, cols) = (&self.rows, &self.cols);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(11.0, s))
            .margin(px(8.0, s))
            .x_label_area_size(px(40.0, s))
            .y_label_area_size(px(label_width(rows, 9.0), s))
            .build_cartesian_2d((0..nc - 1).into_segmented(), (0..nr - 1).into_segmented())?;
        let centre_label = |v: &SegmentValue<i32>, labels: &[String], flip: bool| match v {
            SegmentValue::CenterOf(i) => {
                let i = if flip { nr - 1 - *i } else { *i };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc as usize + 1)
            .y_labels(nr as usize + 1)
            .x_label_formatter(&|x| centre_label(x, cols.as_slice(), false))
            .y_label_formatter(&|y| centre_label(y, rows.as_slice(), true))
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .label_style(font(8.5, s))
            .axis_desc_style(font(9.5, s))
            .draw()?;
        let text = font(8.5, s).pos(Pos::new(HPos::Center, VPos::Center));
        for (i, (fills, texts)) in self.fill.iter().zip(&self.text).enumerate() {
            let y = nr - 1 - i as i32;
            for (j, (fill, label)) in fills.iter().zip(texts).enumerate() {
                let x = j as i32;
                let fill = fill.unwrap_or(RGBColor(220, 220, 220));
                let corners = [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ];
                chart.draw_series(std::iter::once(Rectangle::new(corners, fill.filled())))?;
                let luminance = 0.299 * f64::from(fill.0)
                    + 0.587 * f64::from(fill.1)
                    + 0.114 * f64::from(fill.2);
                let ink = if luminance < 128.0 { WHITE } else { BLACK };
                let at =
                    chart.backend_coord(&(SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)));
                root.draw(&Text::new(label.clone(), at, text.clone().color(&ink)))?;
            }
        }
        Ok(())
    }
}
