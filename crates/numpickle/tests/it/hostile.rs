//! Malformed and malicious input is an `Err`: no panic, no hang, no runaway allocation.

use std::time::{Duration, Instant};

use numpickle::{Decoder, ErrorKind, Limits};

use crate::support::{case, fixtures, Asm};

fn err(bytes: &[u8]) -> numpickle::Error {
    numpickle::decode(bytes).expect_err("hostile input must be refused")
}

#[test]
fn every_truncation_of_small_fixtures_is_an_error() {
    for f in fixtures()
        .into_iter()
        .filter(|f| f.case == "python" || f.case == "scalars")
    {
        for end in 0..f.bytes.len() {
            let prefix = &f.bytes[..end];
            assert!(
                numpickle::decode(prefix).is_err(),
                "{} cut at {end}",
                f.file
            );
            assert!(numpickle::decode_paths(prefix, &["list"]).is_err());
        }
    }
}

#[test]
fn truncations_of_array_fixtures_are_errors() {
    for f in case("arrays").into_iter().chain(case("metrics")) {
        for end in (0..f.bytes.len()).step_by(97) {
            let prefix = &f.bytes[..end];
            assert!(
                numpickle::decode(prefix).is_err(),
                "{} cut at {end}",
                f.file
            );
        }
    }
}

#[test]
fn truncated_error_names_offset_and_opcode() {
    let e = err(&Asm::proto(4).op(b"\x8c\x05ab").0);
    assert_eq!(e.kind(), &ErrorKind::Truncated);
    assert_eq!(e.offset(), Some(2));
    assert_eq!(
        e.to_string(),
        "at byte 2: input ends inside `SHORT_BINUNICODE` (truncated pickle)"
    );
    let e = err(b"");
    assert_eq!(e.kind(), &ErrorKind::Truncated);
    let e = err(&Asm::proto(4).op(b"N").0);
    assert_eq!(e.kind(), &ErrorKind::Truncated, "no STOP");
}

#[test]
fn bad_opcodes_and_protocols() {
    assert_eq!(
        err(&Asm::proto(2).op(b"\xff").0).kind(),
        &ErrorKind::UnknownOpcode(0xff)
    );
    assert_eq!(
        err(&Asm::proto(6).stop()).kind(),
        &ErrorKind::UnsupportedProtocol(6)
    );
    for text_op in [
        &b"I1\n"[..],
        b"L1L\n",
        b"F1.0\n",
        b"S'a'\n",
        b"Va\n",
        b"p0\n",
        b"g0\n",
    ] {
        let e = err(&Asm::proto(2).op(text_op).stop());
        assert!(matches!(e.kind(), ErrorKind::UnsupportedOpcode(_)), "{e}");
    }
    let out_of_band = Asm::proto(5).op(b"\x97").stop();
    assert_eq!(
        err(&out_of_band).kind(),
        &ErrorKind::UnsupportedOpcode(0x97)
    );
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    let cases: [&[u8]; 6] = [
        b"\x8d\xff\xff\xff\xff\xff\xff\xff\x7f", // BINUNICODE8
        b"\x8e\x00\x00\x00\x00\x00\x00\x00\x80", // BINBYTES8
        b"\x96\xff\xff\xff\xff\xff\xff\xff\xff", // BYTEARRAY8
        b"X\xff\xff\xff\xff",                    // BINUNICODE
        b"B\xff\xff\xff\xff",                    // BINBYTES
        b"\x8b\xff\xff\xff\x7f",                 // LONG4
    ];
    for case in cases {
        let e = err(&Asm::proto(5).op(case).stop());
        assert_eq!(e.kind(), &ErrorKind::Truncated, "{e}");
    }
    let negative = Asm::proto(5).op(b"\x8b\xff\xff\xff\xff").stop();
    assert!(matches!(err(&negative).kind(), ErrorKind::BadOperand(_)));
}

