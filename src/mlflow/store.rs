//! Opening a tracking store from a URI and choosing the experiment.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::file_store::FileStore;
use super::sqlite_store::SqliteStore;
use super::{Experiment, LifecycleStage, Run, TrackingUri};
use crate::error::{Error, Result};

/// Which backend a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The `mlruns/` directory layout.
    File,
    /// An `mlflow.db` SQLite database with artifacts on disk.
    Sqlite,
}

/// An opened MLflow tracking store (read-only).
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    File(FileStore),
    Sqlite(SqliteStore),
}

impl Store {
    /// Opens the store a tracking URI names: a directory, `file://PATH` or `sqlite:///PATH`.
    /// Remote servers are refused: mlrepro reads stores offline.
    pub fn open(uri: &TrackingUri, artifact_root: Option<&Path>) -> Result<Store> {
        let raw = uri.raw.trim();
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("databricks")
        {
            return Err(Error::usage(anyhow!(
                "the tracking URI `{raw}` (from {}) is a remote server; mlrepro reads stores from disk",
                uri.origin
            ))
            .with_hint("copy the store locally (its `mlruns/` directory, or `mlflow.db` and its artifacts) and pass its path"));
        }
        let (path, forced) = if let Some(p) = raw.strip_prefix("sqlite:///") {
            (PathBuf::from(p), Some(StoreKind::Sqlite))
        } else if let Some(p) = raw.strip_prefix("file://") {
            (PathBuf::from(p), Some(StoreKind::File))
        } else if let Some(p) = raw.strip_prefix("file:") {
            (PathBuf::from(p), Some(StoreKind::File))
        } else if raw.contains("://") {
            return Err(Error::usage(anyhow!(
                "the tracking URI `{raw}` (from {}) has an unsupported scheme; use a directory, `file://PATH` or `sqlite:///PATH`",
                uri.origin
            )));
        } else {
            (PathBuf::from(raw), None)
        };
        let meta = std::fs::metadata(&path).map_err(|e| {
            Error::usage(anyhow!(
                "the tracking store `{}` (from {}) cannot be opened: {}",
                path.display(),
                uri.origin,
                e.to_string().to_lowercase()
            ))
            .with_hint("pass `--tracking-uri PATH` or set `store.tracking_uri` in the config")
        })?;
        let kind = forced.unwrap_or(if meta.is_dir() {
            StoreKind::File
        } else {
            StoreKind::Sqlite
        });
        let backend = match kind {
            StoreKind::File => {
                if !meta.is_dir() {
                    return Err(Error::usage(anyhow!(
                        "the file store `{}` is not a directory; for an SQLite store use `sqlite:///{}`",
                        path.display(),
                        path.display()
                    )));
                }
                Backend::File(FileStore::new(path))
            }
            StoreKind::Sqlite => Backend::Sqlite(
                SqliteStore::open(&path, artifact_root.map(Path::to_path_buf))
                    .map_err(Error::usage)?,
            ),
        };
        Ok(Store { backend })
    }

    /// The backend in use.
    pub fn kind(&self) -> StoreKind {
        match self.backend {
            Backend::File(_) => StoreKind::File,
            Backend::Sqlite(_) => StoreKind::Sqlite,
        }
    }

    /// Every experiment of the store, sorted by id.
    pub fn experiments(&self) -> Result<Vec<Experiment>> {
        let mut exps = match &self.backend {
            Backend::File(s) => s.experiments(),
            Backend::Sqlite(s) => s.experiments(),
        }
        .map_err(Error::pipeline)?;
        exps.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(exps)
    }

    /// The experiment to read: the one named (by name or id), or else the only active
    /// experiment other than MLflow's `Default`. Anything ambiguous is a usage error that
    /// lists the experiments.
    pub fn select_experiment(&self, wanted: Option<&str>) -> Result<Experiment> {
        let all = self.experiments()?;
        if all.is_empty() {
            return Err(
                Error::usage(anyhow!("the tracking store holds no experiment")).with_hint(
                    "a file store is the `mlruns` directory itself, holding one directory per \
                     experiment with its `meta.yaml`; an SQLite store is the `mlflow.db` file",
                ),
            );
        }
        let listing = || {
            all.iter()
                .map(|e| {
                    format!(
                        "{e}{}",
                        if e.lifecycle_stage == LifecycleStage::Active {
                            ""
                        } else {
                            " [deleted]"
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(w) = wanted {
            let found: Vec<_> = all.iter().filter(|e| e.id == w || e.name == w).collect();
            return match found.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(Error::usage(anyhow!(
                    "no experiment named or numbered `{w}` in the store"
                ))
                .with_hint(format!(
                    "the store has: {}; pass one with `--experiment NAME_OR_ID`",
                    listing()
                ))),
                _ => Err(
                    Error::usage(anyhow!("`{w}` names several experiments: {}", listing()))
                        .with_hint("pass the experiment id instead"),
                ),
            };
        }
        let candidates: Vec<_> = all
            .iter()
            .filter(|e| {
                e.lifecycle_stage == LifecycleStage::Active && e.id != "0" && e.name != "Default"
            })
            .collect();
        match candidates.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(
                Error::usage(anyhow!("the store has no experiment besides `Default`"))
                    .with_hint(format!("the store has: {}", listing())),
            ),
            _ => Err(Error::usage(anyhow!(
                "the store has several experiments; choose one: {}",
                candidates
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_hint("pass `--experiment NAME_OR_ID` or set `store.experiment` in the config")),
        }
    }

    /// Every run of an experiment (deleted and unfinished ones included), sorted by run id.
    pub fn runs(&self, experiment: &Experiment) -> Result<Vec<Run>> {
        let mut runs = match &self.backend {
            Backend::File(s) => s.runs(experiment),
            Backend::Sqlite(s) => s.runs(experiment),
        }
        .map_err(Error::pipeline)?;
        runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        Ok(runs)
    }
}

/// Finds a run's artifact directory when the recorded `artifact_uri` no longer exists: the
/// longest tail of the recorded path (which must contain the run id) that exists under one of
/// `roots`.
pub(super) fn relocate_artifacts(
    recorded: &str,
    run_id: &str,
    roots: &[PathBuf],
) -> Option<PathBuf> {
    let path = recorded
        .strip_prefix("file://")
        .or_else(|| recorded.strip_prefix("file:"))
        .unwrap_or(recorded);
    let direct = PathBuf::from(path);
    if !path.is_empty() && direct.is_dir() {
        return Some(direct);
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let run_pos = parts.iter().position(|p| *p == run_id)?;
    for root in roots {
        for start in 0..=run_pos {
            let candidate = parts[start..]
                .iter()
                .fold(root.clone(), |acc, p| acc.join(p));
            if candidate.is_dir() {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relocation_finds_the_moved_tail() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("artifacts/1/abc123/artifacts");
        std::fs::create_dir_all(&target).unwrap();
        let found = relocate_artifacts(
            "file:///old/home/store/artifacts/1/abc123/artifacts",
            "abc123",
            &[dir.path().to_path_buf()],
        );
        assert_eq!(found, Some(target));
        assert_eq!(
            relocate_artifacts(
                "file:///old/x/1/zzz/artifacts",
                "abc123",
                &[dir.path().to_path_buf()]
            ),
            None
        );
    }
}
