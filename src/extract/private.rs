//! Private outputs: the subject lookup and the demo traces, in the private directory only.
//!
//! The directory is created with mode 0700 and every file with 0600. These are the only files
//! mlrepro writes that hold original subject codes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::secret::create_private_dir;
use crate::db::writer::sql_path;
use crate::fsx;

/// File name of the lookup inside the private directory.
pub const LOOKUP_FILE: &str = "subject_lookup.yaml";
/// File name of the demo traces inside the private directory.
pub const TRACES_FILE: &str = "demo_subjects_traces.pkl";
const WARNING: &str = "PRIVATE FILE - DO NOT SHARE OR COMMIT";

#[derive(Serialize)]
struct LookupFile<'a> {
    #[serde(rename = "WARNING")]
    warning: &'a str,
    metadata: LookupMetadata,
    lookup: &'a BTreeMap<String, String>,
    reverse_lookup: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
struct LookupMetadata {
    n_subjects: usize,
    per_prefix: BTreeMap<String, usize>,
    secret_file: String,
}

/// Writes `subject_lookup.yaml`: anonymous → original, original → anonymous, and counts.
pub fn write_lookup(
    private_dir: &Path,
    anon_to_original: &BTreeMap<String, String>,
    secret_file: &Path,
) -> Result<PathBuf> {
    create_private_dir(private_dir)?;
    let mut per_prefix = BTreeMap::new();
    for anon in anon_to_original.keys() {
        let prefix: String = anon
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        *per_prefix.entry(prefix).or_insert(0) += 1;
    }
    let file = LookupFile {
        warning: WARNING,
        metadata: LookupMetadata {
            n_subjects: anon_to_original.len(),
            per_prefix,
            secret_file: secret_file.display().to_string(),
        },
        lookup: anon_to_original,
        reverse_lookup: anon_to_original
            .iter()
            .map(|(a, o)| (o.as_str(), a.as_str()))
            .collect(),
    };
    let text = serde_yaml_ng::to_string(&file).context("cannot serialize the subject lookup")?;
    let path = private_dir.join(LOOKUP_FILE);
    write_private(&path, text.as_bytes())?;
    Ok(path)
}

/// One subject's trace, as plain Python lists in the pickle.
#[derive(Debug, Serialize, PartialEq)]
pub struct Trace {
    /// Time points, ascending.
    pub time: Vec<f64>,
    /// Ground-truth pupil size (None where missing).
    pub pupil_gt: Vec<Option<f64>>,
    /// Raw pupil size (None where missing or rejected).
    pub pupil_raw: Vec<Option<f64>>,
    /// 1 where the sample is an outlier.
    pub outlier_mask: Vec<i64>,
    /// Red light stimulus.
    pub red_stimulus: Vec<Option<f64>>,
    /// Blue light stimulus.
    pub blue_stimulus: Vec<Option<f64>>,
    /// `control` or `glaucoma`.
    pub class_label: String,
}

#[derive(Serialize)]
struct TracesFile<'a> {
    traces: &'a BTreeMap<String, Trace>,
    metadata: TracesMetadata<'a>,
}

#[derive(Serialize)]
struct TracesMetadata<'a> {
    n_subjects: usize,
    #[serde(rename = "WARNING")]
    warning: &'a str,
}

