//! The event stream of a run. The engine says what happens to each step as [`StepEvent`]s,
//! and every display of a run consumes the same events: the terminal lines
//! ([`TerminalSink`]), the ledger and its log ([`super::ledger::Ledger`]) and the `--json`
//! report ([`ReportSink`]). So a step's outcome reads the same everywhere, spelled by
//! [`super::ledger::StepStatus`].

use std::collections::BTreeMap;

use super::fingerprint::StepKey;
use super::ledger::StepStatus;
use super::report::StepReport;
use crate::ui::Output;

/// Something that happened to a step. Each step ends with exactly one event that carries its
/// [`StepReport`] (all but [`StepEvent::Started`] and [`StepEvent::Retried`]).
pub enum StepEvent<'a> {
    /// Not run: an earlier required step failed, or the run was interrupted.
    Blocked {
        /// The step's report (`skipped` or `cancelled`).
        report: &'a StepReport,
        /// Whether the ledger records it (not in a dry run).
        recorded: bool,
        /// Seconds since the run started.
        offset: f64,
    },
    /// Its key could not be computed.
    KeyFailed {
        /// The step's report, with the error.
        report: &'a StepReport,
        /// Seconds since the run started.
        offset: f64,
    },
    /// Up to date; not run.
    Fresh {
        /// The step's report (`cached`).
        report: &'a StepReport,
        /// Its key.
        key: &'a StepKey,
        /// What the step wants the user to know even when it does not run.
        notes: &'a [String],
        /// Seconds since the run started.
        offset: f64,
    },
    /// A dry run: the step would run, for the reasons in its report.
    WouldRun {
        /// The step's report (`skipped`, with the reasons).
        report: &'a StepReport,
    },
    /// The step starts, for these reasons.
    Started {
        /// The step.
        step: &'a str,
        /// Why it runs.
        reasons: &'a [String],
    },
    /// A phase failed with a transient error and is tried again; or a warning while it ran.
    Retried {
        /// The message, naming the step.
        line: &'a str,
    },
    /// The step ran, and succeeded or failed.
    Finished {
        /// The step's report.
        report: &'a StepReport,
        /// Its key.
        key: &'a StepKey,
        /// The digests of its outputs, on success.
        outputs: &'a BTreeMap<String, String>,
        /// Seconds since the run started.
        offset: f64,
    },
}

/// A display of a run's events.
pub trait Sink {
    /// Shows or records `event`.
    fn on(&mut self, event: &StepEvent);
}

/// A status line as the terminal shows it: the verb right-aligned in a column of 12, then the
/// text (as cargo does).
pub fn status_line(verb: &str, text: &str) -> String {
    format!("{verb:>12} {text}")
}

/// The most reasons a terminal line names; the ledger, its log and `--json` keep them all.
const SHOWN_REASONS: usize = 3;

/// Why a step is stale, on one line: the first few reasons, then how many more there are
/// (a new extractor version changes the input of every run).
pub fn brief_reasons(reasons: &[String]) -> String {
    if reasons.len() <= SHOWN_REASONS + 1 {
        return reasons.join("; ");
    }
    format!(
        "{}; and {} more",
        reasons[..SHOWN_REASONS].join("; "),
        reasons.len() - SHOWN_REASONS
    )
}

/// The terminal: one status line per event on stderr, warnings for retries.
pub struct TerminalSink<'a> {
    /// Where the lines go.
    pub out: &'a Output,
}

impl Sink for TerminalSink<'_> {
    fn on(&mut self, event: &StepEvent) {
        let out = self.out;
        match event {
            StepEvent::Blocked { .. } | StepEvent::KeyFailed { .. } => {}
            StepEvent::Fresh { report, notes, .. } => {
                out.status(status_line("Fresh", &report.step));
                for note in *notes {
                    out.status(status_line("Note", &format!("{}: {note}", report.step)));
                }
            }
            StepEvent::WouldRun { report } => out.status(status_line(
                "Would run",
                &format!("{}: {}", report.step, brief_reasons(&report.reasons)),
            )),
            StepEvent::Started { step, reasons } => {
                out.status(status_line(
                    "Running",
                    &format!("{step}: {}", brief_reasons(reasons)),
                ));
            }
            StepEvent::Retried { line } => out.warn(line),
            StepEvent::Finished { report, .. } => {
                let (name, attempts) = (&report.step, report.attempts);
                let line = match (&report.summary, &report.error) {
                    (Some(summary), None) => status_line(
                        if report.status == StepStatus::Flaky {
                            "Flaky"
                        } else {
                            "Done"
                        },
                        &format!("{name} in {:.2} s: {summary}", report.seconds),
                    ),
                    (_, error) => status_line(
                        "Failed",
                        &format!(
                            "{name} after {attempts} attempt(s): {}",
                            error.as_deref().unwrap_or_default()
                        ),
                    ),
                };
                out.status(line);
            }
        }
    }
}

/// The reports of the steps, in order, for the run's summary and `--json`.
#[derive(Default)]
pub struct ReportSink {
    /// One report per step.
    pub reports: Vec<StepReport>,
}

impl Sink for ReportSink {
    fn on(&mut self, event: &StepEvent) {
        match event {
            StepEvent::Blocked { report, .. }
            | StepEvent::KeyFailed { report, .. }
            | StepEvent::Fresh { report, .. }
            | StepEvent::WouldRun { report }
            | StepEvent::Finished { report, .. } => self.reports.push((*report).clone()),
            StepEvent::Started { .. } | StepEvent::Retried { .. } => {}
        }
    }
}

/// Sends `event` to every sink, in order.
pub fn emit(sinks: &mut [&mut dyn Sink], event: &StepEvent) {
    for sink in sinks.iter_mut() {
        sink.on(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_of_reasons_is_cut_to_the_first_few_and_a_count() {
        let reasons: Vec<String> = (1..=400)
            .map(|i| format!("input `run {i}` changed"))
            .collect();
        assert_eq!(
            brief_reasons(&reasons),
            "input `run 1` changed; input `run 2` changed; input `run 3` changed; and 397 more"
        );
        assert_eq!(brief_reasons(&reasons[..4]), reasons[..4].join("; "));
    }

    #[test]
    fn status_lines_align_their_verbs() {
        assert_eq!(status_line("Fresh", "extract"), "       Fresh extract");
        assert_eq!(status_line("Would run", "x: y"), "   Would run x: y");
    }

    #[test]
    fn every_step_ending_event_reaches_the_report() {
        let report = StepReport::new("tables", StepStatus::Cached, vec![]);
        let key = StepKey::new("tables", 1);
        let mut sink = ReportSink::default();
        let outputs = BTreeMap::new();
        for event in [
            StepEvent::Started {
                step: "tables",
                reasons: &["code changed".to_string()],
            },
            StepEvent::Retried { line: "retrying" },
            StepEvent::Fresh {
                report: &report,
                key: &key,
                notes: &[],
                offset: 0.0,
            },
            StepEvent::Finished {
                report: &report,
                key: &key,
                outputs: &outputs,
                offset: 0.0,
            },
        ] {
            sink.on(&event);
        }
        assert_eq!(sink.reports.len(), 2);
    }
}
