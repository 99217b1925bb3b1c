//! Command-line definitions (clap derive only: raw arguments, no I/O).
//!
//! Each flag is defined once here; its doc comment is its `--help` text. Flags are resolved
//! against the config file in [`crate::config::Settings::resolve`], and nothing downstream
//! looks at raw flags again.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

/// Make a machine-learning paper reproducible from its MLflow runs.
///
/// Block 1 (`extract`) reads an MLflow tracking store and writes an anonymized public DuckDB
/// checkpoint plus a private subject lookup. Block 2 (`analyze`) renders figures and LaTeX
/// tables from that checkpoint alone.
#[derive(Debug, Parser)]
#[command(
    name = "mlrepro",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The full command definition: [`Cli`] plus the long `--version` text ([`crate::version`]).
///
/// Parsing, shell completions and the man page all start from this, so they agree.
pub fn command() -> clap::Command {
    Cli::command().long_version(crate::version::long())
}

/// Flags accepted by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (YAML).
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        value_name = "FILE",
        default_value = "configs/default.yaml"
    )]
    pub config: PathBuf,

    /// Number of parallel jobs [default: the number of CPU cores].
    #[arg(short = 'j', long = "jobs", global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Rerun every step, ignoring the cache.
    #[arg(long, global = true)]
    pub force: bool,

    /// Rerun this step even if it is up to date (repeatable).
    #[arg(long = "force-step", global = true, value_name = "STEP")]
    pub force_step: Vec<String>,

    /// Say what would run and why, without running anything.
    #[arg(long = "dry-run", global = true)]
    pub dry_run: bool,

    /// Print a machine-readable JSON summary on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only errors.
    #[arg(short = 'q', long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail (repeat for even more).
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Never draw progress bars, even on a terminal.
    #[arg(long = "no-progress", global = true)]
    pub no_progress: bool,

    /// Seconds to wait for another mlrepro holding the project lock [default: 0, fail at once].
    #[arg(long = "lock-timeout", global = true, value_name = "SECONDS")]
    pub lock_timeout: Option<u64>,

    /// After a pipeline run, write its step durations and outcomes and its run counts in the
    /// Prometheus text format to PATH (atomically; for node_exporter's textfile collector).
    #[arg(long = "metrics-file", global = true, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

    /// Do not write the HTML run report (`report.html` in the outputs directory) after a
    /// pipeline run.
    #[arg(long = "no-report", global = true)]
    pub no_report: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Block 1: read the MLflow runs and write the public checkpoint and the private lookup.
    Extract(ExtractArgs),
    /// Block 2: verify the checkpoint, then render figures, LaTeX tables and the report.
    Analyze(AnalyzeArgs),
    /// Run both blocks, or only Block 2 from a verified checkpoint.
    Reproduce(PipelineArgs),
    /// Show which steps are up to date, and why each stale one would rerun.
    Status(PipelineArgs),
    /// List past pipeline runs, or show one run's steps, reasons and timings.
    History(HistoryArgs),
    /// Print the log of one pipeline run.
    Logs(LogsArgs),
    /// Check a checkpoint: checksum, schema version, row counts and logical digest.
    Verify(VerifyArgs),
    /// Remove generated figures, outputs and the cache (never the checkpoint or private data).
    Clean(CleanArgs),
    /// Write the HTML report of a pipeline run (the latest, or RUN_ID) and print its path.
    Report(ReportArgs),
    /// Print the step graph (with `--status`, each step's freshness).
    Graph(GraphArgs),
    /// Start a project for your own store: write its config, create the private secret and
    /// git-ignore the private directory.
    Init(InitArgs),
    /// Print a shell completion script to stdout, e.g.
    /// `mlrepro completions bash > ~/.local/share/bash-completion/completions/mlrepro`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout, e.g. `mlrepro man > ~/.local/share/man/man1/mlrepro.1`.
    #[command(hide = true)]
    Man,
}

/// Where the MLflow runs come from.
#[derive(Debug, Args, Default, Clone)]
pub struct StoreArgs {
    /// Tracking store: a directory, `file://PATH` or `sqlite:///PATH` [default: the config's
    /// `store.tracking_uri`, else $MLFLOW_TRACKING_URI].
    #[arg(long = "tracking-uri", value_name = "URI")]
    pub tracking_uri: Option<String>,

    /// Experiment name or id [default: the config's `store.experiment`, else the only
    /// non-default experiment of the store].
    #[arg(long, value_name = "NAME_OR_ID")]
    pub experiment: Option<String>,

