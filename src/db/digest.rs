//! The logical digest of a checkpoint: SHA-256 over a canonical dump of every table.
//!
//! DuckDB files are not byte-stable (block layout depends on write order and threads), so
//! sameness is decided on content: each table's rows in primary-key order, each value in a
//! canonical text form. The `logical_digest` row of `metadata` is left out of its own input.

use anyhow::{Context, Result};
use duckdb::types::Value;
use duckdb::Connection;
use sha2::{Digest, Sha256};

use super::schema::tables;

/// The key of the metadata row that holds the digest.
pub const DIGEST_KEY: &str = "logical_digest";

/// Computes the logical digest of the schema's tables in `catalog` (e.g. `main`).
pub fn logical_digest(conn: &Connection, catalog: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    for table in tables() {
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
        hasher.update(format!("table {}\n{}\n", table.name, columns.join("\t")));
        let mut stmt = conn
            .prepare(&sql)
            .with_context(|| format!("cannot read table `{}`", table.name))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let mut line = String::new();
            for i in 0..columns.len() {
                if i > 0 {
                    line.push('\t');
                }
                line.push_str(&canonical(&row.get::<_, Value>(i)?));
            }
            line.push('\n');
            hasher.update(line.as_bytes());
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// A value's canonical text: integers in decimal, floats in Rust's shortest round-trip form,
/// text JSON-quoted, NULL as `null`.
fn canonical(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::TinyInt(x) => x.to_string(),
        Value::SmallInt(x) => x.to_string(),
        Value::Int(x) => x.to_string(),
        Value::BigInt(x) => x.to_string(),
        Value::HugeInt(x) => x.to_string(),
        Value::UTinyInt(x) => x.to_string(),
        Value::USmallInt(x) => x.to_string(),
        Value::UInt(x) => x.to_string(),
        Value::UBigInt(x) => x.to_string(),
        Value::Float(x) => format!("{:?}", f64::from(*x)),
        Value::Double(x) => format!("{x:?}"),
        Value::Text(s) => serde_json::to_string(s).unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
