//! The figures, one module each, and the list the analysis step draws in order.
//!
//! Each figure module turns checkpoint frames into a plotted data set, writes it as a
//! JSON sidecar and renders it with [`super::render`].

pub mod calibration;
pub mod curves;
pub mod dashboard;
pub mod distributions;
pub mod factorial;
pub mod forest;
pub mod heatmap;
pub mod legend;
pub mod mean_rank;
pub mod panels;
pub mod parts;
pub mod retention;
pub mod spec_curve;
pub mod traces;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frames::Checkpoint;
use super::render;
use super::sidecar::{self, Provenance};
use super::stats::FACTORS;
use super::style::TITLE_PT;
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
        let mut out = render::write(fig, self.dir(), &self.config.analysis)?;
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

/// How a figure is drawn.
enum Draw {
    /// Always drawn; the files it wrote.
    Files(fn(&Env) -> Result<Vec<PathBuf>>),
    /// Drawn or skipped on purpose.
    Maybe(fn(&Env) -> Result<Drawn>),
    /// The forest plot of one factor, with its title.
    Forest(&'static str, &'static str),
}

/// One line of the figure table: a figure's name, how it is drawn, the source files its
/// drawing depends on beyond the shared ones, and whether it reads the private directory.
pub struct Spec {
    /// The figure's name (its step, its files' stem).
    pub name: String,
    draw: Draw,
    sources: Vec<&'static str>,
    /// Whether it reads the private directory (the demo subjects' traces).
    pub reads_private: bool,
}

/// The code every figure depends on: this table, the legends, the renderer, the style, the
/// method names, sidecars, the checkpoint's frames and the summary statistics.
const SHARED_SOURCES: &[&str] = &[
    include_str!("mod.rs"),
    include_str!("legend.rs"),
    include_str!("parts.rs"),
    include_str!("../render.rs"),
    include_str!("../style.rs"),
    include_str!("../methods.rs"),
    include_str!("../sidecar.rs"),
    include_str!("../frames.rs"),
    include_str!("../stats.rs"),
    include_str!("../pbar.rs"),
    include_str!("../emm.rs"),
];

const CURVES: &str = include_str!("curves.rs");
/// The panels figure and the bootstrap bands, with the metrics the bands recompute.
const BANDED: &[&str] = &[
    include_str!("panels.rs"),
    include_str!("../bands.rs"),
    include_str!("../../metrics/subject_bootstrap.rs"),
    include_str!("../../metrics/rng.rs"),
    include_str!("../../metrics/bootstrap.rs"),
    include_str!("../../metrics/net_benefit.rs"),
    include_str!("../../metrics/lowess.rs"),
];
const FOREST: &str = include_str!("forest.rs");
const HEATMAP: &str = include_str!("heatmap.rs");

/// Every figure, in the order they are drawn. Adding a figure is its module and one line
/// here; its step, its key and the report follow.
pub fn table() -> Vec<Spec> {
    let spec = |name: &str, draw, sources: &[&'static str]| Spec {
        name: name.to_string(),
        draw,
        sources: sources.to_vec(),
        reads_private: false,
    };
    let banded = |own: &[&'static str]| [own, &[CURVES], BANDED].concat();
    let mut out = vec![
        spec(
            factorial::NAME,
            Draw::Files(factorial::generate),
            &[include_str!("factorial.rs"), HEATMAP],
        ),
        spec(
            dashboard::NAME,
            Draw::Files(dashboard::generate),
            &[include_str!("dashboard.rs"), CURVES, FOREST],
        ),
    ];
    out.extend(FACTORS.iter().map(|(factor, title)| {
        spec(
            &forest::name(factor),
            Draw::Forest(factor, title),
            &[FOREST, CURVES],
        )
    }));
    out.extend([
        spec(heatmap::NAME, Draw::Files(heatmap::generate), &[HEATMAP]),
        spec(
            spec_curve::NAME,
            Draw::Files(spec_curve::generate),
            &[include_str!("spec_curve.rs")],
        ),
        spec(
            mean_rank::NAME,
            Draw::Files(mean_rank::generate),
            &[include_str!("mean_rank.rs")],
        ),
        spec(
            calibration::NAME,
            Draw::Files(calibration::generate),
            &banded(&[include_str!("calibration.rs")]),
        ),
        spec(curves::DCA, Draw::Files(curves::dca), &banded(&[])),
        spec(
            distributions::NAME,
            Draw::Files(distributions::generate),
            &[include_str!("distributions.rs"), CURVES],
        ),
        spec(
            retention::NAME,
            Draw::Files(retention::generate),
            &banded(&[include_str!("retention.rs")]),
        ),
        Spec {
            reads_private: true,
            ..spec(
                traces::NAME,
                Draw::Maybe(traces::generate),
                &[include_str!("traces.rs"), CURVES],
            )
        },
    ]);
    out
}

impl Spec {
    /// SHA-256 of the code this figure's drawing depends on: changing one figure's module
    /// reruns that figure only; changing shared code reruns them all.
    pub fn code_digest(&self) -> String {
        code_digest(SHARED_SOURCES, &self.sources)
    }

    /// The source text of the code this figure's drawing depends on, shared code first.
    pub fn code(&self) -> impl Iterator<Item = &'static str> + '_ {
        SHARED_SOURCES.iter().chain(&self.sources).copied()
    }

    /// Draws the figure.
    pub fn draw(&self, env: &Env) -> Result<Drawn> {
        match self.draw {
            Draw::Files(f) => f(env).map(Drawn::Files),
            Draw::Maybe(f) => f(env),
            Draw::Forest(factor, title) => forest::generate(env, factor, title).map(Drawn::Files),
        }
    }
}

/// SHA-256 over `shared` and `own` sources, each prefixed by its length.
pub fn code_digest(shared: &[&str], own: &[&str]) -> String {
    crate::base::hashing::sha256_parts(shared.iter().chain(own).copied())
}

/// The figures' names, in the order they are drawn.
pub fn names() -> Vec<String> {
    table().into_iter().map(|s| s.name).collect()
}

/// The figure named `name`.
pub fn spec(name: &str) -> Option<Spec> {
    table().into_iter().find(|s| s.name == name)
}

/// Whether figure `name` reads the private directory.
pub fn reads_private(name: &str) -> bool {
    spec(name).is_some_and(|s| s.reads_private)
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
    match spec(name) {
        Some(spec) => spec.draw(env),
        None => bail!("no figure named `{name}`"),
    }
}

/// The width in points that the longest of `labels` needs at `pt` points, with room for
/// the tick marks.
pub fn label_width(labels: &[String], pt: f64) -> f64 {
    labels.iter().map(|l| text_width(l, pt)).fold(0.0, f64::max) + 14.0
}

/// The width in points of `text` at `pt` points in the embedded font, as plotters lays it
/// out (a little wider than the SVG draws it).
pub fn text_width(text: &str, pt: f64) -> f64 {
    crate::analyze::style::register_font();
    render::font(pt, 1.0)
        .font
        .box_size(text)
        .map_or(text.chars().count() as f64 * 0.7 * pt, |(w, _)| {
            f64::from(w)
        })
}

/// `text` broken at spaces, hyphens and slashes into lines of at most `width` points at `pt`
/// points (a word wider than that keeps a line of its own).
pub fn wrap(text: &str, width: f64, pt: f64) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        word.push(c);
        if matches!(c, ' ' | '-' | '/') {
            words.push(std::mem::take(&mut word));
        }
    }
    words.push(word);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for w in words.into_iter().filter(|w| !w.is_empty()) {
        let longer = format!("{line}{w}");
        if line.is_empty() || text_width(longer.trim_end(), pt) <= width {
            line = longer;
        } else {
            lines.push(line.trim_end().to_string());
            line = w;
        }
    }
    lines.push(line.trim_end().to_string());
    lines
}

