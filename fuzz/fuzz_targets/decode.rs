//! Fuzzes the pickle VM: full and selective decoding, then every conversion of every array
//! in the result. Any panic, hang or runaway allocation is a bug.
//!
//! ```text
//! cd fuzz && mkdir -p corpus/decode && cp ../crates/numpickle/tests/data/*.pkl corpus/decode/
//! cargo +nightly fuzz run decode -- -max_total_time=600
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use numpickle::Value;

/// Paths that exist in the fixture corpus, so selective decoding takes its fast paths.
const PATHS: [&str; 5] = [
    "subjectwise_stats.test",
    "metrics_iter.test.metrics.scalars",
    "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
    "subject_global_stats.test.y_pred.std.1",
    "big",
];

fn touch(v: &Value<'_>) {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        let _ = v.describe();
        let _ = v.as_f64();
        match v {
            Value::List(xs) | Value::Tuple(xs) | Value::Set(xs) | Value::FrozenSet(xs) => {
                todo.extend(xs)
            }
            Value::Dict(entries) => todo.extend(entries.iter().flat_map(|(k, x)| [k, x])),
            Value::Array(a) => {
                let _ = a.to_f64_vec();
                let _ = a.to_i64_vec();
                let _ = a.to_u64_vec();
                let _ = a.to_string_vec();
                if let numpickle::ArrayData::Objects(xs) = a.data() {
                    todo.extend(xs);
                }
            }
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = numpickle::decode(data) {
        touch(&v);
        for path in PATHS {
            let _ = v.at(path);
        }
    }
    let selector = data.first().copied().unwrap_or(0) as usize;
    let paths = &PATHS[..selector % (PATHS.len() + 1)];
    if let Ok(v) = numpickle::decode_paths(data, paths) {
        touch(&v);
    }
});
