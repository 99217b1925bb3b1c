//! `mlrepro status`: which steps are up to date, and why each stale one would rerun.
//!
//! It reads the cache and the checkpoint under their shared locks, so it waits for (or, past
//! `--lock-timeout`, refuses) a pipeline run that is writing them.

use crate::cli::{GlobalArgs, PipelineArgs};
use crate::error::{Error, Result};
use crate::runner::engine::freshness;
use crate::runner::events::{brief_reasons, status_line};
use crate::runner::lock::{self, Access};
use crate::ui::Output;

use super::pipeline::{check_force_steps, options, plan};

/// Runs `mlrepro status`.
pub fn run(global: &GlobalArgs, args: &PipelineArgs, out: &Output) -> Result<()> {
    let (settings, steps) = plan(global, args)?;
    check_force_steps(global, &steps)?;
    let _lock = lock::acquire(&settings, Some(Access::Read), Some(Access::Read))
        .map_err(Error::pipeline)?;
    let report = freshness(&steps, &settings, &options(global)).map_err(Error::pipeline)?;
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("freshness serializes")
        );
        return Ok(());
    }
    for f in &report {
        if f.up_to_date {
            out.result(status_line("Fresh", &f.step));
            for note in &f.notes {
                out.result(status_line("Note", &format!("{}: {note}", f.step)));
            }
        } else {
            out.result(status_line(
                "Stale",
                &format!("{}: {}", f.step, brief_reasons(&f.reasons)),
            ));
        }
    }
    Ok(())
}
