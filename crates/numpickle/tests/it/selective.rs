//! Selective decoding gives exactly the full decode pruned to the requested paths, skips
//! what was not asked for, and stays on the fast path for metrics-shaped pickles.

use numpickle::{Decoder, Value};

use crate::support::{case, prune, same, Asm};

/// The paths Block 1 reads from a metrics pickle.
const METRICS_PATHS: [&str; 4] = [
    "subjectwise_stats.test",
    "metrics_stats.test.metrics.scalars",
    "metrics_iter.test.metrics.scalars",
    "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
];

/// Decodes `paths` of every fixture of `name`, compares with the pruned full decode and
/// returns how many decodes fell back to a full decode.
fn check_case(name: &str, path_sets: &[&[&str]]) -> usize {
    let mut fell_back = 0;
    for f in case(name) {
        let full = numpickle::decode(&f.bytes).unwrap();
        for paths in path_sets {
            let (got, stats) = Decoder::new()
                .paths(paths)
                .decode_with_stats(&f.bytes)
                .unwrap_or_else(|e| panic!("{} {paths:?}: {e}", f.file));
            let want = prune(&full, paths);
            assert!(
                same(&got, &want),
                "{} {paths:?}:\n got  {got:?}\n want {want:?}",
                f.file
            );
            fell_back += usize::from(stats.fell_back);
        }
    }
    fell_back
}

#[test]
fn metrics_paths_match_full_decode_without_fallback() {
    let sets: &[&[&str]] = &[
        &METRICS_PATHS,
        &[METRICS_PATHS[0]],
        &[METRICS_PATHS[1]],
        &[METRICS_PATHS[2]],
        &[METRICS_PATHS[3]],
        &[],
        &["subject_global_stats.test.y_pred_proba.mean.1"],
        &["subject_global_stats.test.y_pred_proba.std.0.ci"],
        &["metrics_iter.train.preds_dict.arrays.y_pred.PLR4003"],
        &["metrics_iter"],
        &["does.not.exist"],
        &[
            "metrics_stats.test.metrics.scalars.AUROC.ci",
            "metrics_stats.test.metrics.scalars.Brier.mean",
        ],
        &[
            "subjectwise_stats.val",
            "subjectwise_stats.train.subject_code",
        ],
        &[
            "metrics_iter.test.metrics.scalars.AUROC",
            "metrics_iter.test.metrics.arrays.AUROC.fpr",
        ],
    ];
    assert_eq!(
        check_case("metrics", sets),
        0,
        "metrics pickles need no fallback"
    );
}

#[test]
fn unselected_parts_are_skipped() {
    for f in case("metrics") {
        let v = numpickle::decode_paths(&f.bytes, &METRICS_PATHS).unwrap();
        for skipped in [
            "metrics_iter.train",
            "metrics_iter.val",
            "metrics_iter.test.metrics.arrays",
            "metrics_iter.test.preds.arrays.predictions.y_pred",
            "metrics_iter.test.preds.arrays.predictions.label",
            "metrics_stats.train",
            "metrics_stats.test.metrics.arrays",
            "subjectwise_stats.train",
            "subject_global_stats",
        ] {
            assert!(v.at(skipped).unwrap().is_skipped(), "{}: {skipped}", f.file);
        }
        let probs = v
            .at("metrics_iter.test.preds.arrays.predictions.y_pred_proba")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(probs.shape(), &[6, 5]);
        let err = v.at("metrics_iter.train.preds_dict").unwrap_err();
        assert!(
            err.to_string().contains("skipped by selective decoding"),
            "{err}"
        );
        assert_eq!(
            v.at("subjectwise_stats.test.labels").unwrap().describe(),
            "int64[6]"
        );
    }
}

#[test]
fn nested_and_single_key_dicts_match_full_decode() {
    let sets: &[&[&str]] = &[
        &["single.a.b.c"],
        &["single.a"],
        &["empty_then_big.big"],
        &["empty_then_big.after"],
        &["empty_then_big.empty"],
        &["one_list.l"],
        &["one_list.z"],
        &["many_keys.k1000"],
        &["many_keys.k0999", "exactly_1000.e0999", "tuple3.u"],
        &["tuple3.t"],
        &["tuple3.u"],
        &["bool_keys.True"],
        &["subject_global_stats.test.y_pred.std.0"],
        &[
            "subject_global_stats.test.y_pred.std.1.ci",
            "subject_global_stats.test.y_pred_proba",
        ],
    ];
    check_case("nested", sets);
}

#[test]
fn python_values_match_full_decode() {
    let sets: &[&[&str]] = &[
        &["one_key.only.inner"],
        &["one_key"],
        &["shared"],
        &["nested.a.b"],
        &["nested.a.b.c"],
        &["int_keys.-2"],
        &["tuple_key"],
        &["set", "frozenset", "empty_set"],
        &["ints", "floats", "strs"],
        &["empty_dict.x"],
    ];
    check_case("python", sets);
}

