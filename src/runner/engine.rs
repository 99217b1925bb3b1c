//! Running a list of steps: freshness, retries, timeouts, the stall watchdog, Ctrl-C, the
//! lock and step records. What happens to each step goes out as events
//! ([`super::events`]) to the terminal, the ledger and the run's report.
//!
//! Each step has two phases, each on its own thread under the step's timeout, the stall
//! watchdog and Ctrl-C ([`super::guard`]), and each retried on a transient error with the
//! same [`RetryPolicy`]: computing its key (after `prepare`; for `extract` this lists the
//! store and decodes each pickle whose stamp changed, which can wait on a stalled mount), then
//! running it.
//! `status` and `--dry-run` compute keys the same way, so they cannot hang either.
//!
//! A thread cannot be killed. When a phase passes `runner.step_timeout_s` (or the user
//! interrupts it), its cancel flag is set and its thread gets [`super::guard::JOIN_GRACE`] to stop. A
//! thread that stops has been joined: the step is recorded `timed_out` (or `cancelled`) and
//! the run goes on as usual. A thread that does not stop may still be writing: the step is
//! recorded, no later step runs, and this process never releases the project lock; the lock
//! goes when the process exits (status 1), which ends that thread with it. So nothing a
//! timed-out step writes can land while another mlrepro holds the lock.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Result};

use super::events::{emit, ReportSink, Sink, StepEvent, TerminalSink};
use super::graph;
use super::interrupt::{install_interrupt_handler, interrupted};
use super::ledger::{Ledger, RunContext, StepStatus};
use super::lock;
use super::phase::{key_phase, retried, run_phase};
use super::record::{self, StepRecord};
use super::report::{Freshness, PipelineReport, StepReport};
use super::retry::RetryPolicy;
use super::stat_cache::StatCache;
use super::step::{Step, StepOutput};
use crate::config::Settings;
use crate::ui::Output;

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

fn stat_cache(settings: &Settings) -> Arc<StatCache> {
    Arc::new(StatCache::load(&super::stat_cache::path_in(
        &settings.config.outputs.cache_dir,
    )))
}

