//! The top-level error type and the exit codes: one place decides how a failure ends the process.
//!
//! Every command returns [`Error`]; `main` prints it with [`Error::render`] and exits with
//! [`Error::exit_code`]. The cause chain comes from `anyhow`, so each layer adds the context
//! it knows (the run, the file, the key) without losing the inner message.

use std::fmt;

/// Exit status of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit status of a pipeline failure: a step failed, a checkpoint was refused, a lock was held.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status of a usage or configuration error: fix the command line or the config file.
pub const EXIT_USAGE: u8 = 2;
/// Exit status after Ctrl-C or SIGTERM (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// What kind of failure an [`Error`] is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad flags, bad config, unknown experiment: the user must change the invocation.
    Usage,
    /// A step of the pipeline failed.
    Pipeline,
    /// The user interrupted the run.
    Interrupted,
}

/// A failure that ends a command, with its cause chain and an optional hint.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    source: anyhow::Error,
    hint: Option<String>,
}

/// Result type of commands.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A usage or configuration error (exit 2).
    pub fn usage(source: impl Into<anyhow::Error>) -> Self {
        Self::new(ErrorKind::Usage, source.into())
    }

    /// A pipeline failure (exit 1).
    pub fn pipeline(source: impl Into<anyhow::Error>) -> Self {
        Self::new(ErrorKind::Pipeline, source.into())
    }

    /// An interruption by the user (exit 130).
    pub fn interrupted() -> Self {
        Self::new(ErrorKind::Interrupted, anyhow::anyhow!("interrupted"))
    }

    fn new(kind: ErrorKind, source: anyhow::Error) -> Self {
        Self {
            kind,
            source,
            hint: None,
        }
    }

    /// Adds a hint: one line that tells the user what to do next.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The process exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Usage => EXIT_USAGE,
            ErrorKind::Pipeline => EXIT_FAILURE,
            ErrorKind::Interrupted => EXIT_INTERRUPTED,
        }
    }

    /// The message as printed on stderr: `error: …`, indented causes, then `hint: …`.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}", self.source);
        for cause in self.source.chain().skip(1) {
            out.push_str(&format!("\n  caused by: {cause}"));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("\nhint: {hint}"));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl From<crate::config::ConfigError> for Error {
    fn from(e: crate::config::ConfigError) -> Self {
        let hint = e.hint();
        let err = Error::usage(e);
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_kind() {
        assert_eq!(Error::usage(anyhow::anyhow!("x")).exit_code(), 2);
        assert_eq!(Error::pipeline(anyhow::anyhow!("x")).exit_code(), 1);
        assert_eq!(Error::interrupted().exit_code(), 130);
    }

    #[test]
    fn render_shows_causes_and_hint() {
        let inner = anyhow::anyhow!("file `a.yaml` not found").context("cannot load the config");
        let e = Error::usage(inner).with_hint("pass `-c FILE`");
        assert_eq!(
            e.render(),
            "error: cannot load the config\n  caused by: file `a.yaml` not found\nhint: pass `-c FILE`"
        );
    }
}
