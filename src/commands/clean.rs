//! `mlrepro clean`: remove generated figures, outputs and the cache, or only the cache.
//!
//! The public checkpoint and the private directory are never touched: the first may be the
//! published artefact, the second holds the only copy of the anonymization secret.

use crate::cli::CleanArgs;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::fsx;

/// Runs `mlrepro clean`.
pub fn run(settings: &Settings, args: &CleanArgs) -> Result<()> {
    let outputs = &settings.config.outputs;
    let mut targets = vec![&outputs.cache_dir];
    if !args.cache {
        targets.push(&outputs.figures_dir);
        targets.push(&outputs.outputs_dir);
    }
    for dir in targets {
        if dir.exists() {
            fsx::remove_dir_all_if_exists(dir).map_err(Error::pipeline)?;
            eprintln!("removed `{}`", dir.display());
        }
    }
    Ok(())
}
