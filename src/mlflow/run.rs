//! The store-independent description of an experiment and of one run.

use std::fmt;
use std::path::PathBuf;

/// An MLflow experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Experiment {
    /// The experiment id (a string in MLflow).
    pub id: String,
    /// The experiment name.
    pub name: String,
    /// Whether it is active or deleted.
    pub lifecycle_stage: LifecycleStage,
}

impl fmt::Display for Experiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` (id {})", self.name, self.id)
    }
}

/// MLflow's soft-delete state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleStage {
    /// A live run or experiment.
    Active,
    /// Deleted but not yet garbage-collected.
    Deleted,
    /// Any other text found in the store.
    Other(String),
}

impl LifecycleStage {
    /// Parses MLflow's spelling (`active`, `deleted`).
    pub fn parse(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "deleted" => Self::Deleted,
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for LifecycleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Active => f.write_str("active"),
            Self::Deleted => f.write_str("deleted"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// A run's status as MLflow records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// Still running (or crashed without ending).
    Running,
    /// Scheduled but not started.
    Scheduled,
    /// Ended normally: the only status that is extracted.
    Finished,
    /// Ended with an error.
    Failed,
    /// Killed.
    Killed,
    /// Any other value found in the store.
    Other(String),
}

impl RunStatus {
    /// Parses MLflow's status: the file store's integer (1–5) or the SQLite store's name.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "1" | "RUNNING" => Self::Running,
            "2" | "SCHEDULED" => Self::Scheduled,
            "3" | "FINISHED" => Self::Finished,
            "4" | "FAILED" => Self::Failed,
            "5" | "KILLED" => Self::Killed,
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Running => f.write_str("RUNNING"),
            Self::Scheduled => f.write_str("SCHEDULED"),
            Self::Finished => f.write_str("FINISHED"),
            Self::Failed => f.write_str("FAILED"),
            Self::Killed => f.write_str("KILLED"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// One MLflow run, whichever store it came from: what extraction uses of it. Parameters,
/// tags other than `mlflow.runName` and MLflow's own metrics are not read: no output depends
/// on them (the metrics come from the run's pickle), so editing them reruns nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run id (32 hex characters in MLflow).
    pub run_id: String,
    /// The run name: the `mlflow.runName` tag, else the recorded name.
    pub run_name: String,
    /// The run's status.
    pub status: RunStatus,
    /// Active or deleted.
    pub lifecycle_stage: LifecycleStage,
    /// Start time in milliseconds since the epoch, if recorded.
    pub start_time: Option<i64>,
    /// End time in milliseconds since the epoch, if recorded.
    pub end_time: Option<i64>,
    /// The run's artifact directory, after relocating a moved store; `None` when it cannot be
    /// found on disk.
    pub artifact_dir: Option<PathBuf>,
    /// Why the run's files cannot be used (an empty or half-written `meta.yaml`, a FIFO, a
    /// loop of links), when they cannot: such a run is excluded with this reason.
    pub unreadable: Option<String>,
}

impl Run {
    /// A run of the store's entry `name` whose files cannot be used, and why.
    pub fn unreadable(name: &str, reason: String) -> Self {
        Run {
            run_id: name.to_string(),
            run_name: name.to_string(),
            status: RunStatus::Other("unknown".into()),
            lifecycle_stage: LifecycleStage::Other("unknown".into()),
            start_time: None,
            end_time: None,
            artifact_dir: None,
            unreadable: Some(reason),
        }
    }

    /// A canonical text of the run's fields, for the `extract` step's key.
    pub fn describe_for_digest(&self) -> String {
        let mut out = format!(
            "run_id={}\nrun_name={}\nstatus={}\nlifecycle={}\nstart={:?}\nend={:?}\n",
            self.run_id,
            self.run_name,
            self.status,
            self.lifecycle_stage,
            self.start_time,
            self.end_time
        );
        if let Some(reason) = &self.unreadable {
            out.push_str(&format!("unreadable {reason}\n"));
        }
        out
    }

    /// A short form of the run id for messages.
    pub fn short_id(&self) -> &str {
        &self.run_id[..self.run_id.len().min(8)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_accepts_integers_and_names() {
        assert_eq!(RunStatus::parse("3"), RunStatus::Finished);
        assert_eq!(RunStatus::parse("FINISHED"), RunStatus::Finished);
        assert_eq!(RunStatus::parse("4"), RunStatus::Failed);
        assert_eq!(RunStatus::parse("KILLED"), RunStatus::Killed);
        assert_eq!(RunStatus::parse("9"), RunStatus::Other("9".into()));
    }
}
