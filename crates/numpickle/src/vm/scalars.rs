//! The numpy-scalar fast path: about half a million `scalar(dtype, payload)` calls make up
//! most opcodes of a large metrics pickle, so the eight opcodes of each are executed in one
//! step, and runs of identical ones with a few word compares.

use super::machine::{Res, Vm};
use crate::item::{Global, Item, Memo, Obj, Slot};
use crate::numpy::{ByteOrder, Dtype, DtypeKind};
use crate::opcode as op;
use crate::reduce;
use crate::select::Sel;

impl<'a, 's> Vm<'a, 's> {
    /// A scalar that was stepped over and kept as its pattern's offset. An unreadable
    /// pattern (the memo was rewritten since) becomes `Skipped`, which makes the caller
    /// decode everything instead.
    pub(super) fn lazy_scalar(&self, offset: usize) -> Item<'a> {
        self.scalar_pattern(offset)
            .map_or(Item::Skipped, |p| Item::Scalar(p.dtype, p.bits))
    }

    /// Executes a whole numpy-scalar pattern starting at the current `BINGET` in one step
    /// (see [`ScalarPattern`]), then any directly following scalars with the same layout
    /// (the items of a list of scalars); `false` if the bytes ahead do not match.
    pub(super) fn fused_scalar(&mut self) -> Res<bool> {
        let start = self.op_start;
        let Some(first) = self.scalar_pattern(start) else {
            return Ok(false);
        };
        let sel = self.push_sel();
        self.scalar_effects(&first, start, sel);
        let mut at = first.end;
        // Followers with byte-identical opcodes around the payload refer to the same global
        // and dtype; when all three stores go to the next memo indices of a memo without
        // out-of-order entries nothing they read is overwritten, so they need no other check.
        let shape = self
            .memo
            .is_sequential()
            .then(|| Layout::new(self.data, start, &first, self.memo.len()))
            .flatten();
        if let Some(shape) = shape {
            at = if shape.len <= 32 {
                self.scalar_run::<2>(&shape, &first, at, sel)
            } else {
                self.scalar_run::<3>(&shape, &first, at, sel)
            };
        }
        self.pos = at;
        Ok(true)
    }

    /// Executes the scalar patterns equivalent to `first` from `at` on, comparing `W` 16-byte
    /// words per pattern; returns where they end.
    #[inline(always)]
    fn scalar_run<const W: usize>(
        &mut self,
        shape: &Layout<'a>,
        first: &ScalarPattern<'a>,
        mut at: usize,
        sel: Sel,
    ) -> usize {
        let dtype = first.dtype;
        let le8 = dtype.itemsize() == 8
            && dtype.byte_order() == ByteOrder::Little
            && matches!(
                dtype.kind(),
                DtypeKind::Float | DtypeKind::Int | DtypeKind::UInt
            );
        let decode = |payload: &[u8]| {
            if le8 {
                payload.try_into().ok().map(u64::from_le_bytes)
            } else {
                reduce::scalar_bits(&dtype, payload)
            }
        };
        if sel == Sel::SKIP {
            // The hot loop of selective decoding: list items inside skipped subtrees.
            while let Some(payload) = shape.matches::<W>(self.data, at, self.memo.len()) {
                let Some(bits) = decode(payload) else { break };
                prefetch_ahead(self.data, at);
                self.memo.append_skipped_scalar(at);
                self.stack.push(Slot {
                    item: Item::Scalar(dtype, bits),
                    sel,
                });
                at += shape.len;
            }
        } else {
            while let Some(payload) = shape.matches::<W>(self.data, at, self.memo.len()) {
                let Some(bits) = decode(payload) else { break };
                prefetch_ahead(self.data, at);
                let pattern = ScalarPattern {
                    bits,
                    payload,
                    puts: [Some(Put::Next); 3],
                    end: at + shape.len,
                    ..*first
                };
                self.scalar_effects(&pattern, at, sel);
                at += shape.len;
            }
        }
        at
    }

    /// The stack and memo effects of one scalar pattern that starts at `start`.
    #[inline(always)]
    fn scalar_effects(&mut self, pattern: &ScalarPattern<'a>, start: usize, sel: Sel) {
        let item = Item::Scalar(pattern.dtype, pattern.bits);
        let [bytes_put, tuple_put, scalar_put] = pattern.puts;
        if sel == Sel::SKIP {
            // Only the scalar may be referenced later; keep its offset, not its value.
            for put in [bytes_put, tuple_put].into_iter().flatten() {
                let index = put.index(&self.memo);
                self.memo.put_skipped(index);
            }
            if let Some(put) = scalar_put {
                let index = put.index(&self.memo);
                self.memo.put_lazy_scalar(index, start);
            }
        } else {
            let payload = Item::Bytes(pattern.payload);
            if let Some(put) = bytes_put {
                let index = put.index(&self.memo);
                self.memo.put(index, payload);
            }
            if let Some(put) = tuple_put {
                let tuple = self.arena.push_tuple([pattern.dtype_item, payload]);
                self.arena.pin(tuple);
                let index = put.index(&self.memo);
                self.memo.put(index, tuple);
            }
            if let Some(put) = scalar_put {
                let index = put.index(&self.memo);
                self.memo.put(index, item);
            }
        }
        self.stack.push(Slot { item, sel });
    }

    /// Parses the numpy-scalar pattern at `start` (see [`ScalarPattern`]).
    fn scalar_pattern(&self, start: usize) -> Option<ScalarPattern<'a>> {
        let data = self.data;
        let mut p = start;
        let global = read_get(data, &mut p)?;
        if !matches!(self.memo.get_item(global)?, Item::Global(Global::Scalar)) {
            return None;
        }
        let dtype_item = self.memo.get_item(read_get(data, &mut p)?)?;
        let Item::Obj(id) = dtype_item else {
            return None;
        };
        let Obj::Dtype(dtype) = *self.arena.obj(id) else {
            return None;
        };
        if *data.get(p)? != op::SHORT_BINBYTES {
            return None;
        }
        let n = usize::from(*data.get(p + 1)?);
        let head = p + 2 - start;
        let payload = data.get(p + 2..p + 2 + n)?;
        p += 2 + n;
        if n != dtype.itemsize() {
            return None;
        }
        let bits = reduce::scalar_bits(&dtype, payload)?;
        let bytes_put = read_put(data, &mut p);
        if *data.get(p)? != op::TUPLE2 {
            return None;
        }
        p += 1;
        let tuple_put = read_put(data, &mut p);
        if *data.get(p)? != op::REDUCE {
            return None;
        }
        p += 1;
        let scalar_put = read_put(data, &mut p);
        Some(ScalarPattern {
            dtype,
            dtype_item,
            bits,
            head,
            payload,
            puts: [bytes_put, tuple_put, scalar_put],
            end: p,
        })
    }
}

