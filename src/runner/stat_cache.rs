//! Content digests of files, without re-reading files that have not changed.
//!
//! Freshness is always decided by SHA-256 of the content. The stat cache only saves the
//! reading: its key is (path, size, mtime ns, ctime ns, inode, device), and an entry is reused
//! only when all six match. ctime cannot be set back by any user tool, so an edit that
//! restores a file's size and mtime is still noticed.
//!
//! A file's times are only as fine as its filesystem's clock: a rewrite of the same size in
//! the same tick as the one hashed keeps every field of the stamp. So each entry records when
//! it was hashed, and a stamp whose mtime or ctime is within the timestamp granularity of that
//! moment is not trusted (git's "racily clean" rule): the file is read again next time, until
//! it has been hashed at a safe distance from its last change.
//!
//! Besides content digests, the cache keeps *derived* values under the same stamps and rule:
//! a value computed from what was read of a file after its stamp was taken, under a context
//! string (for extraction: the run's input digest under the extractor's identity and the
//! secret's fingerprint, [`crate::extract::inputs`]). A derived value is reused only when the
//! stamp and the context both match.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::base::hashing::sha256_file;
use crate::fsx;

/// What identifies a file's state without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
    device: u64,
}

/// Nanoseconds in a second.
const NS: i128 = 1_000_000_000;

/// How far apart two changes must be for their timestamps to differ, on a filesystem that
/// keeps nanoseconds (its clock ticks in jiffies, 10 ms at most), with a margin.
const FINE_GRANULARITY_NS: i128 = 100_000_000;

/// The same for whole-second timestamps (FAT keeps even seconds).
const COARSE_GRANULARITY_NS: i128 = 2 * NS;

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * NS + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * NS + i128::from(meta.ctime_nsec()),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }

    /// The timestamp granularity to assume: whole seconds when neither time has a fraction.
    fn granularity_ns(&self) -> i128 {
        if self.mtime_ns % NS == 0 && self.ctime_ns % NS == 0 {
            COARSE_GRANULARITY_NS
        } else {
            FINE_GRANULARITY_NS
        }
    }

    /// Whether a change after `hashed_at_ns` could leave this stamp as it is: the file last
    /// changed within the timestamp granularity of the moment it was hashed.
    fn is_racy(&self, hashed_at_ns: i128) -> bool {
        self.mtime_ns.max(self.ctime_ns) >= hashed_at_ns - self.granularity_ns()
    }
}

/// A value derived from a file's content, with the context it was derived under.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Derived {
    stamp: Stamp,
    /// What the value depends on besides the file (a code version, a key's fingerprint).
    context: String,
    value: String,
    /// Wall-clock time, in ns since the epoch, taken before the stamp was.
    hashed_at_ns: i128,
}

/// A file's stamp taken before it is read, with what the cache knows of it: the value to
/// derive from it is recorded with [`StatCache::record_derived`] under this stamp.
#[derive(Debug, Clone)]
pub struct Probe {
    path: PathBuf,
    stamp: Stamp,
    at_ns: i128,
    /// The value recorded for this stamp and context, when it can be trusted.
    pub fresh: Option<String>,
    /// The value recorded before under the same context, when the file's stamp has changed
    /// since (not when the entry was only racy): lets a caller say "changed on disk, same
    /// value".
    pub previous: Option<String>,
}

impl Probe {
    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.stamp.size
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    sha256: String,
    /// Wall-clock time, in ns since the epoch, taken before the stamp was.
    hashed_at_ns: i128,
}

impl Entry {
    /// The digest, if this entry still describes a file with `stamp`.
    fn digest_for(&self, stamp: &Stamp) -> Option<&str> {
        (self.stamp == *stamp && !stamp.is_racy(self.hashed_at_ns)).then_some(&*self.sha256)
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
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
    derived: BTreeMap<PathBuf, Derived>,
    dirty: bool,
    hits: u64,
    misses: u64,
}

impl StatCache {
    /// Loads the cache stored at `path` (an unreadable or corrupt cache starts empty).
    pub fn load(path: &Path) -> Self {
        let Stored { entries, derived } = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self {
            state: Mutex::new(State {
                entries,
                derived,
                ..Default::default()
            }),
            path: Some(path.to_path_buf()),
        }
    }

    /// The SHA-256 of a file's content, read only when its stamp changed. The file is read
    /// outside the lock, so workers hash files in parallel.
    pub fn digest(&self, file: &Path) -> Result<String> {
        self.digest_at(file, now_ns())
    }

    /// [`StatCache::digest`] at wall-clock time `hashed_at_ns`, taken before the file's stamp.
    fn digest_at(&self, file: &Path, hashed_at_ns: i128) -> Result<String> {
        let meta =
            std::fs::metadata(file).with_context(|| format!("cannot stat `{}`", file.display()))?;
        let stamp = Stamp::of(&meta);
        {
            let mut state = self.lock();
            if let Some(sha) = state
                .entries
                .get(file)
                .and_then(|e| e.digest_for(&stamp))
                .map(str::to_string)
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
                hashed_at_ns,
            },
        );
        state.dirty = true;
        Ok(sha256)
    }

