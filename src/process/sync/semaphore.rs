//! `semaphore(n)`: its word counts the free permits; a table records which process holds how many, so the permits of a holder that dies come back.
//!
//! Bounded, as Python's `BoundedSemaphore`: a release that would make more
//! than `n` permits free is an error, not a silent extra permit.

use super::{SyncError, SyncObject, TABLE, TABLE_SLOTS, WAITERS, WORD};
use crate::os;
use crate::process::queue::{Idle, Wait};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::SeqCst;

/// A table entry: the pid in the high half, its permits in the low one.
fn entry(pid: i32, permits: u32) -> u64 {
    ((pid as u32 as u64) << 32) | permits as u64
}

fn pid_of(entry: u64) -> i32 {
    (entry >> 32) as u32 as i32
}

fn permits_of(entry: u64) -> u32 {
    entry as u32
}

impl SyncObject {
    fn permit_slot(&self, i: usize) -> &AtomicU64 {
        self.region.u64_at(TABLE + 8 * i)
    }

    /// Takes a permit; Ok(false) when the deadline passed first.
    pub fn semaphore_acquire(&self, wait: Wait, idle: Idle) -> Result<bool, SyncError> {
        loop {
            if self.take_permit_or_recover() {
                return Ok(true);
            }
            match self.sleep_while(WORD, WAITERS, 0, wait, idle) {
                // A whole tick without a permit: did a holder die with some?
                Ok(true) => self.recover_permits(),
                Ok(false) => {}
                Err(SyncError::Timeout) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes a permit if one is free now, counting those of dead holders as free.
    fn take_permit_or_recover(&self) -> bool {
        self.take_permit() || {
            self.recover_permits();
            self.take_permit()
        }
    }

    /// Takes a permit if one is free now, and records it as this process's.
    pub fn take_permit(&self) -> bool {
        let took = self
            .word()
            .fetch_update(SeqCst, SeqCst, |free| free.checked_sub(1))
            .is_ok();
        if took {
            self.note_permit(os::current_pid());
        }
        took
    }

    /// Gives a permit back; more than the initial value free is an error.
    pub fn semaphore_release(&self) -> Result<(), SyncError> {
        let limit = self.limit();
        self.word()
            .fetch_update(SeqCst, SeqCst, |free| (free < limit).then_some(free + 1))
            .map_err(|_| SyncError::OverReleased(limit))?;
        self.drop_permit(os::current_pid());
        self.wake(1);
        Ok(())
    }

    /// Free permits now, those of dead holders included.
    pub fn semaphore_value(&self) -> u32 {
        self.recover_permits();
        self.word().load(SeqCst)
    }

    /// One more permit held by `pid` (untracked when the table is full).
    fn note_permit(&self, pid: i32) {
        for i in 0..TABLE_SLOTS {
            let slot = self.permit_slot(i);
            let current = slot.load(SeqCst);
            let (owner, held) = (pid_of(current), permits_of(current));
            let mine = owner == pid;
            let free = held == 0;
            if (mine || free)
                && slot
                    .compare_exchange(current, entry(pid, held * mine as u32 + 1), SeqCst, SeqCst)
                    .is_ok()
            {
                return;
            }
        }
    }

    /// One permit fewer held: by `pid` if it holds one, else by whichever
    /// process does (a permit may be given back by another process).
    fn drop_permit(&self, pid: i32) {
        let take_from = |wanted: &dyn Fn(i32) -> bool| {
            (0..TABLE_SLOTS).any(|i| {
                let slot = self.permit_slot(i);
                let current = slot.load(SeqCst);
                let (owner, held) = (pid_of(current), permits_of(current));
                held > 0
                    && wanted(owner)
                    && slot
                        .compare_exchange(current, entry(owner, held - 1), SeqCst, SeqCst)
                        .is_ok()
            })
        };
        let _ = take_from(&|owner| owner == pid) || take_from(&|_| true);
    }

    /// Gives back the permits of holders that died.
    fn recover_permits(&self) {
        let limit = self.limit();
        for i in 0..TABLE_SLOTS {
            let slot = self.permit_slot(i);
            let current = slot.load(SeqCst);
            let (owner, held) = (pid_of(current), permits_of(current));
            if held > 0
                && !os::process_alive(owner)
                && slot.compare_exchange(current, 0, SeqCst, SeqCst).is_ok()
            {
                let _ = self.word().fetch_update(SeqCst, SeqCst, |free| {
                    Some(free.saturating_add(held).min(limit))
                });
                self.wake(held as i32);
            }
        }
    }
}
