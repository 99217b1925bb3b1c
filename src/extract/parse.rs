//! Reading what extraction needs from one run's metrics pickle, with every shape checked.
//!
//! The pickle is memory-mapped and decoded selectively (the large curve arrays and the
//! train/val per-subject lists are stepped over). Errors name the run, the file and the key
//! path, and say what was expected and what was found.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use numpickle::Value;

/// The key paths decoded from each pickle; everything else is skipped.
pub const SELECTED_PATHS: [&str; 3] = [
    "subjectwise_stats.test",
    "metrics_iter.test.metrics.scalars",
    "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
];

const CODES: &str = "subjectwise_stats.test.subject_code";
const LABELS: &str = "subjectwise_stats.test.labels";
const PROB_MEAN: &str = "subjectwise_stats.test.preds.y_pred_proba.mean";
const PROB_STD: &str = "subjectwise_stats.test.preds.y_pred_proba.std";
const SCALARS: &str = "metrics_iter.test.metrics.scalars";
const MATRIX: &str = "metrics_iter.test.preds.arrays.predictions.y_pred_proba";

/// The test-split data of one run, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// Original subject codes (private: only anonymized codes leave the process).
    pub subject_codes: Vec<String>,
    /// Labels, 0 or 1.
    pub labels: Vec<i64>,
    /// Mean predicted probability per subject over the B models (p̄).
    pub prob_mean: Vec<f64>,
    /// Standard deviation of the predicted probability per subject over the B models.
    pub prob_std: Vec<f64>,
    /// The n × B probability matrix, row-major.
    pub prob_matrix: Vec<f64>,
    /// B, the number of bootstrap iterations.
    pub n_bootstrap: usize,
    /// Per-iteration test metrics by the pickle's key (each of length B; NaN possible).
    pub iteration_scalars: BTreeMap<String, Vec<f64>>,
}

impl RunData {
    /// Number of test subjects.
    pub fn n_test(&self) -> usize {
        self.labels.len()
    }
}

/// Why a pickle could not be used. The message names the file and the key path.
#[derive(Debug, thiserror::Error)]
#[error("`{file}`: {problem}")]
pub struct ParseError {
    /// The pickle file.
    pub file: PathBuf,
    /// What is wrong.
    pub problem: String,
}

/// Reads and validates one run's pickle.
pub fn read_run_pickle(path: &Path) -> Result<RunData, ParseError> {
    let fail = |problem: String| ParseError {
        file: path.to_path_buf(),
        problem,
    };
    let file = File::open(path)
        .map_err(|e| fail(format!("cannot open: {}", e.to_string().to_lowercase())))?;
    // SAFETY: the file is opened read-only and only read through the map; a concurrent
    // truncation by another process would be a store being rewritten under us, which the
    // content digest taken before extraction detects on the next run.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| fail(format!("cannot map: {e}")))?;
    let root = numpickle::decode_paths(&map, &SELECTED_PATHS).map_err(|e| fail(e.to_string()))?;
    decode_run(&root).map_err(fail)
}

