//! Coordination objects between processes (`lock`, `event`, `semaphore`, `barrier`, `value`): one small memfd region each, no manager process; inherited by fork and spawn, passed to pool workers as a descriptor.
//!
//! Each object is a futex word and a little state in its region. Waits sleep
//! on the word one tick at a time: between ticks a waiter runs its process's
//! idle work (pools, deadlock checks), answers a stop request, and looks for
//! holders that died (whose lock or permits it then takes back).

mod barrier;
mod event;
mod lock;
mod semaphore;
mod shared_value;

pub use barrier::{Arrived, Broke};
pub use shared_value::Number;

use crate::os::{self, SharedRegion};
use crate::process::holders::{own_identity, Holders, HOLDER_BYTES};
use crate::process::queue::{Idle, Wait};
use crate::process::sleepers::Sleepers;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// What an object is; stored in its region, so a process that receives it as
/// a descriptor knows too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lock = 1,
    Event = 2,
    Semaphore = 3,
    Barrier = 4,
    Value = 5,
}

impl Kind {
    /// The name `type()` gives it.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Lock => "lock",
            Kind::Event => "event",
            Kind::Semaphore => "semaphore",
            Kind::Barrier => "barrier",
            Kind::Value => "value",
        }
    }

    fn from_raw(raw: u32) -> Option<Kind> {
        [
            Kind::Lock,
            Kind::Event,
            Kind::Semaphore,
            Kind::Barrier,
            Kind::Value,
        ]
        .into_iter()
        .find(|k| *k as u32 == raw)
    }
}

// The region's header. WORD is every kind's futex word: a lock's holder pid,
// an event's state, a semaphore's free permits, a barrier's change count.
const KIND: usize = 0; // u32
const WORD: usize = 4; // u32
const WAITERS: usize = 8; // u32: until when processes may sleep on WORD (`Sleepers`)
const DIED: usize = 12; // u32: a lock taken back from a dead holder, not yet told
const ID: usize = 16; // u64: names the object in waits and records
const UNTRACKED: usize = 24; // u32: the holder table overflowed
const LIMIT: usize = 28; // u32: a semaphore's initial value, a barrier's parties
const MUTEX: usize = 32; // u32: a barrier's own lock (holder pid)
const MUTEX_WAITERS: usize = 36; // u32: until when processes may sleep on MUTEX
const ARRIVED: usize = 40; // u32: a barrier's arrivals in this round
const ROUND: usize = 44; // u32: a barrier's completed rounds
const BROKEN: usize = 48; // u32: why a barrier broke (`Broke`), 0 when whole
const BROKEN_BY: usize = 52; // i32: the member that broke it
const FLOAT: usize = 56; // u32: a value holds a float (else an int)
const VALUE: usize = 64; // u64: a value's bits
const WORD_STAMP: usize = 72; // u64: a lock's holder's identity (`holders::identity`), 0 when free
const MUTEX_STAMP: usize = 80; // u64: the same for a barrier's MUTEX
const HOLDERS: usize = 128; // the holder table (HOLDER_BYTES)
/// A semaphore's permit holders (pid << 32 | permits) or a barrier's members
/// of this round (pids), one u64 each.
const TABLE: usize = 4096;
pub const TABLE_SLOTS: usize = 1024;
const REGION_BYTES: usize = TABLE + 8 * TABLE_SLOTS;
const _: () = assert!(HOLDERS + HOLDER_BYTES <= TABLE);

/// How often a waiter wakes to look after its process and the holders.
const TICK_MS: u32 = 50;

#[derive(Debug)]
pub enum SyncError {
    /// SIGINT, SIGTERM or --timeout's alarm arrived while waiting.
    Interrupted(os::Signal),
    Timeout,
    /// The caller's idle work asked to stop waiting.
    Aborted,
    /// A lock released by a process that does not hold it (the holder, if any).
    NotHeld(Option<i32>),
    /// A semaphore released more times than acquired (its initial value).
    OverReleased(u32),
    /// A barrier broke: why, and by which member.
    Broken(Broke, i32),
    /// An int value's `add` went past the int range.
    Overflow,
}

/// One lock, event, semaphore, barrier or value, as mapped in this process.
#[derive(Debug)]
pub struct SyncObject {
    region: SharedRegion,
    kind: Kind,
}

impl SyncObject {
    /// A new object of `kind`; `limit` is a semaphore's value or a barrier's parties.
    fn create(kind: Kind, limit: u32) -> Result<SyncObject, String> {
        let region =
            SharedRegion::create("procscript-sync", REGION_BYTES).map_err(|e| e.to_string())?;
        region.u32_at(KIND).store(kind as u32, SeqCst);
        region.u32_at(LIMIT).store(limit, SeqCst);
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = ((os::current_pid() as u64) << 32) | MADE.fetch_add(1, SeqCst);
        region.u64_at(ID).store(id, SeqCst);
        let object = SyncObject { region, kind };
        object.register(own_identity(os::current_pid()));
        Ok(object)
    }

