//! Calibration curves and decision curves (with treat-all and treat-none) of the top-k
//! configurations by AUROC, read from `calibration_curves` and `dca_curves`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::{json, Value};

use super::{draw_title, factor_style, legend, title_height, Env};
use crate::analyze::frames::{floats, ints};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::stats::{ranked, Config};
use crate::analyze::style::{self, AXIS_PT, TEXT_PT};

/// The calibration figure's name.
pub const CALIBRATION: &str = "calibration_curves";
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
}

/// The top-k configurations by AUROC and their legend labels.
pub fn top(env: &Env) -> Result<Vec<(Config, String)>> {
    let configs = ranked(&env.ckpt.essential)?;
    if configs.is_empty() {
        bail!("no configuration has an AUROC");
    }
    let m = env.config;
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
                "config_id": c.id, "label": label, "auroc": num(c.auroc),
                x: pts.iter().map(|p| num(p.0)).collect::<Vec<_>>(),
                y: pts.iter().map(|p| num(p.1)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// Draws the calibration curves of the top-k configurations and their sidecar.
pub fn calibration(env: &Env) -> Result<Vec<PathBuf>> {
    let top = top(env)?;
    let df = &env.ckpt.calibration;
    let points: Vec<Vec<(f64, f64)>> = top
        .iter()
        .map(|(c, _)| series(df, c.id, "predicted_mean", "observed_proportion"))
        .collect::<Result<_>>()?;
    let data =
        json!({ "curves": curves_json(&top, &points, "predicted_mean", "observed_proportion") });
    let fig = Lines {
        name: CALIBRATION,
        title: "Calibration of the top configurations".into(),
        x_desc: "Mean predicted probability (per bin)",
        y_desc: "Observed proportion with outcome",
        curves: top
            .into_iter()
            .zip(points)
            .map(|((_, label), points)| Curve { label, points })
            .collect(),
        references: vec![Curve {
            label: "Ideal".into(),
            points: vec![(0.0, 0.0), (1.0, 1.0)],
        }],
        markers: true,
        x_range: (0.0, 1.0),
        y_range: (0.0, 1.0),
    };
    env.emit(&fig, data)
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
    };
    env.emit(&fig, data)
}

impl Figure for Lines {
    fn name(&self) -> &str {
        self.name
    }

    fn span(&self) -> Span {
        Span::Single
    }

    fn height(&self, width: f64) -> f64 {
        title_height(&self.title, width)
            + Self::chart_height(width)
            + legend::height(&self.legend_items(), width)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let body = draw_title(root, &self.title, s)?;
        let width = f64::from(root.dim_in_pixel().0) / s;
        let (chart, key) = body.split_vertically(px(Self::chart_height(width), s));
        self.draw_on(&chart, None, s)?;
        legend::draw(&key, &self.legend_items(), s)
    }
}

impl Lines {
    /// Height in points of the chart without title and legend when `width` points wide: a
    /// nearly square plot area.
    pub fn chart_height(width: f64) -> f64 {
        width * 0.82
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

    /// Draws the chart on `area` at scale `s`, with the title as a caption of `caption_pt`
    /// points when given (a panel of a larger figure).
    pub fn draw_on<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption_pt: Option<f64>,
        s: f64,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let mut builder = ChartBuilder::on(area);
        if let Some(pt) = caption_pt {
            builder.caption(&self.title, font(pt, s));
        }
        let mut chart = builder
            .margin(px(6.0, s))
            .margin_right(px(10.0, s))
            .x_label_area_size(px(30.0, s))
            .y_label_area_size(px(42.0, s))
            .build_cartesian_2d(
                self.x_range.0..self.x_range.1,
                self.y_range.0..self.y_range.1,
            )?;
        let decimals = |(lo, hi): (f64, f64)| if hi - lo >= 0.5 { 1 } else { 2 };
        let (dx, dy) = (decimals(self.x_range), decimals(self.y_range));
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|x| format!("{x:.dx$}"))
            .y_label_formatter(&|y| format!("{y:.dy$}"))
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .label_style(font(TEXT_PT, s))
            .axis_desc_style(font(AXIS_PT, s))
            .draw()?;
        for (r, g) in self.references.iter().zip(GREYS.iter().cycle()) {
            let style = g.stroke_width(px(1.0, s));
            chart.draw_series(LineSeries::new(r.points.clone(), style))?;
        }
        for (c, colour) in self.curves.iter().zip(style::PALETTE.iter().cycle()) {
            let style = colour.stroke_width(px(1.4, s));
            chart.draw_series(LineSeries::new(c.points.clone(), style).point_size(px(1.6, s)))?;
        }
        Ok(())
    }
}
