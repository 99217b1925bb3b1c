//! Errors name schema keys, never data: a pickle cut or broken inside a dict keyed by
//! subject codes fails with a path that shows `<key #i>` where the code was.

use numpickle::{Decoder, ErrorKind, PathErrorReason};

use crate::support::Asm;

/// A key that must never appear in any message.
const MARKER: &str = "SECRET-CODE-7f3a";

/// The layout keys a caller such as Block 1 names.
const SCHEMA: [&str; 6] = [
    "metrics_iter",
    "train",
    "test",
    "preds_dict",
    "arrays",
    "y_pred_proba",
];

/// `{'metrics_iter': {'train': {'preds_dict': {'arrays': {'y_pred_proba': {'PLR1001':
/// [0.5], 'PLR1002': [0.25], MARKER: [0.75, …` cut inside the marker's list, as CPython
/// writes the train split's per-subject lists (keyed by original codes).
fn cut_in_code_keyed_dict() -> Vec<u8> {
    let mut asm = Asm::proto(4);
    for key in [
        "metrics_iter",
        "train",
        "preds_dict",
        "arrays",
        "y_pred_proba",
    ] {
        asm = asm.op(b"}").str(key);
    }
    asm.op(b"}(")
        .str("PLR1001")
        .op(b"](")
        .float(0.5)
        .op(b"e")
        .str("PLR1002")
        .op(b"](")
        .float(0.25)
        .op(b"e")
        .str(MARKER)
        .op(b"](")
        .float(0.75)
        .op(b"G\x3f\xe8")
        .0
}

/// Everything an error shows: its message, its debug form and its path.
fn shown(e: &numpickle::Error) -> String {
    format!("{e}\n{e:?}\n{}", e.path())
}

fn assert_no_code(text: &str) {
    assert!(!text.contains(MARKER), "a data key leaked: {text}");
    assert!(!text.contains("PLR"), "a data key leaked: {text}");
}

#[test]
fn a_pickle_cut_inside_a_code_keyed_dict_names_no_key() {
    let bytes = cut_in_code_keyed_dict();
    let cases: [(&[&str], &str); 3] = [
        // Inside a selected subtree: the code dict is built, so the key's position is known.
        (
            &["metrics_iter.train.preds_dict"],
            "metrics_iter.train.preds_dict.arrays.y_pred_proba.<key #2>",
        ),
        // Inside a skipped subtree: nothing is counted there.
        (
            &["metrics_iter.test"],
            "metrics_iter.train.preds_dict.arrays.y_pred_proba.<key>",
        ),
        // A full decode.
        (
            &[""],
            "metrics_iter.train.preds_dict.arrays.y_pred_proba.<key #2>",
        ),
    ];
    for (paths, path) in cases {
        let e = Decoder::new()
            .paths(paths)
            .schema_keys(&SCHEMA)
            .decode(&bytes)
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Truncated);
        assert_eq!(e.path(), path, "selected {paths:?}");
        assert!(e.to_string().contains(path), "{e}");
        assert_no_code(&shown(&e));
    }
}

#[test]
fn a_pickle_cut_inside_a_code_keyed_dict_names_no_key_without_a_schema() {
    let bytes = cut_in_code_keyed_dict();
    let e = numpickle::decode(&bytes).unwrap_err();
    assert_eq!(
        e.path(),
        "<key #0>.<key #0>.<key #0>.<key #0>.<key #0>.<key #2>"
    );
    assert_no_code(&shown(&e));
    // Selected path segments are the only names without a schema.
    let e = numpickle::decode_paths(&bytes, &["metrics_iter.test"]).unwrap_err();
    assert_eq!(e.path(), "metrics_iter.<key #0>.<key>.<key>.<key>.<key>");
    assert_no_code(&shown(&e));
}

