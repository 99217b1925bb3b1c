//! Running steps through the engine for `extract`, `analyze` and `reproduce`, and printing
//! the end-of-run summary.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;

use super::steps::{analyze_steps, extract_steps};
use crate::analyze::report::{Outcome, Report as AnalysisReport, FILE as REPORT_FILE};
use crate::analyze::step::is_analysis_step;
use crate::cli::{GlobalArgs, PipelineArgs};
use crate::config::Settings;
use crate::error::{Error, ErrorKind, Result};
use crate::runner::engine::{self, RunOptions};
use crate::runner::events::status_line;
use crate::runner::ledger::{self, StepStatus};
use crate::runner::report::{PipelineReport, StepReport};
use crate::runner::stat_cache::{self, StatCache};
use crate::runner::Step;
use crate::ui::Output;

use super::settings::{self, CommandFlags};

/// The settings and the steps of the pipeline `args` names: Block 1 and Block 2, or Block 2
/// only with `--from-checkpoint`.
pub fn plan(global: &GlobalArgs, args: &PipelineArgs) -> Result<(Settings, Vec<Arc<dyn Step>>)> {
    let settings = settings::load(
        global,
        CommandFlags {
            store: Some(&args.store),
            db: Some(&args.db),
            private: Some(&args.private),
            render: Some(&args.render),
        },
    )?;
    // As for `extract`, the store is opened by the extract step, under its timeout.
    let mut steps = if args.from_checkpoint {
        Vec::new()
    } else {
        extract_steps()
    };
    steps.extend(analyze_steps(&settings));
    Ok((settings, steps))
}

/// The run options of the global flags.
pub fn options(global: &GlobalArgs) -> RunOptions {
    RunOptions {
        force: global.force,
        force_steps: global.force_step.clone(),
        dry_run: global.dry_run,
    }
}

/// Checks that every `--force-step` names one of `steps`.
pub fn check_force_steps(global: &GlobalArgs, steps: &[Arc<dyn Step>]) -> Result<()> {
    for name in &global.force_step {
        if !steps.iter().any(|s| s.name() == name) {
            let known: Vec<&str> = steps.iter().map(|s| s.name()).collect();
            return Err(Error::usage(anyhow!(
                "`--force-step {name}`: no such step (steps: {})",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Runs `steps` and reports; a failed or interrupted step ends the command with its error.
pub fn run(
    settings: Settings,
    global: &GlobalArgs,
    out: &Output,
    command: &str,
    steps: Vec<Arc<dyn Step>>,
) -> Result<()> {
    check_force_steps(global, &steps)?;
    let opts = options(global);
    let settings = Arc::new(settings);
    let started = std::time::Instant::now();
    let report =
        engine::execute(steps, settings.clone(), out, command, &opts).map_err(Error::pipeline)?;
    let seconds = started.elapsed().as_secs_f64();
    // Read once for both reports: the stat cache the run saved remembers the checkpoint's digest.
    let stat = StatCache::load(&stat_cache::path_in(&settings.config.outputs.cache_dir));
    let analysis = (!opts.dry_run && report.steps.iter().any(|s| is_analysis_step(&s.step)))
        .then(|| AnalysisReport::from_pipeline(&settings.config, &report, &stat));
    if let Some(analysis) = &analysis {
        analysis
            .write(&settings.config.outputs.outputs_dir)
            .map_err(Error::pipeline)?;
    }
    let page = (!opts.dry_run && !global.no_report)
        .then(|| write_page(&settings, &report, &stat, out))
        .flatten();
    if let Some(path) = &global.metrics_file {
        super::metrics_file::write(path, command, &report, seconds).map_err(Error::pipeline)?;
    }
    print_report(&report, out, &opts);
    if report.success && !opts.dry_run && !out.json {
        print_products(&settings, &report, analysis.as_ref(), out);
    }
    if let Some(page) = page {
        out.status(status_line(
            "run report",
            &format!("{} (open it in a browser)", page.display()),
        ));
    }
    if report.interrupted {
        return Err(Error::interrupted());
    }
    if !report.success {
        return Err(failure(command, &report));
    }
    Ok(())
}

/// Writes the run's HTML report beside the other outputs; a failure to write it is a warning,
/// never the run's failure.
fn write_page(
    settings: &Settings,
    report: &PipelineReport,
    stat: &StatCache,
    out: &Output,
) -> Option<PathBuf> {
    let cache_dir = &settings.config.outputs.cache_dir;
    let output = crate::report::default_path(settings, &report.run_id, true);
    let written = ledger::find(cache_dir, &report.run_id)
        .and_then(|run| crate::report::write(settings, run, &output, false, stat));
    match written {
        Ok(path) => Some(path),
        Err(e) => {
            out.warn(format!(
                "cannot write the run report `{}`: {e:#}",
                output.display()
            ));
            None
        }
    }
}

/// The error that ends a failed run: it lists the failed steps; a usage or configuration
/// error found inside a step keeps its kind (exit 2) and its hint, which is printed once.
fn failure(command: &str, report: &PipelineReport) -> Error {
    let failed: Vec<&StepReport> = report
        .steps
        .iter()
        .filter(|s| !s.status.is_success() && s.status != StepStatus::Skipped)
        .collect();
    let list: Vec<String> = failed
        .iter()
        .map(|s| {
            format!(
                "step `{}` {}: {}",
                s.step,
                status_word(s.status),
                s.error.as_deref().unwrap_or("")
            )
        })
        .collect();
    let message = anyhow!(
        "{command} failed (run {}):\n{}",
        report.run_id,
        list.join("\n")
    );
    let usage = failed
        .iter()
        .find(|s| s.error_kind == Some(ErrorKind::Usage));
    let logs = format!("`mlrepro logs {}` shows the whole log", report.run_id);
    match usage {
        Some(step) => Error::usage(message).with_hint(step.hint.clone().unwrap_or(logs)),
        None => Error::pipeline(message).with_hint(logs),
    }
}

fn status_word(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Ran => "ran",
        StepStatus::Cached => "was up to date",
        StepStatus::Flaky => "passed after a retry",
        StepStatus::Failed => "failed",
        StepStatus::TimedOut => "timed out",
        StepStatus::Cancelled => "was cancelled",
        StepStatus::Skipped => "was skipped",
    }
}

fn print_report(report: &PipelineReport, out: &Output, opts: &RunOptions) {
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).expect("the report serializes")
        );
        return;
    }
    if opts.dry_run {
        return;
    }
    let ran = report
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Ran | StepStatus::Flaky))
        .count();
    if report.success && ran == 0 {
        out.status(format!(
            "nothing to do: every step is up to date (run {})",
            report.run_id
        ));
    } else if report.success {
        out.status(format!("done: {ran} step(s) ran (run {})", report.run_id));
    }
}

