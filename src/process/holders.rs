//! The processes that hold a shared object (a queue, a lock...): pids in a table of its region, for telling when a wait is hopeless.

use crate::os::{self, SharedRegion};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// A table of `slots` pids at `base` in a shared region, and the u32 flag at
/// `untracked` that says the table overflowed (then nobody can tell who holds
/// the object, and no wait is ever called hopeless).
pub struct Holders<'a> {
    region: &'a SharedRegion,
    base: usize,
    slots: usize,
    untracked: usize,
}

/// Holders a table has room for; past this, waits are never called hopeless.
pub const HOLDER_SLOTS: usize = 512;

/// Bytes of a holder table.
pub const HOLDER_BYTES: usize = 4 * HOLDER_SLOTS;

impl<'a> Holders<'a> {
    /// The table at `base` of `region`, with its overflow flag at `untracked`.
    pub fn at(region: &'a SharedRegion, base: usize, untracked: usize) -> Holders<'a> {
        Holders {
            region,
            base,
            slots: HOLDER_SLOTS,
            untracked,
        }
    }

    fn slot(&self, i: usize) -> &std::sync::atomic::AtomicI32 {
        self.region.i32_at(self.base + 4 * i)
    }

    /// Remembers `pid` as a holder (once); a slot of a dead process is reused.
    pub fn register(&self, pid: i32) {
        if (0..self.slots).any(|i| self.slot(i).load(Relaxed) == pid) {
            return;
        }
        for i in 0..self.slots {
            let current = self.slot(i).load(Relaxed);
            let reusable = current == 0 || !os::process_alive(current);
            if reusable
                && self
                    .slot(i)
                    .compare_exchange(current, pid, SeqCst, SeqCst)
                    .is_ok()
            {
                return;
            }
        }
        // Too many holders to track: never call a wait hopeless.
        self.region.u32_at(self.untracked).store(1, SeqCst);
    }

    /// Is some holder other than `me` still running?
    pub fn others_alive(&self, me: i32) -> bool {
        match self.live() {
            None => true,
            Some(live) => live.iter().any(|&pid| pid != me),
        }
    }

    /// The live holders; None when too many held the object to track.
    pub fn live(&self) -> Option<Vec<i32>> {
        if self.region.u32_at(self.untracked).load(Relaxed) != 0 {
            return None;
        }
        let mut holders: Vec<i32> = (0..self.slots)
            .map(|i| self.slot(i).load(Relaxed))
            .filter(|&pid| pid != 0 && os::process_alive(pid))
            .collect();
        // A parent registering its new child races the child registering
        // itself: both may take a slot, so a pid can be there twice.
        holders.sort_unstable();
        holders.dedup();
        Some(holders)
    }
}
