//! Demo subject traces: the raw and ground-truth pupil signal of the configured demo subjects
//! with outliers marked, drawn only when the private traces file exists (extraction writes it
//! when `subjects.database` is configured). Panels are titled with anonymous codes only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::{legend, Drawn, Env};
use crate::analyze::render::{font, px, Figure, Span};
use crate::analyze::sidecar::num;
use crate::analyze::style::{AXIS_PT, TEXT_PT};
use crate::extract::private::TRACES_FILE;
use crate::fsx;

/// The figure name.
pub const NAME: &str = "subject_traces";

const RAW: RGBColor = RGBColor(150, 150, 150);
const GROUND_TRUTH: RGBColor = RGBColor(0, 114, 178);
const OUTLIER: RGBColor = RGBColor(213, 94, 0);

#[derive(Deserialize)]
struct TracesFile {
    traces: BTreeMap<String, Trace>,
}

#[derive(Deserialize)]
struct Trace {
    time: Vec<f64>,
    pupil_gt: Vec<Option<f64>>,
    pupil_raw: Vec<Option<f64>>,
    outlier_mask: Vec<i64>,
    class_label: String,
}

struct Traces {
    subjects: Vec<(String, Trace)>,
}

/// Height in points of one row of panels.
const PANEL_HEIGHT: f64 = 150.0;

/// The legend: what each colour marks.
fn legend_items() -> [(String, RGBColor); 3] {
    [
        ("Raw signal".to_string(), RAW),
        ("Ground truth".to_string(), GROUND_TRUTH),
        ("Outlier sample".to_string(), OUTLIER),
    ]
}

/// The private traces file under `private_dir`.
pub fn traces_path(private_dir: &Path) -> PathBuf {
    private_dir.join(TRACES_FILE)
}

/// Why the figure is skipped, or `None` when the traces file exists.
pub fn skip_reason(private_dir: &Path) -> Option<String> {
    let path = traces_path(private_dir);
    (!path.is_file()).then(|| {
        format!(
            "no private traces file `{}` (extraction writes it when `subjects.database` is configured)",
            path.display()
        )
    })
}

/// Draws the traces, or says why not.
pub fn generate(env: &Env) -> Result<Drawn> {
    if let Some(reason) = skip_reason(&env.config.outputs.private_dir) {
        return Ok(Drawn::Skipped(reason));
    }
    let path = traces_path(&env.config.outputs.private_dir);
    let bytes = fsx::read(&path)?;
    let file: TracesFile = serde_pickle::from_slice(&bytes, serde_pickle::DeOptions::new())
        .with_context(|| format!("`{}` is not a traces pickle", path.display()))?;
    if file.traces.is_empty() {
        bail!("`{}` holds no subject", path.display());
    }
    for (code, t) in &file.traces {
        let n = t.time.len();
        if [t.pupil_gt.len(), t.pupil_raw.len(), t.outlier_mask.len()] != [n; 3] {
            bail!(
                "`{}`: the series of subject {code} differ in length",
                path.display()
            );
        }
    }
    let subjects: Vec<(String, Trace)> = file.traces.into_iter().collect();
    let data = json!({
        "subjects": subjects.iter().map(|(code, t)| json!({
            "subject_code": code,
            "class_label": t.class_label,
            "time": t.time.iter().map(|x| num(*x)).collect::<Vec<_>>(),
            "pupil_raw": t.pupil_raw.iter().map(|x| x.map_or(serde_json::Value::Null, num)).collect::<Vec<_>>(),
            "pupil_gt": t.pupil_gt.iter().map(|x| x.map_or(serde_json::Value::Null, num)).collect::<Vec<_>>(),
            "outlier_mask": t.outlier_mask,
        })).collect::<Vec<_>>(),
    });
    Ok(Drawn::Files(env.emit(&Traces { subjects }, data)?))
}

/// The runs of consecutive present values of `ys` against `xs`.
fn segments(xs: &[f64], ys: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (x, y) in xs.iter().zip(ys) {
        match y.filter(|y| y.is_finite() && x.is_finite()) {
            Some(y) => out.last_mut().expect("never empty").push((*x, y)),
            None if out.last().is_some_and(|s| !s.is_empty()) => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

impl Figure for Traces {
    fn name(&self) -> &str {
        NAME
    }

    fn span(&self) -> Span {
        Span::Double
    }

    fn height(&self, width: f64) -> f64 {
        PANEL_HEIGHT * self.subjects.len().div_ceil(2) as f64
            + legend::height(&legend_items(), width)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let rows = self.subjects.len().div_ceil(2);
        let (body, key) = root.split_vertically(px(PANEL_HEIGHT * rows as f64, s));
        legend::draw(&key, &legend_items(), s)?;
        let values = self
            .subjects
            .iter()
            .flat_map(|(_, t)| t.pupil_raw.iter().chain(&t.pupil_gt));
        let (lo, hi) = values
            .flatten()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(*v), h.max(*v))
            });
        let areas = body.split_evenly((rows, 2));
        for (area, (code, t)) in areas.iter().zip(&self.subjects) {
            let (t0, t1) = t
                .time
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                    (l.min(*v), h.max(*v))
                });
            if !lo.is_finite() || !t0.is_finite() {
                bail!("subject {code} has no finite sample");
            }
            let pad = ((hi - lo) * 0.05).max(1e-6);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{code} ({})", t.class_label), font(AXIS_PT, s))
                .margin(px(6.0, s))
                .margin_right(px(10.0, s))
                .x_label_area_size(px(30.0, s))
                .y_label_area_size(px(42.0, s))
                .build_cartesian_2d(t0..t1.max(t0 + 1e-9), (lo - pad)..(hi + pad))?;
            chart
                .configure_mesh()
                .x_labels(6)
                .y_labels(5)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| format!("{y:.2}"))
                .x_desc("Time (s)")
                .y_desc("Pupil size (a.u.)")
                .label_style(font(TEXT_PT, s))
                .axis_desc_style(font(AXIS_PT, s))
                .draw()?;
            // The raw signal turns sharply at every blink; separate two-point pieces avoid
            // the miter spikes a thick polyline draws at such turns.
            let raw = RAW.stroke_width(px(0.8, s));
            for seg in segments(&t.time, &t.pupil_raw) {
                chart.draw_series(
                    seg.windows(2)
                        .map(|w| PathElement::new(vec![w[0], w[1]], raw)),
                )?;
            }
            for seg in segments(&t.time, &t.pupil_gt) {
                chart.draw_series(LineSeries::new(seg, GROUND_TRUTH.stroke_width(px(1.0, s))))?;
            }
            let outliers = t
                .time
                .iter()
                .zip(&t.pupil_raw)
                .zip(&t.outlier_mask)
                .filter(|(_, m)| **m == 1)
                .filter_map(|((x, y), _)| Some((*x, (*y)?)));
            chart.draw_series(outliers.map(|p| Circle::new(p, px(1.2, s), OUTLIER.filled())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn gaps_split_lines() {
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let ys = [Some(1.0), None, Some(2.0), Some(3.0), None];
        assert_eq!(
            segments(&xs, &ys),
            vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]
        );
    }
}
