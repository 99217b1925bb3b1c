//! Memory amplification: a small pickle that copies one large payload over and over, or
//! piles up cheap containers, fails with the memory budget instead of exhausting memory.

use numpickle::{Decoder, ErrorKind, Limits};

use crate::rusage::peak_rss_mib;
use crate::support::Asm;

const MIB: usize = 1 << 20;
const CALLS: usize = 2000;

/// `setup` leaves memo 0 = a callable and memo 1 = its argument tuple (whose payload every
/// call shares); then `CALLS` times `BINGET 0, BINGET 1, REDUCE, POP`.
fn reduce_bomb(setup: Asm) -> Vec<u8> {
    let mut asm = setup;
    for _ in 0..CALLS {
        asm = asm.get(0).get(1).op(b"R0");
    }
    asm.op(b"N").stop()
}

/// `builtins.bytearray(b'x' * 1 MiB)`, 2,000 times: the ~1 MB pickle of issue 15.
fn bytearray_bomb() -> Vec<u8> {
    reduce_bomb(
        Asm::proto(4)
            .stack_global("builtins", "bytearray")
            .memoize()
            .op(b"0")
            .bytes(&vec![b'x'; MIB])
            .op(b"\x85")
            .memoize()
            .op(b"0"),
    )
}

/// `_codecs.encode('x' * 1 MiB, 'latin1')`, 2,000 times.
fn encode_bomb() -> Vec<u8> {
    reduce_bomb(
        Asm::proto(4)
            .stack_global("_codecs", "encode")
            .memoize()
            .op(b"0")
            .str(&"x".repeat(MIB))
            .str("latin1")
            .op(b"\x86")
            .memoize()
            .op(b"0"),
    )
}

/// `builtins.set([None] * 1,000,000)`, 2,000 times.
fn set_bomb() -> Vec<u8> {
    reduce_bomb(
        Asm::proto(4)
            .stack_global("builtins", "set")
            .memoize()
            .op(b"0")
            .op(b"](")
            .op(&vec![b'N'; 1_000_000])
            .op(b"e\x85")
            .memoize()
            .op(b"0"),
    )
}

/// `_frombuffer(_codecs.encode('x' * 1 MiB, 'latin1'), dtype('u1'), (1 MiB,), 'C')`, 2,000
/// times: each call copies the encoded payload.
fn frombuffer_bomb() -> Vec<u8> {
    reduce_bomb(
        Asm::proto(4)
            .stack_global("numpy._core.numeric", "_frombuffer")
            .memoize()
            .op(b"0")
            .op(b"(")
            .stack_global("_codecs", "encode")
            .str(&"x".repeat(MIB))
            .str("latin1")
            .op(b"\x86R")
            .stack_global("numpy", "dtype")
            .str("u1")
            .op(b"\x85R")
            .int(MIB as i32)
            .op(b"\x85")
            .str("C")
            .op(b"t")
            .memoize()
            .op(b"0"),
    )
}

/// An object array rebuilt 2,000 times by `BUILD` from one memoized state holding a list of
/// 500,000 items: memo 0 = `_reconstruct`, 1 = its arguments, 2 = the state.
fn build_bomb() -> Vec<u8> {
    const ITEMS: usize = 500_000;
    let mut asm = Asm::proto(4)
        .stack_global("numpy.core.multiarray", "_reconstruct")
        .memoize()
        .op(b"0")
        .stack_global("numpy", "ndarray")
        .int(0)
        .op(b"\x85")
        .bytes(b"b")
        .op(b"\x87")
        .memoize()
        .op(b"0")
        .op(b"(")
        .int(1)
        .int(ITEMS as i32)
        .op(b"\x85")
        .stack_global("numpy", "dtype")
        .str("O8")
        .op(b"\x85R\x89](")
        .op(&vec![b'N'; ITEMS])
        .op(b"et")
        .memoize()
        .op(b"0");
    for _ in 0..CALLS {
        asm = asm.get(0).get(1).op(b"R").get(2).op(b"b0");
    }
    asm.op(b"N").stop()
}

