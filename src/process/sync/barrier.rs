//! `barrier(n)`: n processes meet; each `wait` returns its arrival index. A member that dies while waiting, or whose wait times out, breaks the barrier for everyone, with the member named (Python's `BrokenBarrierError`, with a reason).

use super::{SyncError, SyncObject};
use super::{ARRIVED, BROKEN, BROKEN_BY, MUTEX, MUTEX_WAITERS, ROUND, TABLE, WAITERS, WORD};
use crate::os;
use crate::process::queue::{Idle, Wait};
use std::sync::atomic::Ordering::SeqCst;

/// What an arrival at a barrier did.
pub enum Arrived {
    /// Completed the round, with this index.
    Last(u32),
    /// Waits for the round to complete.
    Waiting { round: u32, index: u32 },
}

/// Why a barrier broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broke {
    /// A member died while it waited.
    Died = 1,
    /// A member's wait timed out.
    TimedOut = 2,
    /// A member left its wait early: a deadlock error, a stop signal.
    Left = 3,
}

impl SyncObject {
    pub fn barrier_parties(&self) -> u32 {
        self.limit()
    }

    /// Members waiting in this round.
    pub fn barrier_arrived(&self) -> u32 {
        self.region.u32_at(ARRIVED).load(SeqCst)
    }

    fn member(&self, index: u32) -> &std::sync::atomic::AtomicI32 {
        self.region.i32_at(TABLE + 8 * index as usize)
    }

    /// Whether the barrier is broken (it stays so).
    pub fn barrier_is_broken(&self) -> bool {
        self.broken().is_some()
    }

    /// Why and by whom the barrier is broken, if it is.
    fn broken(&self) -> Option<SyncError> {
        let why = match self.region.u32_at(BROKEN).load(SeqCst) {
            0 => return None,
            1 => Broke::Died,
            2 => Broke::TimedOut,
            _ => Broke::Left,
        };
        Some(SyncError::Broken(
            why,
            self.region.i32_at(BROKEN_BY).load(SeqCst),
        ))
    }

    /// Breaks the barrier (its mutex held) and wakes every waiter.
    fn break_barrier(&self, why: Broke, by: i32) -> SyncError {
        self.region.i32_at(BROKEN_BY).store(by, SeqCst);
        self.region.u32_at(BROKEN).store(why as u32, SeqCst);
        self.word().fetch_add(1, SeqCst);
        self.wake(i32::MAX);
        SyncError::Broken(why, by)
    }

    fn lock_barrier(&self) -> Result<(), SyncError> {
        self.take_word(MUTEX, MUTEX_WAITERS, Wait::Forever, &mut || Ok(false))
            .map(|_| ())
    }

    fn unlock_barrier(&self) {
        self.free_word(MUTEX, MUTEX_WAITERS);
    }

    /// Arrives: Ok(Arrived::Last(index)) when this arrival completes the
    /// round, else the round and index to wait with (`barrier_await`).
    pub fn barrier_arrive(&self) -> Result<Arrived, SyncError> {
        self.lock_barrier()?;
        if let Some(broken) = self.broken() {
            self.unlock_barrier();
            return Err(broken);
        }
        let index = self.region.u32_at(ARRIVED).load(SeqCst);
        self.member(index).store(os::current_pid(), SeqCst);
        if index + 1 >= self.limit() {
            // A member that died while waiting breaks the round it was in.
            if let Some(dead) = self.dead_member(index) {
                let broken = self.break_barrier(Broke::Died, dead);
                self.unlock_barrier();
                return Err(broken);
            }
            self.region.u32_at(ARRIVED).store(0, SeqCst);
            self.region.u32_at(ROUND).fetch_add(1, SeqCst);
            self.word().fetch_add(1, SeqCst);
            self.unlock_barrier();
            self.wake(i32::MAX);
            return Ok(Arrived::Last(index));
        }
        self.region.u32_at(ARRIVED).store(index + 1, SeqCst);
        let round = self.region.u32_at(ROUND).load(SeqCst);
        self.unlock_barrier();
        Ok(Arrived::Waiting { round, index })
    }

    /// Waits for the round this process arrived in to complete; its index.
    /// A signal with a script handler ends the wait without leaving the round
    /// (the wait goes on after the handler); any other error leaves it.
    pub fn barrier_await(
        &self,
        round: u32,
        index: u32,
        wait: Wait,
        idle: Idle,
    ) -> Result<u32, SyncError> {
        loop {
            let seen = self.word().load(SeqCst);
            if self.region.u32_at(ROUND).load(SeqCst) != round {
                return Ok(index);
            }
            if let Some(broken) = self.broken() {
                return Err(broken);
            }
            match self.sleep_while(WORD, WAITERS, seen, wait, idle) {
                Ok(true) => self.break_if_a_member_died(round)?,
                Ok(false) => {}
                Err(SyncError::Timeout) => return self.time_out(round, index),
                Err(SyncError::Interrupted(sig)) if os::runs_script_handler(sig) => {
                    return Err(SyncError::Interrupted(sig))
                }
                Err(e) => return self.barrier_leave(round, index).and(Err(e)),
            }
        }
    }

    /// Breaks the barrier if a member of this round died while waiting.
    fn break_if_a_member_died(&self, round: u32) -> Result<(), SyncError> {
        self.lock_barrier()?;
        let mut result = Ok(());
        if self.region.u32_at(ROUND).load(SeqCst) == round && self.broken().is_none() {
            let arrived = self.region.u32_at(ARRIVED).load(SeqCst);
            if let Some(pid) = self.dead_member(arrived) {
                result = Err(self.break_barrier(Broke::Died, pid));
            }
        }
        self.unlock_barrier();
        result
    }

    /// The first of the round's first `arrived` members that is dead.
    fn dead_member(&self, arrived: u32) -> Option<i32> {
        (0..arrived)
            .map(|i| self.member(i).load(SeqCst))
            .find(|&pid| !os::process_alive(pid))
    }

    /// This member leaves its wait early (an error, a signal): as in Python,
    /// the barrier breaks (an arrival cannot be taken back), unless the round
    /// completed meanwhile (then Ok(index)).
    pub fn barrier_leave(&self, round: u32, index: u32) -> Result<u32, SyncError> {
        self.lock_barrier()?;
        let completed = self.region.u32_at(ROUND).load(SeqCst) != round;
        if !completed && self.broken().is_none() {
            self.break_barrier(Broke::Left, os::current_pid());
        }
        self.unlock_barrier();
        if completed {
            return Ok(index);
        }
        Err(SyncError::Broken(Broke::Left, os::current_pid()))
    }

    /// This member's wait timed out: the barrier breaks, unless the round
    /// completed just now.
    fn time_out(&self, round: u32, index: u32) -> Result<u32, SyncError> {
        self.lock_barrier()?;
        let result = if self.region.u32_at(ROUND).load(SeqCst) != round {
            Ok(index)
        } else if let Some(broken) = self.broken() {
            Err(broken)
        } else {
            self.break_barrier(Broke::TimedOut, os::current_pid());
            Err(SyncError::Timeout)
        };
        self.unlock_barrier();
        result
    }
}
