//! `mlrepro graph`: the step graph as text, Mermaid or DOT, optionally with each step's
//! freshness.

use std::collections::BTreeMap;

use crate::cli::{GlobalArgs, GraphArgs, GraphFormat};
use crate::error::{Error, Result};
use crate::runner::engine::freshness;
use crate::runner::graph;
use crate::runner::lock::{self, Access};

use super::pipeline::{options, plan};

/// Runs `mlrepro graph`.
pub fn run(global: &GlobalArgs, args: &GraphArgs) -> Result<()> {
    let (settings, steps) = plan(global, &args.pipeline)?;
    let nodes = graph::of(&steps, &settings);
    let states: BTreeMap<String, String> = if args.status {
        let _lock = lock::acquire(&settings, Some(Access::Read), Some(Access::Read))
            .map_err(Error::pipeline)?;
        freshness(&steps, &settings, &options(global))
            .map_err(Error::pipeline)?
            .into_iter()
            .map(|f| {
                let state = if f.up_to_date { "fresh" } else { "stale" };
                (f.step, state.to_string())
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let status = |step: &str| states.get(step).cloned();
    let text = match args.format {
        GraphFormat::Text => graph::to_text(&nodes, &status),
        GraphFormat::Mermaid => graph::to_mermaid(&nodes, &status),
        GraphFormat::Dot => graph::to_dot(&nodes, &status),
    };
    print!("{text}");
    Ok(())
}
