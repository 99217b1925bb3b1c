//! User-declared steps (`runner.custom_steps`): a command such as an R or Python figure
//! script, with declared inputs and outputs, cached, retried, timed out and recorded like the
//! built-in steps.
//!
//! The command runs in the project directory with `MLREPRO_DB`, `MLREPRO_FIGURES_DIR` and
//! `MLREPRO_OUTPUTS_DIR` set. Its outputs are copied aside before it runs and put back if it
//! fails, so a failed run never leaves a half-written output in place of a good one. Exit
//! status 75 (`EX_TEMPFAIL`) marks a failure as transient, to be retried.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::fingerprint::StepKey;
use super::stat_cache::StatCache;
use super::step::{Step, StepContext, StepOutput};
use crate::base::cancel::Signals;
use crate::config::{CustomStep, Settings};

/// Revision of the command runner; bump when a custom step's behaviour changes.
const REVISION: u32 = 1;

/// The exit status a command uses to say "temporary failure, try again" (sysexits.h).
pub const EX_TEMPFAIL: i32 = 75;

/// The digest recorded for a declared input that does not exist yet.
const MISSING: &str = "missing";

/// Lines of the command's output kept for the error message.
const TAIL_LINES: usize = 20;

/// One user-declared step.
pub struct CommandStep {
    name: String,
    spec: CustomStep,
}

impl CommandStep {
    /// The step of `spec`, named `custom:<name>`.
    pub fn new(spec: CustomStep) -> Self {
        Self {
            name: format!("custom:{}", spec.name),
            spec,
        }
    }
}

impl Step for CommandStep {
    fn name(&self) -> &str {
        &self.name
    }

    fn key(&self, _settings: &Settings, stat: &StatCache) -> Result<StepKey> {
        let mut key = StepKey::new(&self.name, REVISION);
        key.config("command", &self.spec.command);
        key.config("outputs", &self.spec.outputs);
        for input in &self.spec.inputs {
            // An input an earlier step has yet to write makes the step stale, not `status` fail.
            let digest = if input.exists() {
                stat.digest(input).with_context(|| {
                    format!("input `{}` of step `{}`", input.display(), self.name)
                })?
            } else {
                MISSING.to_string()
            };
            key.input(input.display().to_string(), digest);
        }
        Ok(key)
    }

    fn outputs(&self, _settings: &Settings) -> Vec<PathBuf> {
        self.spec.outputs.clone()
    }

    fn inputs(&self, _settings: &Settings) -> Vec<PathBuf> {
        self.spec.inputs.clone()
    }

    fn required(&self) -> bool {
        false
    }

    fn run(&self, ctx: &StepContext) -> Result<StepOutput> {
        if let Some(input) = self.spec.inputs.iter().find(|i| !i.exists()) {
            bail!(
                "input `{}` of step `{}` does not exist (no earlier step wrote it)",
                input.display(),
                self.name
            );
        }
        let backups = Backups::take(&self.spec.outputs)?;
        match self.run_command(ctx) {
            Ok(out) => {
                drop(backups);
                Ok(out)
            }
            Err(e) => {
                backups.restore()?;
                Err(e)
            }
        }
    }
}

impl CommandStep {
    fn run_command(&self, ctx: &StepContext) -> Result<StepOutput> {
        let (program, args) = self
            .spec
            .command
            .split_first()
            .context("the command is empty")?;
        let o = &ctx.settings.config.outputs;
        let mut child = Command::new(program)
            .args(args)
            .env("MLREPRO_DB", &o.db)
            .env("MLREPRO_FIGURES_DIR", &o.figures_dir)
            .env("MLREPRO_OUTPUTS_DIR", &o.outputs_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start `{program}`"))?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let readers = [
            child
                .stdout
                .take()
                .map(|r| Box::new(r) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|r| Box::new(r) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|r| collect_lines(r, tail.clone(), ctx.signals.clone()))
        .collect::<Vec<_>>();
        let what = format!("`{}` (pid {})", self.spec.command.join(" "), child.id());
        ctx.signals.started(&what);
        let status = wait(&mut child, &ctx.signals);
        ctx.signals.finished(&what);
        let status = status?;
        for r in readers {
            let _ = r.join();
        }
        let tail: Vec<String> = tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        if status.success() {
            return Ok(StepOutput {
                summary: format!("`{}` succeeded", self.spec.command.join(" ")),
                details: None,
            });
        }
        let code = status.code();
        let what = match code {
            Some(EX_TEMPFAIL) => "exited with status 75 (EX_TEMPFAIL: temporary failure)".into(),
            Some(c) => format!("exited with status {c}"),
            None => "was killed by a signal".into(),
        };
        bail!(
            "`{}` {what}{}",
            self.spec.command.join(" "),
            if tail.is_empty() {
                String::new()
            } else {
                format!("; its last output:\n{}", tail.join("\n"))
            }
        )
    }
}

/// Waits for `child`, killing it when the step is cancelled (Ctrl-C or its timeout).
fn wait(child: &mut Child, signals: &Signals) -> Result<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().context("cannot wait for the command")? {
            return Ok(status);
        }
        if signals.cancelled() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("cancelled: the command was stopped");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads `reader` line by line on a thread, keeping the last lines and counting each line
/// as progress for the stall watchdog.
fn collect_lines(
    reader: Box<dyn Read + Send>,
    tail: Arc<Mutex<VecDeque<String>>>,
    signals: Arc<Signals>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            signals.beat();
            if let Ok(mut t) = tail.lock() {
                if t.len() == TAIL_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        }
    })
}

/// Copies of a step's existing outputs, put back if the step fails (dropped, they vanish).
struct Backups {
    saved: Vec<(PathBuf, tempfile::NamedTempFile)>,
}

impl Backups {
    fn take(outputs: &[PathBuf]) -> Result<Self> {
        let mut saved = Vec::new();
        for path in outputs.iter().filter(|p| p.is_file()) {
            let copy = crate::fsx::temp_beside(path)?;
            std::fs::copy(path, copy.path())
                .with_context(|| format!("cannot keep a copy of `{}`", path.display()))?;
            saved.push((path.clone(), copy));
        }
        Ok(Self { saved })
    }

    fn restore(self) -> Result<()> {
        for (path, copy) in self.saved {
            restore_one(copy, &path)?;
        }
        Ok(())
    }
}

fn restore_one(copy: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    copy.persist(path)
        .map(drop)
        .with_context(|| format!("cannot put the previous `{}` back", path.display()))
}

/// The steps declared in `runner.custom_steps`, in order.
pub fn custom_steps(settings: &Settings) -> Vec<Arc<dyn Step>> {
    settings
        .config
        .runner
        .custom_steps
        .iter()
        .map(|s| Arc::new(CommandStep::new(s.clone())) as Arc<dyn Step>)
        .collect()
}
