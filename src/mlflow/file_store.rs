//! The MLflow file store: `<root>/<experiment_id>/meta.yaml` and
//! `<root>/<experiment_id>/<run_id>/{meta.yaml,params/,tags/,metrics/,artifacts/}`.
//!
//! Artifacts are always taken from `<run_dir>/artifacts/`: a recorded absolute
//! `artifact_uri` goes stale as soon as a store is moved, so it is never trusted.
//!
//! A store is read as a live MLflow may be writing it. A run whose files cannot be used (an
//! empty or half-written `meta.yaml`, a FIFO or socket where a file should be, a loop of
//! symbolic links) is listed as unreadable, with the reason ([`Run::unreadable`]), and the
//! other runs are read; an I/O error fails the listing, to be retried when it is transient.
//! No file is opened before its type is known ([`super::entry`]), so nothing here can wait
//! on a FIFO.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rayon::prelude::*;
use serde_yaml_ng::Value;

use super::entry::{self, Entry};
use super::{Experiment, LifecycleStage, Run, RunStatus};
use crate::base::fault;
use crate::fsx;

/// The tag that names a run.
const RUN_NAME_TAG: &str = "mlflow.runName";

/// A file store rooted at a directory.
#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// A store at `root` (not read until asked).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Every experiment directory with a `meta.yaml` (`.trash` and `models` are skipped).
    pub fn experiments(&self) -> Result<Vec<Experiment>> {
        let mut out = Vec::new();
        for dir_entry in fsx::read_dir_sorted(&self.root)? {
            let name = dir_entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let Entry::Dir(dir, _) = resolve(&dir_entry.path())? else {
                continue;
            };
            let meta_path = dir.join("meta.yaml");
            match resolve(&meta_path)? {
                Entry::File(_) => {}
                Entry::Refused(why) => {
                    return Err(anyhow!("`{}` {why}; it is refused", meta_path.display()))
                }
                _ => continue,
            }
            let meta = read_yaml(&meta_path)?;
            out.push(Experiment {
                id: text_field(&meta, "experiment_id").unwrap_or(name),
                name: text_field(&meta, "name")
                    .ok_or_else(|| anyhow!("`{}` has no key `name`", meta_path.display()))?,
                lifecycle_stage: LifecycleStage::parse(
                    &text_field(&meta, "lifecycle_stage").unwrap_or_else(|| "active".into()),
                ),
            });
        }
        Ok(out)
    }

    /// Every run directory of an experiment; a run whose files cannot be used is listed as
    /// unreadable.
    pub fn runs(&self, experiment: &Experiment) -> Result<Vec<Run>> {
        let exp_dir = self.experiment_dir(experiment)?;
        let entries: Vec<(String, PathBuf)> = fsx::read_dir_sorted(&exp_dir)?
            .into_iter()
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        fault::inject_listing().with_context(|| format!("cannot list `{}`", exp_dir.display()))?;
        // Thousands of small files: read the runs in parallel, report the first error in
        // directory order.
        entries
            .par_iter()
            .map(|(name, path)| run_at(name, path))
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(Result::transpose)
            .collect()
    }

    fn experiment_dir(&self, experiment: &Experiment) -> Result<PathBuf> {
        let direct = self.root.join(&experiment.id);
        if direct.join("meta.yaml").is_file() {
            return Ok(direct);
        }
        Err(anyhow!(
            "experiment {experiment} has no directory `{}`",
            direct.display()
        ))
    }
}