/// Lists what the run produced and where, after a success.
fn print_products(
    settings: &Settings,
    report: &PipelineReport,
    analysis: Option<&AnalysisReport>,
    out: &Output,
) {
    let o = &settings.config.outputs;
    if report.steps.iter().any(|s| s.step == "extract") {
        out.status(status_line(
            "checkpoint",
            &format!(
                "{} (public; publish it with its .sha256, parquet/ and SCHEMA.md)",
                o.db.display()
            ),
        ));
        out.status(status_line(
            "private",
            &format!(
                "{}/ (private: subject lookup and secret; never publish)",
                o.private_dir.display()
            ),
        ));
    } else if report.steps.iter().any(|s| s.step == "verify") {
        out.status(status_line(
            "checkpoint",
            &format!("{} (verified)", o.db.display()),
        ));
    }
    if let Some(a) = analysis {
        let generated = a
            .figures
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Generated { .. }));
        let skipped: Vec<&str> = a
            .figures
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Skipped { .. }))
            .map(|e| e.name.as_str())
            .collect();
        let formats: Vec<String> = settings
            .config
            .analysis
            .formats
            .iter()
            .map(|f| format!("{f:?}").to_uppercase())
            .collect();
        out.status(status_line(
            "figures",
            &format!(
                "{}/ ({} figures as {}, plotted data in data/*.json{})",
                o.figures_dir.display(),
                generated.count(),
                formats.join(", "),
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; skipped: {}", skipped.join(", "))
                }
            ),
        ));
        out.status(status_line(
            "tables",
            &format!(
                "{}/ ({} LaTeX tables and numbers.tex)",
                o.outputs_dir.display(),
                a.tables
                    .iter()
                    .filter(|e| e.name.ends_with(".tex"))
                    .count()
                    .saturating_sub(1)
            ),
        ));
        out.status(status_line(
            "analysis",
            &format!(
                "{} (status {})",
                o.outputs_dir.join(REPORT_FILE).display(),
                a.status
            ),
        ));
    }
}
