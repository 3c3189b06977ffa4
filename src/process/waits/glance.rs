//! The glance: whether a waiter can go on, told from the wait board alone, before a look at `/proc`.

use super::{read_waits, wait_can_end, Known, WaitBoard, Waiting};
use super::{KIND, PID, SLOTS, SLOT_BYTES, TARGET};
use crate::os::SharedRegion;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::SeqCst;

impl WaitBoard {
    /// Whether this process can go on, told from the board alone: one of its
    /// waits can be ended by a process that is not on the board at all (or
    /// by a chain of joins on the board that ends at one, or at another
    /// process in `wait()`, which `find_deadlock` counts as going). Every
    /// process off the board counts as going on in `find_deadlock` too, and the
    /// board holds more than its live entries, so a yes here is a yes there. It
    /// spares the common case (a crowd waiting for one process that works) a
    /// look at every waiter's process: with hundreds of waiters each looking at
    /// every other every tick, the looks took the machine.
    pub(super) fn goes_on_at_a_glance(&self, known: &Known) -> bool {
        let (Some(region), (pid, slot)) = (&self.region, self.mine.get()) else {
            return false;
        };
        // Off the board, it is not blocked (and `find_deadlock` says so too).
        if pid != known.me || slot == 0 {
            return true;
        }
        let Some(waits) = waits_in(region, slot - 1) else {
            return false;
        };
        let on_board: HashMap<i32, usize> = (0..SLOTS)
            .map(|slot| (region.i32_at(slot * SLOT_BYTES + PID).load(SeqCst), slot))
            .filter(|&(pid, _)| pid != 0)
            .collect();
        let going = |pid: i32| joins_down_to_a_runner(region, &on_board, pid, known.me);
        // What others wait in is not read here: a no is only "look closer".
        waits
            .iter()
            .any(|&waiting| wait_can_end(known.me, waiting, &going, &|_, _| false, known))
    }
}

/// Whether `pid` can go on as the board alone tells: it is off the board, or
/// its one wait is a join of a process that can (followed down the chain, each
/// link once), or it waits for any of its children (`wait()`, a pool owner's
/// wait for its workers) and is not `me`: `find_deadlock` knows only its own
/// children, and counts another's such wait as able to end. A recursion of
/// `join spawn` is such a chain, of which only the deepest process runs, and
/// so is a fork in a loop whose parents each `wait()`: followed here, their
/// waiters need not read `/proc` for every link, each in every pass of
/// `find_deadlock`, which took the machine for a chain of 150 (a 3 s sleep at
/// the bottom of 200 such parents lasted 14 s). `find_deadlock` marks the same
/// chain going, link by link (a link that has ended ends its parent's join
/// there too).
fn joins_down_to_a_runner(
    region: &SharedRegion,
    on_board: &HashMap<i32, usize>,
    pid: i32,
    me: i32,
) -> bool {
    let mut seen = HashSet::new();
    let mut at = pid;
    while let Some(&slot) = on_board.get(&at) {
        match waits_in(region, slot).as_deref() {
            Some([Waiting::Join(child)]) if seen.insert(at) => at = *child,
            Some(waits) if at != me && waits.iter().any(Waiting::is_for_any_child) => return true,
            _ => return false,
        }
    }
    true
}

/// The waits published in board slot `slot` (0-based), read now.
fn waits_in(region: &SharedRegion, slot: usize) -> Option<Vec<Waiting>> {
    let base = slot * SLOT_BYTES;
    let kind = region.u32_at(base + KIND).load(SeqCst);
    let target = region.u64_at(base + TARGET).load(SeqCst);
    read_waits(region, slot, kind, target)
}
