//! The per-run extraction cache: one entry per run, keyed on the inputs it was computed from.
//!
//! An entry holds the run's computed rows with keyed pseudonyms in place of subject codes
//! (never an original code). Its key is the run's input digest ([`super::inputs`]): a keyed
//! digest of the extractor's identity ([`super::identity`]) and the decoded record the metrics
//! read, so new code,
//! changed inputs or a new secret each re-derive the run, while an edit elsewhere in the
//! pickle does not. Entries of another test-set bootstrap (seed, resamples) live in a folder
//! of their own, so changing those settings recomputes every run. Entries are postcard-encoded
//! (compact binary, fast to load: a rerun after one new run loads every other run from here)
//! behind the SHA-256 of the encoding, and renamed into place without being flushed to disk: a
//! run's computation costs less than waiting for the disk, and an entry that a crash left
//! empty or torn fails its checksum and counts as absent.

use std::path::{Path, PathBuf};

use super::compute::RunMetrics;
use crate::fsx;
use crate::metrics::Resampling;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bytes of the SHA-256 that heads every entry.
const CHECKSUM_LEN: usize = 32;

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
    /// The cache under `cache_dir` of runs computed with the test-set bootstrap
    /// `resampling`. Entries of another extractor have other keys (the input digest holds the
    /// extractor's identity), so they share the folder.
    pub fn new(cache_dir: &Path, resampling: Resampling) -> Self {
        Self {
            dir: cache_dir.join("runs").join(format!(
                "seed-{}-resamples-{}",
                resampling.seed, resampling.resamples
            )),
        }
    }

    /// The entry for `key` (an input digest), if present and intact (an entry whose checksum
    /// or encoding is wrong counts as absent).
    pub fn load(&self, key: &str) -> Option<CachedRun> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let (checksum, encoded) = bytes.split_first_chunk::<CHECKSUM_LEN>()?;
        if Sha256::digest(encoded)[..] != checksum[..] {
            return None;
        }
        postcard::from_bytes(encoded).ok()
    }

    /// Stores an entry atomically, behind its checksum, without flushing it to disk.
    pub fn store(&self, key: &str, run: &CachedRun) -> Result<()> {
        let encoded = postcard::to_stdvec(run).context("cannot serialize a cached run")?;
        let mut bytes = Vec::with_capacity(CHECKSUM_LEN + encoded.len());
        bytes.extend_from_slice(&Sha256::digest(&encoded));
        bytes.extend_from_slice(&encoded);
        fsx::write_atomic_unflushed(&self.path(key), &bytes)
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.bin"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::extract::compute::run_metrics;
    use crate::extract::parse::RunData;

    const RESAMPLING: Resampling = Resampling {
        resamples: 100,
        seed: 1,
    };

    fn cached_run() -> CachedRun {
        let labels = vec![0, 1, 0, 1, 1, 0];
        let prob_mean = vec![0.2, 0.7, 0.4, 0.55, 0.9, 0.1];
        // Three bootstrap columns, row-major; one NaN per-iteration value survives the trip.
        let prob_matrix = prob_mean
            .iter()
            .flat_map(|&p: &f64| [p, (p * 0.9).max(0.05), (p * 1.1).min(0.95)])
            .collect();
        let data = RunData {
            subject_codes: (0..6).map(|i| format!("PLR{i}")).collect(),
            labels: labels.clone(),
            prob_mean: prob_mean.clone(),
            prob_std: vec![0.01; 6],
            prob_matrix,
            n_bootstrap: 3,
            iteration_scalars: BTreeMap::from([("AUROC".into(), vec![0.8, f64::NAN, 0.7])]),
        };
        CachedRun {
            pseudonyms: (0..6).map(|i| format!("p{i}")).collect(),
            labels,
            prob_mean,
            prob_std: data.prob_std.clone(),
            metrics: run_metrics(&data, RESAMPLING),
        }
    }

    #[test]
    fn an_entry_loads_as_stored_and_a_corrupt_one_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::new(dir.path(), RESAMPLING);
        let key = "ab".repeat(32);
        assert_eq!(cache.load(&key), None);
        let run = cached_run();
        cache.store(&key, &run).unwrap();
        // Compared through Debug: NaN != NaN, but the text shows the same values.
        assert_eq!(
            format!("{:?}", cache.load(&key).unwrap()),
            format!("{run:?}")
        );

        let bytes = std::fs::read(cache.path(&key)).unwrap();
        std::fs::write(cache.path(&key), &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(cache.load(&key), None);
        std::fs::write(cache.path(&key), b"").unwrap();
        assert_eq!(cache.load(&key), None);
    }

    #[test]
    fn an_entry_with_any_byte_changed_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::new(dir.path(), RESAMPLING);
        let key = "ef".repeat(32);
        cache.store(&key, &cached_run()).unwrap();
        let good = std::fs::read(cache.path(&key)).unwrap();
        let changed = |at: usize| {
            let mut bytes = good.clone();
            bytes[at] ^= 0x01;
            bytes
        };
        // Most changed bytes still decode, to other values (postcard has no checksum of its
        // own): only the checksum can tell.
        let stored = format!("{:?}", cached_run());
        let decodes_to_other_values = (CHECKSUM_LEN..good.len())
            .filter(|&at| {
                postcard::from_bytes::<CachedRun>(&changed(at)[CHECKSUM_LEN..])
                    .is_ok_and(|run| format!("{run:?}") != stored)
            })
            .count();
        assert!(decodes_to_other_values > (good.len() - CHECKSUM_LEN) / 2);
        for at in 0..good.len() {
            std::fs::write(cache.path(&key), changed(at)).unwrap();
            assert_eq!(cache.load(&key), None, "byte {at} changed");
        }
        // A crash before the data reached the disk can leave zeros under the name.
        std::fs::write(cache.path(&key), vec![0; good.len()]).unwrap();
        assert_eq!(cache.load(&key), None);
    }

    #[test]
    fn another_bootstrap_has_entries_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let key = "cd".repeat(32);
        RunCache::new(dir.path(), RESAMPLING)
            .store(&key, &cached_run())
            .unwrap();
        let other = Resampling {
            seed: 2,
            ..RESAMPLING
        };
        assert_eq!(RunCache::new(dir.path(), other).load(&key), None);
    }
}
