//! One pipeline per project directory at a time.
//!
//! The lock is an advisory `flock` on `<cache_dir>/lock`, held for the life of the pipeline:
//! the kernel releases it when the holder exits or crashes, so a stale lock cannot outlive
//! its process. The file also records who holds it (pid, host, start time) for the message
//! a second invocation prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

/// A held project lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct ProjectLock {
    file: File,
    /// The lock file.
    pub path: PathBuf,
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Takes the project lock in `cache_dir`, waiting up to `timeout` for another holder.
pub fn acquire(cache_dir: &Path, timeout: Duration) -> Result<ProjectLock> {
    crate::fsx::create_dir_all(cache_dir)?;
    let path = cache_dir.join("lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file `{}`", path.display()))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(TryLockError::WouldBlock) => {
                let who = std::fs::read_to_string(&path).unwrap_or_default();
                let who = who.trim();
                return Err(anyhow!(
                    "another mlrepro is running in this project (lock `{}` held by {})",
                    path.display(),
                    if who.is_empty() {
                        "an unknown process"
                    } else {
                        who
                    }
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock `{}`", path.display()))
            }
        }
    }
    let holder = format!(
        "pid {} on {} since {}\n",
        std::process::id(),
        hostname(),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC")
    );
    file.set_len(0)
        .and_then(|()| file.write_all(holder.as_bytes()))
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(ProjectLock { file, path })
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

    #[test]
    fn second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), Duration::ZERO).unwrap();
        let err = acquire(dir.path(), Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        acquire(dir.path(), Duration::ZERO).unwrap();
    }
}
