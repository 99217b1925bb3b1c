//! A non-executing reader for Python pickles (protocols 2–5) that understands numpy arrays,
//! dtypes and scalars, and can decode only selected key paths of a large pickle.
//!
//! ```text
//! let bytes = std::fs::read("metrics.pickle")?;              // or a memory map
//! let v = numpickle::decode_paths(&bytes, &["subjectwise_stats.test"])?;
//! let p = v.at("subjectwise_stats.test.preds.y_pred_proba.mean")?.as_array().unwrap();
//! let probs: Vec<f64> = p.to_f64_vec()?;                     // C order
//! ```
//!
//! # Safety model
//!
//! Pickles are programs; this crate interprets them without running them.
//!
//! - **Nothing is executed or instantiated.** The only globals are the numpy ones that
//!   describe arrays, dtypes and scalars (`numpy.core`/`numpy._core` `multiarray._reconstruct`,
//!   `multiarray.scalar`, `numeric._frombuffer`, `numpy.ndarray`, `numpy.dtype`) plus
//!   `_codecs.encode` and `builtins.set`/`frozenset`/`bytearray`/`bytes`, which protocols 2–3
//!   use to spell plain data. Each is modelled in Rust. Any other global is refused with an
//!   error naming `module.name` when it is loaded — also inside subtrees that selective
//!   decoding skips.
//! - **Hostile input gives an `Err`, never a panic, hang or unbounded allocation.** The VM
//!   has an explicit stack (no recursion on input structure), every length is checked
//!   against the remaining input before use, memo sharing costs nothing inside the VM
//!   (containers live in an arena and are referenced by index), and turning the result into
//!   a [`Value`] tree is iterative, bounded by [`Limits::max_depth`] and by a budget of
//!   values and copied bytes proportional to the input length. Everything a decode holds
//!   that can grow with repetition (copies made by `bytearray`, `set`, `_codecs.encode` or
//!   `BUILD`, container items, memo entries, the stack) counts against a memory budget of
//!   [`Limits::memory_per_input_byte`] times the input length plus [`Limits::min_memory`],
//!   so a small pickle that copies one large payload many times fails with
//!   [`ErrorKind::MemoryBudget`] instead of exhausting memory.
//! - **Borrowing.** Strings, bytes and array payloads borrow from the input (the caller may
//!   memory-map the file), so arrays are not copied until converted.
//!
//! # Selective decoding
//!
//! [`decode_paths`] takes dotted key paths (`metrics_stats.test.metrics.scalars`; integer
//! keys such as numpy `int64` keys by their decimal text). Dicts on the way to a selected
//! path are built with their other values as [`Value::Skipped`]; the selected subtrees are
//! built whole; everything else is stepped over without building containers or copying
//! payloads. Cheap values (strings, numbers, dtypes, numpy scalars) are still built inside
//! skipped subtrees because later memo references may need them. The result is always what
//! a full decode pruned to the paths would give: if the pickle turns out to need something
//! that was skipped, the decode is transparently redone in full
//! ([`DecodeStats::fell_back`]).
//!
//! Limits: inputs must be smaller than 2 GiB; protocol 0/1 text opcodes, persistent ids,
//! extension codes and out-of-band buffers are refused; containers that contain themselves
//! are refused (they would be infinitely deep as a tree); dict keys with a `.` cannot be
//! addressed by a path.
//!
//! # Error messages
//!
//! Errors are shown to people who must not see the pickle's data, so they name byte
//! offsets, opcodes, types, shapes and key paths, never a string value or a data key. A
//! key path shows a key's text only when the key belongs to the expected layout: a segment
//! of a selected path or a key the caller names with [`Decoder::schema_keys`]. Any other
//! key, string or integer, reads `<key #i>` (the i-th key pickled into its dict, from 0),
//! or `<key>` inside a subtree that selective decoding steps over. So a pickle cut inside a
//! dict keyed by subject codes fails at, say,
//! `metrics_iter.train.preds_dict.arrays.y_pred_proba.<key #17>`. A failed [`Value::at`]
//! lookup says how many keys the dict has, not which. The only text taken from the input
//! is the `module.name` of a refused global, clipped to 120 bytes with its control
//! characters escaped.
//!
//! # Modules
//!
//! - `value`: [`Value`], lookups and accessors; `numpy`: [`Dtype`] and [`NdArray`] with
//!   C-order conversions; `error`: [`Error`] with byte offset, opcode and key path;
//! - `vm`: the opcode loop (`machine`), the selective-decoding rules (`selective`), the
//!   numpy-scalar fast path (`scalars`) and error key paths (`path`);
//! - `reduce`: what the allowed globals mean; `item`: the VM's values, arena and memo;
//!   `convert`: arena to [`Value`]; `select`: the path trie; `opcode`: opcode bytes;
//! - `names`: which keys an error path may show; `budget`: the memory budget.

mod budget;
mod convert;
mod error;
mod item;
mod names;
mod numpy;
mod opcode;
mod reduce;
mod select;
mod value;
mod vm;