#[test]
fn stack_underflow_and_missing_marks() {
    for ops in [
        &b"R"[..],
        b"0",
        b"2",
        b"a",
        b"Ns",
        b"K\x01K\x02\x87",
        b"t",
        b"e",
        b"u",
        b"\x94",
        b"b",
        b"\x93",
        b"1",
        b"(R", // the mark fences off what is below it
        b"N(0R",
    ] {
        let e = err(&Asm::proto(4).op(ops).stop());
        assert!(
            matches!(e.kind(), ErrorKind::StackUnderflow | ErrorKind::MissingMark),
            "{ops:?}: {e}"
        );
    }
    let e = err(&Asm::proto(4).op(b"(.").0);
    assert_eq!(e.kind(), &ErrorKind::StackUnderflow);
}

#[test]
fn wrong_operand_types_are_errors() {
    let numpy = |asm: Asm, name: &str| match name {
        "dtype" => asm.stack_global("numpy", "dtype"),
        "scalar" => asm.stack_global("numpy._core.multiarray", "scalar"),
        "frombuffer" => asm.stack_global("numpy._core.numeric", "_frombuffer"),
        _ => asm.stack_global("numpy.core.multiarray", "_reconstruct"),
    };
    let cases = vec![
        ("REDUCE on an int", Asm::proto(4).int(1).op(b")R").stop()),
        (
            "dtype(1)",
            numpy(Asm::proto(4), "dtype").int(1).op(b"\x85R").stop(),
        ),
        (
            "dtype('zz')",
            numpy(Asm::proto(4), "dtype").str("zz").op(b"\x85R").stop(),
        ),
        (
            "dtype args not a tuple",
            numpy(Asm::proto(4), "dtype").str("f8").op(b"R").stop(),
        ),
        (
            "scalar(1, 2)",
            numpy(Asm::proto(4), "scalar")
                .int(1)
                .int(2)
                .op(b"\x86R")
                .stop(),
        ),
        (
            "scalar with short payload",
            numpy(numpy(Asm::proto(4), "scalar"), "dtype")
                .str("f8")
                .op(b"\x85R")
                .bytes(b"abc")
                .op(b"\x86R")
                .stop(),
        ),
        (
            "frombuffer with a mismatched shape",
            numpy(
                numpy(Asm::proto(4), "frombuffer").op(b"(").bytes(&[0; 16]),
                "dtype",
            )
            .str("f8")
            .op(b"\x85R")
            .int(3)
            .op(b"\x85")
            .str("C")
            .op(b"tR")
            .stop(),
        ),
        ("APPEND to a dict", Asm::proto(4).op(b"}Na").stop()),
        ("SETITEM on a list", Asm::proto(4).op(b"]NNs").stop()),
        (
            "SETITEMS with odd items",
            Asm::proto(4).op(b"}(NNNu").stop(),
        ),
        ("BUILD on a list", Asm::proto(4).op(b"]Nb").stop()),
        ("missing memo", Asm::proto(4).op(b"h\x07").stop()),
        (
            "reconstruct without BUILD",
            numpy(Asm::proto(4), "reconstruct")
                .stack_global("numpy", "ndarray")
                .int(0)
                .op(b"\x85")
                .bytes(b"b")
                .op(b"\x87R")
                .stop(),
        ),
        (
            "a bare global as the result",
            Asm::proto(4).stack_global("numpy", "ndarray").stop(),
        ),
    ];
    for (what, bytes) in cases {
        assert!(numpickle::decode(&bytes).is_err(), "{what}");
        assert!(
            numpickle::decode_paths(&bytes, &["x"]).is_err() || what.contains("result"),
            "{what}"
        );
    }
}

#[test]
fn array_shape_overflow_is_an_error() {
    // _frombuffer(b'', dtype('f8'), (2**62, 2**62), 'C')
    let bytes = Asm::proto(4)
        .stack_global("numpy._core.numeric", "_frombuffer")
        .op(b"(")
        .bytes(b"")
        .stack_global("numpy", "dtype")
        .str("f8")
        .op(b"\x85R")
        .op(b"\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40\x86")
        .str("C")
        .op(b"tR")
        .stop();
    let e = err(&bytes);
    assert!(matches!(e.kind(), ErrorKind::InvalidArray(_)), "{e}");
}

