//! The [`Memo`]: what `MEMOIZE`/`BINPUT` store, in dense 4-byte slots with a map for
//! out-of-order indices, including the lazy numpy scalars of skipped subtrees.

use std::collections::HashMap;
use std::mem::size_of;

use super::Item;

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
}
