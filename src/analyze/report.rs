//! `analysis_report.json`: every figure and table, generated (with its files), skipped (with
//! the reason), failed (with the error) or not run (with why); status `success` only when
//! nothing failed or was left unrun.
//!
//! The report is built from the analysis steps' outcomes after the pipeline ran, so figures
//! that were up to date are listed as generated with their files. Its content is
//! deterministic, and an unchanged report is not rewritten.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::figures;
use super::frames;
use super::sidecar::Provenance;
use super::step::TABLES_STEP;
use super::tables;
use crate::config::Config;
use crate::fsx;
use crate::runner::ledger::StepStatus;
use crate::runner::report::PipelineReport;
use crate::runner::stat_cache::StatCache;

/// The report's file name in the outputs directory.
pub const FILE: &str = "analysis_report.json";

/// What happened to one output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Written; file names relative to their directory.
    Generated {
        /// The files written.
        files: Vec<String>,
    },
    /// Not drawn, on purpose.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Drawing or writing failed.
    Failed {
        /// The error with its causes.
        error: String,
    },
    /// Its step did not run (an earlier required step failed, or the run was interrupted).
    NotRun {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// The outcome of an attempt that wrote `files`, or failed.
    pub fn from_result(r: Result<Vec<PathBuf>>) -> Self {
        match r {
            Ok(files) => Outcome::Generated {
                files: file_names(&files),
            },
            Err(e) => Outcome::Failed {
                error: format!("{e:#}"),
            },
        }
    }
}

fn file_names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// One figure or table and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Figure or table name.
    pub name: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Entry {
    /// `name: error` when this entry failed.
    pub fn failure(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Failed { error } => Some(format!("{}: {error}", self.name)),
            _ => None,
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `success` when every output was generated or skipped on purpose, else `failed`.
    pub status: &'static str,
    /// Version and checkpoint digest.
    #[serde(flatten)]
    pub provenance: Provenance,
    /// Figures in drawing order.
    pub figures: Vec<Entry>,
    /// Tables and `numbers.tex`.
    pub tables: Vec<Entry>,
}

impl Report {
    /// The report of the analysis steps in `pipeline`; `stat` remembers the checkpoint's
    /// digest.
    pub fn from_pipeline(config: &Config, pipeline: &PipelineReport, stat: &StatCache) -> Self {
        let digest = frames::logical_digest(&config.outputs.db, stat)
            .unwrap_or_else(|e| format!("unknown ({e:#})"));
        let figures = figures::names()
            .into_iter()
            .map(|name| {
                let outcome = outcome(pipeline, &name, || {
                    match figures::skip_reason(config, &name) {
                        Some(reason) => Outcome::Skipped { reason },
                        None => Outcome::Generated {
                            files: file_names(&figures::outputs(config, &name)),
                        },
                    }
                });
                Entry { name, outcome }
            })
            .collect();
        let tables = tables::files()
            .into_iter()
            .map(|name| {
                let outcome = outcome(pipeline, TABLES_STEP, || Outcome::Generated {
                    files: vec![name.clone()],
                });
                Entry { name, outcome }
            })
            .collect();
        Self::new(Provenance::new(&digest), figures, tables)
    }

    /// A report over `figures` and `tables`.
    pub fn new(provenance: Provenance, figures: Vec<Entry>, tables: Vec<Entry>) -> Self {
        let ok = figures.iter().chain(&tables).all(|e| {
            matches!(
                e.outcome,
                Outcome::Generated { .. } | Outcome::Skipped { .. }
            )
        });
        Self {
            status: if ok { "success" } else { "failed" },
            provenance,
            figures,
            tables,
        }
    }

    /// Writes the report into `outputs_dir` unless an identical one is there.
    pub fn write(&self, outputs_dir: &Path) -> Result<PathBuf> {
        let p = outputs_dir.join(FILE);
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        if std::fs::read(&p).ok().as_deref() != Some(text.as_slice()) {
            fsx::write_atomic(&p, &text)?;
        }
        Ok(p)
    }
}

/// The outcome of `step` in `pipeline`; `done` describes a success.
fn outcome(pipeline: &PipelineReport, step: &str, done: impl FnOnce() -> Outcome) -> Outcome {
    let Some(report) = pipeline.steps.iter().find(|s| s.step == step) else {
        return Outcome::NotRun {
            reason: format!("step `{step}` was not part of this run"),
        };
    };
    match report.status {
        StepStatus::Ran | StepStatus::Cached | StepStatus::Flaky => done(),
        StepStatus::Failed | StepStatus::TimedOut => Outcome::Failed {
            error: report
                .error
                .clone()
                .unwrap_or_else(|| format!("{:?}", report.status)),
        },
        StepStatus::Cancelled => Outcome::NotRun {
            reason: "the run was interrupted".into(),
        },
        StepStatus::Skipped => {
            let blocker = pipeline
                .steps
                .iter()
                .find(|s| matches!(s.status, StepStatus::Failed | StepStatus::TimedOut));
            Outcome::NotRun {
                reason: match blocker {
                    Some(b) => format!("step `{}` failed before it", b.step),
                    None => "an earlier step did not finish".into(),
                },
            }
        }
    }
}