/// A numpy scalar as CPython writes it once the `scalar` global and the dtype are memoized
/// (about half a million times in a large metrics pickle):
/// `BINGET scalar, BINGET dtype, SHORT_BINBYTES payload, [put], TUPLE2, [put], REDUCE, [put]`,
/// where `[put]` is an optional `MEMOIZE`, `BINPUT` or `LONG_BINPUT`. Executing it in one
/// step has exactly the effect of its eight opcodes.
#[derive(Clone, Copy)]
struct ScalarPattern<'a> {
    dtype: Dtype,
    dtype_item: Item<'a>,
    bits: u64,
    /// Bytes from the first `BINGET` to the payload.
    head: usize,
    payload: &'a [u8],
    puts: [Option<Put>; 3],
    end: usize,
}

/// The bytes of one scalar pattern with the payload and memo indices masked out, for
/// recognising the patterns that follow it with a few 16-byte compares.
struct Layout<'a> {
    len: usize,
    head: usize,
    payload_len: usize,
    /// Position and width (1 or 4 bytes) of each explicit memo index (`BINPUT`).
    indices: [(usize, usize); 3],
    /// The first pattern and its mask, when it fits in the window.
    words: Option<([u128; WORDS], [u128; WORDS])>,
    bytes: &'a [u8],
}

impl<'a> Layout<'a> {
    /// The layout of `first` (starting at `start`), if its three memo stores went to the
    /// sequential indices from `memo_len - 3`.
    fn new(data: &'a [u8], start: usize, first: &ScalarPattern<'a>, memo_len: u64) -> Option<Self> {
        let len = first.end - start;
        let (head, payload_len) = (first.head, first.payload.len());
        let bytes = &data[start..first.end];
        // Walk the three stores after the payload: [put] TUPLE2 [put] REDUCE [put].
        let mut indices = [(0, 0); 3];
        let mut p = head + payload_len;
        let first_index = memo_len.checked_sub(3)?;
        for (k, put) in first.puts.iter().enumerate() {
            let width = match put {
                Some(Put::Next) => 0,
                Some(Put::At(i)) if *i == first_index + k as u64 => {
                    if bytes[p] == op::BINPUT {
                        1
                    } else {
                        4
                    }
                }
                _ => return None,
            };
            indices[k] = (p + 1, width);
            p += 1 + width + 1;
        }
        let words = (len <= WINDOW).then(|| {
            let mut buf = [0u8; WINDOW];
            let mut mask = [0xffu8; WINDOW];
            buf[..len].copy_from_slice(bytes);
            mask[len..].fill(0);
            mask[head..head + payload_len].fill(0);
            for &(at, width) in &indices {
                mask[at..at + width].fill(0);
            }
            (words(&buf), words(&mask))
        });
        Some(Layout {
            len,
            head,
            payload_len,
            indices,
            words,
            bytes,
        })
    }

