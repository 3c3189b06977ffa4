//! `value(x)`: one int or float in shared memory, changed by atomic operations (a float's `add` and `compare_set` by compare-exchange on its bits), so concurrent `add`s never lose one.

use super::{SyncError, SyncObject, FLOAT, VALUE};
use std::sync::atomic::Ordering::SeqCst;

/// What a shared value holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl SyncObject {
    pub(super) fn value_init(&self, initial: Number) {
        self.region
            .u32_at(FLOAT)
            .store(matches!(initial, Number::Float(_)) as u32, SeqCst);
        self.value_set(initial);
    }

    /// Whether the value holds a float (else an int); fixed at `value(x)`.
    pub fn value_is_float(&self) -> bool {
        self.region.u32_at(FLOAT).load(SeqCst) == 1
    }

    fn number(&self, bits: u64) -> Number {
        if self.value_is_float() {
            Number::Float(f64::from_bits(bits))
        } else {
            Number::Int(bits as i64)
        }
    }

    pub fn value_get(&self) -> Number {
        self.number(self.region.u64_at(VALUE).load(SeqCst))
    }

    /// Stores `n`, which the caller made of the value's own type.
    pub fn value_set(&self, n: Number) {
        self.region.u64_at(VALUE).store(bits(n), SeqCst);
    }

    /// Adds `n` (of the value's own type); the new value.
    pub fn value_add(&self, n: Number) -> Result<Number, SyncError> {
        let cell = self.region.u64_at(VALUE);
        let added = |old: u64| match n {
            Number::Int(n) => (old as i64).checked_add(n).map(|sum| sum as u64),
            Number::Float(x) => Some((f64::from_bits(old) + x).to_bits()),
        };
        let old = cell
            .fetch_update(SeqCst, SeqCst, added)
            .map_err(|_| SyncError::Overflow)?;
        Ok(self.number(added(old).unwrap_or(old)))
    }

    /// Stores `new` if the value equals `old` now (as `==` compares); whether it did.
    pub fn value_compare_set(&self, old: Number, new: Number) -> bool {
        let cell = self.region.u64_at(VALUE);
        loop {
            let current = cell.load(SeqCst);
            if self.number(current) != old {
                return false;
            }
            if cell
                .compare_exchange(current, bits(new), SeqCst, SeqCst)
                .is_ok()
            {
                return true;
            }
        }
    }
}

fn bits(n: Number) -> u64 {
    match n {
        Number::Int(n) => n as u64,
        Number::Float(x) => x.to_bits(),
    }
}
