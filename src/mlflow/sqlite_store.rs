//! The MLflow SQLite store (`mlflow.db`), opened read-only and never migrated, with
//! artifacts on disk.
//!
//! A run's artifacts are found at its recorded `artifact_uri` if that exists, else under the
//! store's directory, else under the configured artifact root (stores get moved).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags};

use super::store::relocate_artifacts;
use super::{Experiment, LifecycleStage, Run, RunStatus};

/// An SQLite tracking store.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Connection,
    artifact_root: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens `path` read-only; refuses a file that is not an MLflow database.
    pub fn open(path: &Path, artifact_root: Option<PathBuf>) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the SQLite store `{}`", path.display()))?;
        let has_runs: bool = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'experiments')", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n == 2)
            .with_context(|| format!("`{}` is not an SQLite database", path.display()))?;
        if !has_runs {
            anyhow::bail!(
                "`{}` is not an MLflow store: it has no `runs` and `experiments` tables",
                path.display()
            );
        }
        Ok(Self {
            path: path.to_path_buf(),
            conn,
            artifact_root,
        })
    }

    /// Every experiment in the `experiments` table.
    pub fn experiments(&self) -> Result<Vec<Experiment>> {
        let mut stmt = self
            .conn
            .prepare("SELECT experiment_id, name, lifecycle_stage FROM experiments")?;
        let rows = stmt.query_map([], |r| {
            Ok(Experiment {
                id: r.get::<_, i64>(0)?.to_string(),
                name: r.get(1)?,
                lifecycle_stage: LifecycleStage::parse(
                    &r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                ),
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .with_context(|| format!("cannot read experiments from `{}`", self.path.display()))
    }

    /// Every run of an experiment, named by its `mlflow.runName` tag where it has one.
    pub fn runs(&self, experiment: &Experiment) -> Result<Vec<Run>> {
        let ctx = || format!("cannot read runs from `{}`", self.path.display());
        crate::base::fault::inject_listing().with_context(ctx)?;
        let mut names = self.run_name_tags(experiment).with_context(ctx)?;
        let store_dir = crate::fsx::parent_dir(&self.path);
        let roots: Vec<PathBuf> = std::iter::once(store_dir)
            .chain(self.artifact_root.clone())
            .collect();
        let mut stmt = self.conn.prepare(
            "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, artifact_uri \
             FROM runs WHERE experiment_id = ?1",
        )?;
        let rows = stmt
            .query_map([experiment.id.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
            .with_context(ctx)?;
        Ok(rows
            .into_iter()
            .map(|(run_id, name, status, start, end, stage, uri)| {
                let run_name = names
                    .remove(&run_id)
                    .or(name.filter(|n| !n.is_empty()))
                    .unwrap_or_else(|| run_id.clone());
                Run {
                    run_name,
                    status: RunStatus::parse(&status.unwrap_or_default()),
                    lifecycle_stage: LifecycleStage::parse(
                        &stage.unwrap_or_else(|| "active".into()),
                    ),
                    start_time: start,
                    end_time: end,
                    artifact_dir: uri
                        .as_deref()
                        .and_then(|u| relocate_artifacts(u, &run_id, &roots)),
                    unreadable: None,
                    run_id,
                }
            })
            .collect())
    }

    /// The `mlflow.runName` tag of each run of the experiment that has one.
    fn run_name_tags(&self, experiment: &Experiment) -> Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT t.run_uuid, t.value FROM tags t JOIN runs r ON r.run_uuid = t.run_uuid \
             WHERE r.experiment_id = ?1 AND t.key = 'mlflow.runName'",
        )?;
        let rows = stmt.query_map([experiment.id.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (run, name) = row?;
            out.insert(run, name.unwrap_or_default());
        }
        Ok(out)
    }
}
