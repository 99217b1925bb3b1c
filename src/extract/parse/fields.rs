//! Typed reads of one key path of a decoded pickle: subject codes, labels, finite floats,
//! probabilities and per-iteration metrics, each checked for its type, shape and range. A
//! failure names the path and what was found, never a value.

use std::collections::BTreeMap;

use numpickle::Value;

use super::layout::{LAYOUT_KEYS, SCALARS};

/// What kind of number failed a check, without its value: `NaN`, `an infinity`, `a negative
/// number` or `a number above 1`.
pub(super) fn number_kind(x: f64) -> &'static str {
    if x.is_nan() {
        "NaN"
    } else if x.is_infinite() {
        "an infinity"
    } else if x < 0.0 {
        "a negative number"
    } else {
        "a number above 1"
    }
}

/// The value at `path`, or why there is none.
pub(super) fn at<'v, 'a>(root: &'v Value<'a>, path: &str) -> Result<&'v Value<'a>, String> {
    root.at(path).map_err(|e| format!("{path}: {e}"))
}

/// Non-empty subject codes: an array or a list of `str`.
pub(super) fn strings(root: &Value<'_>, path: &str) -> Result<Vec<String>, String> {
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

/// An integer array of length `n`.
pub(super) fn floats_or_ints(root: &Value<'_>, path: &str, n: usize) -> Result<Vec<i64>, String> {
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

/// A float array of length `n` holding no NaN or infinity.
pub(super) fn finite_floats(root: &Value<'_>, path: &str, n: usize) -> Result<Vec<f64>, String> {
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
            number_kind(values[i])
        ));
    }
    Ok(values)
}

/// Finite floats of length `n`, each in [0, 1].
pub(super) fn probabilities(root: &Value<'_>, path: &str, n: usize) -> Result<Vec<f64>, String> {
    let values = finite_floats(root, path, n)?;
    if let Some(i) = values.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(format!(
            "{path}[{i}]: {} is not a probability in [0, 1]",
            number_kind(values[i])
        ));
    }
    Ok(values)
}

/// Every per-iteration scalar metric of the test split; each must hold B numbers.
pub(super) fn iteration_scalars(
    root: &Value<'_>,
    b: usize,
) -> Result<BTreeMap<String, Vec<f64>>, String> {
    let dict = at(root, SCALARS)?;
    let entries = dict.as_dict().ok_or_else(|| {
        format!(
            "{SCALARS}: expected a dict of metric lists, found {}",
            dict.describe()
        )
    })?;
    let mut out = BTreeMap::new();
    for (i, (key, v)) in entries.iter().enumerate() {
        let key = key.as_str().ok_or_else(|| {
            format!(
                "{SCALARS}: expected metric names, found a {} key",
                key.describe()
            )
        })?;
        // A metric name outside the layout is pickled text: named by position only.
        let path = if LAYOUT_KEYS.contains(&key) {
            format!("{SCALARS}.{key}")
        } else {
            format!("{SCALARS}.<key #{i}>")
        };
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
