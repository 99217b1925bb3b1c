//! Running a list of steps: freshness, retries, timeouts, the stall watchdog, Ctrl-C, the
//! lock, step records and the ledger.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde::Serialize;

use super::fingerprint::{compare, StaleReason, StepKey};
use super::ledger::{Ledger, StepEntry, StepStatus};
use super::record::{self, StepRecord};
use super::retry::{is_transient, jitter_unit, RetryPolicy};
use super::stat_cache::StatCache;
use super::step::{Signals, Step, StepContext, StepOutput};
use super::{fault, lock};
use crate::config::Settings;
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
        }
    }

    /// The ledger's record of this report, with the step's key and output digests.
    fn ledger_entry(&self, key: &StepKey, outputs: BTreeMap<String, String>) -> StepEntry {
        StepEntry {
            step: self.step.clone(),
            status: self.status,
            reasons: self.reasons.clone(),
            attempts: self.attempts,
            seconds: self.seconds,
            key_digest: key.digest(),
            outputs,
            error: self.error.clone(),
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
    Arc::new(StatCache::load(
        &settings.config.outputs.cache_dir.join("stat-v1.json"),
    ))
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
/// stale too, since it reads what the earlier one writes.
pub fn freshness(
    steps: &[Arc<dyn Step>],
    settings: &Settings,
    opts: &RunOptions,
) -> Result<Vec<Freshness>> {
    let stat = stat_cache(settings);
    let mut out = Vec::new();
    let mut upstream: Option<String> = None;
    for step in steps {
        let forced = opts.force || opts.force_steps.iter().any(|s| s == step.name());
        let (_, reasons) = stale_reasons(step.as_ref(), settings, &stat, forced)?;
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
    let _lock = lock::acquire(
        &cache_dir,
        Duration::from_secs(settings.config.runner.lock_timeout_s),
    )?;
    record::mark_cache_dir(&cache_dir)?;
    install_interrupt_handler();
    let mut ledger = Ledger::start(&cache_dir, command);
    ledger.log(&format!(
        "mlrepro {} {command} (config `{}`)",
        env!("CARGO_PKG_VERSION"),
        settings.config_path.display()
    ));
    let stat = stat_cache(&settings);
    let policy = RetryPolicy::from_config(&settings.config.runner);
    let mut reports = Vec::new();
    let mut blocked = false;
    for step in steps {
        let name = step.name().to_string();
        if blocked || interrupted() {
            let status = if interrupted() {
                StepStatus::Cancelled
            } else {
                StepStatus::Skipped
            };
            reports.push(StepReport::new(&name, status, vec![]));
            continue;
        }
        let forced = opts.force || opts.force_steps.contains(&name);
        let started = Instant::now();
        let prepared = if opts.dry_run {
            Ok(())
        } else {
            step.prepare(&settings)
        };
        let (key, reasons) =
            match prepared.and_then(|()| stale_reasons(step.as_ref(), &settings, &stat, forced)) {
                Ok(x) => x,
                Err(e) => {
                    let msg = format!("{e:#}");
                    ledger.log(&format!("{name}: cannot compute its inputs: {msg}"));
                    blocked |= step.required();
                    reports.push(StepReport {
                        error: Some(msg),
                        ..StepReport::new(&name, StepStatus::Failed, vec![])
                    });
                    continue;
                }
            };
        let reason_text: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        if reasons.is_empty() {
            out.status(format!("{:>12} {name}", "Fresh"));
            ledger.log(&format!("{name}: up to date"));
            let report = StepReport::new(&name, StepStatus::Cached, vec![]);
            ledger.step(report.ledger_entry(&key, BTreeMap::new()));
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
        let (status, attempts, result) =
            run_with_retries(&step, &settings, out, &stat, &policy, &mut ledger);
        let seconds = started.elapsed().as_secs_f64();
        let outcome = result.and_then(|output| {
            let outputs = check_outputs(step.as_ref(), &settings, &stat)?;
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
                ledger.step(report.ledger_entry(&key, outputs));
                reports.push(report);
            }
            Err(e) => {
                let status = if status.is_success() {
                    StepStatus::Failed
                } else {
                    status
                };
                let msg = format!("{e:#}");
                blocked |= step.required();
                out.status(format!(
                    "{:>12} {name} after {attempts} attempt(s): {msg}",
                    "Failed"
                ));
                ledger.log(&format!(
                    "{name}: {status:?} after {attempts} attempt(s): {msg}"
                ));
                let report = StepReport {
                    attempts,
                    seconds,
                    error: Some(msg),
                    ..StepReport::new(&name, status, reason_text)
                };
                ledger.step(report.ledger_entry(&key, BTreeMap::new()));
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
    Ok(PipelineReport {
        run_id: ledger.id().to_string(),
        steps: reports,
        success,
        interrupted: interrupted(),
    })
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

/// Runs one step with its retry policy; each attempt runs on its own thread under the
/// timeout and the stall watchdog.
fn run_with_retries(
    step: &Arc<dyn Step>,
    settings: &Arc<Settings>,
    out: &Output,
    stat: &Arc<StatCache>,
    policy: &RetryPolicy,
    ledger: &mut Ledger,
) -> (StepStatus, u32, Result<StepOutput>) {
    let name = step.name().to_string();
    let mut attempt = 1;
    loop {
        let (status, result) = run_attempt(step, settings, out, stat, attempt);
        match result {
            Ok(summary) => {
                return (
                    if attempt > 1 {
                        StepStatus::Flaky
                    } else {
                        StepStatus::Ran
                    },
                    attempt,
                    Ok(summary),
                )
            }
            Err(e)
                if status == StepStatus::Failed
                    && attempt < policy.attempts
                    && is_transient(&e)
                    && !interrupted() =>
            {
                let delay = policy.delay(attempt + 1, jitter_unit());
                let line = format!(
                    "{name}: attempt {attempt}/{} failed with a transient error: {e:#}; retrying in {:.2} s",
                    policy.attempts,
                    delay.as_secs_f64()
                );
                out.warn(&line);
                ledger.log(&line);
                std::thread::sleep(delay);
                attempt += 1;
            }
            Err(e) => return (status, attempt, Err(e)),
        }
    }
}

fn run_attempt(
    step: &Arc<dyn Step>,
    settings: &Arc<Settings>,
    out: &Output,
    stat: &Arc<StatCache>,
    attempt: u32,
) -> (StepStatus, Result<StepOutput>) {
    let signals = Arc::new(Signals::default());
    let ctx = StepContext {
        settings: settings.clone(),
        out: *out,
        signals: signals.clone(),
        stat: stat.clone(),
        attempt,
    };
    let (tx, rx) = mpsc::channel();
    let worker_step = step.clone();
    let name = step.name().to_string();
    let spawned = std::thread::Builder::new()
        .name(format!("step-{name}"))
        .spawn(move || {
            let result = fault::inject(worker_step.name(), ctx.attempt, &ctx.signals)
                .and_then(|()| worker_step.run(&ctx));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return (
            StepStatus::Failed,
            Err(anyhow!("cannot start a thread for step `{name}`: {e}")),
        );
    }
    let timeout = Duration::from_secs(settings.config.runner.step_timeout_s);
    let stall = Duration::from_secs(settings.config.runner.stall_warning_s.max(1));
    let started = Instant::now();
    let mut last_beat = (0, Instant::now());
    let outputs = step.outputs(settings);
    let mut last_written = written_bytes();
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => return (StepStatus::Failed, result),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return (
                    StepStatus::Failed,
                    Err(anyhow!(
                        "step `{name}` stopped without a result (it panicked)"
                    )),
                )
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if interrupted() {
            signals.cancel.store(true, Ordering::SeqCst);
            // Give the workers a moment to finish the run in flight; nothing partial is promoted.
            let _ = rx.recv_timeout(Duration::from_secs(5));
            return (StepStatus::Cancelled, Err(anyhow!("interrupted")));
        }
        if started.elapsed() >= timeout {
            signals.cancel.store(true, Ordering::SeqCst);
            return (
                StepStatus::TimedOut,
                Err(anyhow!(
                    "step `{name}` exceeded its timeout of {} s (`runner.step_timeout_s`)",
                    timeout.as_secs()
                )),
            );
        }
        let beat = signals.heartbeat.load(Ordering::Relaxed);
        if beat != last_beat.0 {
            last_beat = (beat, Instant::now());
        } else if last_beat.1.elapsed() >= stall {
            let written = written_bytes();
            let growth = match (last_written, written) {
                (Some(before), Some(now)) => bytes_text(now.saturating_sub(before)),
                _ => "unknown".into(),
            };
            out.warn(format!(
                "step `{name}` made no progress for {} s (running {:.0} s, RSS {}, wrote {growth} meanwhile, outputs {}{}); it stops at {} s",
                stall.as_secs(),
                started.elapsed().as_secs_f64(),
                rss().map_or_else(|| "unknown".into(), bytes_text),
                bytes_text(outputs_size(&outputs)),
                in_flight_text(&signals.in_flight()),
                timeout.as_secs()
            ));
            last_beat.1 = Instant::now();
            last_written = written;
        }
    }
}

/// `; in flight: a, b, c and N more`, or nothing when the step names no work in flight.
fn in_flight_text(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.is_empty() {
        return String::new();
    }
    let mut text = format!(
        "; in flight: {}",
        items[..items.len().min(SHOWN)].join(", ")
    );
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

/// Bytes this process has written so far (`wchar` of `/proc/self/io`).
fn written_bytes() -> Option<u64> {
    proc_number("/proc/self/io", "wchar:")
}

/// Total size of the outputs that exist now (a step writing them directly grows it).
fn outputs_size(outputs: &[PathBuf]) -> u64 {
    outputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// A byte count for people: `0 B`, `4.1 MB`, `812 kB`, `41 MB`.
fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Resident memory of this process in bytes (`VmRSS` of `/proc/self/status`, in KiB).
fn rss() -> Option<u64> {
    proc_number("/proc/self/status", "VmRSS:").map(|kib| kib * 1024)
}

/// The number after `key` on its line of a `/proc` file (a unit after it is ignored).
fn proc_number(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix(key))?;
    line.split_whitespace().next()?.parse().ok()
}

/// Whether a path has an up-to-date record (used by `clean` messages and tests).
pub fn has_record(cache_dir: &Path, step: &str) -> bool {
    record::load(cache_dir, step).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_as_people_write_them() {
        assert_eq!(bytes_text(0), "0 B");
        assert_eq!(bytes_text(999), "999 B");
        assert_eq!(bytes_text(1000), "1.0 kB");
        assert_eq!(bytes_text(812_345), "812 kB");
        assert_eq!(bytes_text(41_415_202), "41 MB");
        assert_eq!(bytes_text(4_141_520), "4.1 MB");
        assert_eq!(bytes_text(1_234_567_890_123_456), "1235 TB");
    }

    #[test]
    fn this_process_reports_its_memory_and_what_it_wrote() {
        assert!(rss().is_some_and(|bytes| bytes > 0));
        let before = written_bytes().expect("/proc/self/io is readable on Linux");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out");
        std::fs::write(&file, vec![0u8; 10_000]).unwrap();
        assert!(written_bytes().unwrap() >= before + 10_000);
        assert_eq!(outputs_size(&[file, dir.path().join("absent")]), 10_000);
    }
}