    /// An object another process sent as a descriptor.
    pub fn open(fd: std::os::fd::OwnedFd) -> Result<SyncObject, String> {
        let region = SharedRegion::open(fd).map_err(|e| e.to_string())?;
        if region.len() != REGION_BYTES {
            return Err("not a lock, event, semaphore, barrier or value".into());
        }
        let kind = Kind::from_raw(region.u32_at(KIND).load(SeqCst)).ok_or("an unknown object")?;
        let object = SyncObject { region, kind };
        object.register(own_identity(os::current_pid()));
        Ok(object)
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The same in every process that holds the object.
    pub fn id(&self) -> u64 {
        self.region.u64_at(ID).load(Relaxed)
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.region.raw_fd()
    }

    /// How `print` shows it: `<lock held>`, `<event set>`, `<semaphore 2 of 3 free>`,
    /// `<barrier 1 of 4 waiting>`, `<barrier of 4, broken>`, `<value 42>`.
    pub fn describe(&self) -> String {
        let on = |yes: bool, a: &str, b: &str| if yes { a } else { b }.to_string();
        match self.kind {
            Kind::Lock => on(self.lock_is_held(), "<lock held>", "<lock free>"),
            Kind::Event => on(self.event_is_set(), "<event set>", "<event clear>"),
            Kind::Semaphore => {
                let free = self.semaphore_value();
                format!("<semaphore {free} of {} free>", self.limit())
            }
            // A broken one keeps the count that waited when it broke: not shown.
            Kind::Barrier if self.barrier_is_broken() => {
                format!("<barrier of {}, broken>", self.limit())
            }
            Kind::Barrier => {
                let waiting = self.barrier_arrived();
                format!("<barrier {waiting} of {} waiting>", self.limit())
            }
            Kind::Value => match self.value_get() {
                Number::Int(n) => format!("<value {n}>"),
                Number::Float(x) => {
                    format!("<value {}>", crate::values::Value::Float(x).to_display())
                }
            },
        }
    }

    fn holders(&self) -> Holders<'_> {
        Holders::at(&self.region, HOLDERS, UNTRACKED)
    }

    /// Remembers the process of `holder` (an identity, see `holders::identity`)
    /// as a process that holds this object.
    pub fn register(&self, holder: u64) {
        self.holders().register(holder);
    }

    /// Is some other process that holds the object still running?
    pub fn others_alive(&self) -> bool {
        self.holders().others_alive(os::current_pid())
    }

    /// Whether a live holder's pid passes `wanted` (see `Holders::any_live`).
    pub fn any_live_holder(&self, wanted: impl Fn(i32) -> bool) -> Option<bool> {
        self.holders().any_live(wanted)
    }

    /// The live processes that hold the object; None when too many did to track.
    pub fn live_holders(&self) -> Option<Vec<i32>> {
        self.holders().live()
    }

    fn word(&self) -> &std::sync::atomic::AtomicU32 {
        self.region.u32_at(WORD)
    }

    fn limit(&self) -> u32 {
        self.region.u32_at(LIMIT).load(Relaxed)
    }

    /// Wakes up to `count` processes sleeping on WORD.
    fn wake(&self, count: i32) {
        Sleepers(self.region.u32_at(WAITERS)).wake(self.word(), count);
    }

    /// One tick of a wait for the word at `offset` to change from `seen`: the
    /// process's idle work, then a sleep of at most one tick (less when the
    /// deadline is nearer). Ok(true) when the tick passed with the word
    /// unchanged: the moment to look for holders that died.
    fn sleep_while(
        &self,
        offset: usize,
        waiters: usize,
        seen: u32,
        wait: Wait,
        idle: Idle,
    ) -> Result<bool, SyncError> {
        os::pending_stop().map_err(SyncError::Interrupted)?;
        let more_work = idle().map_err(|()| SyncError::Aborted)?;
        let word = self.region.u32_at(offset);
        if word.load(SeqCst) != seen {
            return Ok(false);
        }
        let tick_ms = match wait {
            Wait::No | Wait::Forever => TICK_MS,
            Wait::Until(deadline) => match deadline.left_ms() {
                Some(left) if left > 0 => (left as u32).min(TICK_MS),
                _ => return Err(SyncError::Timeout),
            },
        };
        // Keep this process's other work (its pools) moving while it waits.
        let tick_ms = if more_work { tick_ms.min(2) } else { tick_ms };
        Sleepers(self.region.u32_at(waiters)).sleep(word, seen, tick_ms);
        os::pending_stop().map_err(SyncError::Interrupted)?;
        Ok(word.load(SeqCst) == seen)
    }
}

/// `lock()`.
pub fn new_lock() -> Result<SyncObject, String> {
    SyncObject::create(Kind::Lock, 0)
}

/// `event()`.
pub fn new_event() -> Result<SyncObject, String> {
    SyncObject::create(Kind::Event, 0)
}

/// `semaphore(n)`: n free permits, and never more.
pub fn new_semaphore(permits: u32) -> Result<SyncObject, String> {
    let object = SyncObject::create(Kind::Semaphore, permits)?;
    object.word().store(permits, SeqCst);
    Ok(object)
}

/// `barrier(n)`: n parties, at most `TABLE_SLOTS`.
pub fn new_barrier(parties: u32) -> Result<SyncObject, String> {
    SyncObject::create(Kind::Barrier, parties)
}

/// `value(x)`.
pub fn new_value(initial: Number) -> Result<SyncObject, String> {
    let object = SyncObject::create(Kind::Value, 0)?;
    object.value_init(initial);
    Ok(object)
}