/// Reads the traces of `wanted` (anonymous code → original code) from the subjects database.
pub fn read_traces(
    database: &Path,
    wanted: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Trace>> {
    let conn = duckdb::Connection::open_in_memory()?;
    conn.execute_batch(&format!(
        "ATTACH '{}' AS subjects (READ_ONLY)",
        sql_path(database)
    ))
    .with_context(|| format!("cannot open the subjects database `{}`", database.display()))?;
    let mut stmt = conn
        .prepare(
            "SELECT time, pupil_gt, pupil_raw, outlier_mask, Red, Blue, class_label FROM ( \
               SELECT * FROM subjects.main.train UNION ALL SELECT * FROM subjects.main.test) \
             WHERE subject_code = ? ORDER BY time",
        )
        .with_context(|| {
            format!(
                "`{}` lacks the expected `train`/`test` columns",
                database.display()
            )
        })?;
    let mut out = BTreeMap::new();
    for (anon, original) in wanted {
        let mut t = Trace {
            time: vec![],
            pupil_gt: vec![],
            pupil_raw: vec![],
            outlier_mask: vec![],
            red_stimulus: vec![],
            blue_stimulus: vec![],
            class_label: String::new(),
        };
        let mut rows = stmt.query([original])?;
        while let Some(r) = rows.next()? {
            t.time.push(r.get(0)?);
            t.pupil_gt.push(r.get(1)?);
            t.pupil_raw.push(r.get(2)?);
            t.outlier_mask
                .push(r.get::<_, Option<i64>>(3)?.unwrap_or(0));
            t.red_stimulus.push(r.get(4)?);
            t.blue_stimulus.push(r.get(5)?);
            t.class_label = r.get::<_, Option<String>>(6)?.unwrap_or_default();
        }
        if t.time.is_empty() {
            anyhow::bail!(
                "demo subject `{anon}` has no rows in the subjects database `{}`",
                database.display()
            );
        }
        out.insert(anon.clone(), t);
    }
    Ok(out)
}

/// Writes the demo traces as a plain Python pickle (loadable with `pickle.load`).
pub fn write_traces(private_dir: &Path, traces: &BTreeMap<String, Trace>) -> Result<PathBuf> {
    create_private_dir(private_dir)?;
    let file = TracesFile {
        traces,
        metadata: TracesMetadata {
            n_subjects: traces.len(),
            warning: WARNING,
        },
    };
    let bytes = serde_pickle::to_vec(&file, serde_pickle::SerOptions::new())
        .context("cannot pickle the demo traces")?;
    let path = private_dir.join(TRACES_FILE);
    write_private(&path, &bytes)?;
    Ok(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    fsx::write_atomic_mode(path, bytes, 0o600)
}

/// File name of the pseudonym table (keyed pseudonym → original code) in the private dir.
pub const PSEUDONYMS_FILE: &str = "subject_pseudonyms.tsv";

/// The pseudonym table, empty when absent. It lets cached runs, which hold pseudonyms only,
/// rebuild the private lookup.
pub fn load_pseudonyms(private_dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = private_dir.join(PSEUDONYMS_FILE);
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let text = fsx::read_to_string(&path)?;
    // A line cut short by a crash during an append lacks its newline and is skipped: its
    // code may be cut too, and a cut code must never be taken for the original.
    Ok(text
        .split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, o)| (p.to_string(), o.to_string()))
        .collect())
}

/// Appends pseudonym pairs to the table (one `write` of whole lines, so concurrent appends
/// from worker threads do not interleave), before a run's pseudonymized result is cached.
pub fn append_pseudonyms(private_dir: &Path, pairs: &[(String, String)]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    create_private_dir(private_dir)?;
    let path = private_dir.join(PSEUDONYMS_FILE);
    let text: String = pairs.iter().map(|(p, o)| format!("{p}\t{o}\n")).collect();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open `{}`", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot append to `{}`", path.display()))
}

/// Writes the pseudonym table (0600) when it differs from what is on disk.
pub fn save_pseudonyms(private_dir: &Path, table: &BTreeMap<String, String>) -> Result<()> {
    let text: String = table.iter().map(|(p, o)| format!("{p}\t{o}\n")).collect();
    let path = private_dir.join(PSEUDONYMS_FILE);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    create_private_dir(private_dir)?;
    write_private(&path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_by_a_crash_is_not_taken_for_a_code() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private");
        append_pseudonyms(&private, &[("aa".into(), "PLR1639".into())]).unwrap();
        let path = private.join(PSEUDONYMS_FILE);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("bb\tPLR16");
        std::fs::write(&path, text).unwrap();
        let table = load_pseudonyms(&private).unwrap();
        assert_eq!(
            table,
            BTreeMap::from([("aa".to_string(), "PLR1639".to_string())])
        );
    }
}
