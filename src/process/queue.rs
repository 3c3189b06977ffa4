//! Queues between processes: a ring of messages in shared memory (a memfd), with no
//! manager process. Inherited by fork and spawn, passed to pool workers as a descriptor.

use crate::os::{self, SharedRegion};
use crate::process::holders::{holder_gone, own_identity, Holders, HOLDER_BYTES};
use crate::process::sleepers::Sleepers;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

/// Bytes of messages a queue holds; one message may be up to this size too.
pub const QUEUE_BYTES: usize = 16 * 1024 * 1024;

/// Each message is stored after its length, in this many bytes.
const FRAME: usize = 4;

/// The ring holds QUEUE_BYTES of messages and one frame more, so that a
/// message of the size promised (QUEUE_BYTES) fits with its frame.
const RING_BYTES: usize = QUEUE_BYTES + FRAME;

// The header, at the start of the region; messages follow at DATA.
const LOCK: usize = 0; // u32: pid of the lock's owner, 0 when free
const LOCK_WAITERS: usize = 4; // u32: until when processes may sleep on LOCK (`Sleepers`)
const CHANGED: usize = 8; // u32: bumped on every put and get (futex word)
const WAITERS: usize = 12; // u32: until when processes may sleep on CHANGED
const COUNT: usize = 16; // u64: messages waiting
const MAX_ITEMS: usize = 24; // u64: 0 for no count limit
const HEAD: usize = 32; // u64: byte position of the oldest message
const TAIL: usize = 40; // u64: byte position after the newest message
const UNTRACKED: usize = 48; // u32: holder table overflowed
const ID: usize = 56; // u64: names the queue in recorded events
const HOLDERS: usize = 64; // the holder table (HOLDER_BYTES)
const PUTS: usize = 3072; // u64: messages ever put (changed under the lock, through the journal)
const CLOSED: usize = 3080; // u32: 1 once `close` was called
const PUT_NEED: usize = 3088; // u64: the least room a blocked putter needs since the last get, 0: none known
const DONE: usize = 3096; // u64: messages marked done (task_done); PUTS - DONE are unfinished
                          // A put or get changes HEAD or TAIL, COUNT and PUTS together. A process may be
                          // killed between any two stores, and the next owner of the lock goes on from
                          // what it left, so a change is first written whole to the journal and published
                          // by one store (COMMITTED = 1), then copied to the fields; a new owner taking the
                          // lock from the dead copies a published journal again (the copy is idempotent).
