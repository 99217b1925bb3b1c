//! What a report shows, read from the ledger, the checkpoint and the analysis outputs.
//!
//! Every source is optional: a run that failed before the checkpoint existed still gets a
//! report, which says what is missing instead of failing.

use std::path::{Component, Path, PathBuf};

use anyhow::Result;
use duckdb::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::latex::{self, Table};
use crate::analyze::frames;
use crate::analyze::report::FILE as ANALYSIS_REPORT;
use crate::config::Settings;
use crate::runner::ledger::{self, RunRecord};
use crate::runner::stat_cache::StatCache;

/// Everything one report page shows.
pub struct Page {
    /// The run, from the ledger.
    pub run: RunRecord,
    /// Facts recorded in the checkpoint's `metadata` table.
    pub checkpoint: Result<Vec<(String, String)>, String>,
    /// Every run extraction saw, from `extraction_runs`.
    pub extraction: Vec<ExtractionRow>,
    /// Figures of the analysis report.
    pub figures: Vec<Figure>,
    /// LaTeX tables read back as text.
    pub tables: Vec<(String, Result<Table, String>)>,
    /// `numbers.tex` macros and their values.
    pub numbers: Vec<(String, String)>,
    /// Recent runs, newest first.
    pub history: Vec<HistoryRow>,
    /// The verify step's checks, when the run verified the checkpoint, and the earlier run
    /// they come from when the step was up to date in this one.
    pub verification: Option<(Value, Option<String>)>,
}

/// One run of the store and what extraction did with it.
#[derive(Serialize, Deserialize)]
pub struct ExtractionRow {
    /// MLflow run id.
    pub run_id: String,
    /// MLflow run name.
    pub run_name: String,
    /// `included`, `excluded` or `failed`.
    pub status: String,
    /// Why (public, redacted at extraction).
    pub reason: String,
}

/// One figure and its files.
pub struct Figure {
    /// Figure name.
    pub name: String,
    /// `generated`, `skipped`, `failed` or `not_run`.
    pub status: String,
    /// Links to its files, relative to the report (or data URIs when embedded).
    pub files: Vec<(String, String)>,
    /// The PNG to show, as a link or a data URI.
    pub preview: Option<String>,
    /// Why it was skipped, failed or not run.
    pub note: Option<String>,
}

/// A past run in the history table.
pub struct HistoryRow {
    /// Run id.
    pub id: String,
    /// Command.
    pub command: String,
    /// Status.
    pub status: String,
    /// Start time.
    pub started: String,
    /// Wall time.
    pub seconds: Option<f64>,
    /// Link to its report, relative to this one, when it exists.
    pub report: Option<String>,
}

/// Runs listed in the history table.
const HISTORY_ROWS: usize = 20;

/// Where the report of `run_id` is written by default: `report.html` for the latest run,
/// `reports/RUN_ID.html` for an earlier one.
pub fn default_path(settings: &Settings, run_id: &str, latest: bool) -> PathBuf {
    let dir = &settings.config.outputs.outputs_dir;
    if latest {
        dir.join("report.html")
    } else {
        dir.join("reports").join(format!("{run_id}.html"))
    }
}

/// Reads what the report of `run` written to `output` shows.
pub fn page(
    settings: &Settings,
    run: RunRecord,
    output: &Path,
    embed: bool,
    stat: &StatCache,
) -> Page {
    let config = &settings.config;
    let here = crate::fsx::parent_dir(output);
    let (facts, extraction) =
        match checkpoint_view(&config.outputs.db, &config.outputs.cache_dir, stat) {
            Ok(view) => (Ok(view.metadata), view.runs),
            Err(e) => (Err(format!("{e:#}")), Vec::new()),
        };
    let analysis = std::fs::read(config.outputs.outputs_dir.join(ANALYSIS_REPORT))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let figures = analysis
        .as_ref()
        .map(|a| figures(a, &config.outputs.figures_dir, &here, embed))
        .unwrap_or_default();
    let tables = analysis
        .as_ref()
        .map(|a| tables(a, &config.outputs.outputs_dir))
        .unwrap_or_default();
    let numbers = std::fs::read_to_string(config.outputs.outputs_dir.join("numbers.tex"))
        .map(|t| latex::macros(&t))
        .unwrap_or_default();
    let all_runs = ledger::recent(&config.outputs.cache_dir, HISTORY_ROWS).unwrap_or_default();
    let verification = verification(&run, &all_runs);
    let history = all_runs
        .into_iter()
        .take(HISTORY_ROWS)
        .map(|r| {
            let latest = default_path(settings, &r.id, false);
            HistoryRow {
                report: latest.is_file().then(|| relative(&here, &latest)),
                id: r.id,
                command: r.command,
                status: r.status,
                started: r.started,
                seconds: r.seconds,
            }
        })
        .collect();
    Page {
        run,
        checkpoint: facts,
        extraction,
        figures,
        tables,
        numbers,
        history,
        verification,
    }
}

