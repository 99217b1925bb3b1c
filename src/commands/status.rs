//! `mlrepro status`: which steps are up to date, and why each stale one would rerun.

use crate::cli::{GlobalArgs, StatusArgs};
use crate::error::{Error, Result};
use crate::runner::engine::freshness;
use crate::runner::pipeline::{analyze_steps, extract_steps};
use crate::ui::Output;

use super::pipeline::{check_force_steps, options};
use super::settings::{self, CommandFlags};

/// Runs `mlrepro status`.
pub fn run(global: &GlobalArgs, args: &StatusArgs, out: &Output) -> Result<()> {
    let settings = settings::load(
        global,
        CommandFlags {
            store: Some(&args.store),
            db: Some(&args.db),
            private: Some(&args.private),
            render: Some(&args.render),
        },
    )?;
    let mut steps = if args.from_checkpoint {
        Vec::new()
    } else {
        extract_steps()
    };
    steps.extend(analyze_steps(&settings));
    check_force_steps(global, &steps)?;
    let report = freshness(&steps, &settings, &options(global)).map_err(Error::pipeline)?;
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("freshness serializes")
        );
        return Ok(());
    }
    for f in &report {
        if f.up_to_date {
            println!("{:>12} {}", "Fresh", f.step);
        } else {
            println!("{:>12} {}: {}", "Stale", f.step, f.reasons.join("; "));
        }
    }
    Ok(())
}
