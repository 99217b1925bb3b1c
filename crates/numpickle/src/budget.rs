//! The memory budget of one decode: [`Limits::memory_per_input_byte`] times the input length
//! plus [`Limits::min_memory`], counted on everything the VM and the conversion to
//! [`Value`](crate::Value) hold that can grow with repetition in the input.
//!
//! Copies (`bytearray`, `_codecs.encode`, `set`, object-array states, pruned dicts, owned
//! payloads) are checked before they are made and charged when stored; container items are
//! charged as they are added; the VM's stack, marks, memo, tuple buffer and object table
//! are measured by capacity every 64 opcodes. Charges are never given back, so the budget
//! bounds the peak. A pickle that asks for more fails with [`ErrorKind::MemoryBudget`].

use crate::error::ErrorKind;
use crate::Limits;

/// What one decode may still hold.
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    limit: usize,
    input: usize,
    per_input_byte: usize,
    base: usize,
    /// Bytes charged so far.
    held: usize,
}

impl Budget {
    /// The budget for an input of `input` bytes.
    pub(crate) fn new(limits: &Limits, input: usize) -> Self {
        Budget {
            limit: input
                .saturating_mul(limits.memory_per_input_byte)
                .saturating_add(limits.min_memory),
            input,
            per_input_byte: limits.memory_per_input_byte,
            base: limits.min_memory,
            held: 0,
        }
    }

    /// Fails unless `bytes` more fit beside what is held (checked before making a copy).
    #[inline]
    pub(crate) fn ensure(&self, bytes: usize) -> Result<(), ErrorKind> {
        if self.held.saturating_add(bytes) > self.limit {
            return Err(self.exceeded());
        }
        Ok(())
    }

    /// Holds `bytes` more from now on.
    #[inline]
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), ErrorKind> {
        self.ensure(bytes)?;
        self.held += bytes;
        Ok(())
    }

    #[cold]
    fn exceeded(&self) -> ErrorKind {
        ErrorKind::MemoryBudget {
            limit: self.limit,
            input: self.input,
            per_input_byte: self.per_input_byte,
            base: self.base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_stop_at_the_limit() {
        let limits = Limits {
            memory_per_input_byte: 4,
            min_memory: 10,
            ..Limits::default()
        };
        let mut budget = Budget::new(&limits, 5);
        assert!(budget.charge(25).is_ok());
        assert!(budget.ensure(5).is_ok());
        assert_eq!(
            budget.charge(6),
            Err(ErrorKind::MemoryBudget {
                limit: 30,
                input: 5,
                per_input_byte: 4,
                base: 10
            })
        );
        assert!(budget.charge(5).is_ok(), "a refused charge holds nothing");
        assert!(budget.ensure(1).is_err());
    }
}
