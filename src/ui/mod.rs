//! What the user sees: progress while work runs, messages on stderr, summaries on stdout.

mod progress;
pub mod sanitize;

pub use progress::{Progress, ProgressMode};
pub use sanitize::terminal;

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

/// Every line `Output` prints passes [`terminal`], so text from a store cannot drive the
/// terminal however a message was built.
impl Output {
    /// Prints a status line on stderr unless `-q`.
    pub fn status(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", terminal(line.as_ref()));
        }
    }

    /// Prints a detail line on stderr with `-v`.
    pub fn detail(&self, line: impl AsRef<str>) {
        if self.verbose > 0 && !self.quiet {
            eprintln!("{}", terminal(line.as_ref()));
        }
    }

    /// Prints a warning on stderr (also with `-q`).
    pub fn warn(&self, line: impl AsRef<str>) {
        eprintln!("warning: {}", terminal(line.as_ref()));
    }

    /// Prints a line of a command's result on stdout (also with `-q`).
    pub fn result(&self, line: impl AsRef<str>) {
        println!("{}", terminal(line.as_ref()));
    }
}
