//! The ledger: an append-only record of every pipeline run, one JSON Lines file per run,
//! plus each run's log.
//!
//! A run that has no `finished` event (the process was killed) shows as `incomplete`.
//! Writing the ledger never breaks a run: a failed write becomes one warning.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};

use super::events::{Sink, StepEvent};
use super::graph::Node;
use crate::fsx;
use crate::ui::Output;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Ran and succeeded at the first attempt.
    Ran,
    /// Up to date; not run.
    Cached,
    /// Succeeded after a retry.
    Flaky,
    /// Failed.
    Failed,
    /// Stopped at its timeout.
    TimedOut,
    /// Interrupted by the user.
    Cancelled,
    /// Not run because an earlier step failed.
    Skipped,
}

impl StepStatus {
    /// Every outcome, in the order a summary lists them.
    pub const ALL: [StepStatus; 7] = [
        StepStatus::Ran,
        StepStatus::Cached,
        StepStatus::Flaky,
        StepStatus::Failed,
        StepStatus::TimedOut,
        StepStatus::Cancelled,
        StepStatus::Skipped,
    ];

    /// The outcome's one spelling, as in `--json`, the ledger, `history` and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Ran => "ran",
            StepStatus::Cached => "cached",
            StepStatus::Flaky => "flaky",
            StepStatus::Failed => "failed",
            StepStatus::TimedOut => "timed_out",
            StepStatus::Cancelled => "cancelled",
            StepStatus::Skipped => "skipped",
        }
    }

    /// Whether the step's outputs are good.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            StepStatus::Ran | StepStatus::Cached | StepStatus::Flaky
        )
    }
}

/// One step's entry in the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepEntry {
    /// Step name.
    pub step: String,
    /// How it ended.
    pub status: StepStatus,
    /// Why it ran (empty when cached).
    pub reasons: Vec<String>,
    /// Attempts made.
    pub attempts: u32,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Digest of the step key.
    pub key_digest: String,
    /// Output path → digest.
    pub outputs: BTreeMap<String, String>,
    /// The error, for failed steps.
    pub error: Option<String>,
    /// When the step started, in seconds after the run started.
    #[serde(default)]
    pub started_s: f64,
    /// The step's one-line summary, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The step's machine-readable details, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// What a run was: the tool, its command line, the config and the step graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunContext {
    /// mlrepro's version.
    pub version: String,
    /// The command line, program name first.
    pub argv: Vec<String>,
    /// The config file, as given.
    pub config: String,
    /// SHA-256 of the config file (empty when it could not be read).
    pub config_digest: String,
    /// The steps and what each waits for.
    pub graph: Vec<Node>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    Started {
        id: String,
        command: String,
        started: String,
        pid: u32,
        #[serde(default)]
        context: RunContext,
    },
    Step(StepEntry),
    Finished {
        status: String,
        finished: String,
        seconds: f64,
    },
}

/// A pipeline run being recorded.
pub struct Ledger {
    id: String,
    file: Option<File>,
    log: Option<File>,
    started: std::time::Instant,
    /// Where a failure to write the ledger is reported, once.
    out: Output,
    warned: bool,
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Where ledgers live.
pub fn ledger_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("ledger-v1")
}

/// Where logs live.
pub fn log_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("logs")
}

