//! Writing the public checkpoint: one writer, into a temporary file promoted only when whole.
//!
//! The tables are created from [`super::schema::ddl`] in a file attached with storage version
//! `v1.1.0`, so DuckDB 1.1 and later can open it. Rows go in through the Appender API as Arrow
//! record batches, in parallel, into staging tables in DuckDB's memory, from which the Parquet
//! copies are exported; the file receives them all in one transaction, written once, with no
//! commit per table through the write-ahead log. The logical digest is computed from the rows
//! in memory while DuckDB stores them (the same canonical dump that `mlrepro verify` makes from
//! the file) and stored in `metadata`. A checkpoint whose logical digest equals the existing
//! one's is not written at all, so an unchanged result leaves the file (and a git checkout
//! holding it) untouched.
//! Beside the database go its
//! `.sha256` (sha256sum format), Parquet copies of every table and the data dictionary.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;
use rayon::prelude::*;

use super::digest::{digest_of, per_table, DIGEST_KEY};
use super::promote::{self, Member};
use super::schema::{self, data_dictionary, ddl, Table, SCHEMA_VERSION};
use super::table_rows::{batch_dump, Cell, TableRows};
use crate::base::hashing::sha256_file;
use crate::fsx;

/// The in-memory catalog of the staging tables.
const STAGING: &str = "memory";

/// The storage version the checkpoint is written with (readable by DuckDB ≥ 1.1).
pub const STORAGE_VERSION: &str = "v1.1.0";

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
        promote::recover(&dir, &file_name(&paths.db))?;
        let tmp = TempDb::new(&paths.db);
        let conn = Connection::open_in_memory().context("cannot start DuckDB")?;
        // The tables are staged, copied into the file and exported to Parquet from several
        // threads at once, one connection each; DuckDB's own workers would only contend with
        // them (they spin waiting for tasks), so every statement runs on its calling thread.
        conn.execute_batch("SET threads = 1")
            .context("cannot configure DuckDB")?;
        conn.execute_batch(&format!(
            "ATTACH '{}' AS ckpt (STORAGE_VERSION '{STORAGE_VERSION}'); USE ckpt;",
            sql_path(&tmp.path)
        ))
        .with_context(|| format!("cannot create `{}`", tmp.path.display()))?;
        conn.execute_batch(&ddl())
            .context("cannot create the checkpoint tables")?;
        // Staging tables: the same columns, without the constraints, which the file's tables
        // check once, as the rows are copied in.
        for table in schema::tables() {
            conn.execute_batch(&format!(
                "CREATE TABLE {STAGING}.main.{0} AS SELECT * FROM ckpt.main.{0} LIMIT 0",
                table.name
            ))
            .with_context(|| format!("cannot create the staging table `{}`", table.name))?;
        }
        Ok(Self {
            existing_digest: existing_digest(&conn, &paths.db),
            paths: paths.clone(),
            tmp,
            conn,
        })
    }

    /// Adds `metadata` to the rows and appends them; records their logical digest and,
    /// unless the content equals the existing checkpoint's, promotes the database with its
    /// companions.
    pub fn write(self, mut rows: TableRows, metadata: &[(&str, String)]) -> Result<WriteOutcome> {
        let Self {
            paths,
            tmp,
            conn,
            existing_digest,
        } = self;
        push_metadata(&mut rows, metadata)?;
        let tables = rows.finish()?;
        let batches: Vec<_> = tables.iter().collect();
        // The digest is computed from the rows in memory while DuckDB stages them; `metadata`
        // is staged without the digest, which it receives once known.
        let appends = per_table(&conn)?;
        let (digest, staged) = rayon::join(
            || -> Result<String> {
                let dumps = batches
                    .par_iter()
                    .map(|(table, batch)| batch_dump(table, batch))
                    .collect::<Result<Vec<_>>>()?;
                Ok(digest_of(dumps))
            },
            || -> Result<()> {
                appends
                    .into_par_iter()
                    .zip(batches.par_iter())
                    .try_for_each(|((table, conn), (_, batch))| append(&conn, table, batch))
            },
        );
        staged?;
        let digest = digest?;
        if existing_digest.as_deref() == Some(digest.as_str()) && set_agrees(&paths)? {
            return Ok(WriteOutcome::Unchanged { digest });
        }
        conn.execute(
            &format!("INSERT INTO {STAGING}.main.metadata VALUES (?, ?)"),
            [DIGEST_KEY, digest.as_str()],
        )?;
        let dir = fsx::parent_dir(&paths.db);
        let parquet_tmp = tempfile::Builder::new()
            .prefix(".parquet.")
            .tempdir_in(&dir)
            .with_context(|| {
                format!("cannot create a temporary directory in `{}`", dir.display())
            })?;
        // The file receives the rows on one thread while the others export the Parquet copies
        // from the staging tables. A checkpoint found unchanged above exported nothing.
        let exports = per_table(&conn)?;
        let mut copy = String::from("BEGIN TRANSACTION;\n");
        for (table, _) in &batches {
            copy.push_str(&format!(
                "INSERT INTO ckpt.main.{0} SELECT * FROM {STAGING}.main.{0};\n",
                table.name
            ));
        }
        copy.push_str("COMMIT;\nCHECKPOINT ckpt;\nUSE memory;\nDETACH ckpt;");
        let (written, exported) = rayon::join(
            move || {
                conn.execute_batch(&copy)
                    .context("cannot write the new checkpoint")
            },
            || {
                exports
                    .into_par_iter()
                    .try_for_each(|(table, conn)| export(&conn, table, parquet_tmp.path()))
            },
        );
        written?;
        exported?;

        let db_tmp = tmp.keep()?;
        promote::sync_file(&db_tmp)?;
        let sha = format!("{}  {}\n", sha256_file(&db_tmp)?, file_name(&paths.db));
        let sha_tmp = finished_temp(&paths.sha256, sha.as_bytes())?;
        let dictionary_tmp = finished_temp(&paths.dictionary, data_dictionary().as_bytes())?;
        let parquet_tmp = parquet_tmp.keep();
        promote::sync_tree(&parquet_tmp)?;
        let member = |temporary: &Path, target: &Path| Member {
            temporary: file_name(temporary),
            target: file_name(target),
        };
        // The database last but for its checksum: a set whose database carries the new digest
        // has every other member already in place.
        let members = [
            member(&parquet_tmp, &paths.parquet_dir),
            member(&dictionary_tmp, &paths.dictionary),
            member(&db_tmp, &paths.db),
            member(&sha_tmp, &paths.sha256),
        ];
        promote::promote(&dir, &file_name(&paths.db), &members)?;
        Ok(WriteOutcome::Written { digest })
    }
}

