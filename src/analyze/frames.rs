//! Reading the checkpoint: a read-only DuckDB connection and its tables as polars frames.
//!
//! [`Checkpoint`] holds the frames every figure and table reads, typed by the canonical
//! schema, plus the logical digest that every output names.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use duckdb::{AccessMode, Config, Connection};
use polars::prelude::*;

use crate::db::digest::DIGEST_KEY;
use crate::db::schema::{self, SqlType, SCHEMA_VERSION};
use crate::metrics::Resampling;
use crate::runner::stat_cache::StatCache;

/// The checkpoint's data as the analysis reads it.
pub struct Checkpoint {
    /// `essential_metrics`, ordered by `config_id`.
    pub essential: DataFrame,
    /// `calibration_curves`, ordered by `config_id`, `bin_index`.
    pub calibration: DataFrame,
    /// `dca_curves`, ordered by `config_id`, `threshold`.
    pub dca: DataFrame,
    /// `probability_distributions`, ordered by `config_id`, `outcome`, `bin_index`.
    pub distributions: DataFrame,
    /// `retention_metrics`, ordered by `config_id`, `metric_name`, `retention_rate`.
    pub retention: DataFrame,
    /// `predictions`, ordered by `config_id`, `prediction_id`.
    pub predictions: DataFrame,
    /// The recorded logical digest (`metadata.logical_digest`).
    pub digest: String,
    /// The test-set bootstrap that extraction used (`metadata.test_bootstrap_seed` and
    /// `metadata.test_bootstrap_resamples`), for the bands of the figures.
    pub resampling: Resampling,
}

/// Opens the checkpoint at `db` read-only.
pub fn open_read_only(db: &Path) -> Result<Connection> {
    let config = Config::default().access_mode(AccessMode::ReadOnly)?;
    Connection::open_with_flags(db, config)
        .with_context(|| format!("cannot open the checkpoint `{}`", db.display()))
}

/// Opens `db` read-only and loads the frames; refuses a checkpoint of another schema version.
pub fn load(db: &Path) -> Result<Checkpoint> {
    let conn = open_read_only(db)?;
    let version = metadata(&conn, "schema_version")?;
    if version != SCHEMA_VERSION.to_string() {
        bail!(
            "the checkpoint `{}` has schema_version {version}; this mlrepro reads {SCHEMA_VERSION}",
            db.display()
        );
    }
    Ok(Checkpoint {
        essential: table(&conn, "essential_metrics", "config_id")?,
        calibration: table(&conn, "calibration_curves", "config_id, bin_index")?,
        dca: table(&conn, "dca_curves", "config_id, threshold")?,
        distributions: table(
            &conn,
            "probability_distributions",
            "config_id, outcome, bin_index",
        )?,
        retention: table(
            &conn,
            "retention_metrics",
            "config_id, metric_name, retention_rate",
        )?,
        predictions: table(&conn, "predictions", "config_id, prediction_id")?,
        digest: metadata(&conn, DIGEST_KEY)?,
        resampling: Resampling {
            seed: number(&conn, "test_bootstrap_seed")?,
            resamples: number(&conn, "test_bootstrap_resamples")?,
        },
    })
}

/// A `metadata` value that must be a whole number.
fn number<T: std::str::FromStr>(conn: &Connection, key: &str) -> Result<T> {
    metadata(conn, key)?
        .parse()
        .map_err(|_| anyhow!("`metadata.{key}` of the checkpoint is not a whole number"))
}

fn metadata(conn: &Connection, key: &str) -> Result<String> {
    conn.query_row("SELECT value FROM metadata WHERE key = ?", [key], |r| {
        r.get(0)
    })
    .with_context(|| format!("the checkpoint has no `{key}` in `metadata`"))
}

/// A whole public table as a frame, with column types from the canonical schema.
pub fn table(conn: &Connection, name: &str, order_by: &str) -> Result<DataFrame> {
    let def = schema::table(name).ok_or_else(|| anyhow!("no public table `{name}`"))?;
    let names: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
    let sql = format!(
        "SELECT {} FROM {name} ORDER BY {order_by}",
        names.join(", ")
    );
    let mut stmt = conn
        .prepare(&sql)
        .with_context(|| format!("cannot query `{name}`"))?;
    let mut rows = stmt.query([])?;
    let mut cols: Vec<Values> = def
        .columns
        .iter()
        .map(|c| match c.ty {
            SqlType::Integer => Values::Int(Vec::new()),
            SqlType::Double => Values::Float(Vec::new()),
            SqlType::Varchar => Values::Text(Vec::new()),
        })
        .collect();
    let mut height = 0;
    while let Some(row) = rows.next()? {
        for (i, col) in cols.iter_mut().enumerate() {
            match col {
                Values::Int(v) => v.push(row.get::<_, Option<i32>>(i)?),
                Values::Float(v) => v.push(row.get::<_, Option<f64>>(i)?),
                Values::Text(v) => v.push(row.get::<_, Option<String>>(i)?),
            }
        }
        height += 1;
    }
    let columns = names
        .iter()
        .zip(cols)
        .map(|(n, v)| match v {
            Values::Int(v) => Column::new((*n).into(), v),
            Values::Float(v) => Column::new((*n).into(), v),
            Values::Text(v) => Column::new((*n).into(), v),
        })
        .collect();
    Ok(DataFrame::new(height, columns)?)
}

enum Values {
    Int(Vec<Option<i32>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

/// A DOUBLE column; NULL stays `None`.
pub fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(df
        .column(name)?
        .as_materialized_series()
        .f64()?
        .iter()
        .collect())
}

/// An INTEGER column; NULL stays `None`.
pub fn ints(df: &DataFrame, name: &str) -> Result<Vec<Option<i32>>> {
    Ok(df
        .column(name)?
        .as_materialized_series()
        .i32()?
        .iter()
        .collect())
}

/// A VARCHAR column of a NOT NULL column.
pub fn strings(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    df.column(name)?
        .as_materialized_series()
        .str()?
        .iter()
        .map(|v| {
            v.map(str::to_string)
                .ok_or_else(|| anyhow!("`{name}` has a NULL"))
        })
        .collect()
}

/// What the stat cache remembers a checkpoint's logical digest under.
const DIGEST_CONTEXT: &str = "checkpoint logical digest";

/// The recorded logical digest of the checkpoint at `db`, answered from the stat cache while
/// the file's stamp is unchanged (a no-op run then opens no database), else read and
/// remembered.
pub fn logical_digest(db: &Path, stat: &StatCache) -> Result<String> {
    let probe = stat.probe(db, DIGEST_CONTEXT)?;
    if let Some(digest) = &probe.fresh {
        return Ok(digest.clone());
    }
    let digest = recorded_digest(db)?;
    stat.record_derived(&probe, DIGEST_CONTEXT, &digest);
    Ok(digest)
}

/// The recorded logical digest of the checkpoint at `db`, read without loading the tables.
pub fn recorded_digest(db: &Path) -> Result<String> {
    metadata(&open_read_only(db)?, DIGEST_KEY)
}
