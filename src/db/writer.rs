//! Writing the public checkpoint: one writer, into a temporary file promoted only when whole.
//!
//! The tables are created from [`super::schema::ddl`] in a file attached with storage version
//! `v1.1.0`, so DuckDB 1.1 and later can open it. Rows go in through the Appender API. The
//! logical digest is computed from the written tables and stored in `metadata`. A checkpoint
//! whose logical digest equals the existing one's is not rewritten, so an unchanged result
//! leaves the file (and a git checkout holding it) untouched. Beside the database go its
//! `.sha256` (sha256sum format), Parquet copies of every table and the data dictionary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use duckdb::types::Value;
use duckdb::Connection;
use rayon::prelude::*;

use super::digest::{digest_of, per_table, table_dump, DIGEST_KEY};
use super::schema::{self, data_dictionary, ddl, Table, SCHEMA_VERSION};
use crate::fsx;
use crate::runner::stat_cache::sha256_file;

/// The storage version the checkpoint is written with (readable by DuckDB ≥ 1.1).
pub const STORAGE_VERSION: &str = "v1.1.0";

/// Rows of every table, each row in the schema's column order.
#[derive(Debug, Default, Clone)]
pub struct TableRows {
    rows: BTreeMap<&'static str, Vec<Vec<Value>>>,
}

impl TableRows {
    /// Adds one row to `table`, given as (column, value) pairs in any order. Every column of
    /// the schema must be given exactly once.
    pub fn push(&mut self, table: &'static str, cells: Vec<(&str, Value)>) -> Result<()> {
        let schema =
            schema::table(table).ok_or_else(|| anyhow!("no table `{table}` in the schema"))?;
        let mut row: Vec<Option<Value>> = vec![None; schema.columns.len()];
        for (name, value) in cells {
            let i = schema
                .columns
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| anyhow!("`{table}` has no column `{name}`"))?;
            if row[i].replace(value).is_some() {
                bail!("column `{table}.{name}` given twice");
            }
        }
        let row = row
            .into_iter()
            .zip(&schema.columns)
            .map(|(value, column)| match value {
                None => Err(anyhow!("no value for column `{table}.{}`", column.name)),
                Some(Value::Null) if !column.nullable => Err(anyhow!(
                    "NULL for the non-null column `{table}.{}`",
                    column.name
                )),
                Some(value) => Ok(value),
            })
            .collect::<Result<Vec<_>>>()?;
        self.rows.entry(table).or_default().push(row);
        Ok(())
    }

    /// The rows of `table` (empty if none).
    pub fn get(&self, table: &str) -> &[Vec<Value>] {
        self.rows.get(table).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// What happened to the checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// A new checkpoint replaced the old one (or none existed).
    Written {
        /// Logical digest of the new content.
        digest: String,
    },
    /// The content equals the existing checkpoint's; the file was left as it was.
    Unchanged {
        /// Logical digest of the (unchanged) content.
        digest: String,
    },
}

impl WriteOutcome {
    /// The logical digest of the checkpoint now on disk.
    pub fn digest(&self) -> &str {
        match self {
            WriteOutcome::Written { digest } | WriteOutcome::Unchanged { digest } => digest,
        }
    }
}

/// Paths of the files that make up a checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointPaths {
    /// The DuckDB file.
    pub db: PathBuf,
    /// `<db>.sha256`.
    pub sha256: PathBuf,
    /// `<dir>/parquet/`.
    pub parquet_dir: PathBuf,
    /// `<dir>/SCHEMA.md`.
    pub dictionary: PathBuf,
}

impl CheckpointPaths {
    /// The companion paths of a checkpoint at `db`.
    pub fn new(db: &Path) -> Self {
        let dir = fsx::parent_dir(db);
        let mut sha = db.as_os_str().to_owned();
        sha.push(".sha256");
        Self {
            db: db.to_path_buf(),
            sha256: sha.into(),
            parquet_dir: dir.join("parquet"),
            dictionary: dir.join("SCHEMA.md"),
        }
    }
}

