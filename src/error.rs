//! The top-level error type and the exit codes: one place decides how a failure ends the process.
//!
//! Every command returns [`Error`]; `main` prints it with [`Error::render`] and exits with
//! [`Error::exit_code`]. The cause chain comes from `anyhow`, so each layer adds the context
//! it knows (the run, the file, the key) without losing the inner message.
//!
//! An [`Error`] keeps its kind and hint when it travels inside an `anyhow::Error` (a step's
//! result, a context added on top): it is a `std::error::Error` whose causes are its own, so
//! [`Error::find`] recovers it, [`Error::pipeline`] inherits its kind, and a retry rule can
//! still see a typed cause (an `io::Error`) below it.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
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
    /// A usage or configuration error (exit 2); a hint of an [`Error`] inside `source` is kept.
    pub fn usage(source: impl Into<anyhow::Error>) -> Self {
        Self::new(Some(ErrorKind::Usage), source.into())
    }

    /// A pipeline failure (exit 1), unless `source` carries an [`Error`] that already knows
    /// its kind (a usage error inside a step stays one); its hint is kept.
    pub fn pipeline(source: impl Into<anyhow::Error>) -> Self {
        Self::new(None, source.into())
    }

    /// An interruption by the user (exit 130).
    pub fn interrupted() -> Self {
        Self::new(Some(ErrorKind::Interrupted), anyhow::anyhow!("interrupted"))
    }

    /// An error of `kind` (or, when `None`, of the kind `source` carries, else a pipeline
    /// failure).
    fn new(kind: Option<ErrorKind>, source: anyhow::Error) -> Self {
        let inner = Self::find(&source);
        let hint = inner.and_then(|e| e.hint.clone());
        let kind = kind
            .or(inner.map(|e| e.kind))
            .unwrap_or(ErrorKind::Pipeline);
        // An `Error` with nothing added on top needs no second layer. (Downcasting by value
        // through a context would drop the context's message, so only the outermost is taken.)
        let outermost_is_typed = source.chain().next().is_some_and(|c| c.is::<Error>());
        let source = if outermost_is_typed {
            source
                .downcast::<Error>()
                .map_or_else(|s| s, |typed| typed.source)
        } else {
            source
        };
        Self { kind, source, hint }
    }

    /// The outermost [`Error`] in `error`'s cause chain, if any.
    pub fn find(error: &anyhow::Error) -> Option<&Error> {
        error
            .chain()
            .find_map(|cause| cause.downcast_ref::<Error>())
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

    /// The hint, if there is one.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The cause chain, from the outermost message in.
    pub fn cause(&self) -> &anyhow::Error {
        &self.source
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

/// The outermost message alone, as any error in a chain shows itself; [`Error::render`] is
/// the whole text for the terminal.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

/// The causes after the outermost message, so a chain that holds this error lists each
/// message once.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let outermost: &(dyn std::error::Error + 'static) = self.source.as_ref();
        outermost.source()
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
    fn a_usage_error_keeps_its_kind_and_hint_inside_anyhow() {
        let usage = Error::usage(anyhow::anyhow!("no experiment `x`")).with_hint("pass one");
        let carried = anyhow::Error::from(usage).context("cannot compute the key");
        let found = Error::find(&carried).expect("the typed error is in the chain");
        assert_eq!(
            (found.kind(), found.hint()),
            (ErrorKind::Usage, Some("pass one"))
        );
        let outer = Error::pipeline(carried);
        assert_eq!(outer.exit_code(), EXIT_USAGE);
        assert_eq!(
            outer.render(),
            "error: cannot compute the key\n  caused by: no experiment `x`\nhint: pass one"
        );
    }

    #[test]
    fn a_chain_through_an_error_lists_each_cause_once_and_keeps_io_errors() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
        let inner = anyhow::Error::from(io).context("cannot read `meta.yaml`");
        let carried = anyhow::Error::from(Error::pipeline(inner));
        assert_eq!(
            format!("{carried:#}"),
            "cannot read `meta.yaml`: read timed out"
        );
        assert!(carried
            .chain()
            .any(|c| c.downcast_ref::<std::io::Error>().is_some()));
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
