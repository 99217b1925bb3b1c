//! `mlrepro verify`: check a checkpoint and print what was found.
//!
//! The checkpoint is read under its shared lock: several `verify`s run at once, and one waits
//! for (or, past `--lock-timeout`, refuses) an extraction that is writing the checkpoint.

use anyhow::anyhow;

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::db::verify::verify;
use crate::error::{Error, Result};
use crate::runner::lock::{self, Access};
use crate::ui::Output;

use super::settings::{self, CommandFlags};

/// Runs `mlrepro verify`.
pub fn run(global: &GlobalArgs, args: &VerifyArgs, out: &Output) -> Result<()> {
    let settings = settings::load(
        global,
        CommandFlags {
            db: Some(&args.db),
            ..Default::default()
        },
    )?;
    let db = &settings.config.outputs.db;
    let _lock = lock::acquire(&settings, None, Some(Access::Read)).map_err(Error::pipeline)?;
    let v = verify(db).map_err(Error::pipeline)?;
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&v).expect("the verification serializes")
        );
    } else {
        for c in &v.checks {
            out.status(format!(
                "{:>15} {}  {}",
                c.name,
                if c.ok { "ok    " } else { "FAILED" },
                c.detail
            ));
        }
        if v.ok() && out.verbose > 0 {
            for (table, n) in &v.row_counts {
                out.status(format!("{table:>28} {n:>8} rows"));
            }
        }
    }
    if v.ok() {
        Ok(())
    } else {
        Err(Error::pipeline(anyhow!("the checkpoint `{}` is refused:\n{}", db.display(), v.failures())).with_hint(
            "regenerate it with `mlrepro extract` (needs the MLflow store), or restore the published checkpoint and its `.sha256`",
        ))
    }
}
