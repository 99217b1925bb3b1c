//! The selective-decoding rules: which selection a value gets when it is pushed, and the
//! check and pruning when it is consumed (see the `vm` module docs).

use std::collections::HashMap;

use super::machine::{Fault, Res, Vm};
use crate::error::ErrorKind;
use crate::item::{Arena, Completeness, DictObj, Item, Obj, Slot};
use crate::select::{Sel, Selection};

impl<'a, 's> Vm<'a, 's> {
    /// Prunes a fully built top-level value to the selection (after a full-decode fallback).
    pub(crate) fn prune_root(
        arena: &mut Arena<'a>,
        selection: &Selection,
        root: Item<'a>,
    ) -> Result<Item<'a>, ErrorKind> {
        let mut cache = HashMap::new();
        match selection.root().node() {
            Some(node) if arena.is_dict(root) => prune(arena, selection, &mut cache, root, node),
            _ => Ok(root),
        }
    }

    /// The selection of a value about to be pushed (see the module docs).
    #[inline]
    pub(super) fn push_sel(&self) -> Sel {
        let Some(top) = self.stack.last() else {
            return self.root_sel;
        };
        let frame = self.marks.last().and_then(|m| m.frame);
        if frame.is_none() && top.sel.node().is_none() {
            return top.sel;
        }
        self.push_sel_slow(frame)
    }

    fn push_sel_slow(&self, frame: Option<u32>) -> Sel {
        let p = self.stack.len();
        let top = self.stack[p - 1];
        if let (Some(node), Some(mark)) = (frame, self.marks.last()) {
            // Inside the SETITEMS batch of a dict on a selected path: keys sit at even
            // offsets from the mark, values at odd ones.
            let rel = p - mark.pos;
            if rel.is_multiple_of(2) {
                return Sel::path(node).union(self.inherit(top));
            }
            if let Some(key) = self.arena.key(top.item) {
                let mut sel = self.selection.child(Sel::path(node), Some(key));
                // A dict just below the key may still take it with a one-item SETITEM.
                if rel >= 3 {
                    if let Some(inner) = self.arena.open_dict(self.stack[p - 2].item) {
                        sel = sel.union(self.selection.child(inner, Some(key)));
                    }
                }
                return sel;
            }
            return self.inherit(top);
        }
        // A one-item SETITEM: dict, key, value.
        if p >= self.fence() + 2 {
            if let Some(dict) = self.arena.open_dict(self.stack[p - 2].item) {
                if let Some(key) = self.arena.key(top.item) {
                    return self.selection.child(dict, Some(key));
                }
            }
        }
        self.inherit(top)
    }

    /// The selection a value inherits from the one below it: path selections only apply to
    /// dicts, so anything else on a path is built whole.
    fn inherit(&self, below: Slot<'a>) -> Sel {
        if below.sel.node().is_some() && !self.arena.is_dict(below.item) {
            Sel::BUILD
        } else {
            below.sel
        }
    }

    /// Checks a consumed value against the selection its role needs (see the module docs).
    pub(super) fn reconcile(&mut self, item: Item<'a>, expected: Sel) -> Res<Item<'a>> {
        if expected == Sel::SKIP {
            return Ok(Item::Skipped);
        }
        match self.arena.completeness(item) {
            Completeness::Full => match (expected.node(), item) {
                (Some(node), Item::Obj(_)) if self.arena.is_dict(item) => Ok(prune(
                    &mut self.arena,
                    self.selection,
                    &mut self.pruned,
                    item,
                    node,
                )?),
                _ => Ok(item),
            },
            Completeness::Pruned(sel) if sel == expected => Ok(item),
            Completeness::Pruned(_) | Completeness::Skipped => Err(Fault::Mispredict),
        }
    }

    #[inline]
    pub(super) fn check_complete(&self, item: Item<'a>) -> Res<()> {
        match self.arena.completeness(item) {
            Completeness::Full => Ok(()),
            _ => Err(Fault::Mispredict),
        }
    }

    pub(super) fn require_complete(&self, m: usize) -> Res<()> {
        self.stack[m..]
            .iter()
            .try_for_each(|s| self.check_complete(s.item))
    }
}

/// A copy of the fully built dict `item` that keeps only what path node `node` selects.
fn prune<'a>(
    arena: &mut Arena<'a>,
    selection: &Selection,
    cache: &mut HashMap<(u32, u32), Item<'a>>,
    item: Item<'a>,
    node: u32,
) -> Result<Item<'a>, ErrorKind> {
    let Item::Obj(id) = item else { return Ok(item) };
    if let Some(&done) = cache.get(&(id, node)) {
        return Ok(done);
    }
    let Obj::Dict(dict) = arena.obj(id) else {
        return Ok(item);
    };
    arena.ensure_items(2 * dict.entries.len())?;
    let entries = dict.entries.clone();
    let sel = Sel::path(node);
    let mut kept = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let child = selection.child(sel, arena.key(key));
        let value = match child.node() {
            _ if child == Sel::SKIP => Item::Skipped,
            Some(n) if arena.is_dict(value) => prune(arena, selection, cache, value, n)?,
            _ => value,
        };
        kept.push((key, value));
    }
    let pruned = arena.alloc(Obj::Dict(DictObj {
        entries: kept,
        sel,
        open: false,
    }))?;
    cache.insert((id, node), pruned);
    Ok(pruned)
}
