//! The figures, one module each, and the list the analysis step draws in order.
//!
//! Each figure module turns checkpoint frames into a plotted data set, writes it as a
//! JSON sidecar and renders it with [`super::render`].

pub mod curves;
pub mod dashboard;
pub mod distributions;
pub mod factorial;
pub mod forest;
pub mod heatmap;
pub mod mean_rank;
pub mod retention;
pub mod spec_curve;
pub mod traces;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::frames::Checkpoint;
use super::render;
use super::sidecar::{self, Provenance};
use super::stats::FACTORS;
use crate::config::Config;

/// What a figure reads and where it writes.
pub struct Env<'a> {
    /// The checkpoint's frames.
    pub ckpt: &'a Checkpoint,
    /// The whole config (`analysis`, `methods`, `outputs`).
    pub config: &'a Config,
    /// Version and digest for the sidecar.
    pub prov: &'a Provenance,
}

impl Env<'_> {
    /// The figures directory.
    pub fn dir(&self) -> &Path {
        &self.config.outputs.figures_dir
    }

    /// Renders `fig` in every configured format and writes its sidecar; returns all paths.
    pub fn emit(&self, fig: &impl render::Figure, data: serde_json::Value) -> Result<Vec<PathBuf>> {
        let a = &self.config.analysis;
        let mut out = render::write(fig, self.dir(), &a.formats, a.png_dpi)?;
        out.push(sidecar::write(self.dir(), fig.name(), self.prov, data)?);
        Ok(out)
    }
}

/// What drawing a figure produced.
#[derive(Debug)]
pub enum Drawn {
    /// The files written.
    Files(Vec<PathBuf>),
    /// Not drawn, on purpose, with the reason.
    Skipped(String),
}

/// The figures in the order they are drawn.
pub fn names() -> Vec<String> {
    let mut out = vec![factorial::NAME.to_string(), dashboard::NAME.into()];
    out.extend(FACTORS.iter().map(|(f, _)| forest::name(f)));
    out.extend(
        [
            heatmap::NAME,
            spec_curve::NAME,
            mean_rank::NAME,
            curves::CALIBRATION,
            curves::DCA,
            distributions::NAME,
            retention::NAME,
            traces::NAME,
        ]
        .map(String::from),
    );
    out
}

/// Whether figure `name` reads the private directory.
pub fn reads_private(name: &str) -> bool {
    name == traces::NAME
}

/// Every file figure `name` writes: one per format plus its sidecar; none when it would be
/// skipped.
pub fn outputs(config: &Config, name: &str) -> Vec<PathBuf> {
    if skip_reason(config, name).is_some() {
        return Vec::new();
    }
    let dir = &config.outputs.figures_dir;
    let mut out = render::paths(dir, name, &config.analysis.formats);
    out.push(sidecar::path(dir, name));
    out
}

/// Why figure `name` is not drawn, when it is skipped on purpose.
pub fn skip_reason(config: &Config, name: &str) -> Option<String> {
    if reads_private(name) {
        traces::skip_reason(&config.outputs.private_dir)
    } else {
        None
    }
}

/// Draws figure `name`.
pub fn generate(name: &str, env: &Env) -> Result<Drawn> {
    if let Some((factor, title)) = FACTORS.iter().find(|(f, _)| forest::name(f) == name) {
        return forest::generate(env, factor, title).map(Drawn::Files);
    }
    let files = match name {
        factorial::NAME => factorial::generate(env),
        dashboard::NAME => dashboard::generate(env),
        heatmap::NAME => heatmap::generate(env),
        spec_curve::NAME => spec_curve::generate(env),
        mean_rank::NAME => mean_rank::generate(env),
        curves::CALIBRATION => curves::calibration(env),
        curves::DCA => curves::dca(env),
        distributions::NAME => distributions::generate(env),
        retention::NAME => retention::generate(env),
        traces::NAME => return traces::generate(env),
        _ => bail!("no figure named `{name}`"),
    };
    files.map(Drawn::Files)
}

/// The style of a factor's methods in the config.
pub fn factor_style<'a>(config: &'a Config, factor: &str) -> &'a crate::config::FactorStyle {
    let m = &config.methods;
    match factor {
        "outlier_method" => &m.outlier,
        "imputation_method" => &m.imputation,
        "classifier" => &m.classifier,
        _ => &m.featurization,
    }
}

/// The width in points that the longest of `labels` needs at `pt` points, with room for
/// the tick marks.
pub fn label_width(labels: &[String], pt: f64) -> f64 {
    labels.iter().map(|l| text_width(l, pt)).fold(0.0, f64::max) + 14.0
}

/// A generous estimate of the width in points of `text` at `pt` points in DejaVu Sans.
pub fn text_width(text: &str, pt: f64) -> f64 {
    text.chars().count() as f64 * 0.72 * pt
}

/// The label of row `y` of a chart whose `labels` run top to bottom over y = n−1 … 0 (blank
/// outside them), for charts with one row per method.
pub fn row_label(labels: &[String], y: i32) -> String {
    let n = labels.len() as i32;
    let i = n - 1 - y;
    if (0..n).contains(&i) {
        labels[i as usize].clone()
    } else {
        String::new()
    }
}