/// Adds the `metadata` rows: the schema version, then `metadata` (which may not set the
/// digest, computed later).
fn push_metadata(rows: &mut TableRows, metadata: &[(&str, String)]) -> Result<()> {
    let version = SCHEMA_VERSION.to_string();
    let all = std::iter::once(("schema_version", version.as_str()))
        .chain(metadata.iter().map(|(k, v)| (*k, v.as_str())));
    for (key, value) in all {
        if key == DIGEST_KEY {
            bail!("metadata key `{DIGEST_KEY}` is reserved");
        }
        rows.push(
            "metadata",
            &[("key", Cell::Text(key)), ("value", Cell::Text(value))],
        )?;
    }
    Ok(())
}

/// Appends a record batch to `table` of the new checkpoint.
fn append(conn: &Connection, table: &Table, batch: &RecordBatch) -> Result<()> {
    let mut appender = conn
        .appender_to_catalog_and_db(table.name, STAGING, "main")
        .with_context(|| format!("cannot append to `{}`", table.name))?;
    appender
        .append_record_batch(batch.clone())
        .with_context(|| format!("cannot append the rows of `{}`", table.name))?;
    appender
        .flush()
        .with_context(|| format!("cannot write table `{}`", table.name))
}

/// Exports the staged rows of `table` to `<dir>/<table>.parquet`.
fn export(conn: &Connection, table: &Table, dir: &Path) -> Result<()> {
    let out = dir.join(format!("{}.parquet", table.name));
    conn.execute_batch(&format!(
        "COPY {STAGING}.main.{} TO '{}' (FORMAT parquet)",
        table.name,
        sql_path(&out)
    ))
    .with_context(|| format!("cannot export table `{}` to Parquet", table.name))
}

/// The logical digest recorded in the checkpoint at `db`, if there is one and it can be
/// read, attached to `conn` for the time of the query.
fn existing_digest(conn: &Connection, db: &Path) -> Option<String> {
    if !db.is_file() {
        return None;
    }
    conn.execute_batch(&format!("ATTACH '{}' AS old (READ_ONLY)", sql_path(db)))
        .ok()?;
    let digest = conn
        .query_row(
            "SELECT value FROM old.main.metadata WHERE key = ?",
            [DIGEST_KEY],
            |r| r.get(0),
        )
        .ok();
    conn.execute_batch("DETACH old").ok()?;
    digest
}

/// Whether the companions on disk belong to the database on disk: its checksum matches, the
/// data dictionary is this version's and every table has its Parquet copy.
fn set_agrees(paths: &CheckpointPaths) -> Result<bool> {
    let Ok(recorded) = std::fs::read_to_string(&paths.sha256) else {
        return Ok(false);
    };
    let expected = format!("{}  {}\n", sha256_file(&paths.db)?, file_name(&paths.db));
    if recorded != expected {
        return Ok(false);
    }
    if std::fs::read_to_string(&paths.dictionary).ok().as_deref() != Some(&data_dictionary()) {
        return Ok(false);
    }
    Ok(schema::tables().iter().all(|t| {
        std::fs::metadata(paths.parquet_dir.join(format!("{}.parquet", t.name)))
            .is_ok_and(|m| m.is_file() && m.len() > 0)
    }))
}

