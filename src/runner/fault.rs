//! Fault injection for tests of the runner: `MLREPRO_FAULT=STEP:KIND[:N]`.
//!
//! Kinds: `transient:N` fails the first N attempts of STEP with a timed-out read (retried);
//! `fatal` fails it with a corrupt-input error (not retried); `stall` makes it hang without
//! progress until it is cancelled; `slow-run:MS` (extract only) sleeps MS milliseconds per
//! run, so a test can kill extraction half-way. Unset in normal use.

use std::time::Duration;

use anyhow::{anyhow, Result};

use super::step::Signals;

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
}

/// The fault configured for `step`, if any.
pub fn for_step(step: &str) -> Option<Fault> {
    let spec = std::env::var("MLREPRO_FAULT").ok()?;
    let mut parts = spec.split(':');
    if parts.next()? != step {
        return None;
    }
    let kind = parts.next()?;
    let n: Option<u64> = parts.next().and_then(|n| n.parse().ok());
    match kind {
        "transient" => Some(Fault::Transient(n.unwrap_or(1) as u32)),
        "fatal" => Some(Fault::Fatal),
        "stall" => Some(Fault::Stall),
        "slow-run" => Some(Fault::SlowRun(Duration::from_millis(n.unwrap_or(100)))),
        _ => None,
    }
}

/// Applies the fault at the start of an attempt.
pub fn inject(step: &str, attempt: u32, signals: &Signals) -> Result<()> {
    match for_step(step) {
        Some(Fault::Transient(n)) if attempt <= n => Err(anyhow::Error::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "injected: read timed out",
        ))
        .context(format!("injected transient fault in step `{step}`"))),
        Some(Fault::Fatal) => Err(anyhow!("injected fault in step `{step}`: corrupt input")),
        Some(Fault::Stall) => {
            while !signals.cancelled() {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(anyhow!("step `{step}` was cancelled while stalled"))
        }
        _ => Ok(()),
    }
}
