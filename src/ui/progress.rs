//! Progress of a long step: an indicatif bar with rate and ETA on a terminal, plain periodic
//! log lines otherwise (indicatif draws nothing, and drops `println`, when stderr is not a
//! terminal, so CI logs would otherwise show nothing for minutes).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// Plain lines only (`--no-progress`, or stderr is not a terminal).
    Plain,
    /// Nothing (`-q` or `--json` without a terminal).
    Hidden,
}

impl ProgressMode {
    /// The mode for the global flags.
    pub fn from_flags(quiet: bool, no_progress: bool) -> Self {
        if quiet {
            ProgressMode::Hidden
        } else if no_progress || !std::io::stderr().is_terminal() {
            ProgressMode::Plain
        } else {
            ProgressMode::Auto
        }
    }
}

/// Progress of one step over a known number of items.
pub struct Progress {
    label: String,
    total: u64,
    done: AtomicU64,
    started: Instant,
    bar: Option<ProgressBar>,
    plain: Option<Mutex<Instant>>,
}

/// Interval between plain progress lines.
const PLAIN_INTERVAL: Duration = Duration::from_secs(5);

impl Progress {
    /// Starts progress for `total` items of the step `label`.
    pub fn new(label: &str, total: u64, mode: ProgressMode) -> Self {
        let bar = (mode == ProgressMode::Auto).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>10} [{bar:30}] {pos}/{len} runs  {per_sec}  ETA {eta}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        });
        let plain = (mode == ProgressMode::Plain).then(|| Mutex::new(Instant::now()));
        Self {
            label: label.to_string(),
            total,
            done: AtomicU64::new(0),
            started: Instant::now(),
            bar,
            plain,
        }
    }

    /// Records one finished item.
    pub fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        if let Some(last) = &self.plain {
            let mut last = last.lock().expect("progress lock");
            if last.elapsed() >= PLAIN_INTERVAL && done < self.total {
                *last = Instant::now();
                eprintln!("{}", self.line(done));
            }
        }
    }

    /// Prints a message above the bar (or as a plain line).
    pub fn println(&self, msg: &str) {
        let msg = super::terminal(msg);
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{msg}")),
            None => eprintln!("{msg}"),
        }
    }

    /// Items finished so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn line(&self, done: u64) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let eta = if rate > 0.0 {
            (self.total - done) as f64 / rate
        } else {
            f64::NAN
        };
        format!(
            "{}: {done}/{} runs ({:.0}%), {rate:.1} runs/s, ETA {eta:.0} s",
            self.label,
            self.total,
            100.0 * done as f64 / self.total.max(1) as f64
        )
    }
}
