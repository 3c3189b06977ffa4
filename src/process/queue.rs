//! Queues between processes: a ring of messages in shared memory (a memfd), with no
//! manager process. Inherited by fork and spawn, passed to pool workers as a descriptor.

use crate::os::{self, SharedRegion};
use crate::process::holders::{holder_gone, own_identity, Holders, HOLDER_BYTES};
use crate::process::sleepers::Sleepers;
use std::cell::Cell;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Bytes of messages a queue holds; one message may be up to this size too.
pub const QUEUE_BYTES: usize = 16 * 1024 * 1024;

/// Each message is stored after its length, in this many bytes.
const FRAME: usize = 4;

/// The ring holds QUEUE_BYTES of messages and one frame more, so that a
/// message of the size promised (QUEUE_BYTES) fits with its frame.
const RING_BYTES: usize = QUEUE_BYTES + FRAME;

// The header, at the start of the region; messages follow at DATA. Its fields
// are grouped by who writes them, each group in a block of 128 bytes (a pair
// of cache lines, which processors fetch together): a putter and a getter on
// two processors then pass no line back and forth for a message but the
// message's own, where one lock and one set of positions for both ends made
// every put and get move several lines between the processors
// (benches/README.md, "The queue row, round two: an end each").
//
// Set once, then only read:
const MAX_ITEMS: usize = 0; // u64: 0 for no count limit
const ID: usize = 8; // u64: names the queue in recorded events
const CLOSED: usize = 16; // u32: 1 once `close` was called
const UNTRACKED: usize = 20; // u32: holder table overflowed
const HOLDERS: usize = 64; // the holder table (HOLDER_BYTES)

// The two ends: putters add at the tail, getters take at the head. Each end
// has its own lock and the same fields at its base. A put changes only its
// end's position and total, a get only its own; the number of messages
// waiting is the putters' total less the getters'.
const PUT_END: usize = 3072;
const GET_END: usize = 3200;
const LOCK: usize = 0; // u32: pid of the end's lock owner, 0 when free
const LOCK_WAITERS: usize = 4; // u32: until when processes may sleep on LOCK (`Sleepers`)
const MOVED: usize = 8; // u32: bumped after each put (get) and by `close`: what getters (blocked putters) sleep on
const COMMITTED: usize = 12; // u32: 1 while the journal holds a change not wholly applied
const LOCK_STAMP: usize = 16; // u64: the lock's owner's identity (`holders::identity`), 0 when free
const POSITION: usize = 24; // u64: byte position after the newest message (tail) / of the oldest (head)
const TOTAL: usize = 32; // u64: messages ever put / ever taken
const NEW_POSITION: usize = 40; // u64: the journal: POSITION and TOTAL after the change
const NEW_TOTAL: usize = 48; // u64
                             // An end's change sets POSITION and TOTAL together. A process may be killed
                             // between the two stores, and the next owner of the lock goes on from what it
                             // left, so a change is first written whole to the journal and published by one
                             // store (COMMITTED = 1), then copied to the fields; a new owner taking the lock
                             // from the dead copies a published journal again (the copy is idempotent).

// Written by a process about to sleep, read by every put (get) to know whether
// to wake anyone: apart from the ends, so that a put does not read a line
// each get writes.
const ADDED_WAITERS: usize = 3328; // u32: until when getters may sleep on PUT_END + MOVED
const TAKEN_WAITERS: usize = 3456; // u32: until when putters may sleep on GET_END + MOVED
const PUT_NEED: usize = 3464; // u64: the least room a blocked putter needs since the last get, 0: none known

// task_done and join:
const DONE: usize = 3584; // u64: messages marked done (task_done); puts less DONE are unfinished
const CHANGED: usize = 3592; // u32: bumped by task_done and close: what `join` sleeps on
const CHANGED_WAITERS: usize = 3596; // u32: until when processes may sleep on CHANGED
const DATA: usize = 4096;
const _: () = assert!(HOLDERS + HOLDER_BYTES <= PUT_END && CHANGED_WAITERS + 4 <= DATA);

/// How long a blocked operation may wait.
#[derive(Clone, Copy)]
pub enum Wait {
    No,
    Forever,
    /// Until this deadline.
    Until(os::Deadline),
}

#[derive(Debug)]
pub enum QueueError {
    Timeout,
    /// No other process that holds the queue is still running.
    Hopeless,
    /// SIGINT or SIGTERM arrived while waiting.
    Interrupted(os::Signal),
    TooLarge(usize),
    /// The caller's idle work asked to stop waiting.
    Aborted,
    /// A put on a closed queue, or a get on a closed queue with no message left.
    Closed,
    /// `task_done` called more times than messages were put.
    TooManyDone,
}

