//! Running a list of steps: freshness, retries, timeouts, the stall watchdog, Ctrl-C, the
//! lock, step records and the ledger.
//!
//! Each step has two phases, each on its own thread under the step's timeout, the stall
//! watchdog and Ctrl-C ([`super::guard`]), and each retried on a transient error with the
//! same [`RetryPolicy`]: computing its key (after `prepare`; for `extract` this lists the
//! store and decodes each pickle whose stamp changed, which can wait on a stalled mount), then
//! running it.
//! `status` and `--dry-run` compute keys the same way, so they cannot hang either.
//!
//! A thread cannot be killed. When a phase passes `runner.step_timeout_s` (or the user
//! interrupts it), its cancel flag is set and its thread gets [`JOIN_GRACE`] to stop. A
//! thread that stops has been joined: the step is recorded `timed_out` (or `cancelled`) and
//! the run goes on as usual. A thread that does not stop may still be writing: the step is
//! recorded, no later step runs, and this process never releases the project lock; the lock
//! goes when the process exits (status 1), which ends that thread with it. So nothing a
//! timed-out step writes can land while another mlrepro holds the lock.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde::Serialize;

use super::fingerprint::{compare, StaleReason, StepKey};
use super::graph;
use super::guard::{guard, Ended, Limits, JOIN_GRACE};
use super::ledger::{Ledger, RunContext, StepEntry, StepStatus};
use super::record::{self, StepRecord};
use super::retry::{is_transient, jitter_unit, RetryPolicy};
use super::stat_cache::StatCache;
use super::step::{Signals, Step, StepContext, StepOutput};
use super::{fault, lock};
use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::ui::Output;

/// Set by Ctrl-C or SIGTERM.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLER: Once = Once::new();

