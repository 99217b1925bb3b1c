//! The pickle virtual machine: one loop over the opcodes, an explicit stack, and the
//! selective-decoding rules.
//!
//! # Selective decoding
//!
//! Every stack slot carries a `Sel`: build fully, build as a dict on the way to a
//! requested path, or skip. When a value starts, its `Sel` is guessed from the stack below
//! it (`Vm::push_sel`): CPython emits a dict before its items, so a value pushed right
//! after a key, above a dict (after its `MARK`, or directly for a one-item `SETITEM`), is
//! that key's value. Values pushed inside a skipped value are skipped too; inside skipped
//! values only cheap things are built (strings, numbers, globals, dtypes, numpy scalars,
//! borrowed arrays), because the memo may hand them to a selected value later.
//!
//! The guess is checked where values are consumed (`Vm::reconcile`): a dict value must be
//! built exactly as its key's selection asks (an over-built dict is pruned), and everything
//! else that is consumed must be complete. A value built less than needed is a
//! `Fault::Mispredict`; the caller then decodes everything and prunes, so the result never
//! depends on the guess.

mod machine;
mod path;
mod scalars;
mod selective;

pub(crate) use machine::{Failure, Vm};