/// The checks of the run's verify step; when the step was up to date, those of the latest
/// earlier run among `runs` that verified, with that run's id.
fn verification(run: &RunRecord, runs: &[RunRecord]) -> Option<(Value, Option<String>)> {
    let details = |r: &RunRecord| {
        r.steps
            .iter()
            .find(|s| s.step == "verify")
            .and_then(|s| s.details.clone())
    };
    if !run.steps.iter().any(|s| s.step == "verify") {
        return None;
    }
    if let Some(v) = details(run) {
        return Some((v, None));
    }
    runs.iter()
        .filter(|r| r.id < run.id)
        .find_map(|r| details(r).map(|v| (v, Some(r.id.clone()))))
}

/// What the report reads from the checkpoint: its metadata and its runs.
#[derive(Serialize, Deserialize)]
struct CheckpointView {
    metadata: Vec<(String, String)>,
    runs: Vec<ExtractionRow>,
}

/// The checkpoint's metadata and runs, kept in the cache under the checkpoint's logical
/// digest (which covers both), so a run that did not change the checkpoint opens no
/// database to draw its report.
fn checkpoint_view(db: &Path, cache_dir: &Path, stat: &StatCache) -> Result<CheckpointView> {
    if !db.is_file() {
        anyhow::bail!("no checkpoint at `{}`", db.display());
    }
    let digest = frames::logical_digest(db, stat)?;
    let kept = cache_dir.join("report-v1").join(format!("{digest}.json"));
    if let Some(view) = std::fs::read(&kept)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        return Ok(view);
    }
    let conn = frames::open_read_only(db)?;
    let view = CheckpointView {
        metadata: metadata(&conn)?,
        runs: extraction_rows(&conn)?,
    };
    // Keeping it only saves time; a failure to write it is no failure of the report.
    if let Ok(bytes) = serde_json::to_vec(&view) {
        let _ = crate::fsx::write_atomic(&kept, &bytes);
    }
    Ok(view)
}

fn metadata(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT key, value FROM metadata ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn extraction_rows(conn: &Connection) -> Result<Vec<ExtractionRow>> {
    let mut stmt = conn.prepare(
        "SELECT run_id, source_name, status, reason FROM extraction_runs ORDER BY source_name, run_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ExtractionRow {
            run_id: r.get(0)?,
            run_name: r.get(1)?,
            status: r.get(2)?,
            reason: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn figures(analysis: &Value, figures_dir: &Path, here: &Path, embed: bool) -> Vec<Figure> {
    let entries = analysis["figures"].as_array().cloned().unwrap_or_default();
    entries
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or_default().to_string();
            let status = e["status"].as_str().unwrap_or_default().to_string();
            let files: Vec<PathBuf> = e["files"]
                .as_array()
                .map(|fs| {
                    fs.iter()
                        .filter_map(Value::as_str)
                        .map(|f| {
                            if f.ends_with(".json") {
                                figures_dir.join("data").join(f)
                            } else {
                                figures_dir.join(f)
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let preview = files
                .iter()
                .find(|f| f.extension().is_some_and(|x| x == "png"))
                .and_then(|png| {
                    if embed {
                        std::fs::read(png).ok().map(|b| data_uri("image/png", &b))
                    } else {
                        Some(relative(here, png))
                    }
                });
            let links = files
                .iter()
                .map(|f| {
                    let kind = f
                        .extension()
                        .map(|x| x.to_string_lossy().to_uppercase())
                        .unwrap_or_default();
                    (kind, relative(here, f))
                })
                .collect();
            let note = ["reason", "error"]
                .iter()
                .find_map(|k| e[*k].as_str().map(str::to_string));
            Figure {
                name,
                status,
                files: links,
                preview,
                note,
            }
        })
        .collect()
}

fn tables(analysis: &Value, outputs_dir: &Path) -> Vec<(String, Result<Table, String>)> {
    let mut out = Vec::new();
    for entry in analysis["tables"].as_array().into_iter().flatten() {
        for file in entry["files"].as_array().into_iter().flatten() {
            let Some(file) = file.as_str() else { continue };
            if !file.ends_with(".tex") || file == "numbers.tex" {
                continue;
            }
            let table = std::fs::read_to_string(outputs_dir.join(file))
                .map_err(|e| format!("cannot read `{file}`: {e}"))
                .and_then(|tex| {
                    latex::table(&tex).ok_or_else(|| format!("`{file}` holds no tabular"))
                });
            out.push((file.to_string(), table));
        }
    }
    out
}

/// `bytes` as a `data:` URI.
fn data_uri(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A URL path from directory `from` to `to`, both taken from the current directory, with
/// each segment percent-encoded where a URL needs it.
pub fn relative(from: &Path, to: &Path) -> String {
    let absolute = |p: &Path| -> Vec<String> {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let mut parts: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::ParentDir => {
                    parts.pop();
                }
                _ => {}
            }
        }
        parts
    };
    let (from, to) = (absolute(from), absolute(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut segments: Vec<String> = vec!["..".to_string(); from.len() - common];
    segments.extend(to[common..].iter().map(|s| url_segment(s)));
    segments.join("/")
}

fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_the_report_and_encoded() {
        assert_eq!(
            relative(Path::new("outputs"), Path::new("figures/heat map.png")),
            "../figures/heat%20map.png"
        );
        assert_eq!(
            relative(Path::new("outputs"), Path::new("outputs/reports/a.html")),
            "reports/a.html"
        );
        assert_eq!(
            relative(Path::new("outputs/reports"), Path::new("figures/x#y.png")),
            "../../figures/x%23y.png"
        );
    }
}
