//! `lock()`: its word holds the holder's pid (0 when free); a holder that dies leaves the lock to the next acquirer, who is told once (`owner_died`).

use super::{SyncError, SyncObject, DIED, MUTEX, MUTEX_STAMP, WAITERS, WORD, WORD_STAMP};
use crate::os;
use crate::process::holders::{holder_gone, own_identity};
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
        let me = os::current_pid();
        let took = self
            .word()
            .compare_exchange(0, me as u32, Acquire, Relaxed)
            .is_ok();
        if took {
            self.stamp_holder(WORD, me);
        }
        took
    }

    /// The pid of the process that holds the lock, 0 when free.
    pub fn lock_holder(&self) -> i32 {
        self.word().load(SeqCst) as i32
    }

    /// Whether a live process holds the lock (one that died holds nothing:
    /// the next acquire takes it).
    pub fn lock_is_held(&self) -> bool {
        let holder = self.lock_holder();
        holder != 0 && !self.word_holder_gone(WORD, holder)
    }

    /// Where the identity of the holder of the word at `offset` is kept.
    fn stamp_at(offset: usize) -> usize {
        if offset == MUTEX {
            MUTEX_STAMP
        } else {
            WORD_STAMP
        }
    }

    /// Writes this process's identity (`me` is its pid) as the holder of the
    /// word at `offset` (just taken), so a later process given the same pid is
    /// not taken for it. A plain store: a reader that saw the word name `me`
    /// reads this stamp or the 0 that the last free left (ordered before the
    /// word's release), and trusts only a stamp that names the word's pid.
    fn stamp_holder(&self, offset: usize, me: i32) {
        self.region
            .u64_at(Self::stamp_at(offset))
            .store(own_identity(me), Release);
    }

    /// Whether `holder` of the word at `offset` is gone (dead, or its pid reused).
    fn word_holder_gone(&self, offset: usize, holder: i32) -> bool {
        holder_gone(
            holder,
            self.region.u64_at(Self::stamp_at(offset)).load(SeqCst),
        )
    }

    /// Frees the lock, which this process must hold.
    pub fn lock_release(&self) -> Result<(), SyncError> {
        let me = os::current_pid() as u32;
        match self.word().load(Relaxed) {
            holder if holder == me => {
                // Only the holder changes the word away from its own pid, and
                // DIED while it holds it: a look first spares the common
                // release a write (the word's release below orders it).
                let died = self.region.u32_at(DIED);
                if died.load(Relaxed) != 0 {
                    died.store(0, Relaxed);
                }
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
        let me = os::current_pid();
        let word = self.region.u32_at(offset);
        // Held at first sight, or for a whole tick by the same holder: is it
        // still there to free it? (First too, so that acquire(0) takes a dead
        // holder's lock.)
        let mut look = true;
        loop {
            let holder = match word.compare_exchange(0, me as u32, Acquire, Relaxed) {
                Ok(_) => {
                    self.stamp_holder(offset, me);
                    return Ok(false);
                }
                Err(holder) => holder,
            };
            if look
                && holder != me as u32
                && self.word_holder_gone(offset, holder as i32)
                && word
                    .compare_exchange(holder, me as u32, Acquire, Relaxed)
                    .is_ok()
            {
                self.stamp_holder(offset, me);
                return Ok(true);
            }
            look = self.sleep_while(offset, waiters, holder, wait, idle)?;
        }
    }

    /// Frees a word taken by `take_word`.
    pub(super) fn free_word(&self, offset: usize, waiters: usize) {
        let word = self.region.u32_at(offset);
        // The stamp first: a stamp left naming a pid that takes the word next
        // would be trusted before that holder writes its own. (The word's store
        // below orders it for whoever takes the word.)
        self.region.u64_at(Self::stamp_at(offset)).store(0, Relaxed);
        // SeqCst, not Release: the look for sleepers after it must not be done
        // before the store is seen. A sleeper publishes its sleep, then the
        // kernel checks the word; a Release store could still sit in this
        // CPU's store buffer while the look finds no sleeper yet, and the
        // sleeper would sleep out its tick on a free lock.
        word.store(0, SeqCst);
        Sleepers(self.region.u32_at(waiters)).wake(word, 1);
    }
}
