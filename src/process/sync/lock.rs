//! `lock()`: its word holds the holder's pid (0 when free); a holder that dies leaves the lock to the next acquirer, who is told once (`owner_died`).

use super::{SyncError, SyncObject, DIED, WAITERS, WORD};
use crate::os;
use crate::process::queue::{Idle, Wait};
use crate::process::sleepers::Sleepers;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

impl SyncObject {
    /// Takes the lock; Ok(false) when the wait's deadline passed first.
    pub fn lock_acquire(&self, wait: Wait, idle: Idle) -> Result<bool, SyncError> {
        match self.take_word(WORD, WAITERS, wait, idle) {
            Ok(took_from_dead) => {
                if took_from_dead {
                    self.region.u32_at(DIED).store(1, SeqCst);
                }
                Ok(true)
            }
            Err(SyncError::Timeout) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Takes the lock only if it is free now: one compare-exchange, the
    /// whole cost of an uncontended acquire.
    pub fn lock_try_acquire(&self) -> bool {
        let me = os::current_pid() as u32;
        self.word()
            .compare_exchange(0, me, Acquire, Relaxed)
            .is_ok()
    }

    /// The pid of the process that holds the lock, 0 when free.
    pub fn lock_holder(&self) -> i32 {
        self.word().load(SeqCst) as i32
    }

    /// Whether a live process holds the lock (one that died holds nothing:
    /// the next acquire takes it).
    pub fn lock_is_held(&self) -> bool {
        let holder = self.lock_holder();
        holder != 0 && os::process_alive(holder)
    }

    /// Frees the lock, which this process must hold.
    pub fn lock_release(&self) -> Result<(), SyncError> {
        let me = os::current_pid() as u32;
        match self.word().load(SeqCst) {
            holder if holder == me => {
                // Only the holder changes the word away from its own pid.
                self.region.u32_at(DIED).store(0, SeqCst);
                self.free_word(WORD, WAITERS);
                Ok(())
            }
            0 => Err(SyncError::NotHeld(None)),
            other => Err(SyncError::NotHeld(Some(other as i32))),
        }
    }

    /// True once after the lock was taken back from a holder that died: for
    /// the holder that took it (anyone else only looks).
    pub fn lock_owner_died(&self) -> bool {
        let died = self.region.u32_at(DIED);
        if self.lock_holder() == os::current_pid() {
            died.swap(0, SeqCst) == 1
        } else {
            died.load(SeqCst) == 1
        }
    }

    /// Takes the word at `offset` as a lock (0 free, else the holder's pid).
    /// Ok(true) when it was taken back from a holder that died; a deadline
    /// that passes first is `SyncError::Timeout`.
    pub(super) fn take_word(
        &self,
        offset: usize,
        waiters: usize,
        wait: Wait,
        idle: Idle,
    ) -> Result<bool, SyncError> {
        let me = os::current_pid() as u32;
        let word = self.region.u32_at(offset);
        // Held at first sight, or for a whole tick by the same holder: is it
        // still there to free it? (First too, so that acquire(0) takes a dead
        // holder's lock.)
        let mut look = true;
        loop {
            let holder = match word.compare_exchange(0, me, Acquire, Relaxed) {
                Ok(_) => return Ok(false),
                Err(holder) => holder,
            };
            if look
                && holder != me
                && !os::process_alive(holder as i32)
                && word.compare_exchange(holder, me, Acquire, Relaxed).is_ok()
            {
                return Ok(true);
            }
            look = self.sleep_while(offset, waiters, holder, wait, idle)?;
        }
    }

    /// Frees a word taken by `take_word`.
    pub(super) fn free_word(&self, offset: usize, waiters: usize) {
        let word = self.region.u32_at(offset);
        word.store(0, Release);
        Sleepers(self.region.u32_at(waiters)).wake(word, 1);
    }
}