/// Work the waiting process does on every tick of a wait (its pools); Ok(true)
/// when it has more to do soon, Err to stop waiting.
pub type Idle<'a> = &'a mut dyn FnMut() -> Result<bool, ()>;

/// One queue, as mapped in this process.
#[derive(Debug)]
pub struct Queue {
    region: SharedRegion,
    max_items: u64,
    // What this process last read of the other end's fields. Each only grows,
    // so an old value errs on the safe side (fewer messages, less room), and a
    // put or get reads the other end's line only when what it knows is not
    // enough: a getter behind its putter reads the putters' total once for
    // many messages.
    /// The putters' TOTAL, as a getter last read it.
    known_puts: Cell<u64>,
    /// The getters' POSITION and TOTAL, as a putter last read them.
    known_head: Cell<u64>,
    known_gets: Cell<u64>,
}

impl Queue {
    /// A new queue holding at most `max_items` messages (0: no count limit).
    pub fn create(max_items: u64) -> Result<Queue, String> {
        let region = SharedRegion::create("procscript-queue", DATA + RING_BYTES)
            .map_err(|e| e.to_string())?;
        region.u64_at(MAX_ITEMS).store(max_items, SeqCst);
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = ((os::current_pid() as u64) << 32) | MADE.fetch_add(1, SeqCst);
        region.u64_at(ID).store(id, SeqCst);
        Ok(Queue::mapped(region))
    }

    /// A queue another process sent as a descriptor.
    pub fn open(fd: std::os::fd::OwnedFd) -> Result<Queue, String> {
        let region = SharedRegion::open(fd).map_err(|e| e.to_string())?;
        if region.len() != DATA + RING_BYTES {
            return Err("not a queue".into());
        }
        Ok(Queue::mapped(region))
    }

    fn mapped(region: SharedRegion) -> Queue {
        let queue = Queue {
            max_items: region.u64_at(MAX_ITEMS).load(SeqCst),
            region,
            known_puts: Cell::new(0),
            known_head: Cell::new(0),
            known_gets: Cell::new(0),
        };
        queue.register(own_identity(os::current_pid()));
        queue
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        self.region.u32_at(offset)
    }

    fn field(&self, offset: usize) -> &AtomicU64 {
        self.region.u64_at(offset)
    }

    /// The same in every process that holds the queue.
    pub fn id(&self) -> u64 {
        self.field(ID).load(Relaxed)
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.region.raw_fd()
    }

    pub fn max_items(&self) -> u64 {
        self.max_items
    }

    pub fn size(&self) -> u64 {
        self.ahead_at_one_instant(GET_END + TOTAL, PUT_END + TOTAL)
    }

    /// How far the field at `leading` is ahead of the one at `trailing`, as
    /// at one instant. Both only grow and the trailing one never passes the
    /// leading one (gets and puts; the head and the tail; done and puts), but
    /// each is changed by other processes: read one after the other, a reader
    /// delayed between the two reads (preempted) while messages flow would
    /// count all that came meanwhile, though most also went (a `queue(1)`
    /// said it held hundreds). So the trailing one is read before and after
    /// the leading one: unchanged, it was the same when the leading one was
    /// read. Read again while it moves (a few times at most, unless this
    /// process is preempted in that very moment each time).
    fn ahead_at_one_instant(&self, trailing: usize, leading: usize) -> u64 {
        let mut before = self.field(trailing).load(Acquire);
        let mut ahead = 0;
        for _ in 0..64 {
            let lead = self.field(leading).load(Acquire);
            let after = self.field(trailing).load(Acquire);
            ahead = lead.saturating_sub(after);
            if after == before {
                break;
            }
            before = after;
        }
        ahead
    }

    pub fn is_full(&self) -> bool {
        self.is_full_with(self.used_bytes())
    }

    /// `is_full`, with `used` bytes of messages.
    fn is_full_with(&self, used: u64) -> bool {
        let max = self.max_items();
        (max > 0 && self.size() >= max) || used >= RING_BYTES as u64
    }

    /// Whether a putter blocked for room could not go on now: the count is
    /// at its limit, or the free bytes are fewer than the smallest message a
    /// putter found too large since the last get (a message may not fit
    /// though some bytes are free, so `is_full` alone does not tell).
    pub fn is_full_for_blocked_putters(&self) -> bool {
        let need = self.field(PUT_NEED).load(SeqCst);
        // Read once: both ends' positions, as at one instant.
        let used = self.used_bytes();
        let free = RING_BYTES as u64 - used;
        self.is_full_with(used) || (need != 0 && free < need)
    }

