//! Who may use a project's files at the same time: readers share, a writer is alone.
//!
//! Two advisory `flock`s guard a project, always taken in this order so two mlrepros cannot
//! wait on each other: `<cache_dir>/lock` (the cache, ledger and generated outputs) and
//! `.mlrepro.lock` beside the checkpoint (so two configs with different cache directories
//! cannot write one checkpoint at once). A pipeline run and `clean` take them exclusively,
//! except the checkpoint's when no step writes it; `verify` and `status` take them shared.
//! The kernel releases a lock when its holder exits or crashes, so a stale lock cannot
//! outlive its process. An exclusive holder of the cache lock writes who it is (pid, host,
//! start time) into the file; a refused invocation names the holders it finds in
//! `/proc/locks`, else that record. The checkpoint's lock file stays empty: it sits in the
//! directory that is published, and it is no part of the checkpoint or its digest.
//!
//! A reader never creates anything: where a lock file does not exist, no writer holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

use super::Step;
use crate::config::Settings;

/// The name of the checkpoint's lock file, in the checkpoint's directory.
pub const CHECKPOINT_LOCK: &str = ".mlrepro.lock";

/// The name of the lock file in the cache directory.
pub const CACHE_LOCK: &str = "lock";

/// How a command uses what a lock guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Shared with other readers; waits for a writer.
    Read,
    /// Alone; creates the lock file (and its directory) when missing.
    Write,
}

/// Held project locks; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct ProjectLock {
    held: Vec<(File, PathBuf)>,
}

impl ProjectLock {
    /// The lock files held.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.held.iter().map(|(_, p)| p.as_path())
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        for (file, _) in self.held.iter().rev() {
            let _ = file.unlock();
        }
    }
}

/// The locks of a pipeline run of `steps`: the cache's alone, and the checkpoint's alone
/// when a step writes the checkpoint, else shared.
pub fn for_steps(settings: &Settings, steps: &[Arc<dyn Step>]) -> Result<ProjectLock> {
    let db = &settings.config.outputs.db;
    let writes = steps
        .iter()
        .any(|s| s.outputs(settings).iter().any(|p| p == db));
    acquire(
        settings,
        Some(Access::Write),
        Some(if writes { Access::Write } else { Access::Read }),
    )
}

/// Takes the cache's and the checkpoint's locks of `settings` (each when given), in that
/// order, waiting up to `runner.lock_timeout_s` in all for other holders.
pub fn acquire(
    settings: &Settings,
    cache: Option<Access>,
    checkpoint: Option<Access>,
) -> Result<ProjectLock> {
    let outputs = &settings.config.outputs;
    let deadline = Instant::now() + Duration::from_secs(settings.config.runner.lock_timeout_s);
    let mut lock = ProjectLock { held: Vec::new() };
    if let Some(access) = cache {
        let path = outputs.cache_dir.join(CACHE_LOCK);
        if let Some(file) = take(&path, access, deadline, |who| {
            anyhow!(
                "another mlrepro is running in this project (lock `{}` held by {who})",
                path.display()
            )
        })? {
            lock.held.push((file, path));
        }
    }
    if let Some(access) = checkpoint {
        let path = crate::fsx::parent_dir(&outputs.db).join(CHECKPOINT_LOCK);
        if let Some(file) = take(&path, access, deadline, |who| {
            anyhow!(
                "another mlrepro is using the checkpoint `{}` (lock `{}` held by {who})",
                outputs.db.display(),
                path.display()
            )
        })? {
            lock.held.push((file, path));
        }
    }
    if let (Some(Access::Write), Some((file, path))) = (cache, lock.held.first_mut()) {
        let holder = format!(
            "pid {} on {} since {}\n",
            std::process::id(),
            hostname(),
            jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC")
        );
        file.set_len(0)
            .and_then(|()| file.write_all(holder.as_bytes()))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(lock)
}

/// Locks `path` for `access`, polling until `deadline`; `None` when a reader finds no lock
/// file (nobody can hold it). `held` words the refusal from a description of the holders.
fn take(
    path: &Path,
    access: Access,
    deadline: Instant,
    held: impl Fn(String) -> anyhow::Error,
) -> Result<Option<File>> {
    let opened = match access {
        Access::Write => {
            crate::fsx::create_dir_all(&crate::fsx::parent_dir(path))?;
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
        }
        Access::Read => File::open(path),
    };
    let file = match opened {
        Ok(f) => f,
        Err(e) if access == Access::Read && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot open the lock file `{}`", path.display()))
        }
    };
    loop {
        let attempt = match access {
            Access::Read => file.try_lock_shared(),
            Access::Write => file.try_lock(),
        };
        match attempt {
            Ok(()) => return Ok(Some(file)),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(TryLockError::WouldBlock) => return Err(held(holders(&file, path))),
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock `{}`", path.display()))
            }
        }
    }
}

