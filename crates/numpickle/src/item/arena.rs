//! The [`Arena`]: every container and tuple of one decode, what each costs against the
//! memory budget, and the questions the VM asks about an item (completeness, dict-key view,
//! openness, type description, text and byte payloads).

use std::borrow::Cow;
use std::mem::size_of;

use super::{ArrayItems, Completeness, Item, Obj};
use crate::budget::Budget;
use crate::error::ErrorKind;
use crate::select::{Key, Sel};

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

#[cfg(test)]
mod tests {
    use super::*;

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
