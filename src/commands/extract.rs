//! `mlrepro extract`: Block 1 through the step engine.

use crate::cli::{ExtractArgs, GlobalArgs};
use crate::error::Result;
use crate::runner::pipeline::extract_steps;
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
    crate::extract::check_store(&settings)?;
    pipeline::run(settings, global, out, "extract", extract_steps())
}
