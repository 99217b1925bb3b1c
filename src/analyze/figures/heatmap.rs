//! Heatmap of mean AUROC by outlier method × imputation method for one classifier (the
//! configured `analysis.heatmap_classifier`, else the classifier with most configurations),
//! cells annotated with their count of configurations, with a colour bar giving the scale; a
//! cell with fewer configurations than the best-covered cell is marked with a dagger, since
//! its mean covers fewer featurizations.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;
use serde_json::json;

use super::{draw_title, label_width, text_width, title_height, wrap, Env};
use crate::analyze::methods::{self, factor_style};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::stats::ranked;
use crate::analyze::style::{self, AXIS_PT, TEXT_PT};

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
    /// Text of each cell, one line per `\n`-separated part.
    pub text: Vec<Vec<String>>,
    /// Row-axis description.
    pub y_desc: String,
    /// Column-axis description.
    pub x_desc: String,
    /// The colour bar of the fills, if they follow a scale.
    pub bar: Option<ColourBar>,
}

/// A continuous colour scale (viridis) and what it measures, drawn as a bar beside a grid.
pub struct ColourBar {
    /// The value at the bottom of the bar (darkest).
    pub lo: f64,
    /// The value at the top of the bar (lightest).
    pub hi: f64,
    /// What the colours measure.
    pub label: String,
}

impl ColourBar {
    /// The colour of `v`.
    pub fn colour(&self, v: f64) -> RGBColor {
        style::viridis(if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        })
    }

    /// The values labelled on a bar `height` points tall: both ends, and the middle when
    /// three labels fit.
    fn ticks(&self, height: f64) -> Vec<f64> {
        if self.hi <= self.lo {
            vec![self.lo]
        } else if height >= 4.0 * TEXT_PT {
            vec![self.lo, (self.lo + self.hi) / 2.0, self.hi]
        } else {
            vec![self.lo, self.hi]
        }
    }

    /// Width in points of the bar with its tick labels and label.
    fn width(&self) -> f64 {
        BAR_GAP + BAR_W + 3.0 + text_width("0.000", TEXT_PT) + 4.0 + AXIS_PT * 1.4
    }
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
    let bar = ColourBar {
        lo,
        hi,
        label: "Mean AUROC".into(),
    };
    let colour = |v: f64| v.is_finite().then(|| bar.colour(v));
    let fig = Grid {
        name: NAME,
        title: format!(
            "Mean AUROC by outlier and imputation method, {}",
            methods::label(factor_style(env.config, "classifier"), &clf)
        ),
        rows: rows.iter().map(|r| methods::label(so, r)).collect(),
        cols: cols.iter().map(|c| methods::label(si, c)).collect(),
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
                            format!("{v:.3}\nn={}†", n.len())
                        }
                        Some(n) if v.is_finite() => format!("{v:.3}\nn={}", n.len()),
                        _ => "–".into(),
                    })
                    .collect()
            })
            .collect(),
        y_desc: "Outlier method".into(),
        x_desc:
            "Imputation method (cell: mean AUROC over n configurations; † fewer than the others)"
                .into(),
        bar: Some(bar),
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

/// Margin around the figure, in points.
const MARGIN: f64 = 6.0;
/// Width of the colour bar and its gap from the grid, in points.
const BAR_W: f64 = 10.0;
const BAR_GAP: f64 = 10.0;

/// Where a grid's parts go at a width, in points.
struct Layout {
    title: f64,
    left: f64,
    col_w: f64,
    row_h: f64,
    col_labels: Vec<Vec<String>>,
    col_label_h: f64,
    x_desc: Vec<String>,
}

impl Grid {
    fn layout(&self, width: f64) -> Layout {
        let left = MARGIN + AXIS_PT * 1.5 + label_width(&self.rows, TEXT_PT);
        let right = MARGIN + self.bar.as_ref().map_or(0.0, ColourBar::width);
        let grid_w = (width - left - right).max(1.0);
        let col_w = grid_w / self.cols.len().max(1) as f64;
        let lines = self
            .text
            .iter()
            .flatten()
            .map(|t| t.lines().count())
            .max()
            .unwrap_or(1);
        let col_labels: Vec<Vec<String>> = self
            .cols
            .iter()
            .map(|c| wrap(c, col_w - 4.0, TEXT_PT))
            .collect();
        let label_lines = col_labels.iter().map(Vec::len).max().unwrap_or(1);
        Layout {
            title: title_height(&self.title, width),
            left,
            col_w,
            row_h: (lines as f64 * TEXT_PT * 1.3 + 8.0).max(18.0),
            col_label_h: label_lines as f64 * TEXT_PT * 1.25 + 6.0,
            col_labels,
            x_desc: wrap(&self.x_desc, grid_w, AXIS_PT),
        }
    }
}

