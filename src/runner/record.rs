//! The record of each step's last success: its key and its outputs' digests.
//!
//! A record is written only after the step succeeded and its outputs were checked, so a
//! failed or interrupted step can never be mistaken for an up-to-date one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::fingerprint::StepKey;
use crate::fsx;

/// A step's last successful run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The key it ran with.
    pub key: StepKey,
    /// Output path (as configured) → SHA-256 after the run.
    pub outputs: BTreeMap<String, String>,
}

fn path(cache_dir: &Path, step: &str) -> PathBuf {
    cache_dir.join("steps-v1").join(format!("{step}.json"))
}

/// The record of `step`, if there is a readable one.
pub fn load(cache_dir: &Path, step: &str) -> Option<StepRecord> {
    let bytes = std::fs::read(path(cache_dir, step)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Saves the record of a successful run of `step`.
pub fn save(cache_dir: &Path, step: &str, record: &StepRecord) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(record).context("cannot serialize a step record")?;
    fsx::write_atomic(&path(cache_dir, step), &bytes)
}

/// Marks the cache directory so backup tools skip it and git ignores it.
pub fn mark_cache_dir(cache_dir: &Path) -> Result<()> {
    fsx::create_dir_all(cache_dir)?;
    let tag = cache_dir.join("CACHEDIR.TAG");
    if !tag.exists() {
        fsx::write_atomic(&tag, b"Signature: 8a477f597d28d172789f06886806bc55\n# mlrepro cache: see https://bford.info/cachedir/\n")?;
    }
    let ignore = cache_dir.join(".gitignore");
    if !ignore.exists() {
        fsx::write_atomic(&ignore, b"*\n")?;
    }
    Ok(())
}