/// Who holds `file`: the processes `/proc/locks` lists for it, else what an exclusive holder
/// wrote into it.
fn holders(file: &File, path: &Path) -> String {
    let from_kernel = file
        .metadata()
        .ok()
        .and_then(|meta| {
            let table = std::fs::read_to_string("/proc/locks").ok()?;
            Some(lock_holders(&table, meta.dev(), meta.ino()))
        })
        .unwrap_or_default();
    if !from_kernel.is_empty() {
        return from_kernel.join(", ");
    }
    let recorded = std::fs::read_to_string(path).unwrap_or_default();
    match recorded.trim() {
        "" => "an unknown process".into(),
        who => who.to_string(),
    }
}

/// The holders of the file `(device, inode)` in the text of `/proc/locks`, such as
/// `pid 4242 (writing)`.
fn lock_holders(table: &str, device: u64, inode: u64) -> Vec<String> {
    // `/proc/locks` prints the device as hexadecimal major:minor (glibc's encoding of
    // `st_dev`), then the inode: `1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF`.
    let major = ((device >> 8) & 0xfff) | ((device >> 32) & !0xfff);
    let minor = (device & 0xff) | ((device >> 12) & !0xff);
    let mut out = Vec::new();
    for line in table.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // A waiter's line has `->` after the number; mlrepro never waits inside the kernel.
        let [_, kind, _, mode, pid, id, ..] = fields.as_slice() else {
            continue;
        };
        if *kind != "FLOCK" {
            continue;
        }
        let mut id = id.split(':');
        let (Some(maj), Some(min), Some(ino)) = (id.next(), id.next(), id.next()) else {
            continue;
        };
        let same = u64::from_str_radix(maj, 16) == Ok(major)
            && u64::from_str_radix(min, 16) == Ok(minor)
            && ino.parse::<u64>() == Ok(inode);
        if same {
            let what = if *mode == "WRITE" {
                "writing"
            } else {
                "reading"
            };
            out.push(format!("pid {pid} ({what})"));
        }
    }
    out
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown host".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};

    fn settings(dir: &Path, lock_timeout_s: u64) -> Settings {
        let mut config = Config::default();
        config.outputs.cache_dir = dir.join("cache");
        config.outputs.db = dir.join("public/results.duckdb");
        config.runner.lock_timeout_s = lock_timeout_s;
        Settings::resolve(Path::new("c.yaml"), config, Overrides::default(), None)
    }

    #[test]
    fn second_writer_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), 0);
        let first = acquire(&s, Some(Access::Write), None).unwrap();
        let err = acquire(&s, Some(Access::Write), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("another mlrepro is running")
                && err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        acquire(&s, Some(Access::Write), None).unwrap();
    }

    #[test]
    fn readers_share_and_exclude_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), 0);
        let writer = acquire(&s, Some(Access::Write), Some(Access::Write)).unwrap();
        let err = acquire(&s, None, Some(Access::Read))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("another mlrepro is using the checkpoint") && err.contains("(writing)"),
            "{err}"
        );
        drop(writer);
        let one = acquire(&s, Some(Access::Read), Some(Access::Read)).unwrap();
        let two = acquire(&s, Some(Access::Read), Some(Access::Read)).unwrap();
        let err = acquire(&s, Some(Access::Write), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("(reading)"), "{err}");
        drop((one, two));
        acquire(&s, Some(Access::Write), Some(Access::Write)).unwrap();
    }

    #[test]
    fn a_reader_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), 0);
        let lock = acquire(&s, Some(Access::Read), Some(Access::Read)).unwrap();
        assert_eq!(lock.paths().count(), 0);
        assert!(!dir.path().join("cache").exists() && !dir.path().join("public").exists());
    }

    #[test]
    fn a_waiting_writer_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let s = settings(dir.path(), 5);
        let first = acquire(&settings(dir.path(), 0), None, Some(Access::Write)).unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(first);
        });
        acquire(&s, None, Some(Access::Write)).unwrap();
        release.join().unwrap();
    }

    #[test]
    fn proc_locks_lines_are_matched_by_device_and_inode() {
        let table = "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF\n\
                     2: FLOCK  ADVISORY  READ  77 fd:01:99 0 EOF\n\
                     3: POSIX  ADVISORY  WRITE 5 fd:01:1234 0 EOF\n\
                     4: -> FLOCK  ADVISORY  WRITE 8 fd:01:1234 0 EOF\n";
        let device = (0xfd << 8) | 0x01;
        assert_eq!(lock_holders(table, device, 1234), ["pid 4242 (writing)"]);
        assert_eq!(lock_holders(table, device, 99), ["pid 77 (reading)"]);
        assert!(lock_holders(table, device + 1, 1234).is_empty());
    }
}
