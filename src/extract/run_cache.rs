//! The per-run extraction cache: one entry per run, keyed on the pickle's content.
//!
//! An entry holds the run's computed rows with keyed pseudonyms in place of subject codes
//! (never an original code). Its key is SHA-256 over the extractor version, the pickle's
//! SHA-256 and a fingerprint of the anonymization secret, so new code, a changed pickle or
//! a new secret each re-derive the run. Entries are plain pickles written atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::compute::RunMetrics;
use crate::db::digest::hex;
use crate::fsx;

/// Revision of extraction: bump when parsing or metrics change their results.
pub const EXTRACTOR_VERSION: u32 = 2;

/// A run's cached extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedRun {
    /// Pseudonym of each test subject, in pickle order.
    pub pseudonyms: Vec<String>,
    /// Labels, in pickle order.
    pub labels: Vec<i64>,
    /// p̄ per subject.
    pub prob_mean: Vec<f64>,
    /// Std of the prediction per subject.
    pub prob_std: Vec<f64>,
    /// Every metric of the run.
    pub metrics: RunMetrics,
}

/// The cache directory of per-run results.
#[derive(Debug, Clone)]
pub struct RunCache {
    dir: PathBuf,
}

impl RunCache {
    /// The cache under `cache_dir`.
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            dir: cache_dir.join("runs-v1"),
        }
    }

    /// The key of a run whose pickle has `pickle_sha256`.
    pub fn key(pickle_sha256: &str, secret_fingerprint: &str) -> String {
        let text = format!(
            "extractor {EXTRACTOR_VERSION}\npickle {pickle_sha256}\nsecret {secret_fingerprint}\n"
        );
        hex(&Sha256::digest(text.as_bytes()))
    }

    /// The entry for `key`, if present and readable (a corrupt entry counts as absent).
    pub fn load(&self, key: &str) -> Option<CachedRun> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_pickle::from_slice(&bytes, serde_pickle::DeOptions::new()).ok()
    }

    /// Stores an entry atomically.
    pub fn store(&self, key: &str, run: &CachedRun) -> Result<()> {
        let bytes = serde_pickle::to_vec(run, serde_pickle::SerOptions::new())
            .context("cannot serialize a cached run")?;
        fsx::write_atomic(&self.path(key), &bytes)
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.pkl"))
    }
}