/// Freshness of every step, without running anything. A step that depends on a stale one
/// ([`graph::of`]) is reported stale too, naming the step whose own change starts the
/// reruns, since it reads what that step writes; a stale figure leaves the other figures
/// fresh. Keys are computed under the steps' timeout and retry policy.
pub fn freshness(
    steps: &[Arc<dyn Step>],
    settings: &Settings,
    opts: &RunOptions,
) -> Result<Vec<Freshness>> {
    let settings = Arc::new(settings.clone());
    let stat = stat_cache(&settings);
    let policy = RetryPolicy::from_config(&settings.config.runner);
    let warn = |line: &str| eprintln!("warning: {line}");
    let nodes = graph::of(steps, &settings);
    let mut out = Vec::new();
    // Each step that would rerun → the step whose own change starts its rerun.
    let mut rerun: BTreeMap<String, String> = BTreeMap::new();
    for (step, node) in steps.iter().zip(&nodes) {
        let forced = opts.force || opts.force_steps.iter().any(|s| s == step.name());
        let (keyed, _) = retried(step.name(), &policy, &mut |line| warn(line), |_| {
            key_phase(step, &settings, &stat, forced, false, &warn)
        });
        let (_, reasons) = keyed.result?;
        let mut reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        let root = if reasons.is_empty() {
            let up = node.needs.iter().find_map(|need| rerun.get(need)).cloned();
            if let Some(up) = &up {
                reasons.push(format!("step `{up}` will rerun first"));
            }
            up
        } else {
            Some(step.name().to_string())
        };
        if let Some(root) = root {
            rerun.insert(step.name().to_string(), root);
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
        config_digest: crate::base::hashing::sha256_file(&settings.config_path).unwrap_or_default(),
        graph: graph::of(&steps, &settings),
    };
    let mut ledger = Ledger::start(&cache_dir, command, context, *out);
    ledger.log(&format!(
        "mlrepro {} {command} (config `{}`)",
        env!("CARGO_PKG_VERSION"),
        settings.config_path.display()
    ));
    let stat = stat_cache(&settings);
    let policy = RetryPolicy::from_config(&settings.config.runner);
    let warn = |line: &str| out.warn(line);
    let mut terminal = TerminalSink { out };
    let mut collected = ReportSink::default();
    let mut blocked = false;
    // A thread that did not stop after its cancellation may still write.
    let mut runaway = false;
    for step in steps {
        let offset = ledger.elapsed();
        let mut sinks: [&mut dyn Sink; 3] = [&mut terminal, &mut ledger, &mut collected];
        let name = step.name().to_string();
        if blocked || runaway || interrupted() {
            let status = if interrupted() {
                StepStatus::Cancelled
            } else {
                StepStatus::Skipped
            };
            let report = StepReport::new(&name, status, vec![]);
            emit(
                &mut sinks,
                &StepEvent::Blocked {
                    report: &report,
                    recorded: !opts.dry_run,
                    offset,
                },
            );
            continue;
        }
        let forced = opts.force || opts.force_steps.contains(&name);
        let started = Instant::now();
        let (keyed, key_attempts) = retried(
            &name,
            &policy,
            &mut |line| emit(&mut sinks, &StepEvent::Retried { line }),
            |_| key_phase(&step, &settings, &stat, forced, !opts.dry_run, &warn),
        );
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
                emit(
                    &mut sinks,
                    &StepEvent::KeyFailed {
                        report: &report,
                        offset,
                    },
                );
                blocked |= step.required();
                continue;
            }
        };
        if out.verbose >= 2 {
            if let Ok(json) = serde_json::to_string(&key) {
                out.detail(format!("{name}: key {json}"));
            }
        }
        let reason_text: Vec<String> = reasons.iter().map(ToString::to_string).collect();
        if reasons.is_empty() {
            let notes = step.notes();
            let report = StepReport {
                summary: (!notes.is_empty()).then(|| notes.join("; ")),
                details: (!notes.is_empty()).then(|| serde_json::json!({ "notes": notes })),
                ..StepReport::new(&name, StepStatus::Cached, vec![])
            };
            emit(
                &mut sinks,
                &StepEvent::Fresh {
                    report: &report,
                    key: &key,
                    notes: &notes,
                    offset,
                },
            );
            continue;
        }
        if opts.dry_run {
            let report = StepReport::new(&name, StepStatus::Skipped, reason_text);
            emit(&mut sinks, &StepEvent::WouldRun { report: &report });
            continue;
        }
        emit(
            &mut sinks,
            &StepEvent::Started {
                step: &name,
                reasons: &reason_text,
            },
        );
        let (ran, run_attempts) = retried(
            &name,
            &policy,
            &mut |line| emit(&mut sinks, &StepEvent::Retried { line }),
            |attempt| run_phase(&step, &settings, out, &stat, attempt, &warn),
        );
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
        let base = StepReport {
            attempts,
            seconds,
            ..StepReport::new(&name, status, reason_text)
        };
        let (report, outputs) = match outcome {
            Ok((StepOutput { summary, details }, outputs)) => (
                StepReport {
                    summary: Some(summary),
                    details,
                    ..base
                },
                outputs,
            ),
            Err(e) => {
                blocked |= step.required();
                let status = if status.is_success() {
                    StepStatus::Failed
                } else {
                    status
                };
                (
                    StepReport { status, ..base }.failed_with(&e),
                    BTreeMap::new(),
                )
            }
        };
        emit(
            &mut sinks,
            &StepEvent::Finished {
                report: &report,
                key: &key,
                outputs: &outputs,
                offset,
            },
        );
    }
    let reports = collected.reports;
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
