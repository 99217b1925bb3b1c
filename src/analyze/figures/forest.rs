//! Forest plots per factor: for each method, its estimated marginal mean AUROC with its 95 %
//! CI (see [`crate::analyze::stats::by_factor`]), best first. Oracle methods and the configured
//! reference AUROC are drawn as labelled reference lines, never as ranked rows; a method with
//! fewer configurations than the others is drawn hollow with its count.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::parts::{category_legend, extent, methods_json, references, row_colours, row_labels};
use super::{label_width, legend, row_label, Env};
use crate::analyze::methods::factor_style;
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::stats::{by_factor, Summary};
use crate::analyze::style::{AXIS_PT, TEXT_PT, TITLE_PT};

/// The figure name of `factor`'s forest plot.
pub fn name(factor: &str) -> String {
    format!("forest_{}", factor.trim_end_matches("_method"))
}

struct Forest {
    name: String,
    title: String,
    x_desc: String,
    rows: Vec<Summary>,
    labels: Vec<String>,
    colours: Vec<RGBColor>,
    references: Vec<(String, f64)>,
    legend: Vec<(String, RGBColor)>,
}

/// Draws the forest plot of `factor` and its sidecar.
pub fn generate(env: &Env, factor: &str, title: &str) -> Result<Vec<PathBuf>> {
    let cmp = by_factor(&env.ckpt.essential, env.config, factor)?;
    let rows: Vec<Summary> = cmp.contenders().cloned().collect();
    if rows.is_empty() {
        bail!("no configuration of a non-oracle method has an AUROC");
    }
    let st = factor_style(env.config, factor);
    let colours = row_colours(env, st, &rows);
    let fig = Forest {
        name: name(factor),
        title: format!("{title}: AUROC by method"),
        x_desc: format!("{}, 95% CI", cmp.basis.axis()),
        labels: row_labels(st, &rows),
        legend: category_legend(st, &rows, &colours),
        colours,
        rows,
        references: references(env, st, &cmp),
    };
    let data = json!({
        "factor": factor,
        "basis": cmp.basis.key(),
        "estimate": cmp.basis.describe(),
        "reference_auroc": env.config.analysis.reference_auroc,
        "methods": methods_json(st, &cmp.rows),
    });
    env.emit(&fig, data)
}

impl Figure for Forest {
    fn name(&self) -> &str {
        &self.name
    }

    fn span(&self) -> Span {
        Span::Single
    }

    fn height(&self, width: f64) -> f64 {
        Panel::height(self.rows.len()) + legend::height(&self.legend, width)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let panel = Panel {
            title: &self.title,
            rows: &self.rows,
            labels: &self.labels,
            colours: &self.colours,
            references: &self.references,
            x_desc: &self.x_desc,
            x_range: None,
        };
        let (chart, key) = root.split_vertically(px(Panel::height(self.rows.len()), s));
        panel.draw(&chart, s)?;
        legend::draw(&key, &self.legend, s)
    }
}

/// Margin around a panel, in points; more on the right, where the last tick label reaches.
const MARGIN: f64 = 6.0;
const MARGIN_RIGHT: f64 = 12.0;

/// One panel of per-method estimates with their CIs, best at the top.
pub struct Panel<'a> {
    /// Caption above the panel.
    pub title: &'a str,
    /// The methods, best first.
    pub rows: &'a [Summary],
    /// Axis label per row.
    pub labels: &'a [String],
    /// Colour per row.
    pub colours: &'a [RGBColor],
    /// Labelled vertical reference lines.
    pub references: &'a [(String, f64)],
    /// The x-axis description.
    pub x_desc: &'a str,
    /// A shared x range (panels side by side); `None` fits the panel's own values.
    pub x_range: Option<(f64, f64)>,
}

impl Panel<'_> {
    /// Height in points of a panel of `rows` methods.
    pub fn height(rows: usize) -> f64 {
        62.0 + 13.0 * (rows + 1) as f64
    }

    /// Width in points of everything but the plot: the margins and the method labels.
    pub fn frame_width(labels: &[String]) -> f64 {
        MARGIN + MARGIN_RIGHT + label_width(labels, TEXT_PT)
    }

    /// Draws the panel on `area` at scale `s`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let n = self.rows.len() as i32;
        let (lo, hi) = self
            .x_range
            .unwrap_or_else(|| extent(self.rows, self.references));
        let pad = ((hi - lo) * 0.08).max(0.005);
        let labels = self.labels;
        let plot = f64::from(area.dim_in_pixel().0) / s - Self::frame_width(labels);
        let ticks = ((plot / 40.0) as usize).clamp(2, 5);
        let mut chart = ChartBuilder::on(area)
            .caption(self.title, font(TITLE_PT, s))
            .margin(px(MARGIN, s))
            .margin_right(px(MARGIN_RIGHT, s))
            .x_label_area_size(px(30.0, s))
            .y_label_area_size(px(label_width(labels, TEXT_PT), s))
            .build_cartesian_2d((lo - pad)..(hi + pad), -1i32..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels((n + 2) as usize)
            .y_label_formatter(&|y| row_label(labels, *y))
            .x_labels(ticks)
            .x_label_formatter(&|x| format!("{x:.3}"))
            .x_desc(self.x_desc)
            .label_style(font(TEXT_PT, s))
            .axis_desc_style(font(AXIS_PT, s))
            .draw()?;
        for (label, r) in self.references {
            chart.draw_series(DashedLineSeries::new(
                vec![(*r, -1), (*r, n)],
                px(4.0, s),
                px(3.0, s),
                BLACK.mix(0.6).stroke_width(px(1.0, s)),
            ))?;
            let ink = BLACK.mix(0.8);
            let text = Text::new(
                label.clone(),
                (px(3.0, s) as i32, 0),
                font(TEXT_PT, s).color(&ink),
            );
            chart.draw_series(std::iter::once(EmptyElement::at((*r, n)) + text))?;
        }
        for (i, (r, c)) in self.rows.iter().zip(self.colours).enumerate() {
            let y = n - 1 - i as i32;
            if let (Some(l), Some(u)) = (r.ci_lower, r.ci_upper) {
                chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                    y,
                    l,
                    r.estimate,
                    u,
                    c.stroke_width(px(1.2, s)),
                    px(5.0, s),
                )))?;
            }
            let marker = if r.fewer {
                c.stroke_width(px(1.2, s))
            } else {
                c.filled()
            };
            chart.draw_series(std::iter::once(Circle::new(
                (r.estimate, y),
                px(2.5, s),
                marker,
            )))?;
        }
        Ok(())
    }
}