/// `depth` nested one-item lists: `[[[...]]]`.
fn nested_lists(depth: usize) -> Vec<u8> {
    let mut asm = Asm::proto(4);
    for _ in 0..depth {
        asm = asm.op(b"]");
    }
    for _ in 1..depth {
        asm = asm.op(b"a");
    }
    asm.stop()
}

#[test]
fn deep_nesting_is_limited_not_a_stack_overflow() {
    assert!(numpickle::decode(&nested_lists(500)).is_ok());
    for depth in [1001, 200_000] {
        let e = err(&nested_lists(depth));
        assert_eq!(e.kind(), &ErrorKind::TooDeep { limit: 1000 });
    }
    let tuples: Vec<u8> = Asm::proto(4).op(b"N").op(&vec![0x85; 100_000]).stop();
    assert_eq!(err(&tuples).kind(), &ErrorKind::TooDeep { limit: 1000 });
    let shallow = Decoder::new().limits(Limits {
        max_depth: 10,
        ..Limits::default()
    });
    assert!(shallow.decode(&nested_lists(11)).is_err());
    assert!(shallow.decode(&nested_lists(10)).is_ok());
}

#[test]
fn self_referencing_containers_are_refused() {
    // l = []; l.append(l)
    let bytes = Asm::proto(4).op(b"]").memoize().get(0).op(b"a").stop();
    assert!(matches!(err(&bytes).kind(), ErrorKind::TooDeep { .. }));
}

/// A "billion laughs" list: level k holds ten references to level k - 1.
fn laughs(levels: u8) -> Vec<u8> {
    let mut asm = Asm::proto(4)
        .op(b"](")
        .op(&b"K\x01".repeat(10))
        .op(b"e")
        .memoize();
    for level in 1..levels {
        asm = asm.op(b"0](");
        for _ in 0..10 {
            asm = asm.get(level - 1);
        }
        asm = asm.op(b"e").memoize();
    }
    asm.stop()
}

#[test]
fn memo_bombs_hit_the_budget_quickly() {
    let start = Instant::now();
    let bytes = laughs(30);
    assert!(bytes.len() < 1000);
    let e = err(&bytes);
    assert!(matches!(e.kind(), ErrorKind::TooLarge { .. }), "{e}");
    assert!(numpickle::decode_paths(&bytes, &["a"]).is_err());
    assert!(start.elapsed() < Duration::from_secs(5));
    // The same bomb inside a skipped subtree costs nothing.
    let mut wrapped = Asm::proto(4).op(b"}(").str("bomb").0;
    wrapped.extend_from_slice(&laughs(30)[2..laughs(30).len() - 1]);
    let wrapped = Asm(wrapped).str("ok").int(1).op(b"u").stop();
    let v = numpickle::decode_paths(&wrapped, &["ok"]).unwrap();
    assert_eq!(v.get("ok").unwrap().as_i64(), Some(1));
    assert!(v.get("bomb").unwrap().is_skipped());
}

#[test]
fn memo_abuse_is_handled() {
    // Far-away, overwritten and out-of-order memo indices.
    let bytes = Asm::proto(4)
        .op(b"K\x07r\xff\xff\xff\xff0") // LONG_BINPUT 2**32-1, POP
        .op(b"K\x08q\x000") // BINPUT 0, POP
        .op(b"K\x09q\x000") // overwrite 0
        .op(b"j\xff\xff\xff\xffh\x00\x86")
        .stop();
    let v = numpickle::decode(&bytes).unwrap();
    assert_eq!(v.describe(), "tuple of 2");
    assert_eq!(v.as_list().unwrap()[0].as_i64(), Some(7));
    assert_eq!(v.as_list().unwrap()[1].as_i64(), Some(9));
    // Many distinct sparse indices stay linear.
    let mut asm = Asm::proto(4).op(b"N");
    for i in (1..20_000u32).rev() {
        asm = asm.op(b"r").op(&(i * 7).to_le_bytes());
    }
    assert!(numpickle::decode(&asm.stop()).is_ok());
    let e = err(&Asm::proto(4).op(b"N0\x94").stop());
    assert_eq!(e.kind(), &ErrorKind::StackUnderflow);
}

