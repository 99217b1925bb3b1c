//! One module per subcommand. Each resolves its settings once, calls the library and reports.

mod clean;
mod extract;
mod generate;
mod graph;
mod history;
mod init;
mod metrics_file;
mod pipeline;
mod report;
mod settings;
mod status;
mod steps;
mod verify;

use crate::cli::{Cli, Command};
use crate::error::Result;
use crate::ui::{Output, ProgressMode};
use settings::CommandFlags;
use steps::analyze_steps;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let global = &cli.global;
    let out = Output {
        quiet: global.quiet,
        verbose: global.verbose,
        json: global.json,
        progress: ProgressMode::from_flags(global.quiet, global.no_progress),
    };
    match &cli.command {
        Command::Clean(args) => clean::run(&settings::load(global, CommandFlags::default())?, args),
        Command::Extract(args) => extract::run(global, args, &out),
        Command::Analyze(args) => {
            let s = settings::load(
                global,
                CommandFlags {
                    db: Some(&args.db),
                    private: Some(&args.private),
                    render: Some(&args.render),
                    store: None,
                },
            )?;
            let steps = analyze_steps(&s);
            pipeline::run(s, global, &out, "analyze", steps)
        }
        Command::Reproduce(args) => {
            let (s, steps) = pipeline::plan(global, args)?;
            pipeline::run(
                s,
                global,
                &out,
                if args.from_checkpoint {
                    "reproduce --from-checkpoint"
                } else {
                    "reproduce"
                },
                steps,
            )
        }
        Command::Status(args) => status::run(global, args, &out),
        Command::History(args) => history::run(global, args, &out),
        Command::Logs(args) => history::logs(global, args),
        Command::Verify(args) => verify::run(global, args, &out),
        Command::Init(args) => init::run(args, &out),
        Command::Graph(args) => graph::run(global, args),
        Command::Report(args) => report::run(global, args, &out),
        Command::Completions(args) => generate::completions(args),
        Command::Man => generate::man(),
    }
}
