//! `mlrepro history` and `mlrepro logs`: past pipeline runs from the ledger.

use anyhow::anyhow;

use crate::cli::{GlobalArgs, HistoryAction, HistoryArgs, LogsArgs};
use crate::error::{Error, Result};
use crate::fsx;
use crate::runner::ledger;
use crate::ui::sanitize::terminal;
use crate::ui::Output;

use super::settings::{self, CommandFlags};

/// Runs `mlrepro history [show ID]`.
pub fn run(global: &GlobalArgs, args: &HistoryArgs, out: &Output) -> Result<()> {
    let settings = settings::load(global, CommandFlags::default())?;
    let cache_dir = &settings.config.outputs.cache_dir;
    match &args.action {
        None => {
            let runs = ledger::runs(cache_dir).map_err(Error::pipeline)?;
            let runs: Vec<_> = runs.into_iter().take(args.limit).collect();
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&runs).expect("runs serialize")
                );
            } else if runs.is_empty() {
                println!("no pipeline runs recorded yet");
            } else {
                println!(
                    "{:<28} {:<11} {:<11} {:>9}  steps",
                    "id", "command", "status", "seconds"
                );
                for r in runs {
                    let steps: Vec<String> = r
                        .steps
                        .iter()
                        .map(|s| format!("{}:{}", s.step, s.status.as_str()))
                        .collect();
                    let secs = r.seconds.map_or("-".into(), |s| format!("{s:.2}"));
                    println!(
                        "{:<28} {:<11} {:<11} {:>9}  {}",
                        r.id,
                        r.command,
                        r.status,
                        secs,
                        terminal(&steps.join(" "))
                    );
                }
            }
        }
        Some(HistoryAction::Show { id }) => {
            let run = ledger::find(cache_dir, id).map_err(Error::usage)?;
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&run).expect("a run serializes")
                );
                return Ok(());
            }
            println!(
                "run {}: `mlrepro {}` started {}, {}",
                run.id, run.command, run.started, run.status
            );
            for s in &run.steps {
                println!(
                    "  {:<12} {:<9} {:>8.2} s  attempts {}",
                    s.step,
                    s.status.as_str(),
                    s.seconds,
                    s.attempts
                );
                for r in &s.reasons {
                    println!("      because {}", terminal(r));
                }
                if let Some(e) = &s.error {
                    println!("      error: {}", terminal(e));
                }
            }
        }
    }
    Ok(())
}

/// Runs `mlrepro logs ID`.
pub fn logs(global: &GlobalArgs, args: &LogsArgs) -> Result<()> {
    let settings = settings::load(global, CommandFlags::default())?;
    let cache_dir = &settings.config.outputs.cache_dir;
    let run = ledger::find(cache_dir, &args.id).map_err(Error::usage)?;
    let path = ledger::log_dir(cache_dir).join(format!("{}.log", run.id));
    let text = fsx::read_to_string(&path).map_err(|e| Error::pipeline(anyhow!("{e:#}")))?;
    print!("{}", terminal(&text));
    Ok(())
}
