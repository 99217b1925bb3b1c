//! Property test: real fixture pickles, truncated, bit-flipped, spliced or with ranges
//! deleted or repeated, never make the decoder panic (full, selective, or when converting
//! every array it returns).

use std::sync::OnceLock;

use numpickle::{Decoder, Limits, Value};
use proptest::prelude::*;

use crate::support::fixtures;

fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| fixtures().into_iter().map(|f| f.bytes).collect())
}

#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Flip(Vec<(usize, u8)>),
    Splice {
        at: usize,
        donor: usize,
        from: usize,
        len: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Repeat {
        at: usize,
        len: usize,
        times: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..8).prop_map(Mutation::Flip),
        (any::<usize>(), any::<usize>(), any::<usize>(), 1..64usize).prop_map(
            |(at, donor, from, len)| Mutation::Splice {
                at,
                donor,
                from,
                len
            }
        ),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1..32usize, 1..50usize).prop_map(|(at, len, times)| Mutation::Repeat {
            at,
            len,
            times
        }),
    ]
}

fn apply(base: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = base.to_vec();
    let n = out.len().max(1);
    match m {
        Mutation::Truncate(at) => out.truncate(at % n),
        Mutation::Flip(flips) => {
            for &(at, byte) in flips {
                if !out.is_empty() {
                    out[at % n] ^= byte | 1;
                }
            }
        }
        Mutation::Splice {
            at,
            donor,
            from,
            len,
        } => {
            let donor = &corpus()[donor % corpus().len()];
            let from = from % donor.len();
            let piece = &donor[from..(from + len).min(donor.len())];
            let at = at % (out.len() + 1);
            out.splice(at..at, piece.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(out.len());
            out.drain(at.min(end)..end);
        }
        Mutation::Repeat { at, len, times } => {
            let at = at % n;
            let end = (at + len).min(out.len());
            let piece: Vec<u8> = out[at.min(end)..end].to_vec();
            for _ in 0..*times {
                out.splice(end..end, piece.iter().copied());
            }
        }
    }
    out
}

/// Converts every array in `v` (iteratively), exercising the conversion code.
fn touch_arrays(v: &Value<'_>) {
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        let _ = v.describe();
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..4),
        path in prop::sample::select(vec![
            "subjectwise_stats.test",
            "metrics_iter.test.metrics.scalars",
            "big",
            "list",
            "nested.a",
            "subject_global_stats.test.y_pred.std.1",
            "",
        ]),
    ) {
        let base = &corpus()[which % corpus().len()];
        let mut bytes = base.clone();
        for m in &mutations {
            bytes = apply(&bytes, m);
        }
        let limits = Limits { max_depth: 200, ..Limits::default() };
        if let Ok(v) = Decoder::new().limits(limits.clone()).decode(&bytes) {
            touch_arrays(&v);
            let _ = v.at(path);
        }
        if let Ok(v) = Decoder::new().limits(limits).paths(&[path]).decode(&bytes) {
            touch_arrays(&v);
        }
    }
}
