//! What a pipeline step is: a name, a key, outputs and the work.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::fingerprint::StepKey;
use super::stat_cache::StatCache;
use crate::base::cancel::Signals;
use crate::config::Settings;
use crate::ui::Output;

/// What a successful step reports.
#[derive(Debug, Clone, Default)]
pub struct StepOutput {
    /// One line for the terminal and the log.
    pub summary: String,
    /// Machine-readable details for `--json`.
    pub details: Option<serde_json::Value>,
}

/// What a step gets while it runs.
#[derive(Clone)]
pub struct StepContext {
    /// The resolved settings.
    pub settings: Arc<Settings>,
    /// Output options.
    pub out: Output,
    /// Cancellation and progress.
    pub signals: Arc<Signals>,
    /// The shared stat cache.
    pub stat: Arc<StatCache>,
    /// Attempt number, from 1.
    pub attempt: u32,
}

/// One step of the pipeline.
pub trait Step: Send + Sync {
    /// The step's name (as in `--force-step`).
    fn name(&self) -> &str;

    /// Creates what the step's key needs before a real run (never called by `status` or
    /// `--dry-run`). Most steps need nothing.
    fn prepare(&self, _settings: &Settings) -> Result<()> {
        Ok(())
    }

    /// The step's key: its code version, the config keys it reads and its inputs' digests.
    fn key(&self, settings: &Settings, stat: &StatCache) -> Result<StepKey>;

    /// The key to record after a successful run that started with `key`: the same key,
    /// unless the step left some inputs for the run itself to read (see
    /// [`crate::extract::step::ExtractStep`]); it then records the digests of what the run read.
    fn settled_key(&self, key: StepKey) -> StepKey {
        key
    }

    /// What the last key noticed that does not make the step stale but is worth saying
    /// (shown by `status` and the run's output, kept in the ledger).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// The files the step writes; each must exist and be non-empty after a success.
    fn outputs(&self, settings: &Settings) -> Vec<PathBuf>;

    /// Files the step reads that another step may write, so the step graph shows the edge.
    /// Built-in steps read what the step before them wrote and declare nothing.
    fn inputs(&self, _settings: &Settings) -> Vec<PathBuf> {
        Vec::new()
    }

    /// Whether later steps depend on this one: when a required step fails, the steps after it
    /// are skipped; when an optional one (a figure, a table) fails, the others still run and
    /// the pipeline still fails at the end.
    fn required(&self) -> bool {
        true
    }

    /// Does the work. Errors are classified transient or not by [`super::retry::is_transient`].
    fn run(&self, ctx: &StepContext) -> Result<StepOutput>;
}
