//! The logical digest of a checkpoint: SHA-256 over a canonical dump of every table.
//!
//! DuckDB files are not byte-stable (block layout depends on write order and threads), so
//! sameness is decided on content: each table's rows in primary-key order, each value in a
//! canonical text form. The `logical_digest` row of `metadata` is left out of its own input.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use duckdb::types::Value;
use duckdb::Connection;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{tables, Table};

/// The key of the metadata row that holds the digest.
pub const DIGEST_KEY: &str = "logical_digest";

/// Computes the logical digest of the schema's tables in `catalog` (e.g. `main`). The tables
/// are dumped in parallel, each on its own connection to the same database, and hashed in
/// schema order.
pub fn logical_digest(conn: &Connection, catalog: &str) -> Result<String> {
    let dumps = per_table(conn)?
        .into_par_iter()
        .map(|(table, conn)| table_dump(&conn, catalog, table))
        .collect::<Result<Vec<_>>>()?;
    Ok(digest_of(dumps))
}

/// The logical digest from every table's [`table_dump`], in schema order.
pub fn digest_of(dumps: Vec<Vec<u8>>) -> String {
    let mut hasher = Sha256::new();
    for dump in dumps {
        hasher.update(dump);
    }
    hex(&hasher.finalize())
}

/// One connection per table of the schema, to work on the tables in parallel.
pub fn per_table(conn: &Connection) -> Result<Vec<(&'static Table, Connection)>> {
    tables()
        .iter()
        .map(|table| {
            Ok((
                table,
                conn.try_clone()
                    .context("cannot open a second connection")?,
            ))
        })
        .collect()
}

/// One table's canonical dump: a header, then its rows in primary-key order, one line each
/// (`metadata` without its digest row).
pub fn table_dump(conn: &Connection, catalog: &str, table: &Table) -> Result<Vec<u8>> {
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut sql = format!(
        "SELECT {} FROM {catalog}.main.{}",
        columns.join(", "),
        table.name
    );
    if table.name == "metadata" {
        sql.push_str(&format!(" WHERE key <> '{DIGEST_KEY}'"));
    }
    sql.push_str(&format!(" ORDER BY {}", table.primary_key.join(", ")));
    let mut out = format!("table {}\n{}\n", table.name, columns.join("\t"));
    let mut stmt = conn
        .prepare(&sql)
        .with_context(|| format!("cannot read table `{}`", table.name))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        for i in 0..columns.len() {
            if i > 0 {
                out.push('\t');
            }
            canonical(&row.get::<_, Value>(i)?, &mut out);
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Appends a value's canonical text: integers in decimal, floats in Rust's shortest
/// round-trip form, text JSON-quoted, NULL as `null`.
fn canonical(v: &Value, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = match v {
        Value::Null => write!(out, "null"),
        Value::Boolean(b) => write!(out, "{b}"),
        Value::TinyInt(x) => write!(out, "{x}"),
        Value::SmallInt(x) => write!(out, "{x}"),
        Value::Int(x) => write!(out, "{x}"),
        Value::BigInt(x) => write!(out, "{x}"),
        Value::HugeInt(x) => write!(out, "{x}"),
        Value::UTinyInt(x) => write!(out, "{x}"),
        Value::USmallInt(x) => write!(out, "{x}"),
        Value::UInt(x) => write!(out, "{x}"),
        Value::UBigInt(x) => write!(out, "{x}"),
        Value::Float(x) => write!(out, "{:?}", f64::from(*x)),
        Value::Double(x) => write!(out, "{x:?}"),
        Value::Text(s) => write!(out, "{}", serde_json::to_string(s).unwrap_or_default()),
        other => write!(out, "{other:?}"),
    };
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