fn decode_run(root: &Value<'_>) -> Result<RunData, String> {
    let subject_codes = strings(root, CODES)?;
    let n = subject_codes.len();
    if n < 2 {
        return Err(format!(
            "{CODES}: expected at least 2 test subjects, found {n}"
        ));
    }
    let labels = floats_or_ints(root, LABELS, n)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            0 | 1 => Ok(v),
            other => Err(format!(
                "{LABELS}[{i}]: expected label 0 or 1, found {other}"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let prob_mean = probabilities(root, PROB_MEAN, n)?;
    let prob_std = finite_floats(root, PROB_STD, n)?;
    let matrix_value = at(root, MATRIX)?;
    let matrix = matrix_value.as_array().ok_or_else(|| {
        format!(
            "{MATRIX}: expected a float array of shape [{n}, B], found {}",
            matrix_value.describe()
        )
    })?;
    let n_bootstrap = match matrix.shape() {
        [rows, b] if *rows == n && *b >= 1 => *b,
        _ => {
            return Err(format!(
                "{MATRIX}: expected a float array of shape [{n}, B], found {}",
                matrix_value.describe()
            ))
        }
    };
    if !matrix.dtype().to_string().starts_with("float") {
        return Err(format!(
            "{MATRIX}: expected a float array of shape [{n}, B], found {}",
            matrix_value.describe()
        ));
    }
    let prob_matrix = matrix.to_f64_vec().map_err(|e| format!("{MATRIX}: {e}"))?;
    if let Some(i) = prob_matrix.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(format!(
            "{MATRIX}[{}, {}]: probability {} is not in [0, 1]",
            i / n_bootstrap,
            i % n_bootstrap,
            prob_matrix[i]
        ));
    }
    let iteration_scalars = iteration_scalars(root, n_bootstrap)?;
    Ok(RunData {
        subject_codes,
        labels,
        prob_mean,
        prob_std,
        prob_matrix,
        n_bootstrap,
        iteration_scalars,
    })
}

fn at<'v, 'a>(root: &'v Value<'a>, path: &str) -> Result<&'v Value<'a>, String> {
    root.at(path).map_err(|e| format!("{path}: {e}"))
}

fn strings(root: &Value<'_>, path: &str) -> Result<Vec<String>, String> {
    let v = at(root, path)?;
    let found = || {
        format!(
            "{path}: expected an array of subject codes (str), found {}",
            v.describe()
        )
    };
    let codes = match (v.as_array(), v.as_list()) {
        (Some(a), _) => a.to_string_vec().map_err(|_| found())?,
        (None, Some(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(found))
            .collect::<Result<_, _>>()?,
        _ => return Err(found()),
    };
    if let Some(i) = codes.iter().position(|c| c.is_empty()) {
        return Err(format!("{path}[{i}]: empty subject code"));
    }
    Ok(codes)
}

fn floats_or_ints(root: &Value<'_>, path: &str, n: usize) -> Result<Vec<i64>, String> {
    let v = at(root, path)?;
    let found = || {
        format!(
            "{path}: expected an integer array of length {n}, found {}",
            v.describe()
        )
    };
    let a = v.as_array().ok_or_else(found)?;
    if a.shape() != [n] {
        return Err(found());
    }
    a.to_i64_vec().map_err(|_| found())
}

fn finite_floats(root: &Value<'_>, path: &str, n: usize) -> Result<Vec<f64>, String> {
    let v = at(root, path)?;
    let found = || {
        format!(
            "{path}: expected a float array of length {n}, found {}",
            v.describe()
        )
    };
    let a = v.as_array().ok_or_else(found)?;
    if a.shape() != [n] || !a.dtype().to_string().starts_with("float") {
        return Err(found());
    }
    let values = a.to_f64_vec().map_err(|_| found())?;
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return Err(format!(
            "{path}[{i}]: expected a finite number, found {}",
            values[i]
        ));
    }
    Ok(values)
}

fn probabilities(root: &Value<'_>, path: &str, n: usize) -> Result<Vec<f64>, String> {
    let values = finite_floats(root, path, n)?;
    if let Some(i) = values.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(format!(
            "{path}[{i}]: probability {} is not in [0, 1]",
            values[i]
        ));
    }
    Ok(values)
}

/// Every per-iteration scalar metric of the test split; each must hold B numbers.
fn iteration_scalars(root: &Value<'_>, b: usize) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let dict = at(root, SCALARS)?;
    let entries = dict.as_dict().ok_or_else(|| {
        format!(
            "{SCALARS}: expected a dict of metric lists, found {}",
            dict.describe()
        )
    })?;
    let mut out = BTreeMap::new();
    for (key, v) in entries {
        let key = key.as_str().ok_or_else(|| {
            format!(
                "{SCALARS}: expected metric names, found a {} key",
                key.describe()
            )
        })?;
        let path = format!("{SCALARS}.{key}");
        let found = || {
            format!(
                "{path}: expected {b} numbers (one per iteration), found {}",
                v.describe()
            )
        };
        let values: Vec<f64> = match (v.as_list(), v.as_array()) {
            (Some(items), _) => items
                .iter()
                .map(|x| x.as_f64().ok_or_else(found))
                .collect::<Result<_, _>>()?,
            (None, Some(a)) if a.shape() == [b] => a.to_f64_vec().map_err(|_| found())?,
            _ => return Err(found()),
        };
        if values.len() != b {
            return Err(found());
        }
        out.insert(key.to_string(), values);
    }
    Ok(out)
}
