//! Smoothed calibration curves of the top-k configurations, one panel each: the LOWESS of the
//! outcome on the mean prediction p̄ (as `rms::val.prob`) with its pointwise 95 % bootstrap
//! band ([`crate::analyze::bands`]), the ideal diagonal, and a rug of the predictions
//! (controls below, cases above), so a reader sees how much of the curve the data support.

use std::path::PathBuf;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use rayon::prelude::*;
use serde_json::json;

use super::curves::top;
use super::parts::band_area;
use super::Env;
use crate::analyze::bands::{self, BandPoint};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::style::{self, AXIS_PT, TEXT_PT};

/// The figure's name.
pub const NAME: &str = "calibration_curves";

/// Panels per row.
const COLUMNS: usize = 3;

/// One configuration's smoothed calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct Smooth {
    /// p̄ of each subject, ascending.
    pub predicted: Vec<f64>,
    /// The outcome of each subject, in the same order.
    pub observed: Vec<f64>,
    /// The LOWESS at each `predicted`.
    pub fitted: Vec<f64>,
}

impl Smooth {
    /// The smooth of outcomes `y` (0/1) on predictions `p`, sorted by prediction then outcome.
    pub fn new(p: &[f64], y: &[f64]) -> Self {
        let (predicted, observed, fitted) = bands::smooth(p, y);
        Self {
            predicted,
            observed,
            fitted,
        }
    }
}

struct Panel {
    title: String,
    smooth: Smooth,
    band: Vec<BandPoint>,
    n: usize,
    events: usize,
}

struct Calibration {
    panels: Vec<Panel>,
}

/// Draws the calibration panels of the top-k configurations and their sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let top = top(env)?;
    // Each panel's band is its own bootstrap: the panels are computed in parallel, in order.
    let panels: Vec<Panel> = top
        .par_iter()
        .map(|(c, label)| {
            let (y, p) = bands::outcomes(env.ckpt, c.id)?;
            let outcome: Vec<f64> = y.iter().map(|&v| v as f64).collect();
            Ok(Panel {
                title: label.clone(),
                smooth: Smooth::new(&p, &outcome),
                band: bands::calibration(&y, &p, env.ckpt.resampling)?,
                n: y.len(),
                events: y.iter().filter(|&&v| v == 1).count(),
            })
        })
        .collect::<Result<_>>()?;
    let data = json!({
        "smoother": format!("LOWESS of the outcome on the mean prediction, span {:.4}, no robustness iterations", bands::SPAN),
        "band": format!("pointwise 95% percentile band of the smooths of {} subject-level bootstrap resamples (seed {}), each interpolated at {} points evenly spaced over the observed predictions; a point where fewer than half the resamples reach is left out", env.ckpt.resampling.resamples, env.ckpt.resampling.seed, bands::CALIBRATION_GRID),
        "panels": top.iter().zip(&panels).map(|((c, _), p)| json!({
            "config_id": c.id, "label": p.title, "n": p.n, "events": p.events,
            "predicted": p.smooth.predicted.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "observed": p.smooth.observed.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "fitted": p.smooth.fitted.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "band_predicted": p.band.iter().map(|b| num(b.x)).collect::<Vec<_>>(),
            "band_lower": p.band.iter().map(|b| num(b.lower)).collect::<Vec<_>>(),
            "band_upper": p.band.iter().map(|b| num(b.upper)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    env.emit(&Calibration { panels }, data)
}

impl Figure for Calibration {
    fn name(&self) -> &str {
        NAME
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        let rows = self.panels.len().div_ceil(COLUMNS).max(1);
        // Square plots below a caption of one line.
        rows as f64 * (width / COLUMNS as f64 + 2.0 * TEXT_PT)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let rows = self.panels.len().div_ceil(COLUMNS).max(1);
        let areas = root.split_evenly((rows, COLUMNS));
        for (area, panel) in areas.iter().zip(&self.panels) {
            panel.draw(area, s)?;
        }
        Ok(())
    }
}

impl Panel {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, font(AXIS_PT, s))
            .margin(px(6.0, s))
            .x_label_area_size(px(26.0, s))
            .y_label_area_size(px(30.0, s))
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_labels(3)
            .y_labels(3)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .x_desc("Predicted risk")
            .y_desc("Observed")
            .label_style(font(TEXT_PT, s))
            .axis_desc_style(font(AXIS_PT, s))
            .draw()?;
        let grey = RGBColor(150, 150, 150);
        chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            grey.stroke_width(px(0.8, s)),
        ))?;
        if !self.band.is_empty() {
            chart.draw_series(std::iter::once(band_area(
                &self.band,
                style::PALETTE[0].mix(0.2),
            )))?;
        }
        let tick = 0.035;
        for (p, y) in self.smooth.predicted.iter().zip(&self.smooth.observed) {
            let (from, to) = if *y == 1.0 {
                (1.0 - tick, 1.0)
            } else {
                (0.0, tick)
            };
            chart.draw_series(LineSeries::new(
                [(*p, from), (*p, to)],
                BLACK.mix(0.5).stroke_width(px(0.5, s)),
            ))?;
        }
        let line: Vec<(f64, f64)> = self
            .smooth
            .predicted
            .iter()
            .copied()
            .zip(self.smooth.fitted.iter().map(|v| v.clamp(0.0, 1.0)))
            .collect();
        chart.draw_series(LineSeries::new(
            line,
            style::PALETTE[0].stroke_width(px(1.4, s)),
        ))?;
        let note = format!("n = {}, events = {}", self.n, self.events);
        chart.draw_series(std::iter::once(Text::new(
            note,
            (0.04, 0.9),
            font(TEXT_PT, s),
        )))?;
        Ok(())
    }
}