impl Figure for Grid {
    fn name(&self) -> &str {
        self.name
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        let l = self.layout(width);
        l.title
            + l.row_h * self.rows.len() as f64
            + l.col_label_h
            + l.x_desc.len() as f64 * AXIS_PT * 1.3
            + 2.0 * MARGIN
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let l = self.layout(f64::from(root.dim_in_pixel().0) / s);
        let body = draw_title(root, &self.title, s)?;
        let at = |x: f64, y: f64| ((x * s) as i32, (y * s) as i32);
        let grid_h = l.row_h * self.rows.len() as f64;
        let grid_w = l.col_w * self.cols.len() as f64;
        let centred = |pt: f64| font(pt, s).pos(Pos::new(HPos::Center, VPos::Center));
        for (i, (fills, texts)) in self.fill.iter().zip(&self.text).enumerate() {
            let y = l.row_h * i as f64;
            body.draw(&Text::new(
                self.rows[i].clone(),
                at(l.left - 5.0, y + l.row_h / 2.0),
                font(TEXT_PT, s).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            for (j, (fill, text)) in fills.iter().zip(texts).enumerate() {
                let x = l.left + l.col_w * j as f64;
                let fill = fill.unwrap_or(RGBColor(220, 220, 220));
                body.draw(&Rectangle::new(
                    [at(x, y), at(x + l.col_w, y + l.row_h)],
                    fill.filled(),
                ))?;
                let luminance = 0.299 * f64::from(fill.0)
                    + 0.587 * f64::from(fill.1)
                    + 0.114 * f64::from(fill.2);
                let ink = if luminance < 128.0 { WHITE } else { BLACK };
                let lines: Vec<&str> = text.lines().collect();
                let first = y + l.row_h / 2.0 - (lines.len() as f64 - 1.0) * TEXT_PT * 0.65;
                for (k, line) in lines.iter().enumerate() {
                    body.draw(&Text::new(
                        line.to_string(),
                        at(x + l.col_w / 2.0, first + k as f64 * TEXT_PT * 1.3),
                        centred(TEXT_PT).color(&ink),
                    ))?;
                }
            }
        }
        for (j, lines) in l.col_labels.iter().enumerate() {
            let x = l.left + l.col_w * (j as f64 + 0.5);
            for (k, line) in lines.iter().enumerate() {
                body.draw(&Text::new(
                    line.clone(),
                    at(x, grid_h + 4.0 + k as f64 * TEXT_PT * 1.25),
                    font(TEXT_PT, s).pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
        }
        for (k, line) in l.x_desc.iter().enumerate() {
            body.draw(&Text::new(
                line.clone(),
                at(
                    l.left + grid_w / 2.0,
                    grid_h + l.col_label_h + k as f64 * AXIS_PT * 1.3,
                ),
                font(AXIS_PT, s).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        body.draw(&Text::new(
            self.y_desc.clone(),
            at(MARGIN + AXIS_PT * 0.6, grid_h / 2.0),
            centred(AXIS_PT).transform(FontTransform::Rotate270),
        ))?;
        if let Some(bar) = &self.bar {
            draw_bar(&body, bar, l.left + grid_w + BAR_GAP, grid_h, s)?;
        }
        Ok(())
    }
}

/// Draws `bar` at `x` points from the left, `height` points tall from the top of `area`.
fn draw_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bar: &ColourBar,
    x: f64,
    height: f64,
    s: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let at = |x: f64, y: f64| ((x * s) as i32, (y * s) as i32);
    const STEPS: usize = 64;
    let step = height / STEPS as f64;
    for i in 0..STEPS {
        let t = (i as f64 + 0.5) / STEPS as f64;
        let colour = bar.colour(bar.lo + (bar.hi - bar.lo) * t);
        let top = height - step * (i + 1) as f64;
        area.draw(&Rectangle::new(
            [at(x, top), at(x + BAR_W, top + step + 0.5)],
            colour.filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [at(x, 0.0), at(x + BAR_W, height)],
        BLACK.mix(0.6).stroke_width(px(0.5, s)),
    ))?;
    let tick_x = x + BAR_W;
    for v in bar.ticks(height) {
        let y = if bar.hi > bar.lo {
            height * (1.0 - (v - bar.lo) / (bar.hi - bar.lo))
        } else {
            height / 2.0
        };
        area.draw(&PathElement::new(
            vec![at(tick_x, y), at(tick_x + 2.0, y)],
            BLACK.stroke_width(px(0.5, s)),
        ))?;
        area.draw(&Text::new(
            format!("{v:.3}"),
            at(tick_x + 3.0, y),
            font(TEXT_PT, s).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    let label_x = tick_x + 3.0 + text_width("0.000", TEXT_PT) + 4.0 + AXIS_PT * 0.6;
    area.draw(&Text::new(
        bar.label.clone(),
        at(label_x, height / 2.0),
        font(AXIS_PT, s)
            .pos(Pos::new(HPos::Center, VPos::Center))
            .transform(FontTransform::Rotate270),
    ))?;
    Ok(())
}