/// [`entry::resolve`] with the path in the error.
fn resolve(path: &Path) -> Result<Entry> {
    entry::resolve(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// The run in the experiment's entry `name` at `path`: none when it is not a run directory
/// (a file, or a directory without `meta.yaml`).
fn run_at(name: &str, path: &Path) -> Result<Option<Run>> {
    let dir = match resolve(path)? {
        Entry::Dir(dir, _) => dir,
        Entry::Refused(why) => return Ok(Some(Run::unreadable(name, format!("`{name}` {why}")))),
        Entry::File(_) | Entry::Missing => return Ok(None),
    };
    match resolve(&dir.join("meta.yaml"))? {
        Entry::File(meta) => read_run(name, &dir, &meta).map(Some),
        Entry::Refused(why) => Ok(Some(Run::unreadable(name, format!("`meta.yaml` {why}")))),
        Entry::Dir(..) | Entry::Missing => Ok(None),
    }
}

/// Why a run's files cannot be read.
#[derive(Debug)]
enum Problem {
    /// They cannot be used (half-written, special, a link loop): the run is unreadable.
    Unusable(String),
    /// The filesystem failed: the listing fails.
    Io(anyhow::Error),
}

impl From<anyhow::Error> for Problem {
    fn from(e: anyhow::Error) -> Self {
        Problem::Io(e)
    }
}

fn read_yaml(path: &Path) -> Result<Value> {
    let text = read_text(path)?;
    serde_yaml_ng::from_str(&text)
        .with_context(|| format!("`{}` is not valid YAML", path.display()))
}

/// [`entry::read_text`] with the path in the error.
fn read_text(path: &Path) -> Result<String> {
    entry::read_text(path).with_context(|| format!("cannot read `{}`", path.display()))
}

/// The text of the run's file `shown` (relative to the run directory) at `path`; one that
/// is not UTF-8, or not a regular file after all, makes the run unreadable.
fn read_run_text(path: &Path, shown: &str) -> Result<String, Problem> {
    match entry::read_text(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            Err(Problem::Unusable(format!("`{shown}` is not UTF-8 text")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            Err(Problem::Unusable(format!("`{shown}` {e}")))
        }
        Err(e) => Err(Problem::Io(
            anyhow::Error::from(e).context(format!("cannot read `{}`", path.display())),
        )),
    }
}

/// A scalar field as text (MLflow writes ids as strings, times and statuses as integers).
fn text_field(meta: &Value, key: &str) -> Option<String> {
    match meta.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An integer field of `meta.yaml`; a value of another type makes the run unreadable (the
/// value itself is not repeated: reasons name keys, not data).
fn int_field(meta: &Value, key: &str) -> Result<Option<i64>, Problem> {
    let bad = || Problem::Unusable(format!("`meta.yaml` key `{key}` is not an integer"));
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// Reads the run in `run_dir` (entry `dir_name` of the experiment) from its `meta.yaml` at
/// `meta_path`; a run whose files cannot be used comes back unreadable.
fn read_run(dir_name: &str, run_dir: &Path, meta_path: &Path) -> Result<Run> {
    match read_run_files(dir_name, run_dir, meta_path) {
        Ok(run) => Ok(run),
        Err(Problem::Unusable(reason)) => Ok(Run::unreadable(dir_name, reason)),
        Err(Problem::Io(e)) => Err(e),
    }
}

fn read_run_files(dir_name: &str, run_dir: &Path, meta_path: &Path) -> Result<Run, Problem> {
    let text = read_run_text(meta_path, "meta.yaml")?;
    // A live MLflow writes `meta.yaml` in place: empty, cut short or without `status`, it
    // is a run being written, not a broken store.
    let half_written =
        || Problem::Unusable("`meta.yaml` is empty or half-written (is MLflow writing it?)".into());
    let meta: Value = serde_yaml_ng::from_str(&text).map_err(|_| half_written())?;
    if !meta.is_mapping() {
        return Err(half_written());
    }
    let status = text_field(&meta, "status").ok_or_else(half_written)?;
    let run_id = text_field(&meta, "run_id")
        .filter(|s| !s.is_empty())
        .or_else(|| text_field(&meta, "run_uuid").filter(|s| !s.is_empty()))
        .unwrap_or_else(|| dir_name.to_string());
    // Extraction uses none of the params, other tags or MLflow metrics, so only the run name
    // is read; each folder is still walked, so that a special file or a loop of links there
    // makes the run unreadable as anywhere else in it.
    walk_files(run_dir, "params")?;
    walk_files(run_dir, "metrics")?;
    let name_tag = match walk_files(run_dir, "tags")?
        .into_iter()
        .find(|(key, _)| key == RUN_NAME_TAG)
    {
        Some((_, path)) => Some(read_run_text(&path, &format!("tags/{RUN_NAME_TAG}"))?),
        None => None,
    };
    let run_name = name_tag
        .or_else(|| text_field(&meta, "run_name").filter(|s| !s.is_empty()))
        .unwrap_or_else(|| run_id.clone());
    let artifacts = run_dir.join("artifacts");
    Ok(Run {
        run_name,
        status: RunStatus::parse(&status),
        lifecycle_stage: LifecycleStage::parse(
            &text_field(&meta, "lifecycle_stage").unwrap_or_else(|| "active".into()),
        ),
        start_time: int_field(&meta, "start_time")?,
        end_time: int_field(&meta, "end_time")?,
        artifact_dir: artifacts.is_dir().then_some(artifacts),
        unreadable: None,
        run_id,
    })
}

/// Regular files below `<run_dir>/<sub>` with their `/`-joined relative paths, sorted; none
/// if it is absent. Links are followed a bounded number of hops, a directory is never
/// entered from below it, and special files are refused.
fn walk_files(run_dir: &Path, sub: &str) -> Result<Vec<(String, PathBuf)>, Problem> {
    let mut out = Vec::new();
    let Entry::Dir(root, id) = resolve(&run_dir.join(sub))? else {
        return Ok(out);
    };
    // Each pending directory carries the directories above it, to refuse a way back up.
    let mut pending = vec![(String::new(), root, vec![id])];
    while let Some((prefix, dir, above)) = pending.pop() {
        for dir_entry in fsx::read_dir_sorted(&dir)? {
            let name = dir_entry.file_name().to_string_lossy().into_owned();
            let key = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = dir_entry.path();
            // A plain file's own type needs no system call; anything else is resolved.
            let resolved = match dir_entry.file_type() {
                Ok(t) if t.is_file() => Entry::File(path),
                _ => resolve(&path)?,
            };
            let unusable = |why: &str| Problem::Unusable(format!("`{sub}/{key}` {why}"));
            match resolved {
                Entry::File(file) => out.push((key, file)),
                Entry::Dir(_, id) if above.contains(&id) => {
                    return Err(unusable(
                        "leads back to a directory above it (a loop of symbolic links)",
                    ))
                }
                Entry::Dir(d, id) => {
                    let mut chain = above.clone();
                    chain.push(id);
                    pending.push((key, d, chain));
                }
                Entry::Refused(why) => return Err(unusable(&why)),
                Entry::Missing => return Err(unusable("is a symbolic link to nothing")),
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn reads_a_hand_made_run() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("7/meta.yaml"),
            "experiment_id: '7'\nname: PLR\nlifecycle_stage: active\n",
        );
        let run = root.join("7/abc");
        write(&run.join("meta.yaml"), "run_uuid: abc\nrun_name: n1\nstatus: 3\nlifecycle_stage: active\nstart_time: 5\nend_time: 9\nartifact_uri: file:///gone/abc/artifacts\n");
        write(&run.join("params/model_name"), "CatBoost");
        write(
            &run.join("tags/mlflow.runName"),
            "CATBOOST_eval-auc__f__i__o",
        );
        write(
            &run.join("metrics/test/AUROC"),
            "100 0.5 0\n200 0.75 1\n150 0.9 0\n",
        );
        write(&run.join("metrics/old"), "100 2.5\n");
        std::fs::create_dir_all(run.join("artifacts")).unwrap();
        let store = FileStore::new(root.to_path_buf());
        let exps = store.experiments().unwrap();
        assert_eq!(exps.len(), 1);
        let runs = store.runs(&exps[0]).unwrap();
        let r = &runs[0];
        assert_eq!(r.run_id, "abc");
        assert_eq!(r.run_name, "CATBOOST_eval-auc__f__i__o");
        assert_eq!(r.status, RunStatus::Finished);
        assert_eq!((r.start_time, r.end_time), (Some(5), Some(9)));
        assert_eq!(
            r.artifact_dir.as_deref(),
            Some(run.join("artifacts").as_path())
        );
    }

    #[test]
    fn files_the_extraction_does_not_use_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("7/meta.yaml"), "experiment_id: '7'\nname: PLR\n");
        let run = root.join("7/abc");
        write(
            &run.join("meta.yaml"),
            "run_id: abc\nrun_name: n1\nstatus: 3\n",
        );
        // Neither would make the run unreadable if it were read and parsed.
        std::fs::create_dir_all(run.join("params")).unwrap();
        std::fs::write(run.join("params/binary"), [0xff, 0xfe, 0x00]).unwrap();
        write(&run.join("metrics/test/AUROC"), "not a metric line\n");
        let store = FileStore::new(root.to_path_buf());
        let runs = store.runs(&store.experiments().unwrap()[0]).unwrap();
        assert_eq!(runs[0].unreadable, None);
        assert_eq!(runs[0].run_name, "n1");
    }

    #[test]
    fn linked_key_files_and_directories_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        write(&elsewhere.join("nested/depth"), "3");
        write(&elsewhere.join("value"), "CatBoost");
        let params = dir.path().join("params");
        std::fs::create_dir_all(&params).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("nested"), params.join("tree")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("value"), params.join("model_name")).unwrap();
        let keys: Vec<String> = walk_files(dir.path(), "params")
            .unwrap()
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        assert_eq!(keys, ["model_name", "tree/depth"]);
    }

    #[test]
    fn a_run_name_tag_that_is_not_text_makes_one_run_unreadable() {
        let runs = list_with_a_spoiled_run(|run| {
            std::fs::create_dir_all(run.join("tags")).unwrap();
            std::fs::write(run.join("tags/mlflow.runName"), [0xff, 0xfe]).unwrap();
        });
        assert!(
            reason(&runs).contains("`tags/mlflow.runName` is not UTF-8 text"),
            "{}",
            reason(&runs)
        );
    }

    /// An experiment `7` with a good run `good` and the run `bad`, whose files `make_bad`
    /// spoils; returns the runs listed.
    fn list_with_a_spoiled_run(make_bad: impl FnOnce(&Path)) -> Vec<Run> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("7/meta.yaml"), "experiment_id: '7'\nname: PLR\n");
        for id in ["bad", "good"] {
            write(
                &root.join(format!("7/{id}/meta.yaml")),
                &format!("run_id: {id}\nstatus: 3\n"),
            );
            write(&root.join(format!("7/{id}/params/model_name")), "CatBoost");
        }
        make_bad(&root.join("7/bad"));
        let store = FileStore::new(root.to_path_buf());
        let runs = store.runs(&store.experiments().unwrap()[0]).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].run_id, "good");
        assert_eq!(runs[1].unreadable, None);
        assert_eq!(runs[0].run_id, "bad");
        runs
    }

    fn reason(runs: &[Run]) -> &str {
        runs[0]
            .unreadable
            .as_deref()
            .expect("the spoiled run is unreadable")
    }

    #[test]
    fn an_empty_or_half_written_meta_yaml_makes_one_run_unreadable() {
        for text in ["", "run_id: bad\nstatus: 3\nlifecycle", "run_id: bad\n"] {
            let runs = list_with_a_spoiled_run(|run| write(&run.join("meta.yaml"), text));
            assert!(reason(&runs).contains("half-written"), "{text:?}");
        }
    }

    #[test]
    fn a_fifo_among_the_params_makes_one_run_unreadable_without_opening_it() {
        let runs = list_with_a_spoiled_run(|run| {
            let status = std::process::Command::new("mkfifo")
                .arg(run.join("params/fifo"))
                .status()
                .unwrap();
            assert!(status.success());
        });
        assert!(
            reason(&runs).contains("`params/fifo` is a FIFO"),
            "{}",
            reason(&runs)
        );
    }

    #[test]
    fn a_link_back_up_the_tree_makes_one_run_unreadable() {
        let runs = list_with_a_spoiled_run(|run| {
            std::os::unix::fs::symlink(".", run.join("params/up")).unwrap();
        });
        assert!(
            reason(&runs).contains("`params/up` leads back"),
            "{}",
            reason(&runs)
        );
        let runs = list_with_a_spoiled_run(|run| {
            std::os::unix::fs::symlink("b", run.join("params/a")).unwrap();
            std::os::unix::fs::symlink("a", run.join("params/b")).unwrap();
        });
        assert!(
            reason(&runs).contains("symbolic links"),
            "{}",
            reason(&runs)
        );
    }
}