    /// Where artifacts live when a SQLite store's `artifact_uri` no longer exists
    /// [default: the config's `store.artifact_root`].
    #[arg(long = "artifact-root", value_name = "DIR")]
    pub artifact_root: Option<PathBuf>,

    /// Most failed runs tolerated before extraction fails [default: the config's
    /// `selection.max_failed_runs`, 0].
    #[arg(long = "max-failed-runs", value_name = "N")]
    pub max_failed_runs: Option<usize>,
}

/// Where the public checkpoint lives.
#[derive(Debug, Args, Default, Clone)]
pub struct DbArgs {
    /// Public DuckDB checkpoint [default: the config's `outputs.db`, `data/public/results.duckdb`].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Where private files live.
#[derive(Debug, Args, Default, Clone)]
pub struct PrivateArgs {
    /// Private directory for the subject lookup and traces [default: the config's
    /// `outputs.private_dir`, `data/private`].
    #[arg(long = "private-dir", value_name = "DIR")]
    pub private_dir: Option<PathBuf>,
}

/// Where Block 2 writes.
#[derive(Debug, Args, Default, Clone)]
pub struct RenderArgs {
    /// Directory for figures (PNG, SVG, PDF and JSON data) [default: the config's
    /// `outputs.figures_dir`, `figures`].
    #[arg(long = "figures-dir", value_name = "DIR")]
    pub figures_dir: Option<PathBuf>,

    /// Directory for LaTeX tables, `numbers.tex` and the report [default: the config's
    /// `outputs.outputs_dir`, `outputs`].
    #[arg(long = "outputs-dir", value_name = "DIR")]
    pub outputs_dir: Option<PathBuf>,
}

/// Arguments of `mlrepro extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub private: PrivateArgs,
}

/// Arguments of `mlrepro analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub private: PrivateArgs,
}

/// Which pipeline `reproduce` runs (and `status` and `graph` describe), and the flags that
/// resolve its settings.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Block 2 only: verify the existing checkpoint, then the analysis (no store needed).
    #[arg(long = "from-checkpoint")]
    pub from_checkpoint: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub private: PrivateArgs,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// Arguments of `mlrepro history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,

    /// How many recent runs to list.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

/// What `mlrepro history` shows.
#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Show one pipeline run: its steps, their status, reasons and timings.
    Show {
        /// The run id (as listed by `mlrepro history`; a unique prefix is enough).
        id: String,
    },
}

/// Arguments of `mlrepro logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run id (as listed by `mlrepro history`; a unique prefix is enough).
    pub id: String,
}

/// Arguments of `mlrepro report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run id (as listed by `mlrepro history`; a unique prefix is enough) [default: the
    /// latest run].
    pub id: Option<String>,

    /// Where to write it [default: `report.html` in the outputs directory for the latest run,
    /// `reports/RUN_ID.html` there for an earlier one].
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Embed the figures in the page, for a single file to send.
    #[arg(long)]
    pub embed: bool,
}

/// The formats `mlrepro graph` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Indented text, one step per line.
    Text,
    /// A Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// Arguments of `mlrepro graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,

    /// Add each step's freshness, as `mlrepro status` computes it.
    #[arg(long)]
    pub status: bool,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// Arguments of `mlrepro verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: DbArgs,
}

/// Arguments of `mlrepro clean`.
#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Empty only the cache; keep figures and outputs.
    #[arg(long)]
    pub cache: bool,
}

/// Arguments of `mlrepro init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Tracking store: a directory, `file://PATH` or `sqlite:///PATH`.
    #[arg(long = "tracking-uri", value_name = "URI")]
    pub tracking_uri: String,

    /// Experiment name or id [default: the only non-default experiment of the store].
    #[arg(long, value_name = "NAME_OR_ID")]
    pub experiment: Option<String>,

    /// The config file to write; an existing file is never overwritten.
    #[arg(long, value_name = "FILE", default_value = "configs/project.yaml")]
    pub output: PathBuf,
}

/// Arguments of `mlrepro completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["mlrepro", "extract", "-j", "4", "--force", "--json"]).unwrap();
        assert_eq!(cli.global.jobs, Some(4));
        assert!(cli.global.force && cli.global.json);
    }

    #[test]
    fn zero_jobs_is_a_usage_error() {
        assert!(Cli::try_parse_from(["mlrepro", "extract", "-j", "0"]).is_err());
    }
}
