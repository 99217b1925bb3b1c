//! The logical digest of a checkpoint: SHA-256 over a canonical dump of every table.
//!
//! DuckDB files are not byte-stable (block layout depends on write order and threads), so
//! sameness is decided on content: each table's rows in primary-key order, each value in a
//! canonical text form. The `logical_digest` row of `metadata` is left out of its own input.

use std::io::Write as _;

use anyhow::{Context, Result};
use duckdb::types::Value;
use duckdb::Connection;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{tables, Table};
use crate::base::hashing::hex;

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
    let mut out = dump_header(table);
    let mut stmt = conn
        .prepare(&sql)
        .with_context(|| format!("cannot read table `{}`", table.name))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        for i in 0..columns.len() {
            if i > 0 {
                out.push(b'\t');
            }
            canonical(&row.get::<_, Value>(i)?, &mut out);
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// The first lines of a table's canonical dump: its name, then its columns.
pub fn dump_header(table: &Table) -> Vec<u8> {
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    format!("table {}\n{}\n", table.name, columns.join("\t")).into_bytes()
}

/// Appends a value's canonical text: integers in decimal, floats in Rust's shortest
/// round-trip form, text JSON-quoted, NULL as `null`.
fn canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => canonical_null(out),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::TinyInt(x) => canonical_integer(i64::from(*x), out),
        Value::SmallInt(x) => canonical_integer(i64::from(*x), out),
        Value::Int(x) => canonical_integer(i64::from(*x), out),
        Value::BigInt(x) => canonical_integer(*x, out),
        Value::HugeInt(x) => {
            let _ = write!(out, "{x}");
        }
        Value::UBigInt(x) => {
            let _ = write!(out, "{x}");
        }
        Value::UTinyInt(x) => canonical_integer(i64::from(*x), out),
        Value::USmallInt(x) => canonical_integer(i64::from(*x), out),
        Value::UInt(x) => canonical_integer(i64::from(*x), out),
        Value::Float(x) => canonical_double(f64::from(*x), out),
        Value::Double(x) => canonical_double(*x, out),
        Value::Text(s) => canonical_text(s, out),
        // Writing to a Vec cannot fail.
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

/// The canonical text of NULL.
pub fn canonical_null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

/// The canonical text of an integer: decimal.
pub fn canonical_integer(x: i64, out: &mut Vec<u8>) {
    let _ = write!(out, "{x}");
}

/// The canonical text of a float: Rust's shortest round-trip form.
pub fn canonical_double(x: f64, out: &mut Vec<u8>) {
    let _ = write!(out, "{x:?}");
}

/// The canonical text of a string: JSON-quoted.
pub fn canonical_text(s: &str, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, s);
}
