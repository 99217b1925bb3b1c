//! Error context: the dotted key path of the value being decoded, read off the stack, with
//! each key named as `KeyNames` allows.

use super::machine::Vm;
use crate::item::{Item, Obj};

impl<'a, 's> Vm<'a, 's> {
    /// The dotted key path of the value being decoded, reconstructed from the stack with
    /// the same reading of dict batches as `push_sel` (best effort for error messages).
    /// Keys outside the layout read `<key #i>` (their position in a built dict: the items it
    /// holds plus those before it in the pending batch) or `<key>` (in a skipped dict).
    pub(super) fn current_path(&self) -> String {
        let mut segments: Vec<(usize, String)> = Vec::new();
        let mut mark_i = 0;
        let arena = &self.arena;
        let dict_like = |i: usize| {
            matches!(self.stack[i].item, Item::SkippedDict { .. })
                || arena.is_dict(self.stack[i].item)
        };
        // How many items the dict at stack position `d` holds, if it is built.
        let held = |d: usize| match self.stack[d].item {
            Item::Obj(id) => match arena.obj(id) {
                Obj::Dict(dict) => Some(dict.entries.len()),
                _ => None,
            },
            _ => None,
        };
        // Each position q (including the next push) is tested as the value of the key at q - 1.
        for q in 1..=self.stack.len() {
            while mark_i < self.marks.len() && self.marks[mark_i].pos <= q {
                mark_i += 1;
            }
            let mark = mark_i.checked_sub(1).map(|i| self.marks[i].pos);
            let below = self.stack[q - 1].item;
            let key_like = arena.key(below).is_some();
            let in_batch = |m: usize| m >= 1 && q > m && dict_like(m - 1);
            // The dict the key at q - 1 goes into, and its position among that dict's keys.
            let dict = if q >= 2
                && mark.is_none_or(|m| m + 2 <= q)
                && key_like
                && (arena.open_dict(self.stack[q - 2].item).is_some())
            {
                Some((q - 2, held(q - 2)))
            } else {
                match mark {
                    Some(m) if in_batch(m) && (q - m) % 2 == 1 && key_like => {
                        Some((m - 1, held(m - 1).map(|n| n + (q - 1 - m) / 2)))
                    }
                    _ => None,
                }
            };
            if let Some((d, position)) = dict {
                while segments.last().is_some_and(|&(v, _)| v > d) {
                    segments.pop();
                }
                let segment = self.names.segment(arena.key(below), position);
                segments.push((q, segment));
            } else if let Some(m) = mark {
                // A key position of a batch: the value below is finished unless it may
                // still be filled (then q belongs inside it).
                if in_batch(m) && (q - m) % 2 == 0 && !arena.maybe_open(below) {
                    while segments.last().is_some_and(|&(v, _)| v > m - 1) {
                        segments.pop();
                    }
                }
            }
        }
        let parts: Vec<&str> = segments.iter().map(|(_, s)| s.as_str()).collect();
        parts.join(".")
    }
}
