//! mlrepro makes a machine-learning paper reproducible from its MLflow runs.
//!
//! Data flows one way: tracking store → [`mlflow::Run`] → decoded pickle (the `numpickle`
//! crate) → metrics → rows of the public DuckDB checkpoint → figures and LaTeX tables.
//!
//! Modules:
//! - [`cli`]: clap definitions (raw flags only);
//! - [`config`]: the typed YAML config and the resolution of flags against it;
//! - [`commands`]: one module per subcommand (resolve settings → call the library → report);
//! - [`mlflow`]: file-store and SQLite-store readers and the run-name grammar;
//! - [`extract`]: Block 1, store → checkpoint and private lookup;
//! - [`analyze`]: Block 2, checkpoint → figures, LaTeX tables, `numbers.tex` and report;
//! - [`metrics`]: pure metric functions (AUROC, Brier, calibration, net benefit, …);
//! - [`db`]: the canonical DuckDB schema, the checkpoint writer and its logical digest;
//! - [`runner`]: the step engine (cache, stat cache, retries, timeouts, lock, ledger);
//! - [`ui`]: progress and messages;
//! - [`base`]: hashing, cancellation and fault injection, for every layer;
//! - [`fsx`]: filesystem calls whose errors carry the path, and atomic writes;
//! - [`error`]: the top-level error and the exit codes;
//! - [`version`]: what `mlrepro --version` reports (commit and DuckDB version).
//!
//! Files on disk (defaults of `configs/default.yaml`):
//! - `data/public/results.duckdb` and `.sha256`, `data/public/parquet/`, `data/public/SCHEMA.md`:
//!   the public checkpoint ([`db`]);
//! - `data/private/` (mode 0700): `subject_lookup.yaml`, the anonymization secret and traces,
//!   never published;
//! - `figures/` and `outputs/`: Block 2's figures, tables, `numbers.tex` and report;
//! - `.mlrepro/`: cache, ledger and logs.

pub mod analyze;
pub mod base;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod fsx;
pub mod metrics;
pub mod mlflow;
pub mod report;
pub mod runner;
pub mod ui;
pub mod version;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::FromArgMatches;

/// Parses the arguments, runs the command and maps the outcome to an exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut command = cli::command();
    let parsed = command
        .try_get_matches_from_mut(args)
        .and_then(|mut matches| cli::Cli::from_arg_matches_mut(&mut matches))
        .map_err(|e| e.format(&mut command));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                error::EXIT_USAGE
            } else {
                error::EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::from(error::EXIT_OK),
        Err(e) => {
            eprintln!("{}", ui::terminal(&e.render()));
            ExitCode::from(e.exit_code())
        }
    }
}
