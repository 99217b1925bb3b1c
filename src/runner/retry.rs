//! Retries of transient failures: exponential backoff with full jitter, and the rule that
//! decides which errors are transient.
//!
//! Only errors that can go away by themselves are retried (an interrupted or timed-out read,
//! a locked database, a stale NFS handle). A corrupt pickle, a bad config or a schema
//! mismatch fails at once: retrying it would only hide the cause for longer.

use std::io::ErrorKind;
use std::time::Duration;

use crate::config::RunnerConfig;

/// How often and how patiently a step is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Base delay before the second attempt.
    pub initial: Duration,
    /// Cap of any delay.
    pub max: Duration,
}

impl RetryPolicy {
    /// The policy of the `runner` config section.
    pub fn from_config(c: &RunnerConfig) -> Self {
        Self {
            attempts: c.attempts.max(1),
            initial: Duration::from_millis(c.backoff_initial_ms),
            max: Duration::from_millis(c.backoff_max_ms),
        }
    }

    /// The delay before attempt `attempt` (2-based: the first retry is attempt 2), drawn
    /// uniformly from [0, min(max, initial · 2^(attempt−2))] ("full jitter"), using `unit`,
    /// a number in [0, 1).
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let exp = attempt.saturating_sub(2).min(30);
        let ceiling = self.initial.saturating_mul(1u32 << exp).min(self.max);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// A random number in [0, 1) for jitter (from the OS; jitter needs no reproducibility).
pub fn jitter_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether an error is worth retrying: an I/O error of a transient kind (a timed-out,
/// interrupted or would-block read, a stale NFS handle) anywhere in the typed cause chain, or
/// a message from a C library (DuckDB, SQLite) or a command that names a locked database, a
/// stale file handle or `EX_TEMPFAIL`.
pub fn is_transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(typed) = cause.downcast_ref::<crate::error::Error>() {
            // Its outermost cause is shown as its message, not listed in the chain.
            return is_transient(typed.cause());
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return transient_io(io);
        }
        let text = cause.to_string().to_ascii_lowercase();
        text.contains("database is locked")
            || text.contains("could not set lock on file")
            || text.contains("stale file handle")
            || text.contains("ex_tempfail")
    })
}

/// ESTALE on Linux: a stale NFS file handle.
const ESTALE: i32 = 116;

fn transient_io(io: &std::io::Error) -> bool {
    matches!(
        io.kind(),
        ErrorKind::Interrupted | ErrorKind::TimedOut | ErrorKind::WouldBlock
    ) || io.raw_os_error() == Some(ESTALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 5,
            initial: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        }
    }

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let p = policy();
        assert_eq!(
            p.delay(2, 0.999_999),
            Duration::from_millis(100).mul_f64(0.999_999)
        );
        assert_eq!(p.delay(3, 1.0), Duration::from_millis(200));
        assert_eq!(p.delay(4, 1.0), Duration::from_millis(400));
        assert_eq!(p.delay(9, 1.0), Duration::from_millis(1000));
        assert_eq!(p.delay(40, 1.0), Duration::from_millis(1000));
    }

    #[test]
    fn full_jitter_can_be_zero() {
        assert_eq!(policy().delay(3, 0.0), Duration::ZERO);
    }

    #[test]
    fn jitter_is_in_the_unit_interval() {
        for _ in 0..100 {
            let u = jitter_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn transient_errors_are_recognised_through_context() {
        let io = std::io::Error::new(ErrorKind::TimedOut, "read timed out");
        let e = anyhow::Error::from(io).context("cannot read `x.pickle`");
        assert!(is_transient(&e));
        assert!(is_transient(&anyhow::anyhow!(
            "IO Error: Could not set lock on file \"db\""
        )));
        assert!(is_transient(&anyhow::Error::from(
            std::io::Error::from_raw_os_error(116)
        )));
    }

    #[test]
    fn an_io_timeout_below_a_typed_error_is_transient() {
        let io = std::io::Error::new(ErrorKind::TimedOut, "read timed out");
        let typed = crate::error::Error::pipeline(io);
        assert!(is_transient(
            &anyhow::Error::from(typed).context("listing the store")
        ));
        let usage = crate::error::Error::usage(anyhow::anyhow!("no experiment `x`"));
        assert!(!is_transient(&anyhow::Error::from(usage)));
    }

    #[test]
    fn deterministic_errors_are_not_retried() {
        assert!(!is_transient(&anyhow::anyhow!(
            "at byte 12: truncated pickle"
        )));
        let io = std::io::Error::new(ErrorKind::NotFound, "missing");
        assert!(!is_transient(&anyhow::Error::from(io)));
    }
}