/// A checkpoint being written: its temporary database with the tables created, and the
/// logical digest of the checkpoint it may replace. Creating it is independent of the rows,
/// so it can be done while they are built.
pub struct NewCheckpoint {
    paths: CheckpointPaths,
    tmp: TempDb,
    conn: Connection,
    existing_digest: Option<String>,
}

impl NewCheckpoint {
    /// Creates the temporary database beside `paths.db` with every table of the schema.
    pub fn create(paths: &CheckpointPaths) -> Result<Self> {
        let dir = fsx::parent_dir(&paths.db);
        fsx::create_dir_all(&dir)?;
        let tmp = TempDb::new(&paths.db);
        let conn = Connection::open_in_memory().context("cannot start DuckDB")?;
        conn.execute_batch(&format!(
            "ATTACH '{}' AS ckpt (STORAGE_VERSION '{STORAGE_VERSION}'); USE ckpt;",
            sql_path(&tmp.path)
        ))
        .with_context(|| format!("cannot create `{}`", tmp.path.display()))?;
        conn.execute_batch(&ddl())
            .context("cannot create the checkpoint tables")?;
        Ok(Self {
            existing_digest: existing_digest(&paths.db),
            paths: paths.clone(),
            tmp,
            conn,
        })
    }

    /// Appends `rows` and `metadata`, records the logical digest and, unless the content
    /// equals the existing checkpoint's, promotes the database with its companions.
    pub fn write(self, rows: &TableRows, metadata: &[(&str, String)]) -> Result<WriteOutcome> {
        let Self {
            paths,
            tmp,
            conn,
            existing_digest,
        } = self;
        let dir = fsx::parent_dir(&paths.db);
        append_all(&conn, rows, metadata)?;
        let parquet_tmp = tempfile::Builder::new()
            .prefix(".parquet.")
            .tempdir_in(&dir)
            .with_context(|| {
                format!("cannot create a temporary directory in `{}`", dir.display())
            })?;
        let export = |conn: &Connection, table: &Table| {
            let out = parquet_tmp.path().join(format!("{}.parquet", table.name));
            conn.execute_batch(&format!(
                "COPY ckpt.main.{} TO '{}' (FORMAT parquet)",
                table.name,
                sql_path(&out)
            ))
            .with_context(|| format!("cannot export table `{}` to Parquet", table.name))
        };
        // One pass per table, in parallel: its canonical dump for the digest and, for every
        // table but `metadata` (which is still to receive the digest), its Parquet copy.
        let dumps = per_table(&conn)?
            .into_par_iter()
            .map(|(table, conn)| {
                let dump = table_dump(&conn, "ckpt", table)?;
                if table.name != "metadata" {
                    export(&conn, table)?;
                }
                Ok(dump)
            })
            .collect::<Result<Vec<_>>>()?;
        let digest = digest_of(dumps);
        conn.execute(
            "INSERT INTO ckpt.main.metadata VALUES (?, ?)",
            [DIGEST_KEY, digest.as_str()],
        )?;
        if existing_digest.as_deref() == Some(digest.as_str()) && companions_present(&paths) {
            drop(conn);
            return Ok(WriteOutcome::Unchanged { digest });
        }
        let metadata_table =
            schema::table("metadata").ok_or_else(|| anyhow!("no table `metadata`"))?;
        export(&conn, metadata_table)?;
        conn.execute_batch("USE memory; DETACH ckpt;")
            .context("cannot close the new checkpoint")?;
        drop(conn);

        let sha = format!("{}  {}\n", sha256_file(&tmp.path)?, file_name(&paths.db));
        tmp.promote(&paths.db)?;
        fsx::write_atomic(&paths.sha256, sha.as_bytes())?;
        replace_dir(parquet_tmp, &paths.parquet_dir)?;
        fsx::write_atomic(&paths.dictionary, data_dictionary().as_bytes())?;
        Ok(WriteOutcome::Written { digest })
    }
}

