//! Which tasks sent ahead to a pool worker it may still start: one shared word per task in
//! flight, that the worker claims (it runs the task) or the pool takes back (`t.cancel()`,
//! a `break` out of an imap loop) by one compare-and-swap, so exactly one of them wins.

use crate::os::SharedRegion;
use std::sync::atomic::Ordering;

/// Slots per worker: more than the tasks a worker is ever sent ahead
/// (`pool::MAX_AHEAD_TASKS`), so a slot is never reused while its task is in flight.
const SLOTS_PER_WORKER: usize = 64;

/// A slot's word: the task's id shifted left by two, and its state in the low bits.
const SENT: u64 = 1;
const RUNNING: u64 = 2;
const TAKEN_BACK: u64 = 3;

/// The slots of one pool, shared with its workers (forks inherit the mapping).
#[derive(Debug)]
pub struct TaskSlots {
    region: Option<SharedRegion>,
}

impl TaskSlots {
    /// Slots for `workers` workers. Without shared memory every task counts as
    /// started once sent (a cancel then drops only tasks not sent yet).
    pub fn new(workers: usize) -> TaskSlots {
        let len = workers * SLOTS_PER_WORKER * 8;
        TaskSlots {
            region: SharedRegion::create("procscript-pool-slots", len).ok(),
        }
    }

    /// Slots no other process sees (a remote pool's): every task counts as
    /// started once sent.
    pub fn unshared() -> TaskSlots {
        TaskSlots { region: None }
    }

    fn word(&self, slot: u32) -> Option<&std::sync::atomic::AtomicU64> {
        let region = self.region.as_ref()?;
        let offset = slot as usize * 8;
        (offset + 8 <= region.len()).then(|| region.u64_at(offset))
    }

    /// The slot for the `nth` task sent to worker `worker`, marked sent for task `id`.
    pub fn mark_sent(&self, worker: usize, nth: u64, id: u64) -> u32 {
        let slot = (worker * SLOTS_PER_WORKER) as u32 + (nth % SLOTS_PER_WORKER as u64) as u32;
        if let Some(word) = self.word(slot) {
            word.store(id << 2 | SENT, Ordering::SeqCst);
        }
        slot
    }

    /// In the worker: claims task `id` to run it; false when the pool took it back.
    pub fn claim(&self, slot: u32, id: u64) -> bool {
        match self.word(slot) {
            Some(word) => word
                .compare_exchange(
                    id << 2 | SENT,
                    id << 2 | RUNNING,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok(),
            None => true,
        }
    }

    /// In the pool: takes task `id` back before its worker starts it; false when it started.
    pub fn take_back(&self, slot: u32, id: u64) -> bool {
        self.word(slot).is_some_and(|word| {
            word.compare_exchange(
                id << 2 | SENT,
                id << 2 | TAKEN_BACK,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
        })
    }

    /// Whether the worker has started task `id` (without shared memory: it was sent).
    pub fn started(&self, slot: u32, id: u64) -> bool {
        match self.word(slot) {
            Some(word) => word.load(Ordering::SeqCst) == id << 2 | RUNNING,
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_task_is_either_claimed_or_taken_back_never_both() {
        let slots = TaskSlots::new(2);
        let a = slots.mark_sent(1, 0, 7);
        let b = slots.mark_sent(1, 1, 8);
        assert!(!slots.started(a, 7));
        assert!(slots.claim(a, 7));
        assert!(slots.started(a, 7));
        assert!(!slots.take_back(a, 7));
        assert!(slots.take_back(b, 8));
        assert!(!slots.claim(b, 8));
        assert!(!slots.started(b, 8));
        // A stale id never matches a reused slot.
        let c = slots.mark_sent(1, 64, 9);
        assert_eq!(a, c);
        assert!(!slots.claim(c, 7));
    }
}
