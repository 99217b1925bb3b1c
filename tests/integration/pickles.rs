//! Every fixture pickle of both backends and both numpy majors decodes to exactly the values
//! the Python generator recorded.

use numpickle::Value;
use serde_json::Value as Json;

use crate::golden::{self, float, same_bits};

const PATHS: [&str; 5] = [
    "subjectwise_stats.test",
    "metrics_stats.test",
    "metrics_iter.test.metrics.scalars",
    "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
    "subject_global_stats.test",
];
const COMPARED: [&str; 4] = [
    "subjectwise_stats",
    "metrics_stats",
    "metrics_iter",
    "subject_global_stats",
];

fn check_backend(backend: &str) {
    let mut checked = 0;
    for run in golden::manifest_runs(backend) {
        let (Some(pickle), true) = (&run.pickle, run.decodable) else {
            continue;
        };
        let bytes = std::fs::read(pickle).unwrap();
        let expected = golden::load(&format!("decoded/{backend}/{}.json", run.run_id));
        let selective =
            numpickle::decode_paths(&bytes, &PATHS).unwrap_or_else(|e| panic!("{}: {e}", run.key));
        let full = numpickle::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", run.key));
        for root in [&selective, &full] {
            for key in COMPARED {
                if let Some(g) = expected.get(key) {
                    let v = root
                        .get(key)
                        .unwrap_or_else(|| panic!("{}: no `{key}`", run.key));
                    compare(g, v, &format!("{}:{key}", run.key));
                }
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 6,
        "only {checked} decodable pickles in the {backend} manifest"
    );
}

fn compare(g: &Json, v: &Value<'_>, at: &str) {
    match g {
        Json::Object(map) if map.contains_key("dtype") && map.contains_key("data") => {
            let a = v
                .as_array()
                .unwrap_or_else(|| panic!("{at}: expected an array, found {}", v.describe()));
            let shape: Vec<usize> = map["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(a.shape(), shape.as_slice(), "{at}: shape");
            assert_eq!(
                a.is_fortran(),
                map["fortran"].as_bool().unwrap(),
                "{at}: order"
            );
            let dtype = match map["dtype"].as_str().unwrap() {
                "f8" => "float64",
                "f4" => "float32",
                other => other,
            };
            assert_eq!(a.dtype().to_string(), dtype, "{at}: dtype");
            let data = a.to_f64_vec().unwrap();
            let want: Vec<f64> = map["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| float(x).unwrap())
                .collect();
            assert_eq!(data.len(), want.len(), "{at}: length");
            for (i, (x, w)) in data.iter().zip(&want).enumerate() {
                assert!(same_bits(*x, *w), "{at}[{i}]: decoded {x}, recorded {w}");
            }
        }
        Json::Object(map) => {
            for (k, gv) in map {
                let child = v
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}: no key `{k}` in {}", v.describe()));
                compare(gv, child, &format!("{at}.{k}"));
            }
        }
        Json::Array(items) => {
            if let Some(list) = v.as_list() {
                assert_eq!(list.len(), items.len(), "{at}: length");
                for (i, (gi, vi)) in items.iter().zip(list).enumerate() {
                    compare(gi, vi, &format!("{at}[{i}]"));
                }
            } else {
                let a = v.as_array().unwrap_or_else(|| {
                    panic!("{at}: expected a list or array, found {}", v.describe())
                });
                assert_eq!(a.len(), items.len(), "{at}: length");
                if items.iter().all(|x| {
                    x.is_string() && !matches!(x.as_str(), Some("NaN" | "Infinity" | "-Infinity"))
                }) {
                    let strings = a.to_string_vec().unwrap();
                    for (i, (gi, s)) in items.iter().zip(&strings).enumerate() {
                        assert_eq!(gi.as_str().unwrap(), s, "{at}[{i}]");
                    }
                } else if items.iter().all(|x| x.is_i64())
                    && !a.dtype().to_string().starts_with("float")
                {
                    let ints = a.to_i64_vec().unwrap();
                    for (i, (gi, x)) in items.iter().zip(&ints).enumerate() {
                        assert_eq!(gi.as_i64().unwrap(), *x, "{at}[{i}]");
                    }
                } else {
                    let floats = a.to_f64_vec().unwrap();
                    for (i, (gi, x)) in items.iter().zip(&floats).enumerate() {
                        let w = float(gi).unwrap();
                        assert!(same_bits(*x, w), "{at}[{i}]: decoded {x}, recorded {w}");
                    }
                }
            }
        }
        Json::String(s) if v.as_str().is_some() => assert_eq!(v.as_str().unwrap(), s, "{at}"),
        Json::Number(n)
            if n.is_i64()
                && v.as_i64().is_some()
                && v.as_f64().map(|f| f.fract() == 0.0).unwrap_or(true) =>
        {
            assert_eq!(v.as_i64().unwrap(), n.as_i64().unwrap(), "{at}");
        }
        other => {
            let w = float(other).unwrap_or_else(|| panic!("{at}: recorded null"));
            let x = v
                .as_f64()
                .unwrap_or_else(|| panic!("{at}: expected a number, found {}", v.describe()));
            assert!(same_bits(x, w), "{at}: decoded {x}, recorded {w}");
        }
    }
}

#[test]
fn filestore_pickles_decode_exactly() {
    check_backend("filestore");
}

#[test]
fn sqlite_pickles_decode_exactly() {
    check_backend("sqlite");
}

#[test]
fn foreign_global_is_refused_not_executed() {
    for backend in ["filestore", "sqlite"] {
        for run in golden::manifest_runs(backend)
            .into_iter()
            .filter(|r| r.key == "unsafe_global")
        {
            let bytes = std::fs::read(run.pickle.as_ref().unwrap()).unwrap();
            let err = numpickle::decode(&bytes).unwrap_err().to_string();
            assert!(err.contains("global"), "{err}");
            let err = numpickle::decode_paths(&bytes, &PATHS)
                .unwrap_err()
                .to_string();
            assert!(err.contains("global"), "{err}");
        }
    }
}

#[test]
fn truncated_pickle_is_an_error() {
    let run = golden::manifest_runs("filestore")
        .into_iter()
        .find(|r| r.key == "truncated")
        .unwrap();
    let bytes = std::fs::read(run.pickle.unwrap()).unwrap();
    assert!(numpickle::decode(&bytes).is_err());
    assert!(numpickle::decode_paths(&bytes, &PATHS).is_err());
}
