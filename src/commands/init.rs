//! `mlrepro init`: start a project for one's own store.
//!
//! Opens the store and its experiment (so a wrong path fails now, not after a build), writes
//! `configs/project.yaml` for it (never over an existing file), creates the private directory
//! with a random secret, and git-ignores the private directory. The demo's public settings
//! are not copied: the new config has none.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Context};

use crate::cli::InitArgs;
use crate::config::{Config, Origin, TrackingUri};
use crate::error::{Error, Result};
use crate::extract::secret::Secret;
use crate::fsx;
use crate::mlflow::Store;
use crate::runner::lock::CHECKPOINT_LOCK;
use crate::ui::Output;

const TEMPLATE: &str = include_str!("project.template.yaml");

/// Runs `mlrepro init`.
pub fn run(args: &InitArgs, out: &Output) -> Result<()> {
    let uri = TrackingUri {
        raw: args.tracking_uri.clone(),
        origin: Origin::Flag,
    };
    let store = Store::open(&uri, None)?;
    let experiment = store.select_experiment(args.experiment.as_deref())?;
    let text = config_text(&args.tracking_uri, &experiment.name)?;
    let config = Config::parse(&text, &args.output)?;
    write_new(&args.output, &text)?;
    out.status(format!(
        "wrote `{}` for experiment {experiment}",
        args.output.display()
    ));
    let private_dir = &config.outputs.private_dir;
    match Secret::load_private(private_dir).map_err(Error::usage)? {
        Some(_) => out.status(format!(
            "kept the existing private secret in `{}`",
            private_dir.display()
        )),
        None => {
            Secret::create_private(private_dir).map_err(Error::pipeline)?;
            out.status(format!(
                "created a random private secret in `{}` (keep it, never publish it)",
                private_dir.display()
            ));
        }
    }
    let lock = crate::fsx::parent_dir(&config.outputs.db).join(CHECKPOINT_LOCK);
    for entry in [git_entry(private_dir, true), git_entry(&lock, false)] {
        if ignore_in_git(Path::new(".gitignore"), &entry)? {
            out.status(format!("added `{entry}` to `.gitignore`"));
        }
    }
    out.status(format!(
        "next: make reproduce CONFIG={0}   (or: mlrepro -c {0} reproduce)",
        args.output.display()
    ));
    Ok(())
}

/// The config file for `tracking_uri` and `experiment`, from the template.
fn config_text(tracking_uri: &str, experiment: &str) -> Result<String> {
    let scalar = |s: &str| -> Result<String> {
        serde_yaml_ng::to_string(s)
            .map(|t| t.trim_end().to_string())
            .map_err(|e| Error::pipeline(anyhow!("cannot write a YAML string: {e}")))
    };
    Ok(TEMPLATE
        .replace("{tracking_uri}", &scalar(tracking_uri)?)
        .replace("{experiment}", &scalar(experiment)?))
}

/// Creates `path` with `text`, refusing to overwrite an existing file.
fn write_new(path: &Path, text: &str) -> Result<()> {
    fsx::create_dir_all(&fsx::parent_dir(path)).map_err(Error::pipeline)?;
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::usage(anyhow!(
                "`{}` already exists; `mlrepro init` never overwrites a config",
                path.display()
            ))
            .with_hint("remove it first, or write another file with `--output FILE`"))
        }
        Err(e) => {
            return Err(Error::pipeline(
                anyhow::Error::from(e).context(format!("cannot create `{}`", path.display())),
            ))
        }
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
        .map_err(Error::pipeline)
}

/// The `.gitignore` line that names `path` from the project root: `/path/` for a directory,
/// `/path` for a file.
fn git_entry(path: &Path, is_dir: bool) -> String {
    let text = path.display().to_string();
    let text = text.trim_start_matches("./").trim_matches('/');
    if is_dir {
        format!("/{text}/")
    } else {
        format!("/{text}")
    }
}

/// Adds `entry` to the `.gitignore` at `gitignore` unless a line already names the same path;
/// returns whether the file changed.
fn ignore_in_git(gitignore: &Path, entry: &str) -> Result<bool> {
    let bare = |line: &str| line.trim().trim_matches('/').to_string();
    let existing = match std::fs::read_to_string(gitignore) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::pipeline(
                anyhow::Error::from(e).context(format!("cannot read `{}`", gitignore.display())),
            ))
        }
    };
    let covered = existing.lines().any(|line| bare(line) == bare(entry));
    if covered {
        return Ok(false);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(entry);
    text.push('\n');
    fsx::write_atomic(gitignore, text.as_bytes()).map_err(Error::pipeline)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_and_names_the_store() {
        let text = config_text("/data/my store/mlruns", "PLR: \"main\"").unwrap();
        let config = Config::parse(&text, Path::new("project.yaml")).unwrap();
        assert_eq!(
            config.store.tracking_uri.as_deref(),
            Some("/data/my store/mlruns")
        );
        assert_eq!(config.store.experiment.as_deref(), Some("PLR: \"main\""));
        assert_eq!(config.anonymization.secret_file, None);
        assert_eq!(config.demo, Default::default());
    }

    #[test]
    fn gitignore_gets_the_private_dir_and_the_lock_once() {
        let dir = tempfile::tempdir().unwrap();
        let ignore = dir.path().join(".gitignore");
        std::fs::write(&ignore, "/target").unwrap();
        let private = git_entry(Path::new("./data/private/"), true);
        let lock = git_entry(Path::new("data/public/.mlrepro.lock"), false);
        assert!(ignore_in_git(&ignore, &private).unwrap());
        assert!(!ignore_in_git(&ignore, &private).unwrap());
        assert!(ignore_in_git(&ignore, &lock).unwrap());
        assert!(!ignore_in_git(&ignore, "data/public/.mlrepro.lock").unwrap());
        assert_eq!(
            std::fs::read_to_string(&ignore).unwrap(),
            "/target\n/data/private/\n/data/public/.mlrepro.lock\n"
        );
    }
}
