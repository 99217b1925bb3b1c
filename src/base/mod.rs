//! The base layer every other module may use: hashing, cancellation and fault injection.
//!
//! It imports nothing of mlrepro but [`crate::fsx`], so a reader as low as [`crate::mlflow`]
//! can honour an injected fault and the step engine's cancellation without depending on the
//! engine.

pub mod cancel;
pub mod fault;
pub mod hashing;
