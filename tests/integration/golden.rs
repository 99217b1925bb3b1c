//! Reading the committed golden files (JSON written by `scripts/fixtures/generate.py`).
//!
//! Floats are Python `repr`s, so they parse to the exact same `f64`; non-finite floats are the
//! strings `"NaN"`, `"Infinity"` and `"-Infinity"` (tests/fixtures/CONTRACT.md).

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::support::repo_root;

/// Reads `tests/fixtures/golden/<relative>`.
pub fn load(relative: &str) -> Json {
    let path = repo_root().join("tests/fixtures/golden").join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A golden float: a JSON number, a non-finite string, or `null` (absent).
pub fn float(v: &Json) -> Option<f64> {
    match v {
        Json::Null => None,
        Json::Number(n) => Some(n.as_f64().expect("a float")),
        Json::String(s) => Some(match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            other => panic!("`{other}` is not a golden float"),
        }),
        other => panic!("{other} is not a golden float"),
    }
}

/// Whether two floats are the same value (NaN equals NaN; 0.0 and -0.0 differ).
pub fn same_bits(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// One run of the manifest.
#[derive(Debug, Clone)]
pub struct ManifestRun {
    /// The run id.
    pub run_id: String,
    /// `included`, `excluded` or `failed`.
    pub expected: String,
    /// A keyword the recorded reason must relate to.
    pub reason: Option<String>,
    /// The pickle, relative to the repository root.
    pub pickle: Option<PathBuf>,
    /// Whether the pickle decodes.
    pub decodable: bool,
    /// The fixture's name in the manifest.
    pub key: String,
}

/// The runs of one backend (`filestore` or `sqlite`).
pub fn manifest_runs(backend: &str) -> Vec<ManifestRun> {
    let manifest = load("manifest.json");
    manifest[backend]["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| ManifestRun {
            run_id: r["run_id"].as_str().unwrap().to_string(),
            expected: r["expected"].as_str().unwrap().to_string(),
            reason: r["reason"].as_str().map(str::to_string),
            pickle: r["pickle_relpath"].as_str().map(|p| repo_root().join(p)),
            decodable: r["decodable"].as_bool().unwrap_or(false),
            key: r["key"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}