/// A finished temporary copy of `target` holding `bytes`, flushed, beside it; returns its path.
fn finished_temp(target: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let mut tmp = fsx::temp_beside(target)?;
    std::io::Write::write_all(&mut tmp, bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write the new `{}`", target.display()))?;
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .with_context(|| format!("cannot set permissions of the new `{}`", target.display()))?;
    let (_, path) = tmp
        .keep()
        .with_context(|| format!("cannot keep the new `{}`", target.display()))?;
    Ok(path)
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

/// The new database under a temporary name beside the checkpoint; removed when dropped
/// unless kept for promotion.
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

    /// Keeps the closed database for promotion and returns its path.
    fn keep(mut self) -> Result<PathBuf> {
        let wal = wal_path(&self.path);
        if wal.exists() {
            return Err(anyhow!(
                "`{}` still has a write-ahead log after closing",
                self.path.display()
            ));
        }
        self.promoted = true;
        Ok(self.path.clone())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::digest::logical_digest;

    /// Rows with the values a canonical dump could get wrong: signed zero, NaN, infinities,
    /// subnormals, NULLs, quotes, tabs, newlines and non-ASCII text.
    fn awkward_rows() -> TableRows {
        let mut rows = TableRows::default();
        let doubles = [
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            1e-300,
            0.1,
            1e16,
            -123.456,
        ];
        for (i, x) in doubles.into_iter().enumerate() {
            rows.push(
                "dca_curves",
                &[
                    ("dca_id", Cell::count(doubles.len() - i).unwrap()),
                    ("config_id", Cell::Integer(1)),
                    ("threshold", Cell::Double(x)),
                    ("net_benefit_model", Cell::Double(-x)),
                    ("net_benefit_all", Cell::Double(x / 3.0)),
                    ("net_benefit_none", Cell::Double(0.0)),
                    ("sensitivity", Cell::opt_double((i % 2 == 0).then_some(x))),
                    ("specificity", Cell::Null),
                ],
            )
            .unwrap();
        }
        for metric in ["b\t\"quoted\"\nline", "a ü ∞ 𝔸", ""] {
            rows.push(
                "metric_notes",
                &[
                    ("config_id", Cell::Integer(7)),
                    ("metric", Cell::Text(metric)),
                    ("reason", Cell::Text("\\ back")),
                ],
            )
            .unwrap();
        }
        rows
    }

    #[test]
    fn the_digest_of_the_rows_is_the_digest_of_the_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = CheckpointPaths::new(&dir.path().join("results.duckdb"));
        let metadata = [("n_configs", "1".to_string())];
        let outcome = NewCheckpoint::create(&paths)
            .unwrap()
            .write(awkward_rows(), &metadata)
            .unwrap();
        assert!(matches!(outcome, WriteOutcome::Written { .. }));

        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!(
            "ATTACH '{}' AS ckpt (READ_ONLY)",
            sql_path(&paths.db)
        ))
        .unwrap();
        assert_eq!(logical_digest(&conn, "ckpt").unwrap(), outcome.digest());
        let recorded: String = conn
            .query_row(
                "SELECT value FROM ckpt.main.metadata WHERE key = ?",
                [DIGEST_KEY],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(recorded, outcome.digest());
        drop(conn);

        use std::os::unix::fs::MetadataExt;
        let inode = |p: &Path| std::fs::metadata(p).unwrap().ino();
        let parquet_before = inode(&paths.parquet_dir.join("metadata.parquet"));
        let again = NewCheckpoint::create(&paths)
            .unwrap()
            .write(awkward_rows(), &metadata)
            .unwrap();
        assert_eq!(
            again,
            WriteOutcome::Unchanged {
                digest: outcome.digest().to_string()
            }
        );
        assert_eq!(
            inode(&paths.parquet_dir.join("metadata.parquet")),
            parquet_before,
            "an unchanged checkpoint leaves its Parquet copies in place"
        );
        let changed = NewCheckpoint::create(&paths)
            .unwrap()
            .write(awkward_rows(), &[("n_configs", "2".to_string())])
            .unwrap();
        assert!(matches!(changed, WriteOutcome::Written { .. }));
        assert_ne!(changed.digest(), outcome.digest());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn the_digest_key_is_reserved() {
        let dir = tempfile::tempdir().unwrap();
        let paths = CheckpointPaths::new(&dir.path().join("results.duckdb"));
        let err = NewCheckpoint::create(&paths)
            .unwrap()
            .write(TableRows::default(), &[(DIGEST_KEY, "forged".to_string())])
            .unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err:#}");
        assert!(!paths.db.exists());
    }
}
