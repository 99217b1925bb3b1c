//! One guarded phase of a step (computing its key, or running it) on its own thread under
//! the step's timeout, the stall watchdog and Ctrl-C, retried on a transient error.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Result};

use super::fingerprint::{compare, StaleReason, StepKey};
use super::guard::{guard, Ended, Limits, JOIN_GRACE};
use super::interrupt::interrupted;
use super::ledger::StepStatus;
use super::record;
use super::retry::{is_transient, jitter_unit, RetryPolicy};
use super::stat_cache::StatCache;
use super::step::{Step, StepContext, StepOutput};
use crate::base::cancel::Signals;
use crate::base::fault;
use crate::config::Settings;
use crate::ui::Output;

/// Why `step` would run now (empty when up to date), with its current key.
pub(super) fn stale_reasons(
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

/// How one guarded phase of a step ended, in the ledger's terms.
pub(super) struct Phase<T> {
    /// `Failed`, `TimedOut` or `Cancelled` when `result` is an error.
    pub(super) status: StepStatus,
    /// What the work returned, or why it has no result.
    pub(super) result: Result<T>,
    /// Its thread did not stop after its cancellation and may still be writing.
    pub(super) runaway: bool,
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
pub(super) fn retried<T>(
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
pub(super) fn key_phase(
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
pub(super) fn run_phase(
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