/// Appends every table's rows, the tables in parallel.
fn append_all(conn: &Connection, rows: &TableRows, metadata: &[(&str, String)]) -> Result<()> {
    per_table(conn)?
        .into_par_iter()
        .try_for_each(|(table, conn)| append_table(&conn, table, rows, metadata))
}

fn append_table(
    conn: &Connection,
    table: &Table,
    rows: &TableRows,
    metadata: &[(&str, String)],
) -> Result<()> {
    let mut appender = conn
        .appender_to_catalog_and_db(table.name, "ckpt", "main")
        .with_context(|| format!("cannot append to `{}`", table.name))?;
    let mut append = |row: &[Value]| -> Result<()> {
        if row.len() != table.columns.len() {
            bail!(
                "a row of `{}` has {} values for {} columns",
                table.name,
                row.len(),
                table.columns.len()
            );
        }
        appender
            .append_row(duckdb::appender_params_from_iter(row))
            .with_context(|| format!("cannot append a row to `{}`", table.name))
    };
    if table.name == "metadata" {
        let mut all: Vec<(String, String)> =
            vec![("schema_version".into(), SCHEMA_VERSION.to_string())];
        all.extend(metadata.iter().map(|(k, v)| (k.to_string(), v.clone())));
        for (k, v) in all {
            if k == DIGEST_KEY {
                bail!("metadata key `{DIGEST_KEY}` is reserved");
            }
            append(&[Value::Text(k), Value::Text(v)])?;
        }
    }
    for row in rows.get(table.name) {
        append(row)?;
    }
    appender
        .flush()
        .with_context(|| format!("cannot write table `{}`", table.name))
}

/// The logical digest recorded in an existing checkpoint, if it can be read.
pub fn existing_digest(db: &Path) -> Option<String> {
    if !db.is_file() {
        return None;
    }
    let conn = Connection::open_in_memory().ok()?;
    conn.execute_batch(&format!("ATTACH '{}' AS old (READ_ONLY)", sql_path(db)))
        .ok()?;
    conn.query_row(
        "SELECT value FROM old.main.metadata WHERE key = ?",
        [DIGEST_KEY],
        |r| r.get(0),
    )
    .ok()
}

fn companions_present(paths: &CheckpointPaths) -> bool {
    paths.sha256.is_file() && paths.parquet_dir.is_dir() && paths.dictionary.is_file()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A path quoted for a DuckDB string literal.
pub fn sql_path(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

/// Replaces `target` with the filled temporary directory: the old one is moved aside first,
/// then removed, so a failure leaves one of the two complete.
fn replace_dir(new: tempfile::TempDir, target: &Path) -> Result<()> {
    let new_path = new.keep();
    let old = target.with_extension("old");
    fsx::remove_dir_all_if_exists(&old)?;
    if target.exists() {
        std::fs::rename(target, &old)
            .with_context(|| format!("cannot move `{}` aside", target.display()))?;
    }
    std::fs::rename(&new_path, target)
        .with_context(|| format!("cannot move the new `{}` into place", target.display()))?;
    fsx::remove_dir_all_if_exists(&old)
}

/// A DuckDB file being built beside its target; removed (with its WAL) unless promoted.
struct TempDb {
    path: PathBuf,
    promoted: bool,
}

impl TempDb {
    fn new(target: &Path) -> Self {
        let dir = fsx::parent_dir(target);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = dir.join(format!(
            ".{}.{}.{nanos}.tmp",
            file_name(target),
            std::process::id()
        ));
        Self {
            path,
            promoted: false,
        }
    }

    fn promote(mut self, target: &Path) -> Result<()> {
        let wal = wal_path(&self.path);
        if wal.exists() {
            return Err(anyhow!(
                "`{}` still has a write-ahead log after closing",
                self.path.display()
            ));
        }
        std::fs::rename(&self.path, target).with_context(|| {
            format!(
                "cannot move the new checkpoint into place at `{}`",
                target.display()
            )
        })?;
        self.promoted = true;
        Ok(())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if self.promoted {
            return;
        }
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(wal_path(&self.path));
    }
}

fn wal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".wal");
    p.into()
}
