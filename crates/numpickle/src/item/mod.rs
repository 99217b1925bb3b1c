//! The VM's working representation: small `Copy` stack [`Item`]s that refer to containers in
//! an [`Arena`] by index (so memo sharing and in-place mutation cost nothing), and the
//! [`Memo`].
//!
//! This module holds the values themselves: the allowed [`Global`]s, [`Item`], the stack
//! [`Slot`] and the heap objects ([`Obj`]); `arena` holds the [`Arena`] with its budget and
//! the questions the VM asks about items; `memo` holds the [`Memo`].

use std::borrow::Cow;

use crate::numpy::Dtype;
use crate::select::Sel;

mod arena;
mod memo;

pub(crate) use arena::Arena;
pub(crate) use memo::{Memo, MemoEntry, MAX_INPUT};

/// The only globals the VM knows; any other `module.name` is refused when it is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Global {
    /// `numpy.core.multiarray._reconstruct` / `numpy._core.multiarray._reconstruct`.
    Reconstruct,
    /// `numpy.ndarray` (only as the first `_reconstruct` argument).
    Ndarray,
    /// `numpy.dtype`.
    Dtype,
    /// `numpy.core.numeric._frombuffer` / `numpy._core.numeric._frombuffer`.
    FromBuffer,
    /// `numpy.core.multiarray.scalar` / `numpy._core.multiarray.scalar`.
    Scalar,
    /// `_codecs.encode` (protocol 2 writes `bytes` through it).
    CodecsEncode,
    /// `builtins.set`.
    Set,
    /// `builtins.frozenset`.
    FrozenSet,
    /// `builtins.bytearray`.
    ByteArray,
    /// `builtins.bytes` (protocol 2 writes `b''` as `bytes()`).
    Bytes,
}

impl Global {
    /// Resolves an allowed global; `None` means it must be refused.
    pub(crate) fn resolve(module: &str, name: &str) -> Option<Global> {
        let numpy_core = |sub: &str| {
            module
                .strip_prefix("numpy.core.")
                .or_else(|| module.strip_prefix("numpy._core."))
                == Some(sub)
        };
        Some(match name {
            "_reconstruct" if numpy_core("multiarray") => Global::Reconstruct,
            "scalar" if numpy_core("multiarray") => Global::Scalar,
            "_frombuffer" if numpy_core("numeric") => Global::FromBuffer,
            "ndarray" if module == "numpy" => Global::Ndarray,
            "dtype" if module == "numpy" => Global::Dtype,
            "encode" if module == "_codecs" => Global::CodecsEncode,
            "set" | "frozenset" | "bytearray" | "bytes"
                if module == "builtins" || module == "__builtin__" =>
            {
                match name {
                    "set" => Global::Set,
                    "frozenset" => Global::FrozenSet,
                    "bytearray" => Global::ByteArray,
                    _ => Global::Bytes,
                }
            }
            _ => return None,
        })
    }

    /// The Python spelling, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Global::Reconstruct => "numpy.core.multiarray._reconstruct",
            Global::Ndarray => "numpy.ndarray",
            Global::Dtype => "numpy.dtype",
            Global::FromBuffer => "numpy.core.numeric._frombuffer",
            Global::Scalar => "numpy.core.multiarray.scalar",
            Global::CodecsEncode => "_codecs.encode",
            Global::Set => "builtins.set",
            Global::FrozenSet => "builtins.frozenset",
            Global::ByteArray => "builtins.bytearray",
            Global::Bytes => "builtins.bytes",
        }
    }
}

/// One VM value. Containers live in the [`Arena`]; tuples in its flat tuple buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Item<'a> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Little-endian two's complement, too large for `i64`.
    BigInt(&'a [u8]),
    Str(&'a str),
    Bytes(&'a [u8]),
    ByteArray(&'a [u8]),
    Global(Global),
    /// A numpy bool/int/float scalar: dtype and canonical bits (see `Scalar::from_bits`).
    Scalar(Dtype, u64),
    /// `arena.tuples[start..start + len]`.
    Tuple(u32, u32),
    /// `arena.objs[index]`.
    Obj(u32),
    /// A value stepped over by selective decoding.
    Skipped,
    /// A dict stepped over by selective decoding (kept apart for error paths), and whether
    /// CPython could still emit a `SETITEM` batch for it (as `DictObj::open`).
    SkippedDict {
        open: bool,
    },
}

impl Item<'_> {
    /// Empty tuples point at index 0, so reclaiming newer tuples never leaves them dangling.
    pub(crate) fn normalized(self) -> Self {
        match self {
            Item::Tuple(_, 0) => Item::Tuple(0, 0),
            other => other,
        }
    }
}

/// A stack entry: the item and the selection that governs values pushed above it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot<'a> {
    pub(crate) item: Item<'a>,
    pub(crate) sel: Sel,
}

/// A dict under construction.
#[derive(Debug)]
pub(crate) struct DictObj<'a> {
    pub(crate) entries: Vec<(Item<'a>, Item<'a>)>,
    /// `BUILD` for a complete dict; a path node for a dict that keeps only selected keys.
    pub(crate) sel: Sel,
    /// Whether CPython could still emit a single-item `SETITEM` batch for it.
    pub(crate) open: bool,
}

/// An ndarray built by the VM.
#[derive(Debug)]
pub(crate) struct ArrayObj<'a> {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) fortran: bool,
    pub(crate) data: ArrayItems<'a>,
    pub(crate) offset: usize,
}

/// Array elements inside the VM.
#[derive(Debug)]
pub(crate) enum ArrayItems<'a> {
    Raw(Cow<'a, [u8]>),
    Objects(Vec<Item<'a>>),
}

/// A mutable or heap-backed VM object.
#[derive(Debug)]
pub(crate) enum Obj<'a> {
    List(Vec<Item<'a>>),
    Dict(DictObj<'a>),
    Set(Vec<Item<'a>>),
    FrozenSet(Vec<Item<'a>>),
    Dtype(Dtype),
    /// `_reconstruct(...)` before its `BUILD`.
    PendingArray,
    Array(ArrayObj<'a>),
    /// A `str` that is not valid UTF-8 as pickled (lone surrogates), or decoded from UTF-32.
    Str(String),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    /// An object whose contents were stepped over (e.g. an array whose state was skipped).
    Skipped,
}

/// How complete an item is, for checking what selective decoding built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completeness {
    /// Everything is built.
    Full,
    /// A dict that holds only the keys of this path selection.
    Pruned(Sel),
    /// Nothing is built.
    Skipped,
}
