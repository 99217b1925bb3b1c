//! What the user sees: progress while work runs, messages on stderr, summaries on stdout.

mod progress;

pub use progress::{Progress, ProgressMode};

/// How chatty output is, from the global flags.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `-q`: only errors.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `--json`: the summary goes to stdout as JSON.
    pub json: bool,
    /// Progress display.
    pub progress: ProgressMode,
}

impl Output {
    /// Prints a status line on stderr unless `-q`.
    pub fn status(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Prints a detail line on stderr with `-v`.
    pub fn detail(&self, line: impl AsRef<str>) {
        if self.verbose > 0 && !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Prints a warning on stderr (also with `-q`).
    pub fn warn(&self, line: impl AsRef<str>) {
        eprintln!("warning: {}", line.as_ref());
    }
}
