//! Content digests of files, without re-reading files that have not changed.
//!
//! Freshness is always decided by SHA-256 of the content. The stat cache only saves the
//! reading: its key is (path, size, mtime ns, ctime ns, inode), and an entry is reused only
//! when all five match. ctime cannot be set back by any user tool, so an edit that restores
//! a file's size and mtime is still noticed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::digest::hex;
use crate::fsx;

/// What identifies a file's state without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            inode: meta.ino(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    sha256: String,
}

/// A persistent map from file stamps to content digests, shared by worker threads.
#[derive(Debug, Default)]
pub struct StatCache {
    state: Mutex<State>,
    path: Option<PathBuf>,
}

#[derive(Debug, Default)]
struct State {
    entries: BTreeMap<PathBuf, Entry>,
    dirty: bool,
    hits: u64,
    misses: u64,
}

impl StatCache {
    /// Loads the cache stored at `path` (an unreadable or corrupt cache starts empty).
    pub fn load(path: &Path) -> Self {
        let entries = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self {
            state: Mutex::new(State {
                entries,
                ..Default::default()
            }),
            path: Some(path.to_path_buf()),
        }
    }

    /// The SHA-256 of a file's content, read only when its stamp changed. The file is read
    /// outside the lock, so workers hash files in parallel.
    pub fn digest(&self, file: &Path) -> Result<String> {
        let meta =
            std::fs::metadata(file).with_context(|| format!("cannot stat `{}`", file.display()))?;
        let stamp = Stamp::of(&meta);
        {
            let mut state = self.lock();
            if let Some(sha) = state
                .entries
                .get(file)
                .filter(|e| e.stamp == stamp)
                .map(|e| e.sha256.clone())
            {
                state.hits += 1;
                return Ok(sha);
            }
        }
        let sha256 = sha256_file(file)?;
        let mut state = self.lock();
        state.misses += 1;
        state.entries.insert(
            file.to_path_buf(),
            Entry {
                stamp,
                sha256: sha256.clone(),
            },
        );
        state.dirty = true;
        Ok(sha256)
    }

    /// Files read (misses) and files answered from their stamp (hits) so far.
    pub fn counts(&self) -> (u64, u64) {
        let state = self.lock();
        (state.misses, state.hits)
    }

    /// Writes the cache back if anything changed.
    pub fn save(&self) -> Result<()> {
        let mut state = self.lock();
        if let (true, Some(path)) = (state.dirty, &self.path) {
            let bytes =
                serde_json::to_vec(&state.entries).context("cannot serialize the stat cache")?;
            fsx::write_atomic(path, &bytes)?;
            state.dirty = false;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Files at least this large are hashed through a memory map, which spares copying every
/// byte out of the page cache; smaller ones are read.
const MAP_AT: u64 = 1 << 20;

/// SHA-256 of a file's bytes, hex-encoded (the `sha2` crate uses the CPU's SHA instructions
/// where present).
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let size = file
        .metadata()
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .len();
    let mut hasher = Sha256::new();
    if size >= MAP_AT {
        // SAFETY: the file is opened read-only and only read through the map, as extraction
        // reads pickles. MLflow writes an artifact once and never truncates it; a file
        // rewritten while it is hashed changes its ctime, so the stamp taken before hashing
        // no longer matches and the next run hashes it again.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
            .with_context(|| format!("cannot map `{}`", path.display()))?;
        hasher.update(&map[..]);
    } else {
        let mut buf = Vec::with_capacity(size as usize);
        file.read_to_end(&mut buf)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        hasher.update(&buf);
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_file_is_not_reread_and_edits_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "one").unwrap();
        let cache = StatCache::load(&dir.path().join("stat.json"));
        let d1 = cache.digest(&f).unwrap();
        assert_eq!(cache.digest(&f).unwrap(), d1);
        assert_eq!(cache.counts(), (1, 1));
        // Same size, then the mtime is set back: ctime still moves, so the edit is seen.
        let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
        std::fs::write(&f, "two").unwrap();
        File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let d2 = cache.digest(&f).unwrap();
        assert_ne!(d1, d2);
    }

    #[test]
    fn cache_survives_a_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "x").unwrap();
        let store = dir.path().join("stat.json");
        let cache = StatCache::load(&store);
        let d = cache.digest(&f).unwrap();
        cache.save().unwrap();
        let again = StatCache::load(&store);
        assert_eq!(again.digest(&f).unwrap(), d);
        assert_eq!(again.counts(), (0, 1));
    }
}
