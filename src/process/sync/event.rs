//! `event()`: its word is the flag (bit 0) and the count of times it was set (the bits above), so a waiter woken by a `set` returns true even if a `clear` came right after.

use super::{SyncError, SyncObject, WAITERS, WORD};
use crate::process::queue::{Idle, Wait};
use std::sync::atomic::Ordering::SeqCst;

impl SyncObject {
    /// Sets the flag and wakes every waiter.
    pub fn event_set(&self) {
        let _ = self.word().fetch_update(SeqCst, SeqCst, |word| {
            // Already set: nothing changes (and nobody waits).
            (word & 1 == 0).then(|| (word | 1).wrapping_add(2))
        });
        self.wake(i32::MAX);
    }

    pub fn event_clear(&self) {
        self.word().fetch_and(!1, SeqCst);
    }

    pub fn event_is_set(&self) -> bool {
        self.word().load(SeqCst) & 1 == 1
    }

    /// Waits for the flag; Ok(false) when the deadline passed first.
    pub fn event_wait(&self, wait: Wait, idle: Idle) -> Result<bool, SyncError> {
        let seen = self.word().load(SeqCst);
        if seen & 1 == 1 {
            return Ok(true);
        }
        loop {
            match self.sleep_while(WORD, WAITERS, seen, wait, idle) {
                Ok(_) => {}
                Err(SyncError::Timeout) => return Ok(false),
                Err(e) => return Err(e),
            }
            let now = self.word().load(SeqCst);
            // Set now, or set since the wait began (and cleared again).
            if now & 1 == 1 || now >> 1 != seen >> 1 {
                return Ok(true);
            }
        }
    }
}
