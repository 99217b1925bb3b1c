//! Decision curves (with treat-all and treat-none) of the top-k configurations by AUROC, read
//! from `dca_curves`, and the line chart and legend the curve figures share.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::{json, Value};

use super::{factor_style, uses_oracle, Env};
use crate::analyze::frames::{floats, ints};
use crate::analyze::render::{font, px, Figure};
use crate::analyze::sidecar::num;
use crate::analyze::stats::{ranked, Config};
use crate::analyze::style;

/// The decision-curve figure's name.
pub const DCA: &str = "decision_curves";

/// Colours of reference lines.
const GREYS: [RGBColor; 2] = [RGBColor(90, 90, 90), RGBColor(160, 160, 160)];

/// One labelled line.
pub struct Curve {
    /// Legend text.
    pub label: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart: coloured curves over grey reference lines, with a legend.
pub struct Lines {
    /// File stem (when drawn as a figure of its own).
    pub name: &'static str,
    /// Caption.
    pub title: String,
    /// x-axis description.
    pub x_desc: &'static str,
    /// y-axis description.
    pub y_desc: &'static str,
    /// The curves, coloured in order.
    pub curves: Vec<Curve>,
    /// Reference lines drawn in grey.
    pub references: Vec<Curve>,
    /// Whether each point gets a marker (sparse curves) or not (dense ones).
    pub markers: bool,
    /// x-axis range.
    pub x_range: (f64, f64),
    /// y-axis range.
    pub y_range: (f64, f64),
    /// Small labels along the top of the plot at these x positions.
    pub annotations: Vec<(f64, String)>,
}

/// The top-k configurations by AUROC that use no oracle method, and their legend labels.
pub fn top(env: &Env) -> Result<Vec<(Config, String)>> {
    let m = env.config;
    let configs: Vec<Config> = ranked(&env.ckpt.essential)?
        .into_iter()
        .filter(|c| !uses_oracle(m, &c.levels))
        .collect();
    if configs.is_empty() {
        bail!("no configuration without an oracle method has an AUROC");
    }
    Ok(configs
        .into_iter()
        .take(env.config.analysis.top_k.max(1))
        .enumerate()
        .map(|(i, c)| {
            let label = format!(
                "#{} {} + {}, {}",
                i + 1,
                style::label(factor_style(m, "outlier_method"), &c.levels[0]),
                style::label(factor_style(m, "imputation_method"), &c.levels[1]),
                style::label(factor_style(m, "classifier"), &c.levels[2]),
            );
            (c, label)
        })
        .collect())
}

/// Rows of `df` for `config_id` as (x, y) columns, keeping rows where both are present.
fn series(df: &polars::prelude::DataFrame, id: i32, x: &str, y: &str) -> Result<Vec<(f64, f64)>> {
    let (ids, xs, ys) = (ints(df, "config_id")?, floats(df, x)?, floats(df, y)?);
    Ok((0..ids.len())
        .filter(|&i| ids[i] == Some(id))
        .filter_map(|i| Some((xs[i]?, ys[i]?)))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect())
}

fn curves_json(
    curves: &[(Config, String)],
    points: &[Vec<(f64, f64)>],
    x: &str,
    y: &str,
) -> Vec<Value> {
    curves
        .iter()
        .zip(points)
        .map(|((c, label), pts)| {
            json!({
                "config_id": c.id, "label": label, "auroc_pbar": num(c.auroc),
                x: pts.iter().map(|p| num(p.0)).collect::<Vec<_>>(),
                y: pts.iter().map(|p| num(p.1)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// Draws the decision curves of the top-k configurations with treat-all and treat-none, and
/// their sidecar.
pub fn dca(env: &Env) -> Result<Vec<PathBuf>> {
    let top = top(env)?;
    let df = &env.ckpt.dca;
    let points: Vec<Vec<(f64, f64)>> = top
        .iter()
        .map(|(c, _)| series(df, c.id, "threshold", "net_benefit_model"))
        .collect::<Result<_>>()?;
    let all = series(df, top[0].0.id, "threshold", "net_benefit_all")?;
    let none = series(df, top[0].0.id, "threshold", "net_benefit_none")?;
    let best = points
        .iter()
        .flatten()
        .chain(&all)
        .map(|p| p.1)
        .fold(0.0f64, f64::max);
    let y_min = -0.05 * best.max(0.1);
    let x_max = all.iter().map(|p| p.0).fold(0.0f64, f64::max).max(0.01);
    let data = json!({
        "curves": curves_json(&top, &points, "threshold", "net_benefit_model"),
        "treat_all": { "threshold": all.iter().map(|p| num(p.0)).collect::<Vec<_>>(), "net_benefit": all.iter().map(|p| num(p.1)).collect::<Vec<_>>() },
        "treat_none": { "threshold": none.iter().map(|p| num(p.0)).collect::<Vec<_>>(), "net_benefit": none.iter().map(|p| num(p.1)).collect::<Vec<_>>() },
        "y_axis_lower_limit": num(y_min),
    });
    let clip = |pts: Vec<(f64, f64)>| pts.into_iter().filter(|p| p.1 >= y_min).collect();
    let fig = Lines {
        name: DCA,
        title: "Decision curves of the top configurations".into(),
        x_desc: "Risk threshold",
        y_desc: "Net benefit",
        curves: top
            .into_iter()
            .zip(points)
            .map(|((_, label), points)| Curve {
                label,
                points: clip(points),
            })
            .collect(),
        references: vec![
            Curve {
                label: "Treat all".into(),
                points: clip(all),
            },
            Curve {
                label: "Treat none".into(),
                points: none,
            },
        ],
        markers: false,
        x_range: (0.0, x_max),
        y_range: (y_min, best * 1.1 + 0.01),
        annotations: Vec::new(),
    };
    env.emit(&fig, data)
}

impl Figure for Lines {
    fn name(&self) -> &str {
        self.name
    }

    fn size(&self) -> (f64, f64) {
        (6.0 + legend_width(&self.legend_labels()) / 72.0, 4.6)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let labels = self.legend_labels();
        let (chart, legend) =
            root.split_horizontally(root.dim_in_pixel().0 - px(legend_width(&labels), s));
        self.draw_on(&chart, 11.0, s)?;
        legend_column(&legend, &self.legend_items(), s)
    }
}

impl Lines {
    fn legend_labels(&self) -> Vec<String> {
        self.legend_items().into_iter().map(|(l, _)| l).collect()
    }

    /// Legend entries: the curves in their colours, then the reference lines in grey.
    pub fn legend_items(&self) -> Vec<(String, RGBColor)> {
        let curves = self
            .curves
            .iter()
            .zip(style::PALETTE.iter().cycle())
            .map(|(c, k)| (c.label.clone(), *k));
        let refs = self
            .references
            .iter()
            .zip(GREYS.iter().cycle())
            .map(|(c, k)| (c.label.clone(), *k));
        curves.chain(refs).collect()
    }
    /// Draws the chart on `area` with a caption of `title_pt` points, at scale `s`.
    pub fn draw_on<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title_pt: f64,
        s: f64,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, font(title_pt, s))
            .margin(px(10.0, s))
            .x_label_area_size(px(34.0, s))
            .y_label_area_size(px(46.0, s))
            .build_cartesian_2d(
                self.x_range.0..self.x_range.1,
                self.y_range.0..self.y_range.1,
            )?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|x| format!("{x:.2}"))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style(font(9.0, s))
            .axis_desc_style(font(9.5, s))
            .draw()?;
        for (r, g) in self.references.iter().zip(GREYS.iter().cycle()) {
            let style = g.stroke_width(px(1.0, s));
            chart.draw_series(LineSeries::new(r.points.clone(), style))?;
        }
        for (c, colour) in self.curves.iter().zip(style::PALETTE.iter().cycle()) {
            let style = colour.stroke_width(px(1.4, s));
            chart.draw_series(LineSeries::new(c.points.clone(), style).point_size(px(1.6, s)))?;
        }
        let top = self.y_range.1;
        let ink = BLACK.mix(0.7);
        let label = font(7.0, s)
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (x, text) in &self.annotations {
            chart.draw_series(std::iter::once(Text::new(
                text.clone(),
                (*x, top),
                label.clone(),
            )))?;
        }
        Ok(())
    }
}

/// Legend text size in points.
const LEGEND_PT: f64 = 8.0;

/// The width in points of a legend column holding `labels`.
pub fn legend_width(labels: &[String]) -> f64 {
    labels
        .iter()
        .map(|l| super::text_width(l, LEGEND_PT))
        .fold(0.0, f64::max)
        * 0.85
        + 34.0
}

/// A legend as a column of entries (a short line in the item's colour, then its label)
/// beside the chart, so it never covers data.
pub fn legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor)],
    s: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let line = px(14.0, s) as i32;
    let step = px(LEGEND_PT * 1.6, s) as i32;
    let top = px(40.0, s) as i32;
    for (i, (label, colour)) in items.iter().enumerate() {
        let y = top + step * i as i32;
        area.draw(&PathElement::new(
            vec![(0, y), (line, y)],
            colour.stroke_width(px(1.6, s)),
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (line + px(4.0, s) as i32, y),
            font(LEGEND_PT, s).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}
