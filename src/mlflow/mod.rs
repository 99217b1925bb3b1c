//! MLflow tracking-store readers: the file store (`mlruns/`) and the SQLite store
//! (`mlflow.db`), behind one [`Run`] type, opened from a [`TrackingUri`], plus the run-name
//! grammar that yields the factor columns.

mod artifact_path;
pub mod entry;
mod file_store;
mod run;
mod run_name;
mod sqlite_store;
mod store;
mod tracking_uri;

pub use artifact_path::{check_artifact_path, UnsafePicklePath};
pub use run::{Experiment, LifecycleStage, Run, RunStatus};
pub use run_name::{Factors, NameClass, RunNameConfig, RunNamePattern, RunNameRules};
pub use store::{Store, StoreKind};
pub use tracking_uri::{Origin, TrackingUri};