    /// The payload of an equivalent pattern at `at` whose stores go to `memo_len`,
    /// `memo_len + 1` and `memo_len + 2`, if there is one (`W` words cover the pattern).
    #[inline(always)]
    fn matches<const W: usize>(
        &self,
        data: &'a [u8],
        at: usize,
        memo_len: u64,
    ) -> Option<&'a [u8]> {
        let next = data.get(at..at + self.len)?;
        let same = match (self.words, data.get(at..at + 16 * W)) {
            (Some((want, mask)), Some(window)) => (0..W).all(|i| {
                let got =
                    u128::from_le_bytes(window[i * 16..i * 16 + 16].try_into().expect("16 bytes"));
                (got ^ want[i]) & mask[i] == 0
            }),
            _ => {
                let masked = |i: usize| {
                    (self.head..self.head + self.payload_len).contains(&i)
                        || self.indices.iter().any(|&(p, w)| (p..p + w).contains(&i))
                };
                (0..self.len).all(|i| masked(i) || next[i] == self.bytes[i])
            }
        };
        if !same {
            return None;
        }
        for (k, &(p, width)) in self.indices.iter().enumerate() {
            let index = match width {
                0 => continue,
                1 => u64::from(next[p]),
                _ => u64::from(u32::from_le_bytes(next[p..p + 4].try_into().ok()?)),
            };
            if index != memo_len + k as u64 {
                return None;
            }
        }
        Some(&next[self.head..self.head + self.payload_len])
    }
}

/// How far ahead of the scalar pattern being executed [`prefetch_ahead`] asks for the input:
/// far enough for the bytes to arrive from memory before the loop reaches them, near enough
/// to stay within the pages already mapped. The input of a large pickle is read once and
/// never cached; with this hint its scalar runs execute about a quarter faster.
const PREFETCH_AHEAD: usize = 1536;

/// Asks the CPU to start loading the cache line `PREFETCH_AHEAD` bytes after `data[at]`;
/// only a hint, which changes no result.
#[inline(always)]
fn prefetch_ahead(data: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let ahead = data.as_ptr().wrapping_add(at + PREFETCH_AHEAD);
        // SAFETY: a prefetch never faults and never reads into the program, whatever the
        // address (past the input's end it is dropped); `wrapping_add` forms the address
        // without claiming it lies inside the input.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, at);
}

/// Bytes compared at once when matching scalar patterns (the longest, with 4-byte memo
/// indices and an 8-byte payload, is 37 bytes).
const WINDOW: usize = 48;
const WORDS: usize = WINDOW / 16;

#[inline(always)]
fn words(bytes: &[u8; WINDOW]) -> [u128; WORDS] {
    std::array::from_fn(|i| {
        u128::from_le_bytes(bytes[i * 16..i * 16 + 16].try_into().expect("16 bytes"))
    })
}

/// A memo store inside a fused pattern.
#[derive(Clone, Copy)]
enum Put {
    /// `MEMOIZE`: the next index.
    Next,
    /// `BINPUT` / `LONG_BINPUT`.
    At(u64),
}

impl Put {
    fn index(self, memo: &Memo<'_>) -> u64 {
        match self {
            Put::Next => memo.len(),
            Put::At(i) => i,
        }
    }
}

fn read_get(data: &[u8], p: &mut usize) -> Option<u64> {
    match *data.get(*p)? {
        op::BINGET => {
            let i = *data.get(*p + 1)?;
            *p += 2;
            Some(i.into())
        }
        op::LONG_BINGET => {
            let b = data.get(*p + 1..*p + 5)?;
            *p += 5;
            Some(u32::from_le_bytes(b.try_into().ok()?).into())
        }
        _ => None,
    }
}

fn read_put(data: &[u8], p: &mut usize) -> Option<Put> {
    match *data.get(*p)? {
        op::MEMOIZE => {
            *p += 1;
            Some(Put::Next)
        }
        op::BINPUT => {
            let i = *data.get(*p + 1)?;
            *p += 2;
            Some(Put::At(i.into()))
        }
        op::LONG_BINPUT => {
            let b = data.get(*p + 1..*p + 5)?;
            *p += 5;
            Some(Put::At(u32::from_le_bytes(b.try_into().ok()?).into()))
        }
        _ => None,
    }
}
