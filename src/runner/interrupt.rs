//! Ctrl-C and SIGTERM: the first asks the steps in flight to stop cleanly, a second exits at
//! once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

/// Set by Ctrl-C or SIGTERM.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLER: Once = Once::new();

/// Installs the interrupt handler: the first signal asks steps to stop cleanly, a second one
/// exits at once.
pub(super) fn install_interrupt_handler() {
    HANDLER.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(crate::error::EXIT_INTERRUPTED));
            }
            eprintln!(
                "interrupted: stopping after the work in flight (press Ctrl-C again to quit now)"
            );
        });
    });
}

/// Whether the user interrupted the run.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
