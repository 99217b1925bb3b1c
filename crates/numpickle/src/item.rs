//! The VM's working representation: small `Copy` stack [`Item`]s that refer to containers in
//! an [`Arena`] by index (so memo sharing and in-place mutation cost nothing), and the
//! [`Memo`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::mem::size_of;

use crate::budget::Budget;
use crate::error::ErrorKind;
use crate::numpy::Dtype;
use crate::select::{Key, Sel};

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

impl Obj<'_> {
    /// The bytes this object holds outside its table slot (borrowed payloads cost nothing).
    fn heap_bytes(&self) -> usize {
        match self {
            Obj::List(v) | Obj::Set(v) | Obj::FrozenSet(v) => v.len() * size_of::<Item<'_>>(),
            Obj::Dict(d) => d.entries.len() * size_of::<(Item<'_>, Item<'_>)>(),
            Obj::Array(a) => {
                let data = match &a.data {
                    ArrayItems::Raw(Cow::Owned(b)) => b.len(),
                    ArrayItems::Raw(Cow::Borrowed(_)) => 0,
                    ArrayItems::Objects(v) => v.len() * size_of::<Item<'_>>(),
                };
                a.shape.len() * size_of::<usize>() + data
            }
            Obj::Str(s) => s.len(),
            Obj::Bytes(b) | Obj::ByteArray(b) => b.len(),
            Obj::Dtype(_) | Obj::PendingArray | Obj::Skipped => 0,
        }
    }
}

/// All containers and tuples of one decode, and the memory budget they are charged to.
#[derive(Debug)]
pub(crate) struct Arena<'a> {
    pub(crate) objs: Vec<Obj<'a>>,
    pub(crate) tuples: Vec<Item<'a>>,
    /// Tuples below this index may be referenced from the memo and must not be reclaimed.
    pinned: usize,
    /// Charged with every object's contents and every item added to a container; the
    /// tables themselves are measured by [`Arena::footprint`].
    pub(crate) budget: Budget,
}

impl<'a> Arena<'a> {
    pub(crate) fn new(budget: Budget) -> Self {
        Arena {
            objs: Vec::new(),
            tuples: Vec::new(),
            pinned: 0,
            budget,
        }
    }