fn assert_budget_error(e: &numpickle::Error, input: usize) {
    let limit = 4 * input + 64 * MIB;
    assert_eq!(
        e.kind(),
        &ErrorKind::MemoryBudget {
            limit,
            input,
            per_input_byte: 4,
            base: 64 * MIB,
        },
        "{e}"
    );
    let text = e.to_string();
    assert!(
        text.contains("bytes of memory (4 × the ") && text.contains("-byte input + 64 MiB)"),
        "{text}"
    );
    assert!(
        text.contains("refusing a pickle that amplifies itself"),
        "{text}"
    );
}

#[test]
fn a_1_mb_pickle_that_copies_1_mib_2000_times_hits_the_budget() {
    let bytes = bytearray_bomb();
    assert!(bytes.len() < 1_100_000, "{} bytes", bytes.len());
    let e = numpickle::decode(&bytes).unwrap_err();
    assert_budget_error(&e, bytes.len());
    assert_eq!(e.opcode_name(), Some("REDUCE"));
    let limit = 4 * bytes.len() + 64 * MIB;
    let shown = limit
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    assert!(
        e.to_string()
            .contains(&format!("needs more than {shown} bytes of memory")),
        "{e}"
    );
    let e = numpickle::decode_paths(&bytes, &["metrics_iter"]).unwrap_err();
    assert_budget_error(&e, bytes.len());
    assert!(peak_rss_mib() < 600.0, "peak RSS {} MiB", peak_rss_mib());
}

#[test]
fn codecs_set_frombuffer_and_build_copies_hit_the_budget() {
    for (what, bytes) in [
        ("_codecs.encode", encode_bomb()),
        ("builtins.set", set_bomb()),
        ("_frombuffer", frombuffer_bomb()),
        ("BUILD", build_bomb()),
    ] {
        assert!(bytes.len() < 2 * MIB, "{what}: {} bytes", bytes.len());
        let e = numpickle::decode(&bytes).unwrap_err();
        assert_budget_error(&e, bytes.len());
        let e = numpickle::decode_paths(&bytes, &["x"]).unwrap_err();
        assert_budget_error(&e, bytes.len());
    }
    assert!(peak_rss_mib() < 600.0, "peak RSS {} MiB", peak_rss_mib());
}

/// A decoder whose budget is 4 bytes per input byte plus 1 MiB.
fn tight() -> Decoder {
    Decoder::new().limits(Limits {
        min_memory: MIB,
        ..Limits::default()
    })
}

#[test]
fn cheap_opcodes_repeated_hit_the_budget() {
    let cases = [
        // 500,000 empty lists, each popped: the arena keeps every one.
        (
            "EMPTY_LIST POP",
            Asm::proto(4).op(&b"]0".repeat(500_000)).op(b"N"),
        ),
        // One memo index overwritten 500,000 times.
        (
            "BINPUT",
            Asm::proto(4).op(b"N").op(&b"q\x00".repeat(500_000)),
        ),
        // A dict given 200,000 items that all share one memoized key and value.
        (
            "SETITEM",
            Asm::proto(4)
                .op(b"}N")
                .memoize()
                .op(b"0")
                .op(&b"h\x00h\x00s".repeat(200_000)),
        ),
        // A list given 333,000 references to one memoized item.
        (
            "APPEND",
            Asm::proto(4)
                .op(b"]N")
                .memoize()
                .op(b"0")
                .op(&b"h\x00a".repeat(333_000)),
        ),
        // 1,000,000 values left on the stack.
        ("stack", Asm::proto(4).op(&vec![b'N'; 1_000_000])),
    ];
    for (what, asm) in cases {
        let bytes = asm.stop();
        let e = tight().decode(&bytes).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::MemoryBudget { .. }),
            "{what}: {e}"
        );
        assert!(
            numpickle::decode(&bytes).is_ok(),
            "{what}: the default budget admits it"
        );
    }
}
