//! `mlrepro clean`: remove what mlrepro generated in the figures, outputs and cache
//! directories, or only the cache.
//!
//! Only files mlrepro writes are removed, known by name: in `outputs.figures_dir`, every
//! figure in every format and its `data/<figure>.json`; in `outputs.outputs_dir`, the LaTeX
//! tables, `numbers.tex`, `anova.json` and the analysis report; in either, the declared
//! outputs of custom steps, and the temporary files (`.<name>.*.tmp`) an interrupted write
//! of any of these left. A directory is removed once it is empty; a file of the user's own
//! keeps it. The cache directory, which mlrepro marks as its own with a `CACHEDIR.TAG`, is
//! emptied except for its lock, its tag and its `.gitignore`; an unmarked one is left alone.
//!
//! The directories are checked again before anything is removed
//! ([`Settings::check_layout`]), and the project lock is held throughout, so no pipeline run
//! writes while files are removed. The public checkpoint and the private directory are never
//! touched.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::analyze::{figures, report, sidecar, tables};
use crate::cli::CleanArgs;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::fsx;
use crate::runner::lock::{self, Access, CACHE_LOCK};
use crate::ui::terminal;

/// Entries of a marked cache directory that `clean --cache` keeps.
const KEPT_IN_CACHE: [&str; 3] = [CACHE_LOCK, "CACHEDIR.TAG", ".gitignore"];

/// Runs `mlrepro clean`.
pub fn run(settings: &Settings, args: &CleanArgs) -> Result<()> {
    settings.check_layout()?;
    let _lock = lock::acquire(settings, Some(Access::Write), None).map_err(Error::pipeline)?;
    let outputs = &settings.config.outputs;
    empty_cache(&outputs.cache_dir)?;
    if !args.cache {
        for (dir, files) in [
            (&outputs.figures_dir, figure_files(settings)),
            (&outputs.outputs_dir, output_files(settings)),
        ] {
            remove_generated(dir, &files)?;
        }
    }
    Ok(())
}

/// Every file the figure steps write, in every format, whatever the config draws now.
fn figure_files(settings: &Settings) -> BTreeSet<PathBuf> {
    let dir = &settings.config.outputs.figures_dir;
    let mut out: BTreeSet<PathBuf> = figures::names()
        .iter()
        .flat_map(|name| {
            ["png", "svg", "pdf"]
                .iter()
                .map(move |ext| dir.join(format!("{name}.{ext}")))
                .chain([sidecar::path(dir, name)])
        })
        .collect();
    out.extend(custom_outputs_in(settings, dir));
    out
}

/// Every file the tables and the report write.
fn output_files(settings: &Settings) -> BTreeSet<PathBuf> {
    let dir = &settings.config.outputs.outputs_dir;
    let mut out: BTreeSet<PathBuf> = tables::files()
        .iter()
        .map(String::as_str)
        .chain([report::FILE])
        .map(|name| dir.join(name))
        .collect();
    out.extend(custom_outputs_in(settings, dir));
    out
}

/// The declared outputs of custom steps that lie in `dir`.
fn custom_outputs_in<'a>(
    settings: &'a Settings,
    dir: &'a Path,
) -> impl Iterator<Item = PathBuf> + 'a {
    settings
        .config
        .runner
        .custom_steps
        .iter()
        .flat_map(|s| &s.outputs)
        .filter(move |p| p.starts_with(dir) && p.as_path() != dir)
        .cloned()
}

/// Removes the files of `known` found under `dir` (and the temporary files of their atomic
/// writes), then each directory that is left empty, deepest first.
fn remove_generated(dir: &Path, known: &BTreeSet<PathBuf>) -> Result<()> {
    let folders: BTreeSet<PathBuf> = known.iter().map(|p| fsx::parent_dir(p)).collect();
    let mut removed = 0usize;
    for folder in &folders {
        if !folder.is_dir() {
            continue;
        }
        for entry in fsx::read_dir_sorted(folder).map_err(Error::pipeline)? {
            let path = entry.path();
            let generated = known.contains(&path) || is_temporary_of(&path, known);
            // A directory under a generated file's name is not one mlrepro wrote.
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if generated && !is_dir {
                fsx::remove_file_if_exists(&path).map_err(Error::pipeline)?;
                removed += 1;
            }
        }
    }
    let mut kept = false;
    for folder in folders.iter().rev().chain([&dir.to_path_buf()]) {
        if is_real_dir(folder) && std::fs::remove_dir(folder).is_err() {
            kept |= folder == dir;
        }
    }
    if removed > 0 || kept {
        let shown = terminal(&dir.display().to_string()).into_owned();
        eprintln!(
            "removed {removed} generated file(s) from `{shown}`{}",
            if kept {
                "; kept the directory: it holds files mlrepro did not write"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Whether `path` is a temporary file of an atomic write of one of `known`
/// (`.<name>.<random>.tmp` beside it).
fn is_temporary_of(path: &Path, known: &BTreeSet<PathBuf>) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let parent = fsx::parent_dir(path);
    known.iter().any(|k| {
        fsx::parent_dir(k) == parent
            && k.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| inner.starts_with(&format!("{n}.")))
    })
}

/// Empties the cache directory if mlrepro marked it as its own, keeping its lock.
fn empty_cache(cache_dir: &Path) -> Result<()> {
    let tag = std::fs::read_to_string(cache_dir.join("CACHEDIR.TAG")).unwrap_or_default();
    let entries = fsx::read_dir_sorted(cache_dir).map_err(Error::pipeline)?;
    let removable: Vec<PathBuf> = entries
        .iter()
        .filter(|e| !KEPT_IN_CACHE.iter().any(|k| e.file_name() == *k))
        .map(|e| e.path())
        .collect();
    let shown = terminal(&cache_dir.display().to_string()).into_owned();
    if !tag.contains("mlrepro") {
        if !removable.is_empty() {
            eprintln!("left `{shown}` alone: it has no `CACHEDIR.TAG` written by mlrepro");
        }
        return Ok(());
    }
    for path in &removable {
        let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
        if is_dir {
            fsx::remove_dir_all_if_exists(path)
        } else {
            fsx::remove_file_if_exists(path)
        }
        .map_err(Error::pipeline)?;
    }
    if !removable.is_empty() {
        eprintln!("emptied the cache `{shown}` (kept its lock)");
    }
    Ok(())
}

/// Whether `path` is a directory itself, not a link to one.
fn is_real_dir(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_temporary_files_of_known_outputs_match() {
        let known = BTreeSet::from([PathBuf::from("figures/heatmap.png")]);
        for (name, yes) in [
            ("figures/.heatmap.png.a1B2c3.tmp", true),
            ("figures/.heatmap.png.tmp", false),
            ("figures/.heatmap.pngx.a1.tmp", false),
            ("figures/.mine.png.a1.tmp", false),
            ("other/.heatmap.png.a1.tmp", false),
        ] {
            assert_eq!(is_temporary_of(Path::new(name), &known), yes, "{name}");
        }
    }
}