    /// Whether `close` was called (by any holder).
    pub fn is_closed(&self) -> bool {
        self.word(CLOSED).load(Acquire) != 0
    }

    /// Messages put and not yet marked done.
    pub fn unfinished(&self) -> u64 {
        self.ahead_at_one_instant(DONE, PUT_END + TOTAL)
    }

    /// No more puts; getters take what is left, then fail with `Closed`.
    /// Every sleeping process wakes to see it.
    pub fn close(&self) {
        self.word(CLOSED).store(1, SeqCst);
        self.announce(PUT_END + MOVED, ADDED_WAITERS);
        self.announce(GET_END + MOVED, TAKEN_WAITERS);
        self.announce(CHANGED, CHANGED_WAITERS);
    }

    /// Marks one message done (Python's `task_done`); waking joiners when none is left.
    pub fn task_done(&self) -> Result<(), QueueError> {
        // The puts only grow, so a count of done below them stays below them.
        let puts = self.field(PUT_END + TOTAL).load(SeqCst);
        self.field(DONE)
            .fetch_update(SeqCst, SeqCst, |done| (done < puts).then_some(done + 1))
            .map_err(|_| QueueError::TooManyDone)?;
        self.announce(CHANGED, CHANGED_WAITERS);
        Ok(())
    }

    /// Waits until every message put was marked done; Ok(false) when `Wait::No`
    /// and some are not. A deadline that passes first is `QueueError::Timeout`.
    pub fn join(&self, wait: Wait, idle: Idle) -> Result<bool, QueueError> {
        loop {
            let seen = self.word(CHANGED).load(SeqCst);
            if self.unfinished() == 0 {
                return Ok(true);
            }
            if let Wait::No = wait {
                return Ok(false);
            }
            self.wait_for_change((CHANGED, CHANGED_WAITERS), seen, wait, idle)?;
        }
    }

    /// Whether a `get` would find a message now, without waiting: as a getter
    /// that finds nothing, it first finishes a put a killed putter published
    /// (`poll()` and `wait_any` ask this, and must agree with the get after).
    pub fn message_waits(&self) -> bool {
        self.size() > 0 || (self.finish_dead_change(PUT_END) && self.size() > 0)
    }

    /// Waits until a message is waiting, without taking it; Ok(false) when
    /// `Wait::No` and there is none. A closed, drained queue is `Closed`.
    pub fn wait_message(&self, wait: Wait, idle: Idle) -> Result<bool, QueueError> {
        loop {
            let seen = self.word(PUT_END + MOVED).load(SeqCst);
            if self.size() > 0 {
                return Ok(true);
            }
            if self.finished_a_dead_put_before_stopping(wait) {
                continue;
            }
            if self.is_closed() {
                return Err(QueueError::Closed);
            }
            if let Wait::No = wait {
                return Ok(false);
            }
            self.wait_for_change((PUT_END + MOVED, ADDED_WAITERS), seen, wait, idle)?;
        }
    }

    fn used_bytes(&self) -> u64 {
        // At most the ring even if no read came out at one instant: callers
        // subtract it from the ring's size.
        self.ahead_at_one_instant(GET_END + POSITION, PUT_END + POSITION)
            .min(RING_BYTES as u64)
    }

