//! `mlrepro report [RUN_ID]`: the HTML report of a recorded pipeline run.

use crate::cli::{GlobalArgs, ReportArgs};
use crate::error::{Error, Result};
use crate::runner::ledger;
use crate::runner::lock::{self, Access};
use crate::runner::stat_cache::{self, StatCache};
use crate::ui::Output;

use super::settings::{self, CommandFlags};

/// Runs `mlrepro report`.
pub fn run(global: &GlobalArgs, args: &ReportArgs, out: &Output) -> Result<()> {
    let settings = settings::load(global, CommandFlags::default())?;
    let cache_dir = &settings.config.outputs.cache_dir;
    let _lock = lock::acquire(&settings, Some(Access::Read), Some(Access::Read))
        .map_err(Error::pipeline)?;
    let latest = ledger::runs(cache_dir)
        .map_err(Error::pipeline)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::usage(anyhow::anyhow!(
                "no pipeline run recorded yet in `{}`; run `mlrepro reproduce` first",
                cache_dir.display()
            ))
        })?;
    let run = match &args.id {
        Some(id) => ledger::find(cache_dir, id).map_err(Error::usage)?,
        None => latest.clone(),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| crate::report::default_path(&settings, &run.id, run.id == latest.id));
    let stat = StatCache::load(&stat_cache::path_in(cache_dir));
    let path = crate::report::write(&settings, run, &output, args.embed, &stat)
        .map_err(Error::pipeline)?;
    out.result(path.display().to_string());
    Ok(())
}