impl Ledger {
    /// Starts recording a run of `command`; the id sorts by start time. A ledger that cannot
    /// be written is reported once through `out`.
    pub fn start(cache_dir: &Path, command: &str, context: RunContext, out: Output) -> Ledger {
        let mut random = [0u8; 3];
        let _ = getrandom::fill(&mut random);
        let id = format!(
            "{}-{}",
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ"),
            crate::base::hashing::hex(&random)
        );
        let open = |dir: PathBuf, name: String| -> Option<File> {
            fsx::create_dir_all(&dir).ok()?;
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(name))
                .ok()
        };
        let mut ledger = Ledger {
            file: open(ledger_dir(cache_dir), format!("{id}.jsonl")),
            log: open(log_dir(cache_dir), format!("{id}.log")),
            id: id.clone(),
            started: std::time::Instant::now(),
            out,
            warned: false,
        };
        ledger.write(&Event::Started {
            id,
            command: command.into(),
            started: now(),
            pid: std::process::id(),
            context,
        });
        ledger
    }

    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seconds since the run started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Records a finished step.
    pub fn step(&mut self, entry: StepEntry) {
        self.write(&Event::Step(entry));
    }

    /// Appends a line to the run's log.
    pub fn log(&mut self, line: &str) {
        if let Some(f) = &mut self.log {
            let _ = writeln!(f, "{line}");
        }
    }

    /// Records the end of the run.
    pub fn finish(&mut self, success: bool) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.write(&Event::Finished {
            status: if success { "success" } else { "failed" }.into(),
            finished: now(),
            seconds,
        });
    }

    fn write(&mut self, event: &Event) {
        let ok = self.file.as_mut().is_some_and(|f| {
            let line = serde_json::to_string(event).expect("events serialize");
            writeln!(f, "{line}").and_then(|()| f.flush()).is_ok()
        });
        if !ok && !self.warned {
            self.warned = true;
            self.out.warn(
                "cannot write the run ledger; this run will be missing from `mlrepro history`",
            );
        }
    }
}

/// A past run as `mlrepro history` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// The command that ran.
    pub command: String,
    /// Start time (UTC).
    pub started: String,
    /// `success`, `failed` or `incomplete` (no end record: killed).
    pub status: String,
    /// Wall time, when finished.
    pub seconds: Option<f64>,
    /// End time (UTC), when finished.
    pub finished: Option<String>,
    /// The tool, command line, config and step graph (empty for runs recorded before they
    /// were kept).
    pub context: RunContext,
    /// Its steps.
    pub steps: Vec<StepEntry>,
}

/// Every recorded run, newest first.
pub fn runs(cache_dir: &Path) -> Result<Vec<RunRecord>> {
    recent(cache_dir, usize::MAX)
}

/// The `n` most recent runs, newest first; only their files are read.
pub fn recent(cache_dir: &Path, n: usize) -> Result<Vec<RunRecord>> {
    let dir = ledger_dir(cache_dir);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in fsx::read_dir_sorted(&dir)?.into_iter().rev() {
        if out.len() == n {
            break;
        }
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(read_run(&path)?);
        }
    }
    Ok(out)
}

fn read_run(path: &Path) -> Result<RunRecord> {
    let text = fsx::read_to_string(path)?;
    let mut rec = RunRecord {
        id: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        command: String::new(),
        started: String::new(),
        status: "incomplete".into(),
        seconds: None,
        finished: None,
        context: RunContext::default(),
        steps: Vec::new(),
    };
    // A line cut short by a crash is skipped; everything before it still counts.
    for event in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Event>(l).ok())
    {
        match event {
            Event::Started {
                command,
                started,
                context,
                ..
            } => {
                rec.command = command;
                rec.started = started;
                rec.context = context;
            }
            Event::Step(s) => rec.steps.push(s),
            Event::Finished {
                status,
                seconds,
                finished,
            } => {
                rec.status = status;
                rec.seconds = Some(seconds);
                rec.finished = Some(finished);
            }
        }
    }
    Ok(rec)
}

/// The run whose id starts with `prefix` (which must be unambiguous).
pub fn find(cache_dir: &Path, prefix: &str) -> Result<RunRecord> {
    let dir = ledger_dir(cache_dir);
    let mut matching: Vec<PathBuf> = Vec::new();
    if dir.is_dir() {
        // Only the files whose id matches are read.
        for entry in fsx::read_dir_sorted(&dir)? {
            let path = entry.path();
            let id = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            if path.extension().is_some_and(|e| e == "jsonl")
                && id.is_some_and(|id| id.starts_with(prefix))
            {
                matching.push(path);
            }
        }
    }
    match matching.as_slice() {
        [one] => read_run(one),
        [] => Err(anyhow!(
            "no pipeline run with id `{prefix}`; `mlrepro history` lists them"
        )),
        many => Err(anyhow!(
            "`{prefix}` matches {} runs; give more of the id",
            many.len()
        )),
    }
}

