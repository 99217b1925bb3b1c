//! The checkpoint check as a pipeline step, run before Block 2.

use std::path::PathBuf;

use anyhow::{anyhow, Result};

use super::verify::verify;
use super::writer::CheckpointPaths;
use crate::config::Settings;
use crate::runner::fingerprint::StepKey;
use crate::runner::stat_cache::StatCache;
use crate::runner::step::{Step, StepContext, StepOutput};

/// Checks the checkpoint (checksum, schema, row counts, logical digest) before Block 2.
pub struct VerifyStep;

impl Step for VerifyStep {
    fn name(&self) -> &str {
        "verify"
    }

    fn key(&self, settings: &Settings, stat: &StatCache) -> Result<StepKey> {
        let paths = CheckpointPaths::new(&settings.config.outputs.db);
        let mut key = StepKey::new("verify", 1);
        for p in [&paths.db, &paths.sha256] {
            let digest = if p.exists() {
                stat.digest(p)?
            } else {
                "missing".into()
            };
            key.input(p.display().to_string(), digest);
        }
        Ok(key)
    }

    fn outputs(&self, _settings: &Settings) -> Vec<PathBuf> {
        Vec::new()
    }

    fn run(&self, ctx: &StepContext) -> Result<StepOutput> {
        let db = &ctx.settings.config.outputs.db;
        let v = verify(db)?;
        if !v.ok() {
            return Err(anyhow!(
                "the checkpoint `{}` is refused:\n{}\nregenerate it with `mlrepro extract` (needs the MLflow store), or restore the published checkpoint and its `.sha256`",
                db.display(),
                v.failures()
            ));
        }
        let digest = v.logical_digest.clone().unwrap_or_default();
        Ok(StepOutput {
            summary: format!(
                "checkpoint ok, logical digest {}",
                &digest[..digest.len().min(12)]
            ),
            details: serde_json::to_value(&v).ok(),
        })
    }
}