const COMMITTED: usize = 3104; // u32: 1 while the journal holds a change not wholly applied
const NEW_HEAD: usize = 3112; // u64: the journal: HEAD, TAIL, COUNT and PUTS after the change
const NEW_TAIL: usize = 3120;
const NEW_COUNT: usize = 3128;
const NEW_PUTS: usize = 3136;
const LOCK_STAMP: usize = 3144; // u64: the lock's owner's identity (`holders::identity`), 0 when free
const DATA: usize = 4096;
const _: () = assert!(HOLDERS + HOLDER_BYTES <= PUTS && LOCK_STAMP + 8 <= DATA);

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
        let queue = Queue { region };
        queue.register(os::current_pid());
        Ok(queue)
    }

    /// A queue another process sent as a descriptor.
    pub fn open(fd: std::os::fd::OwnedFd) -> Result<Queue, String> {
        let region = SharedRegion::open(fd).map_err(|e| e.to_string())?;
        if region.len() != DATA + RING_BYTES {
            return Err("not a queue".into());
        }
        let queue = Queue { region };
        queue.register(os::current_pid());
        Ok(queue)
    }

    /// The same in every process that holds the queue.
    pub fn id(&self) -> u64 {
        self.region.u64_at(ID).load(Relaxed)
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.region.raw_fd()
    }

    pub fn max_items(&self) -> u64 {
        self.region.u64_at(MAX_ITEMS).load(Relaxed)
    }

    pub fn size(&self) -> u64 {
        self.region.u64_at(COUNT).load(Acquire)
    }

    pub fn is_full(&self) -> bool {
        let max = self.max_items();
        let used = self.used_bytes();
        (max > 0 && self.size() >= max) || used >= RING_BYTES as u64
    }

    /// Whether a putter blocked for room could not go on now: the count is
    /// at its limit, or the free bytes are fewer than the smallest message a
    /// putter found too large since the last get (a message may not fit
    /// though some bytes are free, so `is_full` alone does not tell).
    pub fn is_full_for_blocked_putters(&self) -> bool {
        let need = self.region.u64_at(PUT_NEED).load(SeqCst);
        let free = RING_BYTES as u64 - self.used_bytes();
        self.is_full() || (need != 0 && free < need)
    }

    /// Whether `close` was called (by any holder).
    pub fn is_closed(&self) -> bool {
        self.region.u32_at(CLOSED).load(Acquire) != 0
    }

    /// Messages put and not yet marked done.
    pub fn unfinished(&self) -> u64 {
        let done = self.region.u64_at(DONE).load(Acquire);
        self.region.u64_at(PUTS).load(Acquire).saturating_sub(done)
    }

    /// No more puts; getters take what is left, then fail with `Closed`.
    /// Every sleeping getter wakes to see it.
    pub fn close(&self) {
        self.region.u32_at(CLOSED).store(1, SeqCst);
        self.announce_change();
    }

    /// Marks one message done (Python's `task_done`); waking joiners when none is left.
    pub fn task_done(&self) -> Result<(), QueueError> {
        // PUTS only grows, so a count of done below it stays below it.
        let puts = self.region.u64_at(PUTS).load(SeqCst);
        self.region
            .u64_at(DONE)
            .fetch_update(SeqCst, SeqCst, |done| (done < puts).then_some(done + 1))
            .map_err(|_| QueueError::TooManyDone)?;
        self.announce_change();
        Ok(())
    }

    /// Waits until every message put was marked done; Ok(false) when `Wait::No`
    /// and some are not. A deadline that passes first is `QueueError::Timeout`.
    pub fn join(&self, wait: Wait, idle: Idle) -> Result<bool, QueueError> {
        loop {
            let seen = self.region.u32_at(CHANGED).load(SeqCst);
            if self.unfinished() == 0 {
                return Ok(true);
            }
            if let Wait::No = wait {
                return Ok(false);
            }
            self.wait_for_change(seen, wait, idle)?;
        }
    }

    /// Waits until a message is waiting, without taking it; Ok(false) when
    /// `Wait::No` and there is none. A closed, drained queue is `Closed`.
    pub fn wait_message(&self, wait: Wait, idle: Idle) -> Result<bool, QueueError> {
        loop {
            let seen = self.region.u32_at(CHANGED).load(SeqCst);
            if self.size() > 0 {
                return Ok(true);
            }
            if self.is_closed() {
                return Err(QueueError::Closed);
            }
            if let Wait::No = wait {
                return Ok(false);
            }
            self.wait_for_change(seen, wait, idle)?;
        }
    }

    fn used_bytes(&self) -> u64 {
        self.region.u64_at(TAIL).load(Acquire) - self.region.u64_at(HEAD).load(Acquire)
    }

    fn holders(&self) -> Holders<'_> {
        Holders::at(&self.region, HOLDERS, UNTRACKED)
    }

    /// Remembers `pid` as a holder of this queue.
    pub fn register(&self, pid: i32) {
        self.holders().register(pid);
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

    // ------------------------------------------------------------ the lock

    /// Takes the lock. A process killed while holding it cannot leave the
    /// queue locked: its waiters find the owner dead and take the lock over.
    /// (Messages only become visible once wholly written, so nothing is half-done.)
    /// A stop request (SIGINT, SIGTERM, --timeout) ends the wait: a holder
    /// that is stopped (SIGSTOP) holds the lock until continued.
    fn lock(&self) -> Result<(), QueueError> {
        let me = os::current_pid() as u32;
        let word = self.region.u32_at(LOCK);
        loop {
            match word.compare_exchange(0, me, Acquire, Relaxed) {
                Ok(_) => {
                    self.stamp_owner();
                    return Ok(());
                }
                Err(owner) if owner == me => return Ok(()),
                Err(owner) => {
                    os::pending_stop().map_err(QueueError::Interrupted)?;
                    Sleepers(self.region.u32_at(LOCK_WAITERS)).sleep(word, owner, 50);
                    let stamp = self.region.u64_at(LOCK_STAMP).load(SeqCst);
                    if word.load(Relaxed) == owner
                        && holder_gone(owner as i32, stamp)
                        && word.compare_exchange(owner, me, Acquire, Relaxed).is_ok()
                    {
                        self.stamp_owner();
                        // The dead owner may have been killed amid a change.
                        self.finish_published_change();
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Writes this process's identity as the lock's owner (just taken), so a
    /// later process given the same pid is not taken for it.
    fn stamp_owner(&self) {
        let stamp = own_identity(os::current_pid());
        self.region.u64_at(LOCK_STAMP).store(stamp, SeqCst);
    }

    fn unlock(&self) {
        // The stamp first (see `sync`'s `free_word`).
        self.region.u64_at(LOCK_STAMP).store(0, SeqCst);
        // SeqCst, not Release (as `sync`'s `free_word`): the look for sleepers
        // below must not be done before the store is seen, or a waiter that
        // just published its sleep would sleep out its tick on a free lock.
        self.region.u32_at(LOCK).store(0, SeqCst);
        Sleepers(self.region.u32_at(LOCK_WAITERS)).wake(self.region.u32_at(LOCK), 1);
    }

    /// Tells sleeping processes that the queue changed.
    fn announce_change(&self) {
        self.region.u32_at(CHANGED).fetch_add(1, SeqCst);
        Sleepers(self.region.u32_at(WAITERS)).wake(self.region.u32_at(CHANGED), i32::MAX);
    }

    /// Sleeps until the queue changes from `seen`, or the wait's end.
    fn wait_for_change(&self, seen: u32, wait: Wait, idle: Idle) -> Result<(), QueueError> {
        os::pending_stop().map_err(QueueError::Interrupted)?;
        let more_work = idle().map_err(|()| QueueError::Aborted)?;
        if self.region.u32_at(CHANGED).load(SeqCst) != seen {
            return Ok(());
        }
        let tick_ms = match wait {
            Wait::No => unreachable!("callers return before waiting"),
            Wait::Forever => 100,
            Wait::Until(deadline) => match deadline.left_ms() {
                Some(left) if left > 0 => left.clamp(1, 100) as u32,
                _ => return Err(QueueError::Timeout),
            },
        };
        // Keep this process's other work (its pools) moving while it waits.
        let tick_ms = if more_work { tick_ms.min(2) } else { tick_ms };
        Sleepers(self.region.u32_at(WAITERS)).sleep(self.region.u32_at(CHANGED), seen, tick_ms);
        os::pending_stop().map_err(QueueError::Interrupted)?;
        // Nothing changed in a whole tick: is anyone left who could change it?
        // (A wait with a timeout ends by itself, so only waits without one are checked.)
        if matches!(wait, Wait::Forever)
            && !more_work
            && self.region.u32_at(CHANGED).load(SeqCst) == seen
            && !os::any_script_handler()
            && !self.others_alive()
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
            self.lock()?;
            let count = self.region.u64_at(COUNT).load(Relaxed);
            let max = self.max_items();
            let free = RING_BYTES as u64 - self.used_bytes();
            if (max == 0 || count < max) && need <= free {
                let tail = self.region.u64_at(TAIL).load(Relaxed);
                self.ring_write(tail, &(message.len() as u32).to_le_bytes());
                self.ring_write(tail + FRAME as u64, message);
                // Only now does the message exist for readers.
                let head = self.region.u64_at(HEAD).load(Relaxed);
                let puts = self.region.u64_at(PUTS).load(Relaxed);
                self.change(head, tail + need, count + 1, puts + 1);
                self.unlock();
                self.announce_change();
                return Ok(true);
            }
            if need > free {
                // Told to deadlock detection; a get clears it (there is more room).
                let _ = self
                    .region
                    .u64_at(PUT_NEED)
                    .fetch_update(SeqCst, SeqCst, |known| {
                        (known == 0 || need < known).then_some(need)
                    });
            }
            let seen = self.region.u32_at(CHANGED).load(SeqCst);
            self.unlock();
            if let Wait::No = wait {
                return Ok(false);
            }
            self.wait_for_change(seen, wait, idle)?;
        }
    }

    /// Sets the positions and counts (holding the lock) so that a death at any
    /// point leaves the change wholly done or not begun: see `COMMITTED`.
    fn change(&self, head: u64, tail: u64, count: u64, puts: u64) {
        for (at, value) in [
            (NEW_HEAD, head),
            (NEW_TAIL, tail),
            (NEW_COUNT, count),
            (NEW_PUTS, puts),
        ] {
            self.region.u64_at(at).store(value, Relaxed);
            crash_point();
        }
        // The one store that publishes the change.
        self.region.u32_at(COMMITTED).store(1, SeqCst);
        crash_point();
        self.finish_published_change();
    }

    /// Copies a published journal to the fields (again, if a dead owner began it).
    fn finish_published_change(&self) {
        if self.region.u32_at(COMMITTED).load(SeqCst) == 0 {
            return;
        }
        for (from, to) in [
            (NEW_HEAD, HEAD),
            (NEW_TAIL, TAIL),
            (NEW_COUNT, COUNT),
            (NEW_PUTS, PUTS),
        ] {
            let value = self.region.u64_at(from).load(Relaxed);
            self.region.u64_at(to).store(value, Release);
            crash_point();
        }
        self.region.u32_at(COMMITTED).store(0, SeqCst);
        crash_point();
    }

    /// Takes the oldest message; Ok(None) when `Wait::No` and there is none.
    pub fn get(&self, wait: Wait, idle: Idle) -> Result<Option<Vec<u8>>, QueueError> {
        loop {
            self.lock()?;
            let count = self.region.u64_at(COUNT).load(Relaxed);
            if count > 0 {
                let head = self.region.u64_at(HEAD).load(Relaxed);
                let mut len = [0u8; FRAME];
                self.ring_read(head, &mut len);
                let len = u32::from_le_bytes(len) as u64;
                let mut message = vec![0u8; len as usize];
                self.ring_read(head + FRAME as u64, &mut message);
                let tail = self.region.u64_at(TAIL).load(Relaxed);
                let puts = self.region.u64_at(PUTS).load(Relaxed);
                self.change(head + FRAME as u64 + len, tail, count - 1, puts);
                self.region.u64_at(PUT_NEED).store(0, SeqCst);
                self.unlock();
                self.announce_change();
                return Ok(Some(message));
            }
            let seen = self.region.u32_at(CHANGED).load(SeqCst);
            self.unlock();
            if self.is_closed() {
                return Err(QueueError::Closed);
            }
            if let Wait::No = wait {
                return Ok(None);
            }
            self.wait_for_change(seen, wait, idle)?;
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
mod tests {
    //! In one process (the test harness runs threads, so nothing here forks):
    //! positions are set by hand to put messages across the ring's end, and a
    //! child started by `std::process::Command` plays a lock holder that dies.

    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn no_idle() -> impl FnMut() -> Result<bool, ()> {
        || Ok(false)
    }

    /// An empty queue whose next message starts at byte position `pos`.
    fn queue_at(pos: u64) -> Queue {
        let queue = Queue::create(0).expect("a queue");
        queue.region.u64_at(HEAD).store(pos, SeqCst);
        queue.region.u64_at(TAIL).store(pos, SeqCst);
        queue
    }

    fn data(queue: &Queue, offset: usize, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        queue.region.read(DATA + offset, &mut bytes);
        bytes
    }

    #[test]
    fn a_message_across_the_end_of_the_ring_comes_back_whole() {
        let ring = RING_BYTES as u64;
        let message: Vec<u8> = (1..=20).collect();
        // The length split, the length just fitting, the message split, and a later lap.
        for before_end in [2u64, 4, 7, 13] {
            for lap in [1, 3] {
                let start = lap * ring - before_end;
                let queue = queue_at(start);
                assert!(queue.put(&message, Wait::No, &mut no_idle()).unwrap());
                let mut framed = (message.len() as u32).to_le_bytes().to_vec();
                framed.extend(&message);
                let split = before_end as usize;
                assert_eq!(data(&queue, RING_BYTES - split, split), framed[..split]);
                assert_eq!(data(&queue, 0, framed.len() - split), framed[split..]);
                let got = queue.get(Wait::No, &mut no_idle()).unwrap();
                assert_eq!(
                    got.as_deref(),
                    Some(&message[..]),
                    "from {before_end} before the end"
                );
                let end = start + framed.len() as u64;
                assert_eq!(queue.region.u64_at(HEAD).load(SeqCst), end);
                assert_eq!(queue.region.u64_at(TAIL).load(SeqCst), end);
                assert_eq!(queue.size(), 0);
            }
        }
    }

    #[test]
    fn a_message_may_fill_the_whole_ring_from_any_position() {
        let queue = queue_at(RING_BYTES as u64 - 10);
        let big: Vec<u8> = (0..QUEUE_BYTES).map(|i| (i % 251) as u8).collect();
        assert!(queue.put(&big, Wait::No, &mut no_idle()).unwrap());
        assert!(queue.is_full());
        assert!(
            !queue.put(b"x", Wait::No, &mut no_idle()).unwrap(),
            "no room left"
        );
        let got = queue
            .get(Wait::No, &mut no_idle())
            .unwrap()
            .expect("the message");
        assert!(got == big, "the message came back changed");
        assert!(!queue.is_full());
        assert!(matches!(
            queue.put(&vec![0; QUEUE_BYTES + 1], Wait::No, &mut no_idle()),
            Err(QueueError::TooLarge(_))
        ));
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_taken_over() {
        let queue = Queue::create(0).expect("a queue");
        let mut holder = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep starts");
        queue.region.u32_at(LOCK).store(holder.id(), SeqCst);
        // The waiter maps the queue anew: a `Queue` stays on its own thread.
        let path = format!("/proc/self/fd/{}", queue.raw_fd());
        let (sent, results) = mpsc::channel();
        std::thread::spawn(move || {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .expect("the queue's memory file");
            let queue = Queue::open(file.into()).expect("the same queue");
            let put = queue.put(b"after", Wait::No, &mut no_idle());
            let _ = sent.send(put.map_err(|e| format!("{e:?}")));
        });
        assert!(
            results.recv_timeout(Duration::from_millis(400)).is_err(),
            "a lock whose holder is alive was taken"
        );
        holder.kill().expect("kill the holder");
        holder.wait().expect("reap the holder");
        let put = results
            .recv_timeout(Duration::from_secs(10))
            .expect("the lock of a dead holder is taken over");
        assert_eq!(put, Ok(true));
        assert_eq!(queue.region.u32_at(LOCK).load(SeqCst), 0, "and released");
        let got = queue.get(Wait::No, &mut no_idle()).unwrap();
        assert_eq!(got.as_deref(), Some(&b"after"[..]));
    }

    /// The queue as a process killed at the `crash`th crash point of `op` leaves
    /// it, once the next process took its lock over.
    fn after_a_death(crash: u32, op: &dyn Fn(&Queue)) -> Queue {
        let queue = Queue::create(0).expect("a queue");
        for m in [b"a", b"b"] {
            assert!(queue.put(m, Wait::No, &mut no_idle()).unwrap());
        }
        CRASH_AFTER.with(|left| left.set(Some(crash)));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op(&queue)));
        CRASH_AFTER.with(|left| left.set(None));
        let mut dead = std::process::Command::new("true").spawn().expect("true");
        dead.wait().expect("reap");
        queue.region.u32_at(LOCK).store(dead.id(), SeqCst);
        // The next process takes the lock over (as its next put or get would).
        queue.lock().expect("the lock of the dead");
        queue.unlock();
        queue
    }

    fn drain(queue: &Queue) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        while let Some(m) = queue.get(Wait::No, &mut no_idle()).unwrap() {
            got.push(m);
            assert!(got.len() <= 3, "more messages than were put");
        }
        got
    }

    #[test]
    fn a_put_killed_anywhere_leaves_the_message_wholly_there_or_not_at_all() {
        for crash in 0..14 {
            let queue = after_a_death(crash, &|q| {
                q.put(b"c", Wait::No, &mut no_idle()).unwrap();
            });
            let size = queue.size();
            let unfinished = queue.unfinished();
            let got = drain(&queue);
            let (with, without) = (
                vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
                &[b"a".to_vec(), b"b".to_vec()][..],
            );
            assert!(got == with || got == without, "crash {crash}: {got:?}");
            assert_eq!(size, got.len() as u64, "crash {crash}: counted");
            assert_eq!(unfinished, got.len() as u64, "crash {crash}: unfinished");
            assert!(queue.put(b"d", Wait::No, &mut no_idle()).unwrap());
            assert_eq!(drain(&queue), vec![b"d".to_vec()], "crash {crash}");
        }
    }

    #[test]
    fn a_get_killed_anywhere_takes_the_message_wholly_or_not_at_all() {
        for crash in 0..14 {
            let queue = after_a_death(crash, &|q| {
                q.get(Wait::No, &mut no_idle()).unwrap();
            });
            let size = queue.size();
            let got = drain(&queue);
            let (taken, left) = (vec![b"b".to_vec()], vec![b"a".to_vec(), b"b".to_vec()]);
            assert!(got == taken || got == left, "crash {crash}: {got:?}");
            assert_eq!(size, got.len() as u64, "crash {crash}: counted");
            assert!(queue.put(b"d", Wait::No, &mut no_idle()).unwrap());
            assert_eq!(drain(&queue), vec![b"d".to_vec()], "crash {crash}");
        }
    }
}