    /// A file's stamp, taken now, and the value derived from it under `context` if the
    /// stamp still matches. On a miss the caller reads the file and records what it derived
    /// with [`StatCache::record_derived`].
    pub fn probe(&self, file: &Path, context: &str) -> Result<Probe> {
        let at_ns = now_ns();
        let meta =
            std::fs::metadata(file).with_context(|| format!("cannot stat `{}`", file.display()))?;
        let stamp = Stamp::of(&meta);
        let mut state = self.lock();
        let known = state.derived.get(file).filter(|d| d.context == context);
        let fresh = known
            .filter(|d| d.stamp == stamp && !stamp.is_racy(d.hashed_at_ns))
            .map(|d| d.value.clone());
        let previous = known.filter(|d| d.stamp != stamp).map(|d| d.value.clone());
        if fresh.is_some() {
            state.hits += 1;
        } else {
            state.misses += 1;
        }
        Ok(Probe {
            path: file.to_path_buf(),
            stamp,
            at_ns,
            fresh,
            previous,
        })
    }

    /// Records `value`, derived under `context` from the file as read after `probe`.
    pub fn record_derived(&self, probe: &Probe, context: &str, value: &str) {
        let mut state = self.lock();
        state.derived.insert(
            probe.path.clone(),
            Derived {
                stamp: probe.stamp,
                context: context.to_string(),
                value: value.to_string(),
                hashed_at_ns: probe.at_ns,
            },
        );
        state.dirty = true;
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
            let stored = StoredRef {
                entries: &state.entries,
                derived: &state.derived,
            };
            let bytes = serde_json::to_vec(&stored).context("cannot serialize the stat cache")?;
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

/// The cache as stored on disk.
#[derive(Default, Deserialize)]
struct Stored {
    entries: BTreeMap<PathBuf, Entry>,
    derived: BTreeMap<PathBuf, Derived>,
}

/// [`Stored`], borrowed for writing.
#[derive(Serialize)]
struct StoredRef<'a> {
    entries: &'a BTreeMap<PathBuf, Entry>,
    derived: &'a BTreeMap<PathBuf, Derived>,
}

/// The stat cache's file in a cache directory.
pub fn path_in(cache_dir: &Path) -> PathBuf {
    cache_dir.join("stat-v3.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    /// A moment well after any file of a test last changed.
    fn later() -> i128 {
        now_ns() + 10 * NS
    }

    #[test]
    fn unchanged_file_is_not_reread_and_edits_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "one").unwrap();
        let cache = StatCache::load(&dir.path().join("stat.json"));
        let d1 = cache.digest_at(&f, later()).unwrap();
        assert_eq!(cache.digest_at(&f, later()).unwrap(), d1);
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
    fn a_same_size_rewrite_right_after_hashing_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "one").unwrap();
        let cache = StatCache::load(&dir.path().join("stat.json"));
        let first = cache.digest(&f).unwrap();
        // Within the same clock tick the rewrite can keep size, mtime, ctime and inode.
        let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
        std::fs::write(&f, "two").unwrap();
        File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let second = cache.digest(&f).unwrap();
        assert_ne!(first, second, "the rewrite is read");
        assert_eq!(second, sha256_file(&f).unwrap());
    }

    #[test]
    fn a_racy_entry_is_trusted_once_hashed_at_a_safe_distance() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "x").unwrap();
        let cache = StatCache::load(&dir.path().join("stat.json"));
        cache.digest(&f).unwrap();
        cache.digest(&f).unwrap();
        assert_eq!(cache.counts(), (2, 0), "hashed in the tick of its change");
        cache.digest_at(&f, later()).unwrap();
        cache.digest(&f).unwrap();
        assert_eq!(cache.counts(), (3, 1));
    }

    #[test]
    fn a_stamp_from_another_device_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "x").unwrap();
        let cache = StatCache::load(&dir.path().join("stat.json"));
        let real = cache.digest_at(&f, later()).unwrap();
        let forge = |device_shift: u64| {
            let mut state = cache.lock();
            let entry = state.entries.get_mut(&f).unwrap();
            entry.sha256 = "forged".into();
            entry.stamp.device = std::fs::metadata(&f).unwrap().dev() + device_shift;
        };
        forge(0);
        assert_eq!(
            cache.digest_at(&f, later()).unwrap(),
            "forged",
            "a matching stamp is trusted"
        );
        forge(1);
        assert_eq!(cache.digest_at(&f, later()).unwrap(), real);
    }

    #[test]
    fn cache_survives_a_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, "x").unwrap();
        let store = dir.path().join("stat.json");
        let cache = StatCache::load(&store);
        let d = cache.digest_at(&f, later()).unwrap();
        cache.save().unwrap();
        let again = StatCache::load(&store);
        assert_eq!(again.digest(&f).unwrap(), d);
        assert_eq!(again.counts(), (0, 1));
    }
}