/// Installs the interrupt handler: the first signal asks steps to stop cleanly, a second one
/// exits at once.
fn install_interrupt_handler() {
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

/// How steps are chosen to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Rerun every step.
    pub force: bool,
    /// Rerun these steps.
    pub force_steps: Vec<String>,
    /// Only report what would run.
    pub dry_run: bool,
}

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
    fn new(step: &str, status: StepStatus, reasons: Vec<String>) -> Self {
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
    fn failed_with(mut self, error: &anyhow::Error) -> Self {
        let typed = Error::find(error);
        self.error = Some(format!("{error:#}"));
        self.error_kind = Some(typed.map_or(ErrorKind::Pipeline, Error::kind));
        self.hint = typed.and_then(Error::hint).map(str::to_string);
        self
    }

    /// The ledger's record of this report, with the step's key (none when it could not be
    /// computed) and output digests.
    fn ledger_entry(
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

fn stat_cache(settings: &Settings) -> Arc<StatCache> {
    Arc::new(StatCache::load(&super::stat_cache::path_in(
        &settings.config.outputs.cache_dir,
    )))
}

/// Why `step` would run now (empty when up to date), with its current key.
fn stale_reasons(
    step: &dyn Step,
    settings: &Settings,
    stat: &StatCache,
    forced: bool,
) -> Result<(StepKey, Vec<StaleReason>)> {
    let key = step.key(settings, stat)?;
    if forced {
        return Ok((key, vec![StaleReason::Forced]));
    }
    let Some(rec) = record::load(&settings.config.outputs.cache_dir, step.name()) else {
        return Ok((key, vec![StaleReason::NeverRan]));
    };
    let mut reasons = compare(&rec.key, &key);
    for path in step.outputs(settings) {
        let name = path.display().to_string();
        match rec.outputs.get(&name) {
            _ if !path.exists() => reasons.push(StaleReason::OutputMissing { path: name }),
            Some(digest) if stat.digest(&path).ok().as_ref() != Some(digest) => {
                reasons.push(StaleReason::OutputModified { path: name })
            }
            None => reasons.push(StaleReason::OutputMissing { path: name }),
            _ => {}
        }
    }
    Ok((key, reasons))
}

/// Freshness of every step, without running anything. A step after a stale one is reported
/// stale too, since it reads what the earlier one writes. Keys are computed under the
/// steps' timeout and retry policy.
pub fn freshness(
    steps: &[Arc<dyn Step>],
    settings: &Settings,
    opts: &RunOptions,
) -> Result<Vec<Freshness>> {
    let settings = Arc::new(settings.clone());
    let stat = stat_cache(&settings);
    let policy = RetryPolicy::from_config(&settings.config.runner);
    let warn = |line: &str| eprintln!("warning: {line}");
    let mut out = Vec::new();
    let mut upstream: Option<String> = None;
    for step in steps {
        let forced = opts.force || opts.force_steps.iter().any(|s| s == step.name());
        let (keyed, _) = retried(step.name(), &policy, &mut |line| warn(line), |_| {
            key_phase(step, &settings, &stat, forced, false, &warn)
        });
        let (_, reasons) = keyed.result?;
        let mut reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        if reasons.is_empty() {
            if let Some(up) = &upstream {
                reasons.push(format!("step `{up}` will rerun first"));
            }
        }
        if !reasons.is_empty() && upstream.is_none() {
            upstream = Some(step.name().to_string());
        }
        out.push(Freshness {
            step: step.name().to_string(),
            up_to_date: reasons.is_empty(),
            reasons,
            notes: step.notes(),
        });
    }
    let _ = stat.save();
    Ok(out)
}

/// Runs the steps in order under the project lock, recording everything in the ledger.
pub fn execute(
    steps: Vec<Arc<dyn Step>>,
    settings: Arc<Settings>,
    out: &Output,
    command: &str,
    opts: &RunOptions,
) -> Result<PipelineReport> {
    let cache_dir = settings.config.outputs.cache_dir.clone();
    let project_lock = lock::for_steps(&settings, &steps)?;
    record::mark_cache_dir(&cache_dir)?;
    install_interrupt_handler();
    let context = RunContext {
        version: env!("CARGO_PKG_VERSION").to_string(),
        argv: command_line(),
        config: settings.config_path.display().to_string(),
        config_digest: crate::hashing::sha256_file(&settings.config_path).unwrap_or_default(),
        graph: graph::of(&steps, &settings),
    };
    let mut ledger = Ledger::start(&cache_dir, command, context);
    ledger.log(&format!(
        "mlrepro {} {command} (config `{}`)",
        env!("CARGO_PKG_VERSION"),
        settings.config_path.display()
    ));
    let stat = stat_cache(&settings);
    let policy = RetryPolicy::from_config(&settings.config.runner);
    let warn = |line: &str| out.warn(line);
    let mut reports = Vec::new();
    let mut blocked = false;
    // A thread that did not stop after its cancellation may still write.
    let mut runaway = false;
    for step in steps {
        let name = step.name().to_string();
        let offset = ledger.elapsed();
        if blocked || runaway || interrupted() {
            let status = if interrupted() {
                StepStatus::Cancelled
            } else {
                StepStatus::Skipped
            };
            let report = StepReport::new(&name, status, vec![]);
            if !opts.dry_run {
                ledger.step(report.ledger_entry(None, BTreeMap::new(), offset));
            }
            reports.push(report);
            continue;
        }
        let forced = opts.force || opts.force_steps.contains(&name);
        let started = Instant::now();
        let mut note = |line: &str| {
            out.warn(line);
            ledger.log(line);
        };
        let (keyed, key_attempts) = retried(&name, &policy, &mut note, |_| {
            key_phase(&step, &settings, &stat, forced, !opts.dry_run, &warn)
        });
        runaway |= keyed.runaway;
        let (mut key, reasons) = match keyed.result {
            Ok(x) => x,
            Err(e) => {
                let report = StepReport {
                    attempts: key_attempts,
                    seconds: started.elapsed().as_secs_f64(),
                    ..StepReport::new(&name, keyed.status, vec![])
                }
                .failed_with(&e);
                ledger.log(&format!(
                    "{name}: cannot compute its key: {}",
                    report.error.as_deref().unwrap_or_default()
                ));
                ledger.step(report.ledger_entry(None, BTreeMap::new(), offset));
                blocked |= step.required();
                reports.push(report);
                continue;
            }
        };
        if out.verbose >= 2 {
            if let Ok(json) = serde_json::to_string(&key) {
                out.detail(format!("{name}: key {json}"));
            }
        }
        let reason_text: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        let notes = step.notes();
        if reasons.is_empty() {
            out.status(format!("{:>12} {name}", "Fresh"));
            ledger.log(&format!("{name}: up to date"));
            for note in &notes {
                out.status(format!("{:>12} {name}: {note}", "Note"));
                ledger.log(&format!("{name}: {note}"));
            }
            let report = StepReport {
                summary: (!notes.is_empty()).then(|| notes.join("; ")),
                details: (!notes.is_empty()).then(|| serde_json::json!({ "notes": notes })),
                ..StepReport::new(&name, StepStatus::Cached, vec![])
            };
            ledger.step(report.ledger_entry(Some(&key), BTreeMap::new(), offset));
            reports.push(report);
            continue;
        }
        let because = reason_text.join("; ");
        if opts.dry_run {
            out.status(format!("{:>12} {name}: {because}", "Would run"));
            reports.push(StepReport::new(&name, StepStatus::Skipped, reason_text));
            continue;
        }
        out.status(format!("{:>12} {name}: {because}", "Running"));
        ledger.log(&format!("{name}: rerun because {because}"));
        let mut note = |line: &str| {
            out.warn(line);
            ledger.log(line);
        };
        let (ran, run_attempts) = retried(&name, &policy, &mut note, |attempt| {
            run_phase(&step, &settings, out, &stat, attempt, &warn)
        });
        runaway |= ran.runaway;
        // A retry of the key counts as a retry of the step.
        let attempts = key_attempts - 1 + run_attempts;
        let seconds = started.elapsed().as_secs_f64();
        let status = match (&ran.result, attempts) {
            (Ok(_), 1) => StepStatus::Ran,
            (Ok(_), _) => StepStatus::Flaky,
            (Err(_), _) => ran.status,
        };
        let outcome = ran.result.and_then(|output| {
            let outputs = check_outputs(step.as_ref(), &settings, &stat)?;
            key = step.settled_key(key.clone());
            record::save(
                &cache_dir,
                &name,
                &StepRecord {
                    key: key.clone(),
                    outputs: outputs.clone(),
                },
            )?;
            Ok((output, outputs))
        });
        match outcome {
            Ok((StepOutput { summary, details }, outputs)) => {
                out.status(format!(
                    "{:>12} {name} in {seconds:.2} s: {summary}",
                    if status == StepStatus::Flaky {
                        "Flaky"
                    } else {
                        "Done"
                    }
                ));
                ledger.log(&format!(
                    "{name}: {status:?} after {attempts} attempt(s) in {seconds:.2} s: {summary}"
                ));
                let report = StepReport {
                    attempts,
                    seconds,
                    summary: Some(summary),
                    details,
                    ..StepReport::new(&name, status, reason_text)
                };
                ledger.step(report.ledger_entry(Some(&key), outputs, offset));
                reports.push(report);
            }
            Err(e) => {
                let status = if status.is_success() {
                    StepStatus::Failed
                } else {
                    status
                };
                blocked |= step.required();
                let report = StepReport {
                    attempts,
                    seconds,
                    ..StepReport::new(&name, status, reason_text)
                }
                .failed_with(&e);
                let msg = report.error.as_deref().unwrap_or_default();
                out.status(format!(
                    "{:>12} {name} after {attempts} attempt(s): {msg}",
                    "Failed"
                ));
                ledger.log(&format!(
                    "{name}: {status:?} after {attempts} attempt(s): {msg}"
                ));
                ledger.step(report.ledger_entry(Some(&key), BTreeMap::new(), offset));
                reports.push(report);
            }
        }
    }
    if let Err(e) = stat.save() {
        out.warn(format!("cannot save the stat cache: {e:#}"));
    }
    let success = reports
        .iter()
        .all(|r| r.status.is_success() || (opts.dry_run && r.status == StepStatus::Skipped));
    ledger.finish(success && !interrupted());
    if runaway {
        // Never unlocked: the lock goes with the process, and with the thread still running.
        std::mem::forget(project_lock);
    }
    Ok(PipelineReport {
        run_id: ledger.id().to_string(),
        steps: reports,
        success,
        interrupted: interrupted(),
    })
}

/// The command line, the program named by its file name only (the report is public, and the
/// binary's directory says nothing about the run).
fn command_line() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(program) = args.first_mut() {
        if let Some(name) = Path::new(program.as_str()).file_name() {
            *program = name.to_string_lossy().into_owned();
        }
    }
    args
}

/// Every declared output must exist and be non-empty; returns their digests.
fn check_outputs(
    step: &dyn Step,
    settings: &Settings,
    stat: &StatCache,
) -> Result<BTreeMap<String, String>> {
    let mut digests = BTreeMap::new();
    for path in step.outputs(settings) {
        let meta = std::fs::metadata(&path)
            .map_err(|_| anyhow!("the step did not write its output `{}`", path.display()))?;
        if meta.len() == 0 {
            return Err(anyhow!(
                "the step wrote an empty output `{}`",
                path.display()
            ));
        }
        digests.insert(path.display().to_string(), stat.digest(&path)?);
    }
    Ok(digests)
}

/// How one guarded phase of a step ended, in the ledger's terms.
struct Phase<T> {
    /// `Failed`, `TimedOut` or `Cancelled` when `result` is an error.
    status: StepStatus,
    /// What the work returned, or why it has no result.
    result: Result<T>,
    /// Its thread did not stop after its cancellation and may still be writing.
    runaway: bool,
}

impl<T> Phase<T> {
    /// The phase of work named `what` that ended as `ended`; `timed_out` says what a timeout
    /// means for it.
    fn new(ended: Ended<T>, what: &str, timed_out: String) -> Self {
        let failed = |status, message: String, stopped: bool| Phase {
            status,
            result: Err(if stopped {
                anyhow!(message)
            } else {
                anyhow!(
                    "{message}; it did not stop within {} s of its cancellation, so the project lock stays held until mlrepro exits",
                    JOIN_GRACE.as_secs()
                )
            }),
            runaway: !stopped,
        };
        match ended {
            Ended::Returned(result) => Phase {
                status: StepStatus::Failed,
                result,
                runaway: false,
            },
            Ended::Panicked(why) => failed(
                StepStatus::Failed,
                why.unwrap_or_else(|| format!("{what} stopped without a result (it panicked)")),
                true,
            ),
            Ended::TimedOut { stopped } => failed(StepStatus::TimedOut, timed_out, stopped),
            Ended::Interrupted { stopped } => {
                failed(StepStatus::Cancelled, "interrupted".into(), stopped)
            }
        }
    }
}

/// Runs `attempt` (given its number, from 1) until it succeeds, fails for good or the
/// policy's attempts are spent, waiting a backoff before each retry of a transient error;
/// `note` hears of each retry. Returns the last outcome and the attempts made.
fn retried<T>(
    name: &str,
    policy: &RetryPolicy,
    note: &mut dyn FnMut(&str),
    mut attempt: impl FnMut(u32) -> Phase<T>,
) -> (Phase<T>, u32) {
    let mut n = 1;
    loop {
        let phase = attempt(n);
        match &phase.result {
            Err(e)
                if phase.status == StepStatus::Failed
                    && n < policy.attempts
                    && is_transient(e)
                    && !interrupted() =>
            {
                let delay = policy.delay(n + 1, jitter_unit());
                note(&format!(
                    "{name}: attempt {n}/{} failed with a transient error: {e:#}; retrying in {:.2} s",
                    policy.attempts,
                    delay.as_secs_f64()
                ));
                std::thread::sleep(delay);
                n += 1;
            }
            _ => return (phase, n),
        }
    }
}

/// The step's timeout and stall warning from the `runner` config section.
fn limits(settings: &Settings) -> Limits {
    Limits {
        timeout: Duration::from_secs(settings.config.runner.step_timeout_s),
        stall: Duration::from_secs(settings.config.runner.stall_warning_s.max(1)),
    }
}

/// Prepares the step (when `prepare`) and computes its key and why it would run, on a
/// guarded thread.
fn key_phase(
    step: &Arc<dyn Step>,
    settings: &Arc<Settings>,
    stat: &Arc<StatCache>,
    forced: bool,
    prepare: bool,
    warn: &dyn Fn(&str),
) -> Phase<(StepKey, Vec<StaleReason>)> {
    let name = step.name();
    let signals = Arc::new(Signals::default());
    let work = {
        let (step, settings, stat, signals) = (
            step.clone(),
            settings.clone(),
            stat.clone(),
            signals.clone(),
        );
        move || {
            fault::inject_key(step.name(), &signals)?;
            if prepare {
                step.prepare(&settings)?;
            }
            stale_reasons(step.as_ref(), &settings, &stat, forced)
        }
    };
    let what = format!("computing the key of step `{name}`");
    let limits = limits(settings);
    let ended = guard(
        &format!("key-{name}"),
        &what,
        limits,
        &signals,
        &[],
        warn,
        work,
    );
    let timed_out = format!(
        "timed out computing the key of step `{name}` after {} s (`runner.step_timeout_s`)",
        limits.timeout.as_secs()
    );
    Phase::new(ended, &what, timed_out)
}

/// Runs attempt `attempt` of the step on a guarded thread.
fn run_phase(
    step: &Arc<dyn Step>,
    settings: &Arc<Settings>,
    out: &Output,
    stat: &Arc<StatCache>,
    attempt: u32,
    warn: &dyn Fn(&str),
) -> Phase<StepOutput> {
    let name = step.name();
    let signals = Arc::new(Signals::default());
    let outputs = step.outputs(settings);
    let work = {
        let ctx = StepContext {
            settings: settings.clone(),
            out: *out,
            signals: signals.clone(),
            stat: stat.clone(),
            attempt,
        };
        let (step, outputs) = (step.clone(), outputs.clone());
        move || {
            fault::inject(step.name(), ctx.attempt, &ctx.signals, &outputs)?;
            step.run(&ctx)
        }
    };
    let what = format!("step `{name}`");
    let limits = limits(settings);
    let ended = guard(
        &format!("step-{name}"),
        &what,
        limits,
        &signals,
        &outputs,
        warn,
        work,
    );
    let timed_out = format!(
        "step `{name}` exceeded its timeout of {} s (`runner.step_timeout_s`)",
        limits.timeout.as_secs()
    );
    Phase::new(ended, &what, timed_out)
}
