//! The run report: one self-contained HTML page per pipeline run, with the run's header, the
//! step graph and timeline, the extraction's runs, a gallery of the figures, the tables and
//! numbers, the verification of the checkpoint and recent history.
//!
//! It is drawn from the ledger after the run, so a failed run gets a report showing its
//! failure, and `mlrepro report RUN_ID` draws any recorded run again.

mod gather;
mod latex;
mod page;
mod svg;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::Settings;
use crate::fsx;
use crate::runner::graph::Node;
use crate::runner::ledger::RunRecord;
use crate::runner::stat_cache::StatCache;

pub use gather::default_path;

/// Writes the report of `run` to `output` (figures linked, or embedded with `embed`) and
/// returns its path; `stat` remembers the checkpoint's digest.
pub fn write(
    settings: &Settings,
    run: RunRecord,
    output: &Path,
    embed: bool,
    stat: &StatCache,
) -> Result<PathBuf> {
    let page = gather::page(settings, run, output, embed, stat);
    fsx::write_atomic(output, page::render(&page).as_bytes())?;
    Ok(output.to_path_buf())
}

/// The graph the run recorded; for a run recorded without one, its steps in a chain.
fn graph_of(run: &RunRecord) -> Vec<Node> {
    if !run.context.graph.is_empty() {
        return run.context.graph.clone();
    }
    let mut previous: Option<String> = None;
    run.steps
        .iter()
        .map(|s| {
            let node = Node {
                step: s.step.clone(),
                needs: previous.iter().cloned().collect(),
            };
            previous = Some(s.step.clone());
            node
        })
        .collect()
}
