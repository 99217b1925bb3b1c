//! The MLflow file store: `<root>/<experiment_id>/meta.yaml` and
//! `<root>/<experiment_id>/<run_id>/{meta.yaml,params/,tags/,metrics/,artifacts/}`.
//!
//! Artifacts are always taken from `<run_dir>/artifacts/`: a recorded absolute
//! `artifact_uri` goes stale as soon as a store is moved, so it is never trusted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rayon::prelude::*;
use serde_yaml_ng::Value;

use super::{Experiment, LifecycleStage, Run, RunStatus};
use crate::fsx;

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
        for entry in fsx::read_dir_sorted(&self.root)? {
            let dir = entry.path();
            let meta_path = dir.join("meta.yaml");
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !dir.is_dir() || !meta_path.is_file() {
                continue;
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

    /// Every run directory of an experiment.
    pub fn runs(&self, experiment: &Experiment) -> Result<Vec<Run>> {
        let exp_dir = self.experiment_dir(experiment)?;
        let run_dirs: Vec<PathBuf> = fsx::read_dir_sorted(&exp_dir)?
            .into_iter()
            .map(|entry| entry.path())
            .collect();
        // Thousands of small files: read the runs in parallel, report the first error in
        // directory order.
        run_dirs
            .par_iter()
            .filter(|dir| dir.is_dir() && dir.join("meta.yaml").is_file())
            .map(|dir| read_run(dir))
            .collect::<Vec<_>>()
            .into_iter()
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

fn read_yaml(path: &Path) -> Result<Value> {
    let text = fsx::read_to_string(path)?;
    serde_yaml_ng::from_str(&text)
        .with_context(|| format!("`{}` is not valid YAML", path.display()))
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

fn int_field(meta: &Value, key: &str, path: &Path) -> Result<Option<i64>> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| anyhow!("`{}`: key `{key}` is not an integer: {n}", path.display())),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| anyhow!("`{}`: key `{key}` is not an integer: `{s}`", path.display())),
        Some(other) => Err(anyhow!(
            "`{}`: key `{key}` has an unexpected value {other:?}",
            path.display()
        )),
    }
}

fn read_run(run_dir: &Path) -> Result<Run> {
    let meta_path = run_dir.join("meta.yaml");
    let meta = read_yaml(&meta_path)?;
    let dir_name = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let run_id = text_field(&meta, "run_id")
        .filter(|s| !s.is_empty())
        .or_else(|| text_field(&meta, "run_uuid").filter(|s| !s.is_empty()))
        .unwrap_or(dir_name);
    let status = text_field(&meta, "status")
        .ok_or_else(|| anyhow!("`{}` has no key `status`", meta_path.display()))?;
    let mut source_files = vec![meta_path.clone()];
    let params = read_key_files(&run_dir.join("params"), &mut source_files)?;
    let tags = read_key_files(&run_dir.join("tags"), &mut source_files)?;
    let metrics = read_metrics(&run_dir.join("metrics"), &mut source_files)?;
    let run_name = tags
        .get("mlflow.runName")
        .cloned()
        .or_else(|| text_field(&meta, "run_name").filter(|s| !s.is_empty()))
        .unwrap_or_else(|| run_id.clone());
    let artifacts = run_dir.join("artifacts");
    Ok(Run {
        run_name,
        status: RunStatus::parse(&status),
        lifecycle_stage: LifecycleStage::parse(
            &text_field(&meta, "lifecycle_stage").unwrap_or_else(|| "active".into()),
        ),
        start_time: int_field(&meta, "start_time", &meta_path)?,
        end_time: int_field(&meta, "end_time", &meta_path)?,
        params,
        tags,
        metrics,
        artifact_dir: artifacts.is_dir().then_some(artifacts),
        source_files,
        run_id,
    })
}

/// Files under `dir` (recursively: keys may contain `/`), as key → content.
fn read_key_files(dir: &Path, seen: &mut Vec<PathBuf>) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, path) in walk_files(dir)? {
        out.insert(key, fsx::read_to_string(&path)?);
        seen.push(path);
    }
    Ok(out)
}

/// The latest value (highest step, then latest timestamp) of each metric file.
fn read_metrics(dir: &Path, seen: &mut Vec<PathBuf>) -> Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for (key, path) in walk_files(dir)? {
        let text = fsx::read_to_string(&path)?;
        let mut latest: Option<((i64, i64), f64)> = None;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let bad = || {
                anyhow!(
                    "`{}` line {}: expected `timestamp value [step]`, found `{line}`",
                    path.display(),
                    i + 1
                )
            };
            let (ts, value, step) = match fields.as_slice() {
                [ts, v] => (*ts, *v, "0"),
                [ts, v, step, ..] => (*ts, *v, *step),
                _ => return Err(bad()),
            };
            let order = (
                step.parse::<i64>().map_err(|_| bad())?,
                ts.parse::<i64>().map_err(|_| bad())?,
            );
            let value: f64 = value.parse().map_err(|_| bad())?;
            if latest.is_none_or(|(o, _)| order >= o) {
                latest = Some((order, value));
            }
        }
        if let Some((_, v)) = latest {
            out.insert(key, v);
        }
        seen.push(path);
    }
    Ok(out)
}

/// Regular files below `dir` with their `/`-joined relative paths, sorted; none if `dir` is absent.
fn walk_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut pending = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, d)) = pending.pop() {
        for entry in fsx::read_dir_sorted(&d)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let key = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            // The entry's own type needs no system call; a link is followed.
            let is_dir = match entry.file_type() {
                Ok(t) if !t.is_symlink() => t.is_dir(),
                _ => path.is_dir(),
            };
            if is_dir {
                pending.push((key, path));
            } else {
                out.push((key, path));
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
        assert_eq!(r.params["model_name"], "CatBoost");
        assert_eq!(r.metrics["test/AUROC"], 0.75);
        assert_eq!(r.metrics["old"], 2.5);
        assert_eq!(
            r.artifact_dir.as_deref(),
            Some(run.join("artifacts").as_path())
        );
        assert_eq!(r.source_files.len(), 5);
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
        let read = read_key_files(&params, &mut Vec::new()).unwrap();
        assert_eq!(read["tree/depth"], "3");
        assert_eq!(read["model_name"], "CatBoost");
        assert_eq!(read.len(), 2);
    }

    #[test]
    fn bad_metric_line_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("m/x"), "1 0.5 0\nnot a number\n");
        let err = read_metrics(&dir.path().join("m"), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