#[test]
fn many_marks_and_pops_stay_linear() {
    let start = Instant::now();
    let bytes = Asm::proto(4).op(&vec![b'('; 1_000_000]).op(b"N").stop();
    assert!(numpickle::decode(&bytes).is_ok());
    let bytes = Asm::proto(4).op(&b"N0".repeat(500_000)).op(b"N").stop();
    assert!(numpickle::decode(&bytes).is_ok());
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn errors_in_arrays_report_key_paths() {
    // {'a': {'b': _frombuffer(b'x', dtype('f8'), (1,), 'C')}}: 1 byte for one float64.
    let bytes = Asm::proto(4)
        .op(b"}")
        .str("a")
        .op(b"}")
        .str("b")
        .stack_global("numpy._core.numeric", "_frombuffer")
        .op(b"(")
        .bytes(b"x")
        .stack_global("numpy", "dtype")
        .str("f8")
        .op(b"\x85R")
        .int(1)
        .op(b"\x85")
        .str("C")
        .op(b"tRss")
        .stop();
    for paths in [None, Some(&["a.b"][..]), Some(&["a"][..])] {
        let decoder = match paths {
            Some(p) => Decoder::new().paths(p),
            None => Decoder::new(),
        };
        let e = decoder.clone().decode(&bytes).unwrap_err();
        let unnamed = match paths {
            None => "<key #0>.<key #0>",
            Some(["a"]) => "a.<key #0>",
            Some(_) => "a.b",
        };
        assert_eq!(e.path(), unnamed, "keys outside the layout are not shown");
        let e = decoder.schema_keys(&["a", "b"]).decode(&bytes).unwrap_err();
        assert_eq!(e.path(), "a.b");
        assert_eq!(e.opcode_name(), Some("REDUCE"));
        assert!(
            e.to_string().ends_with(
                "(a.b): invalid ndarray: 1 payload bytes for shape [1] of float64 (expected 8)"
            ),
            "{e}"
        );
    }
}

#[test]
fn oversized_conversions_error_instead_of_panicking() {
    let f = &case("arrays")[0];
    let v = numpickle::decode(&f.bytes).unwrap();
    let u = v.get("u_arr").unwrap().as_array().unwrap();
    assert!(u.to_f64_vec().is_err());
    assert!(u.to_i64_vec().is_err());
    let f8 = v.get("f8").unwrap().as_array().unwrap();
    assert!(f8.to_i64_vec().is_err());
    assert!(f8.to_string_vec().is_err());
    let u8 = v.get("u8").unwrap().as_array().unwrap();
    let e = u8.to_i64_vec().unwrap_err();
    assert!(e.to_string().contains("does not fit in i64"), "{e}");
    let mixed = v.get("obj_mixed").unwrap().as_array().unwrap();
    let e = mixed.to_string_vec().unwrap_err();
    assert!(
        e.to_string()
            .contains("element 0 of an object array is int, not a str"),
        "{e}"
    );
}

#[test]
fn empty_tuples_survive_reclaimed_argument_tuples() {
    // l = [()] is memoized, then an older argument tuple ('f8',) is consumed by REDUCE.
    let bytes = Asm::proto(4)
        .stack_global("numpy", "dtype")
        .str("f8")
        .op(b"\x85") // TUPLE1
        .op(b"])a") // EMPTY_LIST EMPTY_TUPLE APPEND
        .memoize()
        .op(b"0R0") // POP, REDUCE, POP
        .get(0)
        .stop();
    let v = numpickle::decode(&bytes).unwrap();
    assert_eq!(
        v,
        numpickle::Value::List(vec![numpickle::Value::Tuple(vec![])])
    );
}
