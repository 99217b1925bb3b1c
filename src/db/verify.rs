//! Checking a checkpoint before anything reads it: checksum, schema version, tables and
//! columns, row-count consistency and the logical digest.

use std::path::Path;

use anyhow::{Context, Result};
use duckdb::Connection;
use serde::Serialize;

use super::digest::{logical_digest, DIGEST_KEY};
use super::schema::{tables, SCHEMA_VERSION};
use super::writer::{sql_path, CheckpointPaths};
use crate::base::hashing::sha256_file;

/// One check and its outcome.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// The result of verifying a checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The checkpoint file.
    pub db: String,
    /// Every check in order; verification stops at the first check that makes the rest
    /// meaningless (a missing file, a bad checksum, a wrong schema version).
    pub checks: Vec<Check>,
    /// The recorded logical digest, when it could be read.
    pub logical_digest: Option<String>,
    /// Rows per table.
    pub row_counts: Vec<(String, u64)>,
}

impl Verification {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The failed checks, one per line.
    pub fn failures(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn add(&mut self, name: &str, ok: bool, detail: impl Into<String>) -> bool {
        self.checks.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
        });
        ok
    }
}

/// Verifies the checkpoint at `db`.
pub fn verify(db: &Path) -> Result<Verification> {
    let paths = CheckpointPaths::new(db);
    let mut v = Verification {
        db: db.display().to_string(),
        checks: vec![],
        logical_digest: None,
        row_counts: vec![],
    };
    if !v.add(
        "file",
        db.is_file(),
        if db.is_file() { "present" } else { "missing" },
    ) {
        return Ok(v);
    }
    let dir = crate::fsx::parent_dir(db);
    let name = db.file_name().map(|n| n.to_string_lossy().into_owned());
    let journal = super::promote::journal_path(&dir, name.as_deref().unwrap_or_default());
    if journal.exists() {
        v.add(
            "promotion",
            false,
            format!(
                "an interrupted extraction left the checkpoint set half-promoted (`{}`); rerun `mlrepro extract` to finish it",
                journal.display()
            ),
        );
        return Ok(v);
    }
    let recorded = match std::fs::read_to_string(&paths.sha256) {
        Ok(text) => text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        Err(_) => {
            v.add(
                "checksum",
                false,
                format!(
                    "`{}` is missing; a checkpoint is only trusted with its checksum",
                    paths.sha256.display()
                ),
            );
            return Ok(v);
        }
    };
    let actual = sha256_file(db)?;
    if !v.add(
        "checksum",
        recorded == actual,
        if recorded == actual {
            format!("sha256 {actual}")
        } else {
            format!("file has sha256 {actual}, `.sha256` says {recorded}")
        },
    ) {
        return Ok(v);
    }
    let conn = Connection::open_in_memory()?;
    if let Err(e) = conn.execute_batch(&format!("ATTACH '{}' AS ckpt (READ_ONLY)", sql_path(db))) {
        v.add("open", false, format!("DuckDB cannot open it: {e}"));
        return Ok(v);
    }
    let version: Option<String> = conn
        .query_row(
            "SELECT value FROM ckpt.main.metadata WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .ok();
    let expected = SCHEMA_VERSION.to_string();
    if !v.add(
        "schema_version",
        version.as_deref() == Some(expected.as_str()),
        match &version {
            Some(found) => format!("found {found}, this mlrepro reads {expected}"),
            None => "no `schema_version` in `metadata`".into(),
        },
    ) {
        return Ok(v);
    }
    let mut missing = Vec::new();
    for table in tables() {
        let mut stmt = conn.prepare(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'ckpt' AND table_name = ? ORDER BY column_index",
        )?;
        let found: Vec<(String, String)> = stmt
            .query_map([table.name], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<duckdb::Result<_>>()?;
        for c in &table.columns {
            match found.iter().find(|(n, _)| n == &c.name) {
                None => missing.push(format!("`{}.{}`", table.name, c.name)),
                Some((_, ty)) if ty != c.ty.sql() => missing.push(format!(
                    "`{}.{}` is {ty}, not {}",
                    table.name,
                    c.name,
                    c.ty.sql()
                )),
                _ => {}
            }
        }
    }
    if !v.add(
        "tables",
        missing.is_empty(),
        if missing.is_empty() {
            "all tables and columns present".into()
        } else {
            missing.join(", ")
        },
    ) {
        return Ok(v);
    }
    for table in tables() {
        let n: u64 = conn.query_row(
            &format!("SELECT count(*) FROM ckpt.main.{}", table.name),
            [],
            |r| r.get(0),
        )?;
        v.row_counts.push((table.name.to_string(), n));
    }
    let problems = consistency_problems(&conn)?;
    v.add(
        "row counts",
        problems.is_empty(),
        if problems.is_empty() {
            "consistent across tables".into()
        } else {
            problems.join("; ")
        },
    );
    let recorded: Option<String> = conn
        .query_row(
            &format!("SELECT value FROM ckpt.main.metadata WHERE key = '{DIGEST_KEY}'"),
            [],
            |r| r.get(0),
        )
        .ok();
    let digest = logical_digest(&conn, "ckpt").context("cannot compute the logical digest")?;
    v.add(
        "logical digest",
        recorded.as_deref() == Some(digest.as_str()),
        match &recorded {
            Some(r) if r == &digest => digest.clone(),
            Some(r) => format!("content hashes to {digest}, metadata says {r}"),
            None => "no `logical_digest` in `metadata`".into(),
        },
    );
    v.logical_digest = recorded;
    Ok(v)
}

/// Cross-table checks: every child row belongs to a configuration, and each configuration has
/// the rows its shape implies.
fn consistency_problems(conn: &Connection) -> Result<Vec<String>> {
    let checks: [(&str, &str); 8] = [
        (
            "predictions per configuration differ from `n_test`",
            "SELECT count(*) FROM ckpt.main.essential_metrics e \
             WHERE n_test <> (SELECT count(*) FROM ckpt.main.predictions p WHERE p.config_id = e.config_id)",
        ),
        (
            "probability histogram counts differ from `n_test`",
            "SELECT count(*) FROM ckpt.main.essential_metrics e \
             WHERE n_test <> (SELECT coalesce(sum(count), 0) FROM ckpt.main.probability_distributions d WHERE d.config_id = e.config_id)",
        ),
        (
            "configurations without exactly one `distribution_stats` row",
            "SELECT count(*) FROM ckpt.main.essential_metrics e \
             WHERE 1 <> (SELECT count(*) FROM ckpt.main.distribution_stats d WHERE d.config_id = e.config_id)",
        ),
        (
            "configurations without exactly one `supplementary_metrics` row",
            "SELECT count(*) FROM ckpt.main.essential_metrics e \
             WHERE 1 <> (SELECT count(*) FROM ckpt.main.supplementary_metrics d WHERE d.config_id = e.config_id)",
        ),
        (
            "configurations whose calibration bins do not add up to `n_test`",
            "SELECT count(*) FROM ckpt.main.essential_metrics e \
             WHERE n_test <> (SELECT coalesce(sum(n_samples), 0) FROM ckpt.main.calibration_curves c WHERE c.config_id = e.config_id)",
        ),
        (
            "included runs in `extraction_runs` differ from `essential_metrics`",
            "SELECT abs((SELECT count(*) FROM ckpt.main.extraction_runs WHERE status = 'included') \
                      - (SELECT count(*) FROM ckpt.main.essential_metrics))",
        ),
        (
            "rows refer to a configuration that does not exist",
            "SELECT count(*) FROM (\
               SELECT config_id FROM ckpt.main.predictions UNION ALL SELECT config_id FROM ckpt.main.calibration_curves \
               UNION ALL SELECT config_id FROM ckpt.main.dca_curves UNION ALL SELECT config_id FROM ckpt.main.probability_distributions \
               UNION ALL SELECT config_id FROM ckpt.main.retention_metrics UNION ALL SELECT config_id FROM ckpt.main.metric_notes) c \
             WHERE config_id NOT IN (SELECT config_id FROM ckpt.main.essential_metrics)",
        ),
        (
            "DCA curves of unequal length",
            "SELECT count(DISTINCT n) - 1 FROM (SELECT count(*) AS n FROM ckpt.main.dca_curves GROUP BY config_id) \
             HAVING count(*) > 0",
        ),
    ];
    let mut out = Vec::new();
    for (what, sql) in checks {
        let n: i64 = conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0);
        if n > 0 {
            out.push(format!("{what} ({n})"));
        }
    }
    Ok(out)
}