#[test]
fn arrays_and_scalars_match_full_decode() {
    check_case(
        "arrays",
        &[
            &["big"],
            &["f8", "obj_2d_f", "u_be"],
            &["zero_d"],
            &["empty_obj"],
        ],
    );
    check_case("scalars", &[&["list"], &["dtype_u"], &["str", "be_f8"]]);
}

#[test]
fn memo_references_into_skipped_subtrees_still_resolve() {
    // {'skipped': s, 'wanted': {'x': s}} with s = [1, 2, 3]: the selected occurrence of the
    // list is a memo reference (BINGET) to a value first built inside a skipped subtree.
    let bytes = Asm::proto(4)
        .op(b"}") // EMPTY_DICT
        .memoize() // 0
        .op(b"(")
        .str("skipped")
        .memoize() // 1
        .op(b"]")
        .memoize() // 2
        .op(b"(K\x01K\x02K\x03e") // MARK 1 2 3 APPENDS
        .str("wanted")
        .memoize() // 3
        .op(b"}")
        .memoize() // 4
        .str("x")
        .memoize() // 5
        .get(2)
        .op(b"su") // SETITEM SETITEMS
        .stop();
    let full = numpickle::decode(&bytes).unwrap();
    let (v, stats) = Decoder::new()
        .paths(&["wanted"])
        .decode_with_stats(&bytes)
        .unwrap();
    assert!(
        stats.fell_back,
        "the skipped list is needed later: full decode"
    );
    assert!(same(&v, &prune(&full, &["wanted"])));
    assert!(v.get("skipped").unwrap().is_skipped());
    let x = v.at("wanted.x").unwrap().as_list().unwrap();
    assert_eq!(x, &[Value::Int(1), Value::Int(2), Value::Int(3)]);
}

#[test]
fn dtypes_memoized_in_skipped_subtrees_keep_their_byte_order() {
    // The float64 and >i4 dtypes are first pickled under keys that are not selected.
    for f in case("arrays") {
        let full = numpickle::decode(&f.bytes).unwrap();
        for paths in [&["c2d", "f3d"][..], &["f2d_be"], &["big", "le_explicit"]] {
            let (v, stats) = Decoder::new()
                .paths(paths)
                .decode_with_stats(&f.bytes)
                .unwrap();
            assert!(!stats.fell_back, "{} {paths:?}", f.file);
            assert!(same(&v, &prune(&full, paths)), "{} {paths:?}", f.file);
        }
    }
}

/// `scalar(dtype('i8'), <payload of value>)` as CPython writes it once the `scalar` global
/// (memo 0) and the dtype (memo 1) are memoized; it stores three memo entries.
fn int64(asm: Asm, value: i64) -> Asm {
    asm.get(0)
        .get(1)
        .bytes(&value.to_le_bytes())
        .memoize()
        .op(b"\x86")
        .memoize()
        .op(b"R")
        .memoize()
}

#[test]
fn skipped_numpy_scalars_resolve_when_referenced_later() {
    // {'skipped': [s5, s7, s9], 'wanted': {s9: 'x'}}: the key s9 is a memo reference to a
    // numpy scalar that was stepped over inside the skipped list (as numpy int dict keys
    // shared between splits are).
    let mut asm = Asm::proto(4)
        .op(b"}(")
        .str("skipped")
        .op(b"](")
        .stack_global("numpy._core.multiarray", "scalar")
        .memoize() // 0
        .op(b"0")
        .stack_global("numpy", "dtype")
        .str("i8")
        .op(b"\x89\x88\x87R") // (False, True) TUPLE3 REDUCE
        .memoize() // 1, completed by the BUILD below
        .op(b"(K\x03")
        .str("<")
        .op(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb0"); // state, BUILD, POP
    for v in [5, 7, 9] {
        asm = int64(asm, v); // memo 2..=4, 5..=7, 8..=10
    }
    let bytes = asm
        .op(b"e")
        .str("wanted")
        .op(b"}")
        .get(10)
        .str("x")
        .op(b"su")
        .stop();
    let full = numpickle::decode(&bytes).unwrap();
    assert_eq!(full.at("wanted.9").unwrap().as_str(), Some("x"));
    assert_eq!(full.at("skipped").unwrap().describe(), "list of 3");
    let (v, stats) = Decoder::new()
        .paths(&["wanted"])
        .decode_with_stats(&bytes)
        .unwrap();
    assert!(!stats.fell_back);
    assert!(same(&v, &prune(&full, &["wanted"])));
    assert_eq!(v.at("wanted.9").unwrap().as_str(), Some("x"));
    assert!(v.get("skipped").unwrap().is_skipped());
}
