//! Cancellation and progress: what a running step and the engine that watches it share.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Shared state a running step reports to and reads from.
#[derive(Debug, Default)]
pub struct Signals {
    /// Set when the step must stop (Ctrl-C, SIGTERM or its timeout); workers check it between
    /// units of work.
    pub cancel: AtomicBool,
    /// Incremented by the step whenever it makes progress; the watchdog reads it.
    pub heartbeat: AtomicU64,
    /// What the step is working on right now (e.g. `run 3f2a…`), named by the watchdog.
    in_flight: Mutex<BTreeSet<String>>,
}

impl Signals {
    /// Records progress.
    pub fn beat(&self) {
        self.heartbeat.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the step has been asked to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Marks `what` as being worked on until [`Signals::finished`] is called with it.
    pub fn started(&self, what: &str) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.insert(what.to_string());
        }
    }

    /// Marks `what` as done.
    pub fn finished(&self, what: &str) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(what);
        }
    }

    /// What is being worked on, in order.
    pub fn in_flight(&self) -> Vec<String> {
        self.in_flight
            .lock()
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }
}
