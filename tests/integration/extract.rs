//! Block 1 on the fixture stores: the shared helpers (extraction of a fixture store,
//! checkpoint queries, the original subject codes) and the test modules that use them.

mod checkpoint;
mod golden_columns;
mod privacy;

use std::path::{Path, PathBuf};

use duckdb::types::Value;
use serde_json::Value as Json;

use crate::golden;
use crate::support::{mlrepro, repo_root, ProjectConfig};

/// One extraction into a temporary project directory.
pub struct Extraction {
    pub dir: tempfile::TempDir,
    pub summary: Json,
}

impl Extraction {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("public/results.duckdb")
    }
}

/// The config of a temporary project reading a fixture store.
pub fn fixture_config(dir: &Path, backend: &str, max_failed: usize) -> PathBuf {
    let root = repo_root();
    let uri = match backend {
        "filestore" => root
            .join("tests/fixtures/filestore/mlruns")
            .display()
            .to_string(),
        _ => format!(
            "sqlite:///{}",
            root.join("tests/fixtures/sqlite/mlflow.db").display()
        ),
    };
    let secret = root.join(format!("tests/fixtures/{backend}/anonymization_secret"));
    ProjectConfig::store(uri)
        .secret(&secret)
        .max_failed_runs(max_failed)
        .write_in(dir, "config.yaml")
}

/// Runs `mlrepro extract` on a fixture store and returns its JSON summary.
pub fn extract_fixture(backend: &str, jobs: u16) -> Extraction {
    let dir = tempfile::tempdir().unwrap();
    fixture_config(dir.path(), backend, 10);
    let out = mlrepro(dir.path())
        .args([
            "-c",
            "config.yaml",
            "-j",
            &jobs.to_string(),
            "extract",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "extract failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Extraction {
        dir,
        summary: extract_details(&out.stdout),
    }
}

/// The extract step's summary from a `--json` pipeline report.
pub fn extract_details(stdout: &[u8]) -> Json {
    let report: Json = serde_json::from_slice(stdout).expect("--json prints JSON");
    let step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "extract")
        .expect("an extract step");
    step["details"].clone()
}

/// The logical digest a checkpoint records in its `metadata` table.
pub fn logical_digest(db: &Path) -> String {
    match &query(
        db,
        "SELECT value FROM metadata WHERE key = 'logical_digest'",
    )[0][0]
    {
        Value::Text(digest) => digest.clone(),
        other => panic!("logical_digest is {other:?}"),
    }
}

/// All rows of a query, as DuckDB values.
pub fn query(db: &Path, sql: &str) -> Vec<Vec<Value>> {
    let conn = duckdb::Connection::open_with_flags(
        db,
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let n = row.as_ref().column_count();
        out.push((0..n).map(|i| row.get::<_, Value>(i).unwrap()).collect());
    }
    out
}

pub fn as_text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        other => panic!("{other:?} is not text"),
    }
}

/// Every original subject code the fixture store knows: test codes from the golden
/// predictions and every `PLR` code in the runs' `codes_train`/`codes_test` parameters.
pub fn original_codes() -> Vec<String> {
    let mut codes = std::collections::BTreeSet::new();
    let params = walk(&repo_root().join("tests/fixtures/filestore/mlruns"));
    for p in params
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("params")))
    {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        for token in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            if token.len() == 7
                && token.starts_with("PLR")
                && token[3..].chars().all(|c| c.is_ascii_digit())
            {
                codes.insert(token.to_string());
            }
        }
    }
    let anon = golden::load("anonymization/filestore.json");
    codes.extend(anon["mapping"].as_object().unwrap().keys().cloned());
    assert!(codes.len() > 20, "too few codes found: {}", codes.len());
    codes.into_iter().collect()
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
