//! The step engine under `extract`, `analyze` and `reproduce`: step keys and the
//! content-hash cache, the stat cache, retries, timeouts and the stall watchdog, the project
//! lock, step records, the ledger and user-declared command steps.

pub mod command;
pub mod engine;
pub mod events;
pub mod fingerprint;
pub mod graph;
pub mod guard;
pub mod interrupt;
pub mod ledger;
pub mod lock;
mod phase;
pub mod record;
pub mod report;
pub mod retry;
pub mod stat_cache;
pub mod step;

pub use stat_cache::{Probe, StatCache};
pub use step::{Step, StepContext, StepOutput};
