//! Predicted-probability distributions by outcome for the top configurations: the
//! histograms of `probability_distributions`, one panel per configuration.

use std::path::PathBuf;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::json;

use super::curves::top;
use super::{legend, Env};
use crate::analyze::frames::{floats, ints};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::style::{AXIS_PT, TEXT_PT};

/// The figure name.
pub const NAME: &str = "probability_distributions";

/// At most this many panels (the best configurations).
const MAX_PANELS: usize = 4;

/// Colours of outcome 0 and outcome 1.
const OUTCOME_COLOURS: [RGBColor; 2] = [RGBColor(0, 114, 178), RGBColor(213, 94, 0)];

/// One histogram bin: edges and the count per outcome.
#[derive(Clone)]
struct Bin {
    start: f64,
    end: f64,
    counts: [i32; 2],
}

struct Histogram {
    label: String,
    config_id: i32,
    bins: Vec<Bin>,
}

struct Distributions {
    panels: Vec<Histogram>,
}

/// Height in points of one row of panels.
const PANEL_HEIGHT: f64 = 170.0;

/// The legend: one colour per outcome.
fn legend_items() -> Vec<(String, RGBColor)> {
    OUTCOME_COLOURS
        .iter()
        .enumerate()
        .map(|(outcome, c)| (format!("Outcome {outcome}"), *c))
        .collect()
}

/// Draws the histograms of the top configurations and their sidecar.
pub fn generate(env: &Env) -> Result<Vec<PathBuf>> {
    let df = &env.ckpt.distributions;
    let (ids, outcomes, bins, counts) = (
        ints(df, "config_id")?,
        ints(df, "outcome")?,
        ints(df, "bin_index")?,
        ints(df, "count")?,
    );
    let (starts, ends) = (floats(df, "bin_start")?, floats(df, "bin_end")?);
    let mut panels = Vec::new();
    for (config, label) in top(env)?.into_iter().take(MAX_PANELS) {
        let mut hist: Vec<Bin> = Vec::new();
        for i in (0..ids.len()).filter(|&i| ids[i] == Some(config.id)) {
            let (Some(outcome), Some(bin), Some(count), Some(start), Some(end)) =
                (outcomes[i], bins[i], counts[i], starts[i], ends[i])
            else {
                bail!(
                    "`probability_distributions` has a NULL in config {}",
                    config.id
                );
            };
            let (Ok(bin), Ok(outcome @ 0..=1)) = (usize::try_from(bin), usize::try_from(outcome))
            else {
                bail!(
                    "`probability_distributions` of config {} has outcome {outcome} or bin {bin} out of range",
                    config.id
                );
            };
            if hist.len() <= bin {
                hist.resize(
                    bin + 1,
                    Bin {
                        start: f64::NAN,
                        end: f64::NAN,
                        counts: [0, 0],
                    },
                );
            }
            hist[bin].start = start;
            hist[bin].end = end;
            hist[bin].counts[outcome] += count;
        }
        if hist.is_empty() {
            bail!(
                "`probability_distributions` has no rows for config {}",
                config.id
            );
        }
        panels.push(Histogram {
            label,
            config_id: config.id,
            bins: hist,
        });
    }
    let data = json!({
        "panels": panels.iter().map(|p| json!({
            "config_id": p.config_id,
            "label": p.label,
            "bin_start": p.bins.iter().map(|b| num(b.start)).collect::<Vec<_>>(),
            "bin_end": p.bins.iter().map(|b| num(b.end)).collect::<Vec<_>>(),
            "count_outcome_0": p.bins.iter().map(|b| b.counts[0]).collect::<Vec<_>>(),
            "count_outcome_1": p.bins.iter().map(|b| b.counts[1]).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    env.emit(&Distributions { panels }, data)
}

impl Figure for Distributions {
    fn name(&self) -> &str {
        NAME
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        PANEL_HEIGHT * self.panels.len().div_ceil(2) as f64 + legend::height(&legend_items(), width)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let rows = self.panels.len().div_ceil(2);
        let (body, key) = root.split_vertically(px(PANEL_HEIGHT * rows as f64, s));
        legend::draw(&key, &legend_items(), s)?;
        let areas = body.split_evenly((rows, 2));
        for (area, p) in areas.iter().zip(&self.panels) {
            draw_panel(area, p, s)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Histogram,
    s: f64,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let most = p
        .bins
        .iter()
        .flat_map(|b| b.counts)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.label, font(AXIS_PT, s))
        .margin(px(6.0, s))
        .margin_right(px(14.0, s))
        .x_label_area_size(px(30.0, s))
        .y_label_area_size(px(36.0, s))
        .build_cartesian_2d(0.0..1.0, 0.0..f64::from(most) * 1.15)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("Mean predicted probability")
        .y_desc("Subjects (count)")
        .label_style(font(TEXT_PT, s))
        .axis_desc_style(font(AXIS_PT, s))
        .draw()?;
    for (outcome, colour) in OUTCOME_COLOURS.iter().enumerate() {
        let bars = p.bins.iter().filter(|b| b.start.is_finite()).map(|b| {
            let half = (b.end - b.start) / 2.0;
            let x0 = b.start + half * outcome as f64;
            Rectangle::new(
                [(x0, 0.0), (x0 + half, f64::from(b.counts[outcome]))],
                colour.mix(0.85).filled(),
            )
        });
        chart.draw_series(bars)?;
    }
    Ok(())
}
