//! `mlrepro extract`: Block 1 through the step engine.

use super::steps::extract_steps;
use crate::cli::{ExtractArgs, GlobalArgs};
use crate::error::Result;
use crate::ui::Output;

use super::pipeline;
use super::settings::{self, CommandFlags};

/// Runs `mlrepro extract`.
pub fn run(global: &GlobalArgs, args: &ExtractArgs, out: &Output) -> Result<()> {
    let settings = settings::load(
        global,
        CommandFlags {
            store: Some(&args.store),
            db: Some(&args.db),
            private: Some(&args.private),
            render: None,
        },
    )?;
    // The store and experiment are checked by the step itself, under its timeout: a stalled
    // mount cannot hang the command, and a usage error there still exits 2.
    pipeline::run(settings, global, out, "extract", extract_steps())
}