    /// Stores `obj`, charging what it holds.
    pub(crate) fn alloc(&mut self, obj: Obj<'a>) -> Result<Item<'a>, ErrorKind> {
        Ok(Item::Obj(self.alloc_id(obj)?))
    }

    /// [`Arena::alloc`], returning the object's index.
    pub(crate) fn alloc_id(&mut self, obj: Obj<'a>) -> Result<u32, ErrorKind> {
        self.budget.charge(obj.heap_bytes())?;
        self.objs.push(obj);
        Ok((self.objs.len() - 1) as u32)
    }

    /// Replaces object `id` (an ndarray getting its `BUILD` state), charging what the new
    /// one holds.
    pub(crate) fn replace(&mut self, id: u32, obj: Obj<'a>) -> Result<(), ErrorKind> {
        self.budget.charge(obj.heap_bytes())?;
        *self.obj_mut(id) = obj;
        Ok(())
    }

    /// Charges `n` items about to be added to a list or set.
    #[inline]
    pub(crate) fn charge_items(&mut self, n: usize) -> Result<(), ErrorKind> {
        self.budget.charge(n.saturating_mul(size_of::<Item<'a>>()))
    }

    /// Charges one entry about to be added to a dict.
    #[inline]
    pub(crate) fn charge_entry(&mut self) -> Result<(), ErrorKind> {
        self.budget.charge(size_of::<(Item<'a>, Item<'a>)>())
    }

    /// Fails unless a copy of `items` items fits the budget (checked before copying).
    pub(crate) fn ensure_items(&self, items: usize) -> Result<(), ErrorKind> {
        self.budget
            .ensure(items.saturating_mul(size_of::<Item<'a>>()))
    }

    /// Fails unless a copy of `bytes` bytes fits the budget (checked before copying).
    pub(crate) fn ensure_bytes(&self, bytes: usize) -> Result<(), ErrorKind> {
        self.budget.ensure(bytes)
    }

    /// The bytes of the object table and the tuple buffer, by capacity.
    pub(crate) fn footprint(&self) -> usize {
        self.objs.capacity() * size_of::<Obj<'a>>() + self.tuples.capacity() * size_of::<Item<'a>>()
    }

    pub(crate) fn obj(&self, id: u32) -> &Obj<'a> {
        &self.objs[id as usize]
    }

    pub(crate) fn obj_mut(&mut self, id: u32) -> &mut Obj<'a> {
        &mut self.objs[id as usize]
    }

    pub(crate) fn tuple(&self, start: u32, len: u32) -> &[Item<'a>] {
        let (start, end) = (start as usize, start as usize + len as usize);
        self.tuples.get(start..end).unwrap_or_default()
    }

    pub(crate) fn push_tuple(&mut self, items: impl IntoIterator<Item = Item<'a>>) -> Item<'a> {
        let start = self.tuples.len();
        self.tuples.extend(items);
        Item::Tuple(start as u32, (self.tuples.len() - start) as u32).normalized()
    }

    /// Marks a tuple as shared (memoized or duplicated), so it is never reclaimed.
    pub(crate) fn pin(&mut self, item: Item<'a>) {
        if let Item::Tuple(start, len) = item {
            self.pinned = self.pinned.max((start + len) as usize);
        }
    }

    /// Reclaims a consumed tuple if it is the newest and unshared (REDUCE and BUILD
    /// arguments), so skipped numpy scalars do not grow the tuple buffer.
    pub(crate) fn release(&mut self, item: Item<'a>) {
        if let Item::Tuple(start, len) = item {
            let (start, end) = (start as usize, (start + len) as usize);
            if end == self.tuples.len() && start >= self.pinned {
                self.tuples.truncate(start);
            }
        }
    }

    /// What of `item` was built.
    pub(crate) fn completeness(&self, item: Item<'a>) -> Completeness {
        match item {
            Item::Skipped | Item::SkippedDict { .. } => Completeness::Skipped,
            Item::Obj(id) => match self.obj(id) {
                Obj::Skipped => Completeness::Skipped,
                Obj::Dict(d) if d.sel != Sel::BUILD => Completeness::Pruned(d.sel),
                _ => Completeness::Full,
            },
            _ => Completeness::Full,
        }
    }

    /// The dict-key view of `item`, or `None` if it cannot be a (complete) dict key.
    pub(crate) fn key(&self, item: Item<'a>) -> Option<Key<'_>> {
        Some(match item {
            Item::Str(s) => Key::Str(s),
            Item::Int(i) => Key::Int(i.into()),
            Item::Bool(b) => Key::Bool(b),
            Item::Scalar(dtype, bits) => match dtype.kind() {
                crate::numpy::DtypeKind::Int => Key::Int((bits as i64).into()),
                crate::numpy::DtypeKind::UInt => Key::Int(bits.into()),
                crate::numpy::DtypeKind::Bool => Key::Bool(bits != 0),
                _ => Key::Other,
            },
            Item::Obj(id) => match self.obj(id) {
                Obj::Str(s) => Key::Str(s),
                Obj::Bytes(_) => Key::Other,
                _ => return None,
            },
            Item::None | Item::Float(_) | Item::BigInt(_) | Item::Bytes(_) | Item::Tuple(..) => {
                Key::Other
            }
            Item::ByteArray(_) | Item::Global(_) | Item::Skipped | Item::SkippedDict { .. } => {
                return None
            }
        })
    }

    /// The open dict's selection, if `item` is a dict that may still get a `SETITEM`.
    pub(crate) fn open_dict(&self, item: Item<'a>) -> Option<Sel> {
        match item {
            Item::SkippedDict { open: true } => Some(Sel::SKIP),
            Item::Obj(id) => match self.obj(id) {
                Obj::Dict(d) if d.open => Some(d.sel),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn is_dict(&self, item: Item<'a>) -> bool {
        matches!(item, Item::Obj(id) if matches!(self.obj(id), Obj::Dict(_)))
    }

    /// Whether `item` may still be filled by a later opcode (so a value pushed above it
    /// may belong inside it): containers, skipped values and callables.
    pub(crate) fn maybe_open(&self, item: Item<'a>) -> bool {
        match item {
            Item::Global(_) | Item::Skipped => true,
            Item::SkippedDict { open } => open,
            Item::Obj(id) => match self.obj(id) {
                Obj::Dict(d) => d.open,
                Obj::List(_) | Obj::Set(_) | Obj::PendingArray | Obj::Skipped => true,
                _ => false,
            },
            _ => false,
        }
    }

    /// A short type description for messages.
    pub(crate) fn describe(&self, item: Item<'a>) -> String {
        match item {
            Item::None => "None".into(),
            Item::Bool(_) => "bool".into(),
            Item::Int(_) | Item::BigInt(_) => "int".into(),
            Item::Float(_) => "float".into(),
            Item::Str(_) => "str".into(),
            Item::Bytes(_) => "bytes".into(),
            Item::ByteArray(_) => "bytearray".into(),
            Item::Global(g) => format!("the global `{}`", g.name()),
            Item::Scalar(d, _) => format!("{d} scalar"),
            Item::Tuple(_, len) => format!("tuple of {len}"),
            Item::Skipped => "a skipped value".into(),
            Item::SkippedDict { .. } => "a skipped dict".into(),
            Item::Obj(id) => match self.obj(id) {
                Obj::List(v) => format!("list of {}", v.len()),
                Obj::Dict(d) => format!("dict with {} keys", d.entries.len()),
                Obj::Set(v) => format!("set of {}", v.len()),
                Obj::FrozenSet(v) => format!("frozenset of {}", v.len()),
                Obj::Dtype(d) => format!("dtype {d}"),
                Obj::PendingArray => "an ndarray awaiting BUILD".into(),
                Obj::Array(a) => format!("{} array", a.dtype),
                Obj::Str(_) => "str".into(),
                Obj::Bytes(_) => "bytes".into(),
                Obj::ByteArray(_) => "bytearray".into(),
                Obj::Skipped => "a skipped value".into(),
            },
        }
    }

    /// The text of a `str` item.
    pub(crate) fn str_of(&self, item: Item<'a>) -> Option<&str> {
        match item {
            Item::Str(s) => Some(s),
            Item::Obj(id) => match self.obj(id) {
                Obj::Str(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The payload of a `bytes` or `bytearray` item, borrowed.
    pub(crate) fn bytes_ref(&self, item: Item<'a>) -> Option<&[u8]> {
        match item {
            Item::Bytes(b) | Item::ByteArray(b) => Some(b),
            Item::Obj(id) => match self.obj(id) {
                Obj::Bytes(b) | Obj::ByteArray(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    /// The payload of a `bytes` or `bytearray` item: borrowed from the input, or a copy of
    /// an object's payload if it fits the budget.
    pub(crate) fn bytes_of(&self, item: Item<'a>) -> Result<Option<Cow<'a, [u8]>>, ErrorKind> {
        Ok(match item {
            Item::Bytes(b) | Item::ByteArray(b) => Some(Cow::Borrowed(b)),
            Item::Obj(id) => match self.obj(id) {
                Obj::Bytes(b) | Obj::ByteArray(b) => {
                    self.ensure_bytes(b.len())?;
                    Some(Cow::Owned(b.clone()))
                }
                _ => None,
            },
            _ => None,
        })
    }
}

/// What a memo index holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum MemoEntry<'a> {
    Item(Item<'a>),
    /// A numpy scalar inside a skipped subtree, kept as the byte offset of its fused
    /// opcode pattern and decoded again only if referenced.
    LazyScalar(usize),
}

/// The memo. CPython numbers memo entries 0, 1, 2, …; those live in 4-byte slots (an index
/// into `items`, a lazy scalar's offset, or "skipped"), so the ~1.5M entries of a large
/// pickle cost little. Out-of-order indices go to a map.
#[derive(Debug, Default)]
pub(crate) struct Memo<'a> {
    slots: Vec<u32>,
    items: Vec<Item<'a>>,
    sparse: HashMap<u64, MemoEntry<'a>>,
}

/// Slot value: the entry was stepped over.
const SKIPPED: u32 = u32::MAX;
/// Slot values at or above this are lazy scalar offsets (inputs are below 2 GiB).
const LAZY: u32 = 1 << 31;

/// Inputs must be shorter than this so memo slots can hold their byte offsets.
pub(crate) const MAX_INPUT: usize = (LAZY - 1) as usize;

impl<'a> Memo<'a> {
    /// The index `MEMOIZE` uses next.
    #[inline]
    pub(crate) fn len(&self) -> u64 {
        (self.slots.len() + self.sparse.len()) as u64
    }

    #[inline]
    pub(crate) fn put(&mut self, index: u64, item: Item<'a>) {
        self.put_entry(index, MemoEntry::Item(item));
    }

    #[inline]
    pub(crate) fn put_skipped(&mut self, index: u64) {
        self.put_entry(index, MemoEntry::Item(Item::Skipped));
    }

    #[inline]
    pub(crate) fn put_lazy_scalar(&mut self, index: u64, offset: usize) {
        self.put_entry(index, MemoEntry::LazyScalar(offset));
    }

    #[inline(always)]
    fn slot_for(&mut self, entry: MemoEntry<'a>) -> u32 {
        match entry {
            MemoEntry::Item(Item::Skipped) => SKIPPED,
            MemoEntry::Item(item) => {
                self.items.push(item);
                (self.items.len() - 1) as u32
            }
            MemoEntry::LazyScalar(offset) => LAZY + offset as u32,
        }
    }

    #[inline(always)]
    fn put_entry(&mut self, index: u64, entry: MemoEntry<'a>) {
        if index == self.slots.len() as u64 && self.sparse.is_empty() {
            let slot = self.slot_for(entry);
            self.slots.push(slot);
        } else {
            self.put_entry_slow(index, entry);
        }
    }

    #[cold]
    fn put_entry_slow(&mut self, index: u64, entry: MemoEntry<'a>) {
        let dense = self.slots.len() as u64;
        if index == dense {
            let slot = self.slot_for(entry);
            self.slots.push(slot);
            // Keep each index in one place: absorb sparse entries the dense part reached.
            while let Some(next) = self.sparse.remove(&(self.slots.len() as u64)) {
                let slot = self.slot_for(next);
                self.slots.push(slot);
            }
        } else if index < dense {
            let slot = self.slot_for(entry);
            self.slots[index as usize] = slot;
        } else {
            self.sparse.insert(index, entry);
        }
    }

    /// The bytes the memo holds, by capacity.
    pub(crate) fn footprint(&self) -> usize {
        self.slots.capacity() * size_of::<u32>()
            + self.items.capacity() * size_of::<Item<'a>>()
            + self.sparse.capacity() * (size_of::<(u64, MemoEntry<'a>)>() + 1)
    }

    /// Whether every index is below `len()` (no out-of-order `BINPUT` so far).
    pub(crate) fn is_sequential(&self) -> bool {
        self.sparse.is_empty()
    }

    /// The memo effect of a skipped numpy scalar whose three stores are all `MEMOIZE`:
    /// payload and argument tuple skipped, the scalar kept lazily.
    #[inline(always)]
    pub(crate) fn append_skipped_scalar(&mut self, offset: usize) {
        if self.sparse.is_empty() {
            self.slots
                .extend_from_slice(&[SKIPPED, SKIPPED, LAZY + offset as u32]);
        } else {
            for _ in 0..2 {
                self.put_skipped(self.len());
            }
            self.put_lazy_scalar(self.len(), offset);
        }
    }

    #[inline]
    pub(crate) fn get(&self, index: u64) -> Option<MemoEntry<'a>> {
        match self.slots.get(index as usize) {
            Some(&SKIPPED) => Some(MemoEntry::Item(Item::Skipped)),
            Some(&slot) if slot >= LAZY => Some(MemoEntry::LazyScalar((slot - LAZY) as usize)),
            Some(&slot) => Some(MemoEntry::Item(self.items[slot as usize])),
            None => self.sparse.get(&index).copied(),
        }
    }

    /// The entry at `index` if it is an item (not lazy).
    #[inline]
    pub(crate) fn get_item(&self, index: u64) -> Option<Item<'a>> {
        match self.get(index)? {
            MemoEntry::Item(item) => Some(item),
            MemoEntry::LazyScalar(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_keeps_dense_sparse_skipped_and_lazy_entries() {
        let mut memo = Memo::default();
        memo.put(0, Item::Int(10));
        memo.put_skipped(1);
        memo.put_lazy_scalar(2, 1234);
        memo.put(7, Item::Int(70)); // sparse
        assert_eq!(memo.len(), 4);
        assert!(matches!(memo.get(0), Some(MemoEntry::Item(Item::Int(10)))));
        assert!(matches!(memo.get(1), Some(MemoEntry::Item(Item::Skipped))));
        assert!(matches!(memo.get(2), Some(MemoEntry::LazyScalar(1234))));
        assert!(matches!(memo.get(7), Some(MemoEntry::Item(Item::Int(70)))));
        assert!(memo.get(5).is_none());
        assert!(memo.get_item(2).is_none(), "lazy entries are not items");
        // Overwrite, then fill the gap: index 7 moves from the map into the slots.
        memo.put(0, Item::Int(11));
        assert!(matches!(memo.get(0), Some(MemoEntry::Item(Item::Int(11)))));
        for i in 3..7 {
            memo.put(i, Item::None);
        }
        assert_eq!(memo.len(), 8);
        assert!(matches!(memo.get(7), Some(MemoEntry::Item(Item::Int(70)))));
        memo.append_skipped_scalar(99);
        assert!(matches!(memo.get(10), Some(MemoEntry::LazyScalar(99))));
    }

    #[test]
    fn released_tuples_are_reclaimed_unless_pinned() {
        let mut arena = Arena::new(Budget::new(&crate::Limits::default(), 0));
        let a = arena.push_tuple([Item::Int(1), Item::Int(2)]);
        let b = arena.push_tuple([Item::Int(3)]);
        arena.release(a); // not the newest: kept
        assert_eq!(arena.tuples.len(), 3);
        arena.release(b);
        assert_eq!(arena.tuples.len(), 2);
        arena.pin(a);
        arena.release(a);
        assert_eq!(arena.tuples.len(), 2, "pinned tuples stay");
        assert!(matches!(arena.push_tuple([]), Item::Tuple(0, 0)));
        assert!(
            arena.tuple(5, 3).is_empty(),
            "out of range reads as empty, not a panic"
        );
    }
}