/// Height in points of `title` wrapped to an area `width` points wide, with its padding.
pub fn title_height(title: &str, width: f64) -> f64 {
    wrap(title, width - 16.0, TITLE_PT).len() as f64 * TITLE_PT * 1.3 + 8.0
}

/// Draws `title` wrapped and centred at the top of `area` at scale `s`; returns the area
/// below it.
pub fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    s: f64,
) -> Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let width = f64::from(area.dim_in_pixel().0) / s;
    let style = render::font(TITLE_PT, s).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, line) in wrap(title, width - 16.0, TITLE_PT).into_iter().enumerate() {
        let y = (5.0 + TITLE_PT * 1.3 * i as f64) * s;
        area.draw(&Text::new(
            line,
            ((width / 2.0 * s) as i32, y as i32),
            style.clone(),
        ))?;
    }
    Ok(area
        .split_vertically(render::px(title_height(title, width), s))
        .1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changing_one_figure_s_code_changes_that_figure_s_digest_only() {
        let table = table();
        let before: Vec<String> = table.iter().map(Spec::code_digest).collect();
        let edited = "// an edit to the heatmap's module";
        let after: Vec<String> = table
            .iter()
            .map(|s| {
                let own: Vec<&str> = s
                    .sources
                    .iter()
                    .map(|src| if *src == HEATMAP { edited } else { *src })
                    .collect();
                code_digest(SHARED_SOURCES, &own)
            })
            .collect();
        let changed: Vec<&str> = table
            .iter()
            .zip(before.iter().zip(&after))
            .filter(|(_, (b, a))| b != a)
            .map(|(s, _)| s.name.as_str())
            .collect();
        // The factorial design draws with the heatmap's grid, so it reruns too.
        assert_eq!(changed, vec![factorial::NAME, heatmap::NAME]);
        let leaf = table.iter().find(|s| s.name == mean_rank::NAME).unwrap();
        assert_ne!(
            leaf.code_digest(),
            code_digest(SHARED_SOURCES, &["// an edit to mean_rank.rs"])
        );
    }

    #[test]
    fn wrap_breaks_at_spaces_and_hyphens_within_the_width() {
        let text = "Imputation method (cell: mean AUROC)";
        let lines = wrap(text, text_width("Imputation method", 7.0) + 1.0, 7.0);
        assert_eq!(lines, ["Imputation method", "(cell: mean", "AUROC)"]);
        assert_eq!(
            wrap("MOMENT-gt-finetune", 1.0, 7.0),
            ["MOMENT-", "gt-", "finetune"]
        );
        assert_eq!(wrap("short", 500.0, 7.0), ["short"]);
    }

    #[test]
    fn every_figure_has_a_distinct_name_and_its_own_module() {
        let table = table();
        let mut names: Vec<&str> = table.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), table.len());
        assert!(table.iter().all(|s| !s.sources.is_empty()));
    }
}
