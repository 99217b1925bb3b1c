//! Smoothed calibration curves of the top-k configurations, one panel each: the LOWESS of the
//! outcome on the mean prediction p̄ (as `rms::val.prob`), the ideal diagonal, and a rug of the
//! predictions (controls below, cases above), so a reader sees how much of the curve the data
//! support.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::curves::top;
use super::Env;
use crate::analyze::frames::{floats, ints};
use crate::analyze::render::{font, px, Figure};
use crate::analyze::sidecar::num;
use crate::analyze::style;
use crate::metrics::lowess;

/// The figure's name.
pub const NAME: &str = "calibration_curves";

/// The LOWESS span: the fraction of subjects in each local fit (R's and rms's default).
pub const SPAN: f64 = 2.0 / 3.0;

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
        let mut pairs: Vec<(f64, f64)> = p.iter().copied().zip(y.iter().copied()).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let (predicted, observed): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let fitted = lowess(&predicted, &observed, SPAN);
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
    n: usize,
    events: usize,
}

struct Calibration {
    panels: Vec<Panel>,
}

/// Draws the calibration panels of the top-k configurations and their sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let top = top(env)?;
    let df = &env.ckpt.predictions;
    let (ids, y_true, y_prob) = (
        ints(df, "config_id")?,
        ints(df, "y_true")?,
        floats(df, "y_prob")?,
    );
    let mut panels = Vec::new();
    for (c, label) in &top {
        let rows: Vec<usize> = (0..ids.len()).filter(|&i| ids[i] == Some(c.id)).collect();
        let p: Vec<f64> = rows.iter().filter_map(|&i| y_prob[i]).collect();
        let y: Vec<f64> = rows
            .iter()
            .filter_map(|&i| y_true[i].map(f64::from))
            .collect();
        if p.len() != rows.len() || y.len() != rows.len() || rows.is_empty() {
            bail!(
                "configuration {} has predictions without `y_prob` or `y_true`",
                c.id
            );
        }
        let events = y.iter().filter(|v| **v == 1.0).count();
        panels.push(Panel {
            title: label.clone(),
            smooth: Smooth::new(&p, &y),
            n: rows.len(),
            events,
        });
    }
    let data = json!({
        "smoother": format!("LOWESS of the outcome on the mean prediction, span {SPAN:.4}, no robustness iterations"),
        "panels": top.iter().zip(&panels).map(|((c, _), p)| json!({
            "config_id": c.id, "label": p.title, "n": p.n, "events": p.events,
            "predicted": p.smooth.predicted.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "observed": p.smooth.observed.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "fitted": p.smooth.fitted.iter().map(|v| num(*v)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    env.emit(&Calibration { panels }, data)
}

impl Figure for Calibration {
    fn name(&self) -> &str {
        NAME
    }

    fn size(&self) -> (f64, f64) {
        let rows = self.panels.len().div_ceil(COLUMNS).max(1);
        (7.2, 2.6 * rows as f64)
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
            .caption(&self.title, font(8.0, s))
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
            .label_style(font(7.0, s))
            .axis_desc_style(font(7.0, s))
            .draw()?;
        let grey = RGBColor(150, 150, 150);
        chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            grey.stroke_width(px(0.8, s)),
        ))?;
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
        chart.draw_series(std::iter::once(Text::new(note, (0.04, 0.9), font(7.0, s))))?;
        Ok(())
    }
}
