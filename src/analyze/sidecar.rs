//! JSON sidecars: exactly the data a figure plots, with the tool version and the
//! checkpoint's logical digest. Non-finite numbers are written as `null`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use serde_json::{json, Value};

use crate::fsx;

/// Where an output's data came from; carried by every sidecar, table and report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// `mlrepro` version.
    pub tool_version: String,
    /// The checkpoint's `metadata.logical_digest`.
    pub logical_digest: String,
}

impl Provenance {
    /// The provenance of outputs made by this build from a checkpoint with `digest`.
    pub fn new(digest: &str) -> Self {
        Self {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            logical_digest: digest.to_string(),
        }
    }
}

/// A number, or `null` when NaN or infinite.
pub fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// An optional number, `null` when absent or not finite.
pub fn opt(x: Option<f64>) -> Value {
    x.map_or(Value::Null, num)
}

/// The sidecar path of figure `name`: `<figures_dir>/data/<name>.json`.
pub fn path(figures_dir: &Path, name: &str) -> PathBuf {
    figures_dir.join("data").join(format!("{name}.json"))
}

/// Writes the sidecar of figure `name` with its plotted `data`.
pub fn write(figures_dir: &Path, name: &str, prov: &Provenance, data: Value) -> Result<PathBuf> {
    let p = path(figures_dir, name);
    let doc = json!({
        "figure": name,
        "tool_version": prov.tool_version,
        "logical_digest": prov.logical_digest,
        "data": data,
    });
    fsx::write_atomic(&p, &serde_json::to_vec_pretty(&doc)?)?;
    Ok(p)
}
