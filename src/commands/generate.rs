//! `mlrepro completions SHELL` and `mlrepro man`: print a shell completion script or the man
//! page, generated from the same clap definition ([`crate::cli::command`]) that parses the
//! command line, so they never drift from `--help`.
//!
//! Neither reads a config file or takes the project lock: they run anywhere.

use std::io::{self, Write};

use anyhow::Context;

use crate::cli::{self, CompletionsArgs};
use crate::error::{Error, Result};

/// Runs `mlrepro completions SHELL`.
pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli::command(), "mlrepro", &mut script);
    print(&script, "completion script")
}

/// Runs `mlrepro man`.
pub fn man() -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cli::command())
        .render(&mut page)
        .context("cannot render the man page")
        .map_err(Error::pipeline)?;
    print(&page, "man page")
}

/// Writes `bytes` to stdout; a reader that closed the pipe early (`| head`) is not an error.
fn print(bytes: &[u8], what: &str) -> Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::pipeline(
            anyhow::Error::new(e).context(format!("cannot write the {what} to stdout")),
        )),
        _ => Ok(()),
    }
}
