//! Fault injection for tests of the runner and the readers: `MLREPRO_FAULT=STEP:KIND[:N]`.
//!
//! Kinds: `transient:N` fails the first N attempts of STEP with a timed-out read (retried);
//! `fatal` fails it with a corrupt-input error (not retried); `stall` makes it hang without
//! progress until it is cancelled; `slow-run:MS` (extract only) sleeps MS milliseconds per
//! run, so a test can kill extraction half-way; `stall-key` hangs while the step's key is
//! computed, until cancelled; `io-timeout:N` (extract only) fails the first N store listings
//! of the process with a timed-out read from inside the listing; `unresponsive:MS` ignores
//! cancellation for MS milliseconds, then writes the step's first output (a step that does
//! not stop in time); `pause-at:POINT` stops at a named point (see [`pause_point`]) and waits
//! there to be killed. Unset in normal use.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{anyhow, Result};

use super::cancel::Signals;

/// An injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Fail the first N attempts with a transient error.
    Transient(u32),
    /// Fail with a deterministic error.
    Fatal,
    /// Hang without progress until cancelled.
    Stall,
    /// Sleep this long per extracted run.
    SlowRun(Duration),
    /// Hang while the key is computed, until cancelled.
    StallKey,
    /// Fail the first N store listings with a timed-out read.
    IoTimeout(u32),
    /// Ignore cancellation this long, then write the first output.
    Unresponsive(Duration),
    /// Stop at the named point and wait to be killed.
    PauseAt(String),
}

/// The fault configured for `step`, if any.
pub fn for_step(step: &str) -> Option<Fault> {
    let spec = std::env::var("MLREPRO_FAULT").ok()?;
    let mut parts = spec.split(':');
    if parts.next()? != step {
        return None;
    }
    let kind = parts.next()?;
    let arg = parts.next();
    let n: Option<u64> = arg.and_then(|n| n.parse().ok());
    match kind {
        "transient" => Some(Fault::Transient(n.unwrap_or(1) as u32)),
        "fatal" => Some(Fault::Fatal),
        "stall" => Some(Fault::Stall),
        "slow-run" => Some(Fault::SlowRun(Duration::from_millis(n.unwrap_or(100)))),
        "pause-at" => arg.map(|point| Fault::PauseAt(point.to_string())),
        "stall-key" => Some(Fault::StallKey),
        "io-timeout" => Some(Fault::IoTimeout(n.unwrap_or(1) as u32)),
        "unresponsive" => Some(Fault::Unresponsive(Duration::from_millis(
            n.unwrap_or(5_000),
        ))),
        _ => None,
    }
}

/// Applies the fault at the start of an attempt of `step`, whose outputs are `outputs`.
pub fn inject(step: &str, attempt: u32, signals: &Signals, outputs: &[PathBuf]) -> Result<()> {
    match for_step(step) {
        Some(Fault::Transient(n)) if attempt <= n => Err(anyhow::Error::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "injected: read timed out",
        ))
        .context(format!("injected transient fault in step `{step}`"))),
        Some(Fault::Fatal) => Err(anyhow!("injected fault in step `{step}`: corrupt input")),
        Some(Fault::Stall) => stall(step, signals),
        Some(Fault::Unresponsive(d)) => {
            std::thread::sleep(d);
            if let Some(first) = outputs.first() {
                crate::fsx::create_dir_all(&crate::fsx::parent_dir(first))?;
                std::fs::write(first, "written by a step that ignored its cancellation")?;
            }
            Err(anyhow!("step `{step}` ignored its cancellation"))
        }
        _ => Ok(()),
    }
}

/// Applies the fault while the key of `step` is computed.
pub fn inject_key(step: &str, signals: &Signals) -> Result<()> {
    match for_step(step) {
        Some(Fault::StallKey) => stall(step, signals),
        _ => Ok(()),
    }
}

/// Store listings made by this process, for `io-timeout:N`.
static LISTINGS: AtomicU32 = AtomicU32::new(0);

/// Applies the fault inside a listing of the store's runs: the first N listings of the
/// process fail with a read that timed out.
pub fn inject_listing() -> std::io::Result<()> {
    match for_step("extract") {
        Some(Fault::IoTimeout(n)) if LISTINGS.fetch_add(1, Ordering::SeqCst) < n => Err(
            std::io::Error::new(std::io::ErrorKind::TimedOut, "injected: read timed out"),
        ),
        _ => Ok(()),
    }
}

/// Stops the process at `point` of `step` for good when `MLREPRO_FAULT=STEP:pause-at:POINT`,
/// after saying so on stderr, so that a test can kill it exactly there.
pub fn pause_point(step: &str, point: &str) {
    if for_step(step) == Some(Fault::PauseAt(point.to_string())) {
        eprintln!("mlrepro: paused at `{point}` (MLREPRO_FAULT)");
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// Hangs without progress until `signals` asks to stop.
fn stall(step: &str, signals: &Signals) -> Result<()> {
    while !signals.cancelled() {
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(anyhow!("step `{step}` was cancelled while stalled"))
}
