//! The processes that hold a shared object (a queue, a lock...): identities (pid and start time) in a table of its region, for telling when a wait is hopeless.

use crate::os::{self, SharedRegion};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// A table of `slots` process identities at `base` in a shared region, and the
/// u32 flag at `untracked` that says the table overflowed (then nobody can tell
/// who holds the object, and no wait is ever called hopeless).
pub struct Holders<'a> {
    region: &'a SharedRegion,
    base: usize,
    slots: usize,
    untracked: usize,
}

/// Holders a table has room for; past this, waits are never called hopeless.
pub const HOLDER_SLOTS: usize = 368;

/// Bytes of a holder table.
pub const HOLDER_BYTES: usize = 8 * HOLDER_SLOTS;

/// Bits of an identity that hold the start time; the pid (at most 2^22 on
/// Linux) is above them.
const START_BITS: u32 = 42;

/// A process told from a later one given the same pid, in one word for shared
/// memory: its pid and its start time (clock ticks since boot). Read from
/// /proc for another process; this process's own is cached.
pub fn identity(pid: i32) -> u64 {
    let started = if pid == os::current_pid() {
        os::own_start_time()
    } else {
        os::process_start_time(pid).unwrap_or(0)
    };
    ((pid as u64) << START_BITS) | (started & ((1 << START_BITS) - 1))
}

/// This process's identity, `me` being its pid: `identity(me)`, kept for the
/// pid it was made for (a forked child makes its own), since every lock
/// acquire writes it.
pub fn own_identity(me: i32) -> u64 {
    static KEPT: AtomicU64 = AtomicU64::new(0);
    let kept = KEPT.load(Relaxed);
    if identity_pid(kept) == me {
        return kept;
    }
    let fresh = identity(me);
    KEPT.store(fresh, Relaxed);
    fresh
}

/// The pid of an identity (0 for none).
pub fn identity_pid(identity: u64) -> i32 {
    (identity >> START_BITS) as i32
}

#[cfg(test)]
mod tests;

#[cfg(test)]
thread_local! {
    /// Looks at whether a holder runs (reads of /proc), counted for the tests.
    static LOOKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether the process of an identity still runs (not a later one with its pid).
pub fn identity_alive(identity: u64) -> bool {
    #[cfg(test)]
    LOOKS.with(|looks| looks.set(looks.get() + 1));
    let started = identity & ((1 << START_BITS) - 1);
    os::process_alive_since(identity_pid(identity), started)
}

/// Whether the process `pid` that holds a lock word is gone. `stamp` is the
/// identity its holder wrote after taking it: trusted when it names `pid`
/// (else the holder has not written it yet, and only the pid is asked).
pub fn holder_gone(pid: i32, stamp: u64) -> bool {
    if identity_pid(stamp) == pid {
        !identity_alive(stamp)
    } else {
        !os::process_alive(pid)
    }
}

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

    fn slot(&self, i: usize) -> &std::sync::atomic::AtomicU64 {
        self.region.u64_at(self.base + 8 * i)
    }

    /// Remembers the process of `holder` (an identity) as a holder, once. A
    /// free slot is taken first, found by reading shared memory alone; a slot
    /// of a dead holder only when none is free, since telling whether a
    /// holder runs costs a read of /proc: looking at every holder in turn,
    /// each child of a parent that keeps hundreds alive read /proc for each
    /// of its elder siblings, for every queue it held.
    pub fn register(&self, holder: u64) {
        if (0..self.slots).any(|i| self.slot(i).load(Relaxed) == holder) {
            return;
        }
        let take = |i: usize, current: u64| {
            self.slot(i)
                .compare_exchange(current, holder, SeqCst, SeqCst)
                .is_ok()
        };
        let free = (0..self.slots).find(|&i| self.slot(i).load(Relaxed) == 0 && take(i, 0));
        let taken = free.or_else(|| {
            (0..self.slots).find(|&i| {
                let current = self.slot(i).load(Relaxed);
                current != 0 && !identity_alive(current) && take(i, current)
            })
        });
        match taken {
            Some(slot) => self.give_back_if_twice(slot, holder),
            // Too many holders to track: never call a wait hopeless.
            None => self.region.u32_at(self.untracked).store(1, SeqCst),
        }
    }

    /// Gives `slot` back if `holder` also holds an earlier one. A parent
    /// registering its new child races the child registering itself: both
    /// may find it absent and take a slot each, and such pairs filled the
    /// table with half as many children. The later slot is given back, by
    /// whichever of the two took it, so one is left.
    fn give_back_if_twice(&self, slot: usize, holder: u64) {
        if (0..slot).any(|i| self.slot(i).load(SeqCst) == holder) {
            let _ = self.slot(slot).compare_exchange(holder, 0, SeqCst, SeqCst);
        }
    }

    /// Is some holder other than `me` still running?
    pub fn others_alive(&self, me: i32) -> bool {
        // Stops at the first: each holder looked at costs a read of /proc,
        // and a crowd of waiters asks this every tick.
        self.any_live(|pid| pid != me).unwrap_or(true)
    }

    /// Whether a live holder's pid passes `wanted`; None when too many held
    /// the object to track. `wanted` is asked first, so only a holder it
    /// accepts costs the look at whether that process still runs.
    pub fn any_live(&self, wanted: impl Fn(i32) -> bool) -> Option<bool> {
        if self.region.u32_at(self.untracked).load(Relaxed) != 0 {
            return None;
        }
        Some((0..self.slots).any(|i| {
            let holder = self.slot(i).load(Relaxed);
            holder != 0 && wanted(identity_pid(holder)) && identity_alive(holder)
        }))
    }

    /// The live holders; None when too many held the object to track.
    pub fn live(&self) -> Option<Vec<i32>> {
        if self.region.u32_at(self.untracked).load(Relaxed) != 0 {
            return None;
        }
        let mut holders: Vec<i32> = (0..self.slots)
            .map(|i| self.slot(i).load(Relaxed))
            .filter(|&holder| holder != 0 && identity_alive(holder))
            .map(identity_pid)
            .collect();
        // A holder registered twice at once gives one slot back, but a look
        // in between may see both (`give_back_if_twice`).
        holders.sort_unstable();
        holders.dedup();
        Some(holders)
    }
}