    fn holders(&self) -> Holders<'_> {
        Holders::at(&self.region, HOLDERS, UNTRACKED)
    }

    /// Remembers the process of `holder` (an identity, see `holders::identity`)
    /// as a holder of this queue.
    pub fn register(&self, holder: u64) {
        self.holders().register(holder);
    }

    /// Is some other process that holds the queue still running?
    pub fn others_alive(&self) -> bool {
        self.holders().others_alive(os::current_pid())
    }

    /// Whether a live holder's pid passes `wanted` (see `Holders::any_live`).
    pub fn any_live_holder(&self, wanted: impl Fn(i32) -> bool) -> Option<bool> {
        self.holders().any_live(wanted)
    }

    /// The live processes that hold the queue; None when too many held it to track.
    pub fn live_holders(&self) -> Option<Vec<i32>> {
        self.holders().live()
    }

    // ------------------------------------------------------------ the locks

    /// Takes the lock of one end. A process killed while holding it cannot
    /// leave the end locked: its waiters find the owner dead and take the lock
    /// over. (Messages only become visible once wholly written, so nothing is
    /// half-done.) A stop request (SIGINT, SIGTERM, --timeout) ends the wait: a
    /// holder that is stopped (SIGSTOP) holds the lock until continued.
    fn lock(&self, end: usize) -> Result<(), QueueError> {
        let me = os::current_pid() as u32;
        let word = self.word(end + LOCK);
        loop {
            match word.compare_exchange(0, me, Acquire, Relaxed) {
                Ok(_) => {
                    self.stamp_owner(end);
                    return Ok(());
                }
                Err(owner) if owner == me => {
                    // Ours; or left by a dead process this pid was given before
                    // (pids are reused; its stamp has another start time): what
                    // that one began is finished, as any dead owner's.
                    if self.field(end + LOCK_STAMP).load(SeqCst) != own_identity(me as i32) {
                        self.stamp_owner(end);
                        self.finish_published_change(end);
                    }
                    return Ok(());
                }
                Err(owner) => {
                    os::pending_stop().map_err(QueueError::Interrupted)?;
                    Sleepers(self.word(end + LOCK_WAITERS)).sleep(word, owner, 50);
                    if self.take_over_from_dead(end, owner) {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Takes the end's lock from `owner` if it is dead, finishing the change it
    /// may have been killed amid; whether it did.
    fn take_over_from_dead(&self, end: usize, owner: u32) -> bool {
        let word = self.word(end + LOCK);
        let stamp = self.field(end + LOCK_STAMP).load(SeqCst);
        let taken = word.load(Relaxed) == owner
            && holder_gone(owner as i32, stamp)
            && word
                .compare_exchange(owner, os::current_pid() as u32, Acquire, Relaxed)
                .is_ok();
        if taken {
            self.stamp_owner(end);
            self.finish_published_change(end);
        }
        taken
    }

    /// Finishes a change a process killed at `end` left published, if its lock
    /// is held by a dead process; whether it did. Only that end's next owner
    /// would do it otherwise, so a waiter at the other end calls this when it
    /// would wait (once a tick, or for a get without waiting).
    fn finish_dead_change(&self, end: usize) -> bool {
        let owner = self.word(end + LOCK).load(SeqCst);
        if owner == 0 || !self.take_over_from_dead(end, owner) {
            return false;
        }
        self.unlock(end);
        true
    }

    /// `finish_dead_change` at both ends; whether either finished one.
    fn finish_dead_changes(&self) -> bool {
        self.finish_dead_change(PUT_END) | self.finish_dead_change(GET_END)
    }

    /// Writes this process's identity as the end's lock owner (just taken),
    /// so a later process given the same pid is not taken for it.
    fn stamp_owner(&self, end: usize) {
        let stamp = own_identity(os::current_pid());
        self.field(end + LOCK_STAMP).store(stamp, SeqCst);
    }

    fn unlock(&self, end: usize) {
        // The stamp first (see `sync`'s `free_word`).
        self.field(end + LOCK_STAMP).store(0, SeqCst);
        // SeqCst, not Release (as `sync`'s `free_word`): the look for sleepers
        // below must not be done before the store is seen, or a waiter that
        // just published its sleep would sleep out its tick on a free lock.
        self.word(end + LOCK).store(0, SeqCst);
        Sleepers(self.word(end + LOCK_WAITERS)).wake(self.word(end + LOCK), 1);
    }

    /// Bumps a futex word and wakes the processes sleeping on it.
    fn announce(&self, word: usize, waiters: usize) {
        self.word(word).fetch_add(1, SeqCst);
        Sleepers(self.word(waiters)).wake(self.word(word), i32::MAX);
    }

    /// Sleeps until the futex word of `(word, waiters)` changes from `seen`,
    /// or the wait's end.
    fn wait_for_change(
        &self,
        (word, waiters): (usize, usize),
        seen: u32,
        wait: Wait,
        idle: Idle,
    ) -> Result<(), QueueError> {
        os::pending_stop().map_err(QueueError::Interrupted)?;
        let more_work = idle().map_err(|()| QueueError::Aborted)?;
        if self.word(word).load(SeqCst) != seen {
            return Ok(());
        }
        let tick_ms = match wait {
            Wait::No => unreachable!("callers return before waiting"),
            Wait::Forever => 100,
            Wait::Until(deadline) => match deadline.left_ms() {
                Some(left) if left > 0 => left.clamp(1, 100) as u32,
                // A timed wait ends here, maybe before a whole tick (`q.get(0)`):
                // a change a killed process left is finished first, as below.
                _ if self.finish_dead_changes() => return Ok(()),
                _ => return Err(QueueError::Timeout),
            },
        };
        // Keep this process's other work (its pools) moving while it waits.
        let tick_ms = if more_work { tick_ms.min(2) } else { tick_ms };
        Sleepers(self.word(waiters)).sleep(self.word(word), seen, tick_ms);
        os::pending_stop().map_err(QueueError::Interrupted)?;
        if self.word(word).load(SeqCst) != seen {
            return Ok(());
        }
        // Nothing changed in a whole tick: a process killed amid a change at
        // either end may have left it for the next owner of that end's lock.
        if self.finish_dead_changes() {
            return Ok(());
        }
        // Is anyone left who could change it? (A wait with a timeout ends by
        // itself, so only waits without one are checked.) The word is read
        // again after: the last holder may have put (got) and ended since the
        // read above, and a message it left is no reason to give up.
        if matches!(wait, Wait::Forever)
            && !more_work
            && !os::any_script_handler()
            && !self.others_alive()
            && self.word(word).load(SeqCst) == seen
        {
            return Err(QueueError::Hopeless);
        }
        Ok(())
    }

    // ------------------------------------------------------------ messages

    fn ring_write(&self, pos: u64, bytes: &[u8]) {
        let offset = (pos % RING_BYTES as u64) as usize;
        let first = bytes.len().min(RING_BYTES - offset);
        self.region.write(DATA + offset, &bytes[..first]);
        self.region.write(DATA, &bytes[first..]);
    }

    fn ring_read(&self, pos: u64, buf: &mut [u8]) {
        let offset = (pos % RING_BYTES as u64) as usize;
        let first = buf.len().min(RING_BYTES - offset);
        self.region.read(DATA + offset, &mut buf[..first]);
        self.region.read(DATA, &mut buf[first..]);
    }

    /// Whether a message of `need` bytes fits after the tail, with `puts`
    /// messages put, as far as this process knows of the getters' end.
    fn fits(&self, need: u64, tail: u64, puts: u64) -> bool {
        // Neither passes the other end's: the head never passes the tail, nor the gets the puts.
        let used = tail.saturating_sub(self.known_head.get());
        let waiting = puts.saturating_sub(self.known_gets.get());
        (self.max_items == 0 || waiting < self.max_items)
            && need <= (RING_BYTES as u64).saturating_sub(used)
    }

    /// None when a message of `need` bytes fits now (holding the put lock);
    /// else the getters' MOVED as read before looking, to sleep on.
    fn no_room(&self, need: u64, tail: u64, puts: u64) -> Option<u32> {
        if self.fits(need, tail, puts) {
            return None;
        }
        let seen = self.word(GET_END + MOVED).load(SeqCst);
        // The total first, as in `size`: then the head is the later of the two.
        self.known_gets
            .set(self.field(GET_END + TOTAL).load(Acquire));
        self.known_head
            .set(self.field(GET_END + POSITION).load(Acquire));
        (!self.fits(need, tail, puts)).then_some(seen)
    }

    /// Adds one message; Ok(false) when `Wait::No` and it does not fit now.
    pub fn put(&self, message: &[u8], wait: Wait, idle: Idle) -> Result<bool, QueueError> {
        let need = (FRAME + message.len()) as u64;
        if message.len() > QUEUE_BYTES {
            return Err(QueueError::TooLarge(message.len()));
        }
        loop {
            if self.is_closed() {
                return Err(QueueError::Closed);
            }
            self.lock(PUT_END)?;
            let tail = self.field(PUT_END + POSITION).load(Relaxed);
            let puts = self.field(PUT_END + TOTAL).load(Relaxed);
            let Some(seen) = self.no_room(need, tail, puts) else {
                self.ring_write(tail, &(message.len() as u32).to_le_bytes());
                self.ring_write(tail + FRAME as u64, message);
                // Only now does the message exist for getters.
                self.change(PUT_END, tail + need, puts + 1);
                self.unlock(PUT_END);
                self.announce(PUT_END + MOVED, ADDED_WAITERS);
                return Ok(true);
            };
            if need > RING_BYTES as u64 - self.used_bytes() {
                // Told to deadlock detection; a get clears it (there is more room).
                let _ = self.field(PUT_NEED).fetch_update(SeqCst, SeqCst, |known| {
                    (known == 0 || need < known).then_some(need)
                });
            }
            self.unlock(PUT_END);
            if let Wait::No = wait {
                if self.finish_dead_change(GET_END) {
                    continue;
                }
                return Ok(false);
            }
            self.wait_for_change((GET_END + MOVED, TAKEN_WAITERS), seen, wait, idle)?;
        }
    }

    /// Sets an end's position and total (holding its lock) so that a death at
    /// any point leaves the change wholly done or not begun: see `COMMITTED`.
    fn change(&self, end: usize, position: u64, total: u64) {
        for (at, value) in [(NEW_POSITION, position), (NEW_TOTAL, total)] {
            self.field(end + at).store(value, Relaxed);
            crash_point();
        }
        // The one store that publishes the change.
        self.word(end + COMMITTED).store(1, SeqCst);
        crash_point();
        self.finish_published_change(end);
    }

    /// Copies an end's published journal to its fields (again, if a dead owner began it).
    fn finish_published_change(&self, end: usize) {
        if self.word(end + COMMITTED).load(SeqCst) == 0 {
            return;
        }
        // The position before the total: a getter that sees a new put total
        // takes the message at its own head, and a putter that sees a new get
        // total reads the head after it (`no_room`).
        for (from, to) in [(NEW_POSITION, POSITION), (NEW_TOTAL, TOTAL)] {
            let value = self.field(end + from).load(Relaxed);
            self.field(end + to).store(value, Release);
            crash_point();
        }
        self.word(end + COMMITTED).store(0, SeqCst);
        crash_point();
    }

    /// None when a message waits after the `gets` taken (holding the get
    /// lock); else the putters' MOVED as read before looking, to sleep on.
    fn nothing_to_get(&self, gets: u64) -> Option<u32> {
        if self.known_puts.get() > gets {
            return None;
        }
        let seen = self.word(PUT_END + MOVED).load(SeqCst);
        self.known_puts
            .set(self.field(PUT_END + TOTAL).load(Acquire));
        (self.known_puts.get() <= gets).then_some(seen)
    }

    /// A getter that found nothing and would stop without waiting (the queue
    /// is closed, or `Wait::No`): whether it finished a put that a killed
    /// putter published (then there is a message to look at again). Only the
    /// putters' next lock owner would finish it otherwise, and a closed queue
    /// has none: its message would be lost.
    fn finished_a_dead_put_before_stopping(&self, wait: Wait) -> bool {
        (self.is_closed() || matches!(wait, Wait::No)) && self.finish_dead_change(PUT_END)
    }

    /// Takes the oldest message; Ok(None) when `Wait::No` and there is none.
    pub fn get(&self, wait: Wait, idle: Idle) -> Result<Option<Vec<u8>>, QueueError> {
        loop {
            self.lock(GET_END)?;
            let gets = self.field(GET_END + TOTAL).load(Relaxed);
            let Some(seen) = self.nothing_to_get(gets) else {
                let head = self.field(GET_END + POSITION).load(Relaxed);
                let mut len = [0u8; FRAME];
                self.ring_read(head, &mut len);
                let len = u32::from_le_bytes(len) as u64;
                let mut message = vec![0u8; len as usize];
                self.ring_read(head + FRAME as u64, &mut message);
                self.change(GET_END, head + FRAME as u64 + len, gets + 1);
                // Read first: a line only blocked putters write stays in this processor's cache.
                if self.field(PUT_NEED).load(Relaxed) != 0 {
                    self.field(PUT_NEED).store(0, SeqCst);
                }
                self.unlock(GET_END);
                self.announce(GET_END + MOVED, TAKEN_WAITERS);
                return Ok(Some(message));
            };
            self.unlock(GET_END);
            if self.finished_a_dead_put_before_stopping(wait) {
                continue;
            }
            if self.is_closed() {
                return Err(QueueError::Closed);
            }
            if let Wait::No = wait {
                return Ok(None);
            }
            self.wait_for_change((PUT_END + MOVED, ADDED_WAITERS), seen, wait, idle)?;
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Unit tests only: how many more crash points this thread passes before it "dies" there.
    static CRASH_AFTER: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// Where a process may die between two changes of the shared header. Unit
/// tests play the death with a panic (see `CRASH_AFTER`); elsewhere this is nothing.
#[inline(always)]
fn crash_point() {
    #[cfg(test)]
    CRASH_AFTER.with(|left| match left.get() {
        Some(0) => panic!("crash point"),
        Some(n) => left.set(Some(n - 1)),
        None => {}
    });
}

#[cfg(test)]
mod tests;