/// The ledger records every step-ending event and logs what happened, in the statuses'
/// one spelling ([`StepStatus::as_str`]).
impl Sink for Ledger {
    fn on(&mut self, event: &StepEvent) {
        match event {
            StepEvent::Blocked {
                report,
                recorded,
                offset,
            } => {
                if *recorded {
                    self.step(report.ledger_entry(None, BTreeMap::new(), *offset));
                }
            }
            StepEvent::KeyFailed { report, offset } => {
                self.log(&format!(
                    "{}: cannot compute its key: {}",
                    report.step,
                    report.error.as_deref().unwrap_or_default()
                ));
                self.step(report.ledger_entry(None, BTreeMap::new(), *offset));
            }
            StepEvent::Fresh {
                report,
                key,
                notes,
                offset,
            } => {
                self.log(&format!("{}: up to date", report.step));
                for note in *notes {
                    self.log(&format!("{}: {note}", report.step));
                }
                self.step(report.ledger_entry(Some(key), BTreeMap::new(), *offset));
            }
            StepEvent::WouldRun { .. } => {}
            StepEvent::Started { step, reasons } => {
                self.log(&format!("{step}: rerun because {}", reasons.join("; ")));
            }
            StepEvent::Retried { line } => self.log(line),
            StepEvent::Finished {
                report,
                key,
                outputs,
                offset,
            } => {
                let (name, status, attempts) = (&report.step, report.status, report.attempts);
                let line = match (&report.summary, &report.error) {
                    (Some(summary), None) => format!(
                        "{name}: {} after {attempts} attempt(s) in {:.2} s: {summary}",
                        status.as_str(),
                        report.seconds
                    ),
                    (_, error) => format!(
                        "{name}: {} after {attempts} attempt(s): {}",
                        status.as_str(),
                        error.as_deref().unwrap_or_default()
                    ),
                };
                self.log(&line);
                self.step(report.ledger_entry(Some(key), (*outputs).clone(), *offset));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Output = Output {
        quiet: true,
        verbose: 0,
        json: false,
        progress: crate::ui::ProgressMode::Hidden,
    };

    fn entry(step: &str, status: StepStatus) -> StepEntry {
        StepEntry {
            step: step.into(),
            status,
            reasons: vec!["forced".into()],
            attempts: 1,
            seconds: 0.5,
            key_digest: "k".into(),
            outputs: BTreeMap::new(),
            error: None,
            started_s: 0.0,
            summary: None,
            details: None,
        }
    }

    #[test]
    fn the_spelling_of_an_outcome_is_its_json_spelling() {
        for status in StepStatus::ALL {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
    }

    #[test]
    fn records_runs_and_marks_unfinished_ones_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Ledger::start(dir.path(), "extract", RunContext::default(), QUIET);
        a.step(entry("extract", StepStatus::Ran));
        a.finish(true);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut b = Ledger::start(dir.path(), "reproduce", RunContext::default(), QUIET);
        b.step(entry("extract", StepStatus::Cached));
        drop(b);
        let runs = runs(dir.path()).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(
            (runs[0].command.as_str(), runs[0].status.as_str()),
            ("reproduce", "incomplete")
        );
        assert_eq!(
            (runs[1].command.as_str(), runs[1].status.as_str()),
            ("extract", "success")
        );
        assert_eq!(
            find(dir.path(), &runs[1].id[..22]).unwrap().steps[0].status,
            StepStatus::Ran
        );
    }
}