#[test]
fn integer_keys_are_data_unless_named() {
    // {'labels': {1639: os.system}}: an integer key, then a refused global under it.
    let bytes = Asm::proto(4)
        .op(b"}")
        .str("labels")
        .op(b"}")
        .int(1639)
        .stack_global("os", "system")
        .op(b"ss")
        .stop();
    let e = Decoder::new()
        .schema_keys(&["labels"])
        .decode(&bytes)
        .unwrap_err();
    assert_eq!(e.path(), "labels.<key #0>");
    assert!(!shown(&e).contains("1639"), "{e}");
    let e = Decoder::new()
        .schema_keys(&["labels", "1639"])
        .decode(&bytes)
        .unwrap_err();
    assert_eq!(e.path(), "labels.1639", "a named integer key is shown");
}

#[test]
fn a_conversion_error_under_a_code_key_names_no_key() {
    // {'y_pred_proba': {'PLR1001': 1, MARKER: _reconstruct(ndarray, (0,), b'b')}}: an array
    // that never gets its BUILD fails while the tree is converted.
    let bytes = Asm::proto(4)
        .op(b"}")
        .str("y_pred_proba")
        .op(b"}(")
        .str("PLR1001")
        .int(1)
        .str(MARKER)
        .stack_global("numpy.core.multiarray", "_reconstruct")
        .stack_global("numpy", "ndarray")
        .int(0)
        .op(b"\x85")
        .bytes(b"b")
        .op(b"\x87R")
        .op(b"us")
        .stop();
    let e = Decoder::new()
        .schema_keys(&SCHEMA)
        .decode(&bytes)
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidArray(_)), "{e}");
    assert_eq!(e.path(), "y_pred_proba.<key #1>");
    assert_no_code(&shown(&e));
}

#[test]
fn a_missing_key_lookup_lists_no_keys() {
    // {'y_pred_proba': {'PLR1001': 1, MARKER: 2}}
    let bytes = Asm::proto(4)
        .op(b"}")
        .str("y_pred_proba")
        .op(b"}(")
        .str("PLR1001")
        .int(1)
        .str(MARKER)
        .int(2)
        .op(b"us")
        .stop();
    let v = numpickle::decode(&bytes).unwrap();
    let e = v.at("y_pred_proba.mean").unwrap_err();
    assert_eq!(e.reason(), &PathErrorReason::MissingKey { keys: 2 });
    assert_eq!(
        e.to_string(),
        "key `mean` not found in `y_pred_proba`: the dict has 2 keys, none is `mean`"
    );
    assert_no_code(&format!("{e}\n{e:?}"));
}

#[test]
fn pickled_strings_are_never_echoed_in_messages() {
    let dtype = |code: &str| {
        Asm::proto(4)
            .stack_global("numpy", "dtype")
            .str(code)
            .op(b"\x85R")
    };
    let cases = [
        // numpy.dtype(MARKER)
        dtype(MARKER).stop(),
        // numpy.dtype('f8') with the byte order MARKER in its BUILD state
        dtype("f8")
            .op(b"(")
            .int(3)
            .str(MARKER)
            .op(b"NNN")
            .int(-1)
            .int(-1)
            .int(0)
            .op(b"tb")
            .stop(),
        // _frombuffer(b'\0' * 8, dtype('f8'), (1,), MARKER)
        Asm::proto(4)
            .stack_global("numpy._core.numeric", "_frombuffer")
            .op(b"(")
            .bytes(&[0; 8])
            .stack_global("numpy", "dtype")
            .str("f8")
            .op(b"\x85R")
            .int(1)
            .op(b"\x85")
            .str(MARKER)
            .op(b"tR")
            .stop(),
    ];
    for bytes in cases {
        let e = numpickle::decode(&bytes).unwrap_err();
        assert_no_code(&shown(&e));
    }
}

#[test]
fn terminal_escapes_in_a_refused_global_are_escaped() {
    let bytes = Asm::proto(2)
        .global("os\x1b[2J", "system\x07\r")
        .op(b")R")
        .stop();
    let e = numpickle::decode(&bytes).unwrap_err();
    let text = e.to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(
        text.contains(r"refused global `os\u{1b}[2J.system\u{7}\r`"),
        "{text}"
    );
}
