//! Loading the config file and applying the command-line flags to it, shared by commands.

use crate::cli::{DbArgs, GlobalArgs, PrivateArgs, RenderArgs, StoreArgs};
use crate::config::{Config, Overrides, Settings};
use crate::error::Result;

/// The flags a command passes on top of the global ones.
#[derive(Debug, Default)]
pub struct CommandFlags<'a> {
    /// Store flags.
    pub store: Option<&'a StoreArgs>,
    /// `--db`.
    pub db: Option<&'a DbArgs>,
    /// `--private-dir`.
    pub private: Option<&'a PrivateArgs>,
    /// `--figures-dir`, `--outputs-dir`.
    pub render: Option<&'a RenderArgs>,
}

/// Reads the config file named by `-c` and applies flags and `MLFLOW_TRACKING_URI`.
pub fn load(global: &GlobalArgs, flags: CommandFlags<'_>) -> Result<Settings> {
    let config = Config::load(&global.config)?;
    let store = flags.store.cloned().unwrap_or_default();
    let overrides = Overrides {
        tracking_uri: store.tracking_uri,
        experiment: store.experiment,
        artifact_root: store.artifact_root,
        max_failed_runs: store.max_failed_runs,
        db: flags.db.and_then(|d| d.db.clone()),
        private_dir: flags.private.and_then(|p| p.private_dir.clone()),
        figures_dir: flags.render.and_then(|r| r.figures_dir.clone()),
        outputs_dir: flags.render.and_then(|r| r.outputs_dir.clone()),
        lock_timeout_s: global.lock_timeout,
        jobs: global.jobs,
    };
    let settings = Settings::resolve(
        &global.config,
        config,
        overrides,
        std::env::var("MLFLOW_TRACKING_URI").ok(),
    );
    settings.check_layout()?;
    // Every parallel loop (listing, hashing, extraction, writing) stays within `-j` threads.
    // Only the first call in a process sizes the pool.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs)
        .build_global();
    Ok(settings)
}
