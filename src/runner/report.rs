//! What a run reports: each step's freshness (for `status` and `--dry-run`), each step's
//! outcome, and the pipeline's, as `--json`, the ledger and the run report show them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fingerprint::StepKey;
use super::ledger::{StepEntry, StepStatus};
use crate::error::{Error, ErrorKind};

/// A step's freshness, as `status` and `--dry-run` show it.
#[derive(Debug, Clone, Serialize)]
pub struct Freshness {
    /// Step name.
    pub step: String,
    /// Whether it is up to date.
    pub up_to_date: bool,
    /// Why it would run.
    pub reasons: Vec<String>,
    /// What its key noticed that changes nothing (e.g. a pickle changed on disk whose
    /// inputs did not).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What happened to one step.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Step name.
    pub step: String,
    /// How it ended.
    pub status: StepStatus,
    /// Why it ran.
    pub reasons: Vec<String>,
    /// Attempts made.
    pub attempts: u32,
    /// Wall time.
    pub seconds: f64,
    /// The step's one-line summary, on success.
    pub summary: Option<String>,
    /// The step's details, on success.
    pub details: Option<serde_json::Value>,
    /// The error, on failure.
    pub error: Option<String>,
    /// The error's kind, on failure: `usage` when the step found a usage or configuration
    /// error (exit 2), else `pipeline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// What to do about the error, when its cause says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl StepReport {
    /// A report of `status` with no attempts, time, summary or error yet.
    pub(super) fn new(step: &str, status: StepStatus, reasons: Vec<String>) -> Self {
        Self {
            step: step.to_string(),
            status,
            reasons,
            attempts: 0,
            seconds: 0.0,
            summary: None,
            details: None,
            error: None,
            error_kind: None,
            hint: None,
        }
    }

    /// This report with `error` as its error: its message, and the kind and hint of the
    /// typed error it carries.
    pub(super) fn failed_with(mut self, error: &anyhow::Error) -> Self {
        let typed = Error::find(error);
        self.error = Some(format!("{error:#}"));
        self.error_kind = Some(typed.map_or(ErrorKind::Pipeline, Error::kind));
        self.hint = typed.and_then(Error::hint).map(str::to_string);
        self
    }

    /// The ledger's record of this report, with the step's key (none when it could not be
    /// computed) and output digests.
    pub(super) fn ledger_entry(
        &self,
        key: Option<&StepKey>,
        outputs: BTreeMap<String, String>,
        started_s: f64,
    ) -> StepEntry {
        StepEntry {
            step: self.step.clone(),
            status: self.status,
            reasons: self.reasons.clone(),
            attempts: self.attempts,
            seconds: self.seconds,
            key_digest: key.map(StepKey::digest).unwrap_or_default(),
            outputs,
            error: self.error.clone(),
            started_s,
            summary: self.summary.clone(),
            details: self.details.clone(),
        }
    }
}

/// What happened to a pipeline run.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineReport {
    /// Ledger id of the run.
    pub run_id: String,
    /// Every step in order.
    pub steps: Vec<StepReport>,
    /// Whether every step succeeded.
    pub success: bool,
    /// Whether the user interrupted it.
    pub interrupted: bool,
}