pub use error::{Error, ErrorKind, PathError, PathErrorReason};
pub use numpy::{ArrayData, ByteOrder, Dtype, DtypeKind, NdArray};
pub use value::{Scalar, ScalarValue, Value};

use budget::Budget;
use names::KeyNames;
use select::Selection;
use vm::{Failure, Vm};

/// Decodes a whole pickle.
pub fn decode(data: &[u8]) -> Result<Value<'_>, Error> {
    Decoder::new().decode(data)
}

/// Decodes only the given dotted key paths (and the dicts on the way to them); everything
/// else comes back as [`Value::Skipped`].
pub fn decode_paths<'a>(data: &'a [u8], paths: &[&str]) -> Result<Value<'a>, Error> {
    Decoder::new().paths(paths).decode(data)
}

/// Resource limits for hostile input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest container nesting in the result (CPython's pickler itself stops near 1000).
    pub max_depth: usize,
    /// Values (and copied bytes) the result may hold per input byte, on top of
    /// [`Limits::min_values`]; memo references that repeat a container count each time.
    pub values_per_input_byte: usize,
    /// Values (and copied bytes) always allowed, however small the input.
    pub min_values: usize,
    /// Bytes of memory a decode may hold per input byte, on top of [`Limits::min_memory`]:
    /// copies, container items, memo entries, the VM's stack and the resulting values
    /// (borrowed strings and array payloads cost only their handles). The input itself is
    /// not counted.
    pub memory_per_input_byte: usize,
    /// Bytes of memory a decode may always hold, however small the input.
    pub min_memory: usize,
}

impl Default for Limits {
    /// Depth 1000; 2 values per input byte plus 65,536; 4 bytes of memory per input byte
    /// plus 64 MiB.
    fn default() -> Self {
        Limits {
            max_depth: 1000,
            values_per_input_byte: 2,
            min_values: 1 << 16,
            memory_per_input_byte: 4,
            min_memory: 64 << 20,
        }
    }
}

/// What a decode did, for diagnostics and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Selective decoding met a memo reference to something it had skipped and decoded the
    /// whole pickle instead (the result is the same, only slower).
    pub fell_back: bool,
}

/// Decoding options: which paths to select, which keys errors may name, and the resource
/// limits.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    paths: Option<Vec<String>>,
    schema: Vec<String>,
    limits: Limits,
}

impl Decoder {
    /// A decoder for whole pickles with default limits.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Selects dotted key paths (an empty path selects everything).
    pub fn paths<S: AsRef<str>>(mut self, paths: &[S]) -> Self {
        self.paths = Some(paths.iter().map(|p| p.as_ref().to_owned()).collect());
        self
    }

    /// Names the dict keys of the expected layout (e.g. `metrics_iter`, `test`,
    /// `y_pred_proba`), which error paths may show as text besides the segments of the
    /// selected paths; every other key is data and shows as `<key #i>` (see the crate docs,
    /// "Error messages").
    pub fn schema_keys<S: AsRef<str>>(mut self, keys: &[S]) -> Self {
        self.schema = keys.iter().map(|k| k.as_ref().to_owned()).collect();
        self
    }

    /// Replaces the resource limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Decodes `data`.
    pub fn decode<'a>(&self, data: &'a [u8]) -> Result<Value<'a>, Error> {
        self.decode_with_stats(data).map(|(value, _)| value)
    }

    /// Decodes `data` and reports how.
    pub fn decode_with_stats<'a>(&self, data: &'a [u8]) -> Result<(Value<'a>, DecodeStats), Error> {
        if data.len() > item::MAX_INPUT {
            return Err(Error::new(ErrorKind::TooLarge {
                limit: item::MAX_INPUT,
            }));
        }
        let all = Selection::all();
        let selection = match &self.paths {
            Some(paths) => Selection::new(paths),
            None => Selection::all(),
        };
        let names = KeyNames::new(self.paths.as_deref().unwrap_or_default(), &self.schema);
        let budget = Budget::new(&self.limits, data.len());
        let mut stats = DecodeStats::default();
        let (root, arena) = match Vm::run(data, &selection, names, budget.clone()) {
            Ok(done) => done,
            Err(Failure::Error(e)) => return Err(e),
            Err(Failure::Mispredict) => {
                stats.fell_back = true;
                match Vm::run(data, &all, names, budget) {
                    Ok((root, mut arena)) => {
                        let root =
                            Vm::prune_root(&mut arena, &selection, root).map_err(Error::new)?;
                        (root, arena)
                    }
                    Err(Failure::Error(e)) => return Err(e),
                    // A full decode skips nothing, so it cannot mispredict.
                    Err(Failure::Mispredict) => {
                        return Err(Error::new(ErrorKind::BadOperand(
                            "internal error: a full decode mispredicted".into(),
                        )))
                    }
                }
            }
        };
        let value = convert::to_value(&arena, root, &self.limits, data.len(), &names)?;
        Ok((value, stats))
    }
}
