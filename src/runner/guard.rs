//! One piece of a step's work (computing its key, or running it) on its own thread, under
//! the step's timeout, the stall watchdog and Ctrl-C: [`guard`].
//!
//! A thread cannot be killed. On a timeout or an interruption the work's cancel flag is set
//! and the thread gets [`JOIN_GRACE`] to stop; [`Ended`] says whether it did, and the caller
//! must not let anything else write while a thread that did not stop may still be writing.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::interrupt::interrupted;
use crate::base::cancel::Signals;

/// How long a cancelled thread has to stop before it is left running.
pub const JOIN_GRACE: Duration = Duration::from_secs(3);

/// How long work may take, and how long it may go without progress before a warning.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The work is cancelled after this long.
    pub timeout: Duration,
    /// A warning names what is in flight after this long without progress.
    pub stall: Duration,
}

/// How guarded work ended.
#[derive(Debug)]
pub enum Ended<T> {
    /// It returned this.
    Returned(Result<T>),
    /// Its thread panicked (or could not be started: then the error says why).
    Panicked(Option<String>),
    /// It ran past the timeout; `stopped` says whether its thread ended within the grace.
    TimedOut {
        /// Whether the thread ended after its cancellation.
        stopped: bool,
    },
    /// The user interrupted it; `stopped` as for [`Ended::TimedOut`].
    Interrupted {
        /// Whether the thread ended after its cancellation.
        stopped: bool,
    },
}

/// Runs `work` on a thread named `thread`, waiting for it under `limits`. `what` names the
/// work in warnings (e.g. ``step `extract` ``), `outputs` are the files whose size the stall
/// warning reports, `signals` carries the cancel flag and progress, and `warn` prints.
pub fn guard<T: Send + 'static>(
    thread: &str,
    what: &str,
    limits: Limits,
    signals: &Arc<Signals>,
    outputs: &[PathBuf],
    warn: &dyn Fn(&str),
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Ended<T> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(thread.to_string())
        .spawn(move || {
            let _ = tx.send(work());
        });
    if let Err(e) = spawned {
        return Ended::Panicked(Some(format!("cannot start a thread for {what}: {e}")));
    }
    let started = Instant::now();
    let mut last_beat = (signals.heartbeat.load(Ordering::Relaxed), Instant::now());
    let mut last_written = written_bytes();
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => return Ended::Returned(result),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ended::Panicked(None),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if interrupted() {
            return Ended::Interrupted {
                stopped: cancel_and_wait(signals, &rx),
            };
        }
        if started.elapsed() >= limits.timeout {
            return Ended::TimedOut {
                stopped: cancel_and_wait(signals, &rx),
            };
        }
        let beat = signals.heartbeat.load(Ordering::Relaxed);
        if beat != last_beat.0 {
            last_beat = (beat, Instant::now());
        } else if last_beat.1.elapsed() >= limits.stall {
            let written = written_bytes();
            let growth = match (last_written, written) {
                (Some(before), Some(now)) => bytes_text(now.saturating_sub(before)),
                _ => "unknown".into(),
            };
            warn(&format!(
                "{what} made no progress for {} s (running {:.0} s, RSS {}, wrote {growth} meanwhile, outputs {}{}); it stops at {} s",
                limits.stall.as_secs(),
                started.elapsed().as_secs_f64(),
                rss().map_or_else(|| "unknown".into(), bytes_text),
                bytes_text(outputs_size(outputs)),
                in_flight_text(&signals.in_flight()),
                limits.timeout.as_secs()
            ));
            last_beat.1 = Instant::now();
            last_written = written;
        }
    }
}

/// Asks the work to stop and waits up to [`JOIN_GRACE`]; whether its thread ended.
fn cancel_and_wait<T>(signals: &Signals, rx: &mpsc::Receiver<Result<T>>) -> bool {
    signals.cancel.store(true, Ordering::SeqCst);
    // The result (or the sender dropped by a panic) arrives as the thread ends.
    !matches!(
        rx.recv_timeout(JOIN_GRACE),
        Err(mpsc::RecvTimeoutError::Timeout)
    )
}

/// `; in flight: a, b, c and N more`, or nothing when the step names no work in flight.
fn in_flight_text(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.is_empty() {
        return String::new();
    }
    let mut text = format!(
        "; in flight: {}",
        items[..items.len().min(SHOWN)].join(", ")
    );
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

/// Bytes this process has written so far (`wchar` of `/proc/self/io`).
fn written_bytes() -> Option<u64> {
    proc_number("/proc/self/io", "wchar:")
}

/// Total size of the outputs that exist now (a step writing them directly grows it).
fn outputs_size(outputs: &[PathBuf]) -> u64 {
    outputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// A byte count for people: `0 B`, `4.1 MB`, `812 kB`, `41 MB`.
fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Resident memory of this process in bytes (`VmRSS` of `/proc/self/status`, in KiB).
fn rss() -> Option<u64> {
    proc_number("/proc/self/status", "VmRSS:").map(|kib| kib * 1024)
}

/// The number after `key` on its line of a `/proc` file (a unit after it is ignored).
fn proc_number(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix(key))?;
    line.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(timeout_ms: u64) -> Limits {
        Limits {
            timeout: Duration::from_millis(timeout_ms),
            stall: Duration::from_secs(60),
        }
    }

    #[test]
    fn byte_counts_read_as_people_write_them() {
        assert_eq!(bytes_text(0), "0 B");
        assert_eq!(bytes_text(999), "999 B");
        assert_eq!(bytes_text(1000), "1.0 kB");
        assert_eq!(bytes_text(812_345), "812 kB");
        assert_eq!(bytes_text(41_415_202), "41 MB");
        assert_eq!(bytes_text(4_141_520), "4.1 MB");
        assert_eq!(bytes_text(1_234_567_890_123_456), "1235 TB");
    }

    #[test]
    fn this_process_reports_its_memory_and_what_it_wrote() {
        assert!(rss().is_some_and(|bytes| bytes > 0));
        let before = written_bytes().expect("/proc/self/io is readable on Linux");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out");
        std::fs::write(&file, vec![0u8; 10_000]).unwrap();
        assert!(written_bytes().unwrap() >= before + 10_000);
        assert_eq!(outputs_size(&[file, dir.path().join("absent")]), 10_000);
    }

    #[test]
    fn work_that_stops_when_cancelled_is_joined() {
        let signals = Arc::new(Signals::default());
        let seen = signals.clone();
        let ended = guard(
            "t",
            "work",
            limits(100),
            &signals,
            &[],
            &|_| {},
            move || {
                while !seen.cancelled() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(())
            },
        );
        assert!(
            matches!(ended, Ended::TimedOut { stopped: true }),
            "{ended:?}"
        );
    }

    #[test]
    fn work_that_ignores_its_cancellation_is_reported_running() {
        let signals = Arc::new(Signals::default());
        let started = Instant::now();
        let ended = guard("t", "work", limits(50), &signals, &[], &|_| {}, || {
            std::thread::sleep(JOIN_GRACE * 3);
            Ok(())
        });
        assert!(
            matches!(ended, Ended::TimedOut { stopped: false }),
            "{ended:?}"
        );
        assert!(started.elapsed() < JOIN_GRACE * 2);
    }
}
