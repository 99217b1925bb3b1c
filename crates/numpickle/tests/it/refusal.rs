//! Globals other than the modelled numpy/builtins ones are refused, wherever they appear.

use numpickle::{Decoder, ErrorKind};

use crate::support::Asm;

/// `os.system('echo pwned')` as protocol 2 writes it.
fn os_system(asm: Asm) -> Asm {
    asm.global("os", "system").str("echo pwned").op(b"\x85R")
}

fn refused(bytes: &[u8], paths: Option<&[&str]>) -> numpickle::Error {
    refused_naming(bytes, paths, &[])
}

/// Decodes `bytes` expecting a refusal, with `schema` as the keys errors may name.
fn refused_naming(bytes: &[u8], paths: Option<&[&str]>, schema: &[&str]) -> numpickle::Error {
    let decoder = match paths {
        Some(p) => Decoder::new().paths(p),
        None => Decoder::new(),
    };
    decoder
        .schema_keys(schema)
        .decode(bytes)
        .expect_err("must be refused")
}

#[test]
fn top_level_reduce_of_os_system_is_refused() {
    let bytes = os_system(Asm::proto(2)).stop();
    let err = refused(&bytes, None);
    assert_eq!(
        err.kind(),
        &ErrorKind::RefusedGlobal {
            module: "os".into(),
            name: "system".into()
        }
    );
    assert_eq!(err.offset(), Some(2));
    assert_eq!(err.opcode_name(), Some("GLOBAL"));
    assert_eq!(
        err.to_string(),
        "at byte 2: refused global `os.system`: only numpy arrays, dtypes and scalars are allowed"
    );
}

#[test]
fn refusal_names_the_key_path() {
    // {'subjectwise_stats': {'test': {'labels': os.system(...)}}}
    let asm = Asm::proto(4)
        .op(b"}")
        .str("subjectwise_stats")
        .op(b"}")
        .str("test")
        .op(b"}")
        .str("labels");
    let at = asm.0.len();
    let bytes = asm
        .stack_global("os", "system")
        .str("x")
        .op(b"\x85Rsss")
        .stop();
    for paths in [None, Some(&["subjectwise_stats.test"][..]), Some(&[][..])] {
        let err = refused_naming(&bytes, paths, &["subjectwise_stats", "test", "labels"]);
        assert_eq!(err.path(), "subjectwise_stats.test.labels");
        assert_eq!(err.opcode_name(), Some("STACK_GLOBAL"));
        let stack_global_at = at + 2 + 2 + 2 + 6;
        assert_eq!(
            err.to_string(),
            format!(
                "at byte {stack_global_at} (subjectwise_stats.test.labels): refused global \
                 `os.system`: only numpy arrays, dtypes and scalars are allowed"
            )
        );
    }
}

#[test]
fn refused_inside_skipped_subtrees() {
    // {'skipped': {'deep': [os.system(...)]}, 'wanted': 1}
    let bytes = Asm::proto(2)
        .op(b"}(")
        .str("skipped")
        .op(b"}")
        .str("deep")
        .op(b"]");
    let bytes = os_system(bytes)
        .op(b"as")
        .str("wanted")
        .int(1)
        .op(b"u")
        .stop();
    let err = refused_naming(&bytes, Some(&["wanted"]), &["skipped", "deep"]);
    assert!(
        matches!(err.kind(), ErrorKind::RefusedGlobal { .. }),
        "{err}"
    );
    assert_eq!(err.path(), "skipped.deep");
    // Unnamed keys: the first key of the built top-level dict, a key of a skipped dict.
    assert_eq!(refused(&bytes, Some(&["wanted"])).path(), "<key #0>.<key>");
}

#[test]
fn other_globals_are_refused() {
    for (module, name) in [
        ("builtins", "eval"),
        ("__builtin__", "getattr"),
        ("copyreg", "_reconstructor"),
        ("collections", "OrderedDict"),
        ("numpy", "load"),
        ("numpy.core.multiarray", "frombuffer"),
        ("numpy._core.numeric", "_reconstruct"),
        ("numpy.lib.format", "read_array"),
        ("subprocess", "Popen"),
    ] {
        for bytes in [
            Asm::proto(2).global(module, name).op(b")R").stop(),
            Asm::proto(4).stack_global(module, name).op(b")R").stop(),
        ] {
            let err = refused(&bytes, None);
            assert_eq!(
                err.kind(),
                &ErrorKind::RefusedGlobal {
                    module: module.into(),
                    name: name.into()
                }
            );
        }
    }
}

#[test]
fn instance_creation_opcodes_are_refused() {
    // INST names its class inline; OBJ and NEWOBJ instantiate whatever is on the stack.
    let inst = Asm::proto(2).op(b"(").op(b"ios\nsystem\n").stop();
    let err = refused(&inst, None);
    assert!(
        matches!(err.kind(), ErrorKind::RefusedGlobal { .. }),
        "{err}"
    );
    let newobj = Asm::proto(2).global("numpy", "ndarray").op(b")\x81").stop();
    let err = refused(&newobj, None);
    assert_eq!(err.kind(), &ErrorKind::UnsupportedOpcode(0x81));
    assert_eq!(
        err.to_string(),
        "at byte 18: opcode `NEWOBJ` is not supported by this reader"
    );
    let persid = Asm::proto(2).str("id").op(b"Q").stop();
    assert_eq!(
        refused(&persid, None).kind(),
        &ErrorKind::UnsupportedOpcode(b'Q')
    );
}

#[test]
fn nothing_from_a_refused_pickle_leaks_through_selective_decoding() {
    // The refused call sits after the selected key: decoding still fails as a whole.
    let bytes = Asm::proto(2).op(b"}(").str("wanted").int(1).str("later");
    let bytes = os_system(bytes).op(b"u").stop();
    assert!(refused(&bytes, Some(&["wanted"]))
        .to_string()
        .contains("refused global `os.system`"));
}

#[test]
fn keys_after_a_finished_skipped_dict_are_its_siblings() {
    // {'skipped': {'train': {'a': 1}, 'val': {'b': os.system(...)}}, 'wanted': 1}, each dict
    // in one SETITEMS batch as CPython writes it.
    let bytes = Asm::proto(2)
        .op(b"}(")
        .str("skipped")
        .op(b"}(")
        .str("train")
        .op(b"}(")
        .str("a")
        .int(1)
        .op(b"u")
        .str("val")
        .op(b"}(")
        .str("b");
    let bytes = os_system(bytes)
        .op(b"uu")
        .str("wanted")
        .int(1)
        .op(b"u")
        .stop();
    let schema = ["skipped", "train", "val", "a", "b"];
    let err = refused_naming(&bytes, Some(&["wanted"]), &schema);
    assert_eq!(err.path(), "skipped.val.b");
    assert_eq!(
        refused_naming(&bytes, None, &schema).path(),
        "skipped.val.b"
    );
}
