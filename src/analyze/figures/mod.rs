//! The figures, one module each, and the table the analysis steps draw them from.
//!
//! Each figure module turns checkpoint frames into a plotted data set, writes it as a
//! JSON sidecar and renders it with [`super::render`]. A figure's step is keyed by the code it
//! draws with: its own modules and the shared ones ([`SHARED_SOURCES`]), which do not include
//! this file, so adding a line to the table reruns the new figure only.

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

mod env;
mod text;

use std::path::PathBuf;

use anyhow::{bail, Result};

pub use env::{Drawn, Env};
pub use text::{draw_title, label_width, row_label, text_width, title_height, wrap};

use super::render;
use super::sidecar;
use super::stats::FACTORS;
use crate::config::Config;

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

/// The code every figure depends on: what a figure reads and writes, text layout, the
/// legends and shared chart pieces, the renderer, the style, the method names, sidecars, the
/// checkpoint's frames and the summary statistics. Not the table of figures: a figure's line
/// names the modules it draws with, which are its own part of its key.
const SHARED_SOURCES: &[&str] = &[
    include_str!("env.rs"),
    include_str!("text.rs"),
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
    fn the_table_is_not_shared_code_so_adding_a_figure_reruns_no_other() {
        assert!(!SHARED_SOURCES.contains(&include_str!("mod.rs")));
        assert!(table()
            .iter()
            .all(|s| !s.sources.contains(&include_str!("mod.rs"))));
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
