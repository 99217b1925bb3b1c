//! Reading what extraction needs from one run's metrics pickle, with every shape checked.
//!
//! The pickle is memory-mapped and decoded selectively (the large curve arrays and the
//! train/val per-subject lists are stepped over). Errors name the run, the file and the key
//! path, and say what was expected and what was found, as a type or shape: never a value
//! read from the pickle. A key path shows only the keys of the metrics-pickle layout
//! ([`LAYOUT_KEYS`]); any other key, such as the original subject codes that key the
//! train/val per-subject dicts, reads `<key #i>`.
//!
//! - `layout.rs`: the key paths decoded and the layout's keys;
//! - `fields.rs`: the typed, checked read of one key path.

mod fields;
mod layout;

pub use layout::{LAYOUT_KEYS, SELECTED_PATHS};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use numpickle::Value;

use fields::{
    at, finite_floats, floats_or_ints, iteration_scalars, number_kind, probabilities, strings,
};
use layout::{CODES, LABELS, MATRIX, PROB_MEAN, PROB_STD};

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
    /// Whether the file could not be opened or mapped (it may read another time), as opposed
    /// to content that does not decode.
    pub io: bool,
}

/// Reads and validates one run's pickle.
pub fn read_run_pickle(path: &Path) -> Result<RunData, ParseError> {
    let fail = |problem: String| ParseError {
        file: path.to_path_buf(),
        problem,
        io: false,
    };
    let io = |problem: String| ParseError {
        io: true,
        ..fail(problem)
    };
    let file = crate::mlflow::entry::open_regular(path)
        .map_err(|e| io(format!("cannot open: {}", e.to_string().to_lowercase())))?;
    // SAFETY: the file is opened read-only and only read through the map; a concurrent
    // truncation by another process would be a store being rewritten under us, which changes
    // the file's ctime, so the stamp taken before the decode no longer matches next time.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| io(format!("cannot map: {e}")))?;
    let root = numpickle::Decoder::new()
        .paths(&SELECTED_PATHS)
        .schema_keys(LAYOUT_KEYS)
        .decode(&map)
        .map_err(|e| fail(e.to_string()))?;
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
            _ => Err(format!("{LABELS}[{i}]: expected label 0 or 1")),
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
            "{MATRIX}[{}, {}]: {} is not a probability in [0, 1]",
            i / n_bootstrap,
            i % n_bootstrap,
            number_kind(prob_matrix[i])
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A key that must never appear in a failure reason.
    const MARKER: &str = "SECRET-CODE-7f3a";

    fn text(s: &str) -> Vec<u8> {
        let mut out = vec![0x8c, u8::try_from(s.len()).unwrap()];
        out.extend_from_slice(s.as_bytes());
        out
    }

    #[test]
    fn a_fifo_in_place_of_a_pickle_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("metrics.pickle");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let Err(err) = read_run_pickle(&fifo) else {
            panic!("a FIFO is read as a pickle");
        };
        assert!(err.problem.contains("is a fifo"), "{}", err.problem);
    }

    fn global(module: &str, name: &str) -> Vec<u8> {
        [text(module), text(name), vec![0x93]].concat()
    }

    fn int(i: i32) -> Vec<u8> {
        [vec![b'J'], i.to_le_bytes().to_vec()].concat()
    }

    /// `{k: v, …}` as one `SETITEMS` batch.
    fn dict(items: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = b"}(".to_vec();
        for (k, v) in items {
            out.extend(text(k));
            out.extend_from_slice(v);
        }
        out.push(b'u');
        out
    }

    fn floats(xs: &[f64]) -> Vec<u8> {
        let mut out = b"](".to_vec();
        for x in xs {
            out.push(b'G');
            out.extend_from_slice(&x.to_be_bytes());
        }
        out.push(b'e');
        out
    }

    /// `_frombuffer(payload, dtype(code), shape, 'C')`.
    fn array(code: &str, payload: Vec<u8>, shape: &[i32]) -> Vec<u8> {
        let mut out = global("numpy._core.numeric", "_frombuffer");
        out.push(b'(');
        out.push(b'B');
        out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
        out.extend(payload);
        out.extend(global("numpy", "dtype"));
        out.extend(text(code));
        out.extend_from_slice(b"\x85R(");
        for &d in shape {
            out.extend(int(d));
        }
        out.push(b't');
        out.extend(text("C"));
        out.extend_from_slice(b"tR");
        out
    }

    fn f8(xs: &[f64], shape: &[i32]) -> Vec<u8> {
        array(
            "f8",
            xs.iter().flat_map(|x| x.to_le_bytes()).collect(),
            shape,
        )
    }

    /// A metrics pickle of two test subjects and B = 2, with the given labels, mean
    /// probabilities and per-iteration scalars.
    fn pickle(labels: [i64; 2], mean: [f64; 2], scalars: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let codes = [
            b"](".to_vec(),
            text("PLR1001"),
            text("PLR4002"),
            b"e".to_vec(),
        ]
        .concat();
        let labels = array(
            "i8",
            labels.iter().flat_map(|l| l.to_le_bytes()).collect(),
            &[2],
        );
        let subjects = dict(&[(
            "test",
            dict(&[
                ("subject_code", codes),
                ("labels", labels),
                (
                    "preds",
                    dict(&[(
                        "y_pred_proba",
                        dict(&[("mean", f8(&mean, &[2])), ("std", f8(&[0.1, 0.1], &[2]))]),
                    )]),
                ),
            ]),
        )]);
        let matrix = f8(&[0.5, 0.5, 0.5, 0.5], &[2, 2]);
        let iterations = dict(&[(
            "test",
            dict(&[
                ("metrics", dict(&[("scalars", dict(scalars))])),
                (
                    "preds",
                    dict(&[(
                        "arrays",
                        dict(&[("predictions", dict(&[("y_pred_proba", matrix)]))]),
                    )]),
                ),
            ]),
        )]);
        let root = dict(&[
            ("subjectwise_stats", subjects),
            ("metrics_iter", iterations),
        ]);
        [b"\x80\x04".to_vec(), root, b".".to_vec()].concat()
    }

    /// The failure reason `read_run_pickle` gives for `bytes`.
    fn failure(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics_run.pickle");
        std::fs::write(&path, bytes).unwrap();
        read_run_pickle(&path).unwrap_err().to_string()
    }

    fn auroc() -> (&'static str, Vec<u8>) {
        ("AUROC", floats(&[0.5, 0.75]))
    }

    #[test]
    fn a_well_formed_pickle_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics_run.pickle");
        std::fs::write(&path, pickle([0, 1], [0.25, 0.75], &[auroc()])).unwrap();
        let run = read_run_pickle(&path).unwrap();
        assert_eq!(run.subject_codes, ["PLR1001", "PLR4002"]);
        assert_eq!((run.n_test(), run.n_bootstrap), (2, 2));
        assert_eq!(run.iteration_scalars["AUROC"], [0.5, 0.75]);
    }

    #[test]
    fn a_pickle_cut_inside_the_train_codes_names_the_layout_not_the_code() {
        // {'metrics_iter': {'train': {'preds_dict': {'arrays': {'y_pred_proba':
        //   {'PLR1001': [0.5], MARKER: [0.75, …  (cut)
        let mut bytes = b"\x80\x04".to_vec();
        for key in [
            "metrics_iter",
            "train",
            "preds_dict",
            "arrays",
            "y_pred_proba",
        ] {
            bytes.push(b'}');
            bytes.extend(text(key));
        }
        bytes.extend_from_slice(b"}(");
        bytes.extend(text("PLR1001"));
        bytes.extend(floats(&[0.5]));
        bytes.extend(text(MARKER));
        bytes.extend_from_slice(b"](G\x3f\xe8");
        let reason = failure(&bytes);
        assert!(reason.contains("metrics_run.pickle"), "{reason}");
        assert!(
            reason.contains("(metrics_iter.train.preds_dict.arrays.y_pred_proba.<key>)"),
            "{reason}"
        );
        assert!(reason.contains("truncated"), "{reason}");
        assert!(
            !reason.contains(MARKER) && !reason.contains("PLR"),
            "{reason}"
        );
    }

    #[test]
    fn an_unknown_metric_name_is_named_by_position() {
        let bad = (MARKER, text("not a list"));
        let reason = failure(&pickle([0, 1], [0.25, 0.75], &[auroc(), bad]));
        assert!(
            reason.contains("metrics_iter.test.metrics.scalars.<key #1>: expected 2 numbers"),
            "{reason}"
        );
        assert!(!reason.contains(MARKER), "{reason}");
        // A name of the layout is shown.
        let short = ("Brier", floats(&[0.5]));
        let reason = failure(&pickle([0, 1], [0.25, 0.75], &[auroc(), short]));
        assert!(
            reason.contains("metrics_iter.test.metrics.scalars.Brier: expected 2 numbers"),
            "{reason}"
        );
    }

    #[test]
    fn out_of_range_values_are_reported_without_the_value() {
        let reason = failure(&pickle([0, 1639], [0.25, 0.75], &[auroc()]));
        assert!(
            reason.contains("subjectwise_stats.test.labels[1]: expected label 0 or 1"),
            "{reason}"
        );
        assert!(!reason.contains("1639"), "{reason}");
        let reason = failure(&pickle([0, 1], [0.25, 1.2345], &[auroc()]));
        assert!(
            reason.contains(
                "subjectwise_stats.test.preds.y_pred_proba.mean[1]: a number above 1 is not a \
                 probability in [0, 1]"
            ),
            "{reason}"
        );
        assert!(!reason.contains("1.2345"), "{reason}");
    }
}
