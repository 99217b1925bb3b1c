//! Decision curves (with treat-all and treat-none and a bootstrap band) of the top-k
//! configurations by the AUROC of p̄, read from `dca_curves`, and the line chart the curve
//! figures share.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;
use serde_json::{json, Value};

use super::panels::Panels;
use super::parts::band_area;
use super::Env;
use crate::analyze::bands::{self, BandPoint};
use crate::analyze::frames::{floats, ints};
use crate::analyze::methods::{self, factor_style, uses_oracle};
use crate::analyze::render::{font, px};
use crate::analyze::sidecar::num;
use crate::analyze::stats::{ranked, Config};
use crate::analyze::style::{self, AXIS_PT, TEXT_PT};

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
    /// A band drawn under the curve in its colour; empty for none.
    pub band: Vec<BandPoint>,
}

/// A line chart: coloured curves over grey reference lines, with a legend.
pub struct Lines {
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
                methods::label(factor_style(m, "outlier_method"), &c.levels[0]),
                methods::label(factor_style(m, "imputation_method"), &c.levels[1]),
                methods::label(factor_style(m, "classifier"), &c.levels[2]),
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

/// Draws the decision curves of the top-k configurations, one panel each on one scale, each
/// with its pointwise 95 % subject-bootstrap band ([`bands::net_benefit`]) and treat-all and
/// treat-none, and their sidecar.
pub fn dca(env: &Env) -> Result<Vec<PathBuf>> {
    let top = top(env)?;
    let df = &env.ckpt.dca;
    let points: Vec<Vec<(f64, f64)>> = top
        .iter()
        .map(|(c, _)| series(df, c.id, "threshold", "net_benefit_model"))
        .collect::<Result<_>>()?;
    // Each panel's band is its own bootstrap: they are computed in parallel, in order.
    let bands: Vec<Vec<BandPoint>> = top
        .par_iter()
        .map(|(c, _)| {
            let (y, p) = bands::outcomes(env.ckpt, c.id)?;
            bands::net_benefit(&y, &p, env.ckpt.resampling)
        })
        .collect::<Result<_>>()?;
    let all = series(df, top[0].0.id, "threshold", "net_benefit_all")?;
    let none = series(df, top[0].0.id, "threshold", "net_benefit_none")?;
    let best = points
        .iter()
        .flatten()
        .chain(&all)
        .map(|p| p.1)
        .fold(0.0f64, f64::max);
    let best = bands.iter().flatten().map(|b| b.upper).fold(best, f64::max);
    let y_min = -0.05 * best.max(0.1);
    let x_max = all.iter().map(|p| p.0).fold(0.0f64, f64::max).max(0.01);
    let mut curves = curves_json(&top, &points, "threshold", "net_benefit_model");
    for (curve, band) in curves.iter_mut().zip(&bands) {
        curve["band_threshold"] = band.iter().map(|b| num(b.x)).collect();
        curve["band_lower"] = band.iter().map(|b| num(b.lower)).collect();
        curve["band_upper"] = band.iter().map(|b| num(b.upper)).collect();
    }
    let data = json!({
        "curves": curves,
        "band": format!("pointwise 95% percentile band of the net benefit of p̄ over {} subject-level bootstrap resamples (seed {})", env.ckpt.resampling.resamples, env.ckpt.resampling.seed),
        "treat_all": { "threshold": all.iter().map(|p| num(p.0)).collect::<Vec<_>>(), "net_benefit": all.iter().map(|p| num(p.1)).collect::<Vec<_>>() },
        "treat_none": { "threshold": none.iter().map(|p| num(p.0)).collect::<Vec<_>>(), "net_benefit": none.iter().map(|p| num(p.1)).collect::<Vec<_>>() },
        "y_axis_lower_limit": num(y_min),
    });
    let clip = |pts: &[(f64, f64)]| pts.iter().copied().filter(|p| p.1 >= y_min).collect();
    let panels = top
        .into_iter()
        .zip(points)
        .zip(bands)
        .map(|(((_, label), points), band)| Lines {
            title: label,
            x_desc: "Risk threshold",
            y_desc: "Net benefit",
            curves: vec![Curve {
                label: "Net benefit of the mean prediction, 95% bootstrap band".into(),
                points: clip(&points),
                band: band
                    .into_iter()
                    .map(|b| BandPoint {
                        lower: b.lower.max(y_min),
                        upper: b.upper.max(y_min),
                        ..b
                    })
                    .collect(),
            }],
            references: vec![
                Curve {
                    label: "Treat all".into(),
                    points: clip(&all),
                    band: Vec::new(),
                },
                Curve {
                    label: "Treat none".into(),
                    points: none.clone(),
                    band: Vec::new(),
                },
            ],
            markers: false,
            x_range: (0.0, x_max),
            y_range: (y_min, best * 1.05 + 0.01),
            annotations: Vec::new(),
        })
        .collect();
    let fig = Panels {
        name: DCA,
        panels,
        columns: 3,
    };
    env.emit(&fig, data)
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
            if !c.band.is_empty() {
                chart.draw_series(std::iter::once(band_area(&c.band, colour.mix(0.12))))?;
            }
        }
        for (c, colour) in self.curves.iter().zip(style::PALETTE.iter().cycle()) {
            let style = colour.stroke_width(px(1.4, s));
            let markers = if self.markers { px(1.6, s) } else { 0 };
            chart.draw_series(LineSeries::new(c.points.clone(), style).point_size(markers))?;
        }
        let top = self.y_range.1;
        let ink = BLACK.mix(0.7);
        let label = font(TEXT_PT, s)
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
