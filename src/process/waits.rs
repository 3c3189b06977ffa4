//! Deadlocks as errors: every untimed wait is published on the tree's wait board (shared
//! memory); a waiter that has waited a while looks for a wait-for cycle among live processes.
//!
//! The model is the OR-model of wait-for graphs: a blocked process can go on
//! when any one process that could end its wait can go on (a joined child
//! ending, any other holder of a queue getting or putting). A process that is
//! not on the board is running (or in a wait this module does not know), so it
//! can go on; so can one whose wait is already answered (a message waiting).
//! The waiter is deadlocked when, after every process that can go on is
//! marked, it is not marked. Only a finding seen twice, 100 ms apart, with no
//! involved process having changed its wait in between, is reported: a process
//! that was just woken has time to take its slot off the board.

use crate::os::{self, SharedRegion};
use crate::process::queue::Queue;
use crate::process::sync::SyncObject;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;

mod glance;

const SLOTS: usize = 4096;
const SLOT_BYTES: usize = 64;
// A slot's fields.
const PID: usize = 0; // i32: the waiting process, 0 when the slot is free
const SEQ: usize = 4; // u32: odd while the slot is being written
const KIND: usize = 8; // u32: the `Waiting` variant
const NAME_LEN: usize = 12; // u32
const TARGET: usize = 16; // u64: a pid or a queue id
const STARTED: usize = 24; // u64: the process's start time, tells it from a reused pid
const NAME: usize = 32;
const NAME_BYTES: usize = SLOT_BYTES - NAME;
/// KIND of a wait for any one of several things (`wait_any`): TARGET is how
/// many, each (kind, target) in the slot's list after the slots. (13 is
/// `Waiting::Reading`, numbered after it.)
const ANY_KIND: u32 = 12;
/// The most waits a `wait_any` publishes (one for more items is not published).
pub const MAX_ANY: usize = 8;
const ANY_ITEM_BYTES: usize = 16;
const LISTS: usize = SLOTS * SLOT_BYTES;
const LIST_BYTES: usize = MAX_ANY * ANY_ITEM_BYTES;

/// The first check comes after this long blocked, then one every `RECHECK`.
const FIRST_CHECK_S: f64 = 0.2;
const RECHECK_S: f64 = 0.1;
/// While each check finds at a glance that this process can go on, the next
/// comes twice as late, up to this: a crowd of waiters checks less often.
const GLANCE_RECHECK_MAX_S: f64 = 0.8;

/// What a blocked process waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// A child (by pid) to end.
    Join(i32),
    /// A message in the queue with this id.
    Get(u64),
    /// Room in the queue with this id.
    Put(u64),
    /// An idle pool worker: a task from the pool's owner (by pid).
    Task(i32),
    /// Any of its children to end (`wait()`).
    AnyChild,
    /// The lock with this id to be released.
    Lock(u64),
    /// A permit of the semaphore with this id.
    Semaphore(u64),
    /// The other members of the barrier with this id.
    Barrier(u64),
    /// The event with this id to be set.
    Event(u64),
    /// A message on a pipe end: the id of the queue it receives from.
    Recv(u64),
    /// Every message of the queue with this id to be marked done (`q.join()`).
    QueueJoin(u64),
    /// Its parent (by pid) to read the rest of its result: a spawned child
    /// whose result is longer than the pipe holds ends only once its parent
    /// joins it (or waits with `wait()`, which reads every child's pipe).
    Reading(i32),
    /// Any of several of its pool's workers to answer: goes on as `AnyChild`
    /// does, but reads no spawned child's result meanwhile.
    AnyWorker,
}

impl Waiting {
    /// `wait()`, or a pool owner's wait for any of its workers: a wait only
    /// its own process can weigh, since only it knows its children (another
    /// looker counts it as able to end).
    fn is_for_any_child(&self) -> bool {
        matches!(self, Waiting::AnyChild | Waiting::AnyWorker)
    }

    fn encode(self) -> (u32, u64) {
        match self {
            Waiting::Join(pid) => (1, pid as u64),
            Waiting::Get(id) => (2, id),
            Waiting::Put(id) => (3, id),
            Waiting::Task(pid) => (4, pid as u64),
            Waiting::AnyChild => (5, 0),
            Waiting::Lock(id) => (6, id),
            Waiting::Semaphore(id) => (7, id),
            Waiting::Barrier(id) => (8, id),
            Waiting::Event(id) => (9, id),
            Waiting::Recv(id) => (10, id),
            Waiting::QueueJoin(id) => (11, id),
            Waiting::Reading(parent) => (13, parent as u64),
            Waiting::AnyWorker => (14, 0),
        }
    }

    fn decode(kind: u32, target: u64) -> Option<Waiting> {
        Some(match kind {
            1 => Waiting::Join(target as i32),
            2 => Waiting::Get(target),
            3 => Waiting::Put(target),
            4 => Waiting::Task(target as i32),
            5 => Waiting::AnyChild,
            6 => Waiting::Lock(target),
            7 => Waiting::Semaphore(target),
            8 => Waiting::Barrier(target),
            9 => Waiting::Event(target),
            10 => Waiting::Recv(target),
            11 => Waiting::QueueJoin(target),
            13 => Waiting::Reading(target as i32),
            14 => Waiting::AnyWorker,
            _ => return None,
        })
    }
}

/// One published wait, as read from the board.
#[derive(Clone, Debug)]
struct Entry {
    pid: i32,
    seq: u32,
    started: u64,
    /// What it waits for: one thing, or (`wait_any`) any one of several.
    waits: Vec<Waiting>,
    name: String,
}

/// The tree's board of waits: made by the root before any fork, so every
/// process of the tree maps the same one. A process holds a slot only while
/// it waits; a full board (or none) only means waits go unchecked.
pub struct WaitBoard {
    region: Option<SharedRegion>,
    /// The slot this process holds now: (its pid, slot + 1), (0, 0) for none.
    mine: Cell<(i32, usize)>,
}

impl WaitBoard {
    pub fn new() -> WaitBoard {
        WaitBoard {
            region: SharedRegion::create("procscript-waits", LISTS + SLOTS * LIST_BYTES).ok(),
            mine: Cell::new((0, 0)),
        }
    }

    /// This process's slot, claimed now if it holds none.
    fn claim(&self, region: &SharedRegion) -> Option<usize> {
        let me = os::current_pid();
        let (pid, slot) = self.mine.get();
        if pid == me && slot > 0 {
            return Some(slot - 1);
        }
        let word = |i: usize| region.i32_at(i * SLOT_BYTES + PID);
        let claim = |i: usize, current: i32| {
            word(i)
                .compare_exchange(current, me, SeqCst, SeqCst)
                .is_ok()
        };
        let free = (0..SLOTS).find(|&i| word(i).load(SeqCst) == 0 && claim(i, 0));
        // Slots of processes killed while waiting are taken over only when needed.
        let slot = free.or_else(|| {
            (0..SLOTS).find(|&i| {
                let current = word(i).load(SeqCst);
                !os::process_alive(current) && claim(i, current)
            })
        })?;
        self.mine.set((me, slot + 1));
        Some(slot)
    }

    /// Publishes that this process waits for `waiting`; `name` names it in reports.
    /// A process with a script signal handler publishes nothing: its handler
    /// may end the wait whenever a signal comes, so it is never stuck.
    pub fn publish(&self, waiting: Waiting, name: &str) {
        self.publish_any(&[waiting], name);
    }

    /// Publishes that this process waits for any one of `waits` (at most
    /// `MAX_ANY`; one alone is published as itself): it can go on when any can.
    pub fn publish_any(&self, waits: &[Waiting], name: &str) {
        if os::any_script_handler() || waits.is_empty() || waits.len() > MAX_ANY {
            self.clear();
            return;
        }
        let Some(region) = &self.region else { return };
        let Some(slot) = self.claim(region) else {
            return;
        };
        let base = slot * SLOT_BYTES;
        let (kind, target) = match waits {
            [one] => one.encode(),
            several => (ANY_KIND, several.len() as u64),
        };
        let list = LISTS + slot * LIST_BYTES;
        let item_at = |i: usize| (list + i * ANY_ITEM_BYTES, list + i * ANY_ITEM_BYTES + 8);
        let same_list = || {
            waits.iter().enumerate().all(|(i, w)| {
                let (k, t) = item_at(i);
                (region.u32_at(k).load(SeqCst), region.u64_at(t).load(SeqCst)) == w.encode()
            })
        };
        if region.u32_at(base + KIND).load(SeqCst) == kind
            && region.u64_at(base + TARGET).load(SeqCst) == target
            && (kind != ANY_KIND || same_list())
        {
            // Published already: the same wait goes on (its seq must not move).
            return;
        }
        let seq = region.u32_at(base + SEQ);
        let name = &name.as_bytes()[..name.len().min(NAME_BYTES)];
        seq.fetch_add(1, SeqCst);
        if kind == ANY_KIND {
            for (i, w) in waits.iter().enumerate() {
                let ((k, t), (kind, target)) = (item_at(i), w.encode());
                region.u32_at(k).store(kind, SeqCst);
                region.u64_at(t).store(target, SeqCst);
            }
        }
        region.u32_at(base + KIND).store(kind, SeqCst);
        region.u64_at(base + TARGET).store(target, SeqCst);
        region
            .u64_at(base + STARTED)
            .store(os::own_start_time(), SeqCst);
        region
            .u32_at(base + NAME_LEN)
            .store(name.len() as u32, SeqCst);
        region.write(base + NAME, name);
        seq.fetch_add(1, SeqCst);
    }

    /// This process no longer waits (it is running again).
    pub fn clear(&self) {
        let (pid, slot) = self.mine.get();
        let Some(region) = &self.region else { return };
        if pid != os::current_pid() || slot == 0 {
            return;
        }
        let base = (slot - 1) * SLOT_BYTES;
        region.u32_at(base + KIND).store(0, SeqCst);
        region.i32_at(base + PID).store(0, SeqCst);
        self.mine.set((0, 0));
    }

    /// The waits on the board, each read whole (a slot being written is
    /// skipped), from shared memory alone: some may be of processes that
    /// ended or are stopped (see `snapshot`).
    fn entries(&self) -> Vec<Entry> {
        let Some(region) = &self.region else {
            return Vec::new();
        };
        let mut entries = Vec::new();
        for slot in 0..SLOTS {
            let base = slot * SLOT_BYTES;
            let pid = region.i32_at(base + PID).load(SeqCst);
            if pid == 0 {
                continue;
            }
            let seq = region.u32_at(base + SEQ).load(SeqCst);
            let kind = region.u32_at(base + KIND).load(SeqCst);
            let target = region.u64_at(base + TARGET).load(SeqCst);
            let started = region.u64_at(base + STARTED).load(SeqCst);
            let len = (region.u32_at(base + NAME_LEN).load(SeqCst) as usize).min(NAME_BYTES);
            let mut name = vec![0u8; len];
            region.read(base + NAME, &mut name);
            let waits = read_waits(region, slot, kind, target);
            let whole = seq % 2 == 0
                && region.u32_at(base + SEQ).load(SeqCst) == seq
                && region.i32_at(base + PID).load(SeqCst) == pid;
            if let Some(waits) = waits.filter(|_| whole) {
                let name = String::from_utf8_lossy(&name).into_owned();
                entries.push(Entry {
                    pid,
                    seq,
                    started,
                    waits,
                    name,
                });
            }
        }
        entries
    }

    /// The waits of live, running processes: `entries` less those of
    /// processes that ended (their pid reused or not) or are stopped.
    fn snapshot(&self, entries: Vec<Entry>) -> Vec<Entry> {
        entries
            .into_iter()
            .filter(|entry| {
                // A stopped process is left off: it goes on when continued, and
                // it may have been stopped just before it could leave the board.
                let running =
                    matches!(os::process_state(entry.pid), Some(state) if !"ZXTt".contains(state));
                running && os::process_start_time(entry.pid) == Some(entry.started)
            })
            .collect()
    }
}

/// The waits of a slot: its one, or its list (`ANY_KIND`); None if unreadable.
fn read_waits(region: &SharedRegion, slot: usize, kind: u32, target: u64) -> Option<Vec<Waiting>> {
    if kind != ANY_KIND {
        return Waiting::decode(kind, target).map(|w| vec![w]);
    }
    let count = (target as usize).min(MAX_ANY);
    let list = LISTS + slot * LIST_BYTES;
    (0..count)
        .map(|i| {
            let at = list + i * ANY_ITEM_BYTES;
            Waiting::decode(
                region.u32_at(at).load(SeqCst),
                region.u64_at(at + 8).load(SeqCst),
            )
        })
        .collect()
}

impl Default for WaitBoard {
    fn default() -> Self {
        Self::new()
    }
}

/// What the checking process knows beyond the board: the queues it holds,
/// its live children, and its pool workers that have a task to run.
pub struct Known<'a> {
    pub me: i32,
    pub queues: &'a [Rc<Queue>],
    pub syncs: &'a [Rc<SyncObject>],
    pub children: &'a [i32],
    pub busy_workers: &'a [i32],
}

impl Known<'_> {
    fn queue(&self, id: u64) -> Option<&Rc<Queue>> {
        self.queues.iter().find(|q| q.id() == id)
    }

    fn sync(&self, id: u64) -> Option<&Rc<SyncObject>> {
        self.syncs.iter().find(|o| o.id() == id)
    }
}

/// One wait's checks: when to look, and the last finding to confirm.
pub struct Detector {
    next_check: os::Deadline,
    /// Seconds from one check to the next.
    interval: f64,
    last: Option<Vec<(i32, u32)>>,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl Detector {
    pub fn new() -> Detector {
        Detector {
            next_check: os::Deadline::after(Some(FIRST_CHECK_S)),
            interval: RECHECK_S,
            last: None,
        }
    }

    /// Whether the next look is due: what `check` needs to know is gathered
    /// only then (a process's live children are a walk of all it ever had).
    pub fn due(&self) -> bool {
        self.next_check.passed()
    }

    /// Some(the cycle, in words) once this process is seen deadlocked twice,
    /// `RECHECK_S` apart, with no process of the cycle having changed its wait.
    pub fn check(&mut self, board: &WaitBoard, known: &Known) -> Option<String> {
        if !self.due() {
            return None;
        }
        if board.goes_on_at_a_glance(known) {
            self.last = None;
            self.interval = (self.interval * 2.0).min(GLANCE_RECHECK_MAX_S);
            self.next_check = os::Deadline::after(Some(self.interval));
            return None;
        }
        self.interval = RECHECK_S;
        self.next_check = os::Deadline::after(Some(RECHECK_S));
        let Some((words, involved)) = find_deadlock(&board.snapshot(board.entries()), known) else {
            self.last = None;
            return None;
        };
        if self.last.as_ref() == Some(&involved) {
            return Some(words);
        }
        self.last = Some(involved);
        None
    }
}

/// Whether `parent` is in a wait that reads `child`'s result as it comes:
/// a join of it, or `wait()`.
type Reads<'a> = &'a dyn Fn(i32, i32) -> bool;

/// Whether the entry's process can go on: any one of its waits can end.
fn can_go_on(entry: &Entry, going: &dyn Fn(i32) -> bool, reads: Reads, known: &Known) -> bool {
    entry
        .waits
        .iter()
        .any(|&waiting| wait_can_end(entry.pid, waiting, going, reads, known))
}

/// Whether another process could end `pid`'s wait for `waiting`, as the board
/// and `known` tell: (`who` can go on) for a pid.
fn wait_can_end(
    pid: i32,
    waiting: Waiting,
    going: &dyn Fn(i32) -> bool,
    reads: Reads,
    known: &Known,
) -> bool {
    match waiting {
        Waiting::Join(child) => !os::process_alive(child) || going(child),
        // A parent that goes on may join later; one that joins reads now.
        Waiting::Reading(parent) => going(parent) || reads(parent, pid),
        Waiting::Get(id) | Waiting::Put(id) | Waiting::Recv(id) | Waiting::QueueJoin(id) => {
            let Some(queue) = known.queue(id) else {
                return true;
            };
            let answered = match waiting {
                Waiting::Get(_) | Waiting::Recv(_) => queue.size() > 0 || queue.is_closed(),
                Waiting::QueueJoin(_) => queue.unfinished() == 0,
                _ => !queue.is_full_for_blocked_putters() || queue.is_closed(),
            };
            answered || other_going(|wanted| queue.any_live_holder(wanted), pid, going)
        }
        Waiting::Task(owner) => known.busy_workers.contains(&pid) || going(owner),
        Waiting::AnyChild => pid != known.me || known.children.iter().any(|&c| going(c)),
        Waiting::AnyWorker => pid != known.me || known.busy_workers.iter().any(|&w| going(w)),
        Waiting::Lock(id) | Waiting::Semaphore(id) | Waiting::Barrier(id) | Waiting::Event(id) => {
            let Some(object) = known.sync(id) else {
                return true;
            };
            let answered = match waiting {
                Waiting::Lock(_) => !object.lock_is_held() || going(object.lock_holder()),
                Waiting::Semaphore(_) => object.semaphore_value() > 0,
                Waiting::Event(_) => object.event_is_set(),
                _ => false,
            };
            // A lock is released by its holder alone; the others by anyone holding them.
            answered
                || (!matches!(waiting, Waiting::Lock(_))
                    && other_going(|wanted| object.any_live_holder(wanted), pid, going))
        }
    }
}

/// Whether a live holder other than `me` can go on (asked through `any_live`
/// of the object's holders; None there: too many to know, so yes).
fn other_going(
    any_live: impl Fn(&dyn Fn(i32) -> bool) -> Option<bool>,
    me: i32,
    going: &dyn Fn(i32) -> bool,
) -> bool {
    any_live(&|holder| holder != me && going(holder)).unwrap_or(true)
}

/// Whether `known.me` is deadlocked and the one to say so: the cycle in
/// words and the (pid, seq) of every blocked process, or None.
fn find_deadlock(entries: &[Entry], known: &Known) -> Option<(String, Vec<(i32, u32)>)> {
    let blocked: HashMap<i32, &Entry> = entries.iter().map(|e| (e.pid, e)).collect();
    blocked.get(&known.me)?;
    let reads = |parent: i32, child: i32| {
        blocked.get(&parent).is_some_and(|e| {
            e.waits
                .iter()
                .any(|&w| w == Waiting::Join(child) || w == Waiting::AnyChild)
        })
    };
    let mut going: HashSet<i32> = HashSet::new();
    loop {
        let before = going.len();
        for entry in entries {
            if going.contains(&entry.pid) {
                continue;
            }
            let goes = |pid: i32| !blocked.contains_key(&pid) || going.contains(&pid);
            if can_go_on(entry, &goes, &reads, known) {
                going.insert(entry.pid);
            }
        }
        if going.len() == before {
            break;
        }
    }
    if going.contains(&known.me) {
        return None;
    }
    // One process of the cycle reports it, so the error comes out once and
    // always from the same place: the oldest that checks (idle pool workers
    // do not), usually the parent at its `join`. The others are stopped as
    // its error ends the tree (or are told through their parent). But a wait
    // for any of one's children is seen whole by that process alone (the
    // others count it as able to end): when this one's is in the cycle, no
    // other process would ever report it, so this one does.
    let seen_here_alone = blocked[&known.me]
        .waits
        .iter()
        .any(Waiting::is_for_any_child);
    let reporter = entries
        .iter()
        .filter(|e| !going.contains(&e.pid) && !matches!(e.waits[..], [Waiting::Task(_)]))
        .min_by_key(|e| (e.started, e.pid))?;
    if reporter.pid != known.me && !seen_here_alone {
        return None;
    }
    let mut involved: Vec<(i32, u32)> = entries
        .iter()
        .filter(|e| !going.contains(&e.pid))
        .map(|e| (e.pid, e.seq))
        .collect();
    involved.sort_unstable();
    Some((describe_cycle(&blocked, &going, known), involved))
}

fn who(blocked: &HashMap<i32, &Entry>, pid: i32) -> String {
    match blocked.get(&pid) {
        Some(entry) => format!("{} (pid {pid})", entry.name),
        None => format!("process {pid}"),
    }
}

/// "A, B and C".
fn listed(names: Vec<String>) -> String {
    match names.split_last() {
        None => "nobody".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// "deadlock: main (pid 10) joins producer (pid 11), which waits to put on a
/// full queue that only main (pid 10) could read from", from the checker on.
fn describe_cycle(blocked: &HashMap<i32, &Entry>, going: &HashSet<i32>, known: &Known) -> String {
    let stuck = |pid: &i32| blocked.contains_key(pid) && !going.contains(pid);
    let mut words = format!("deadlock: {}", who(blocked, known.me));
    let mut seen = HashSet::new();
    let mut at = known.me;
    while seen.insert(at) && seen.len() <= 8 {
        let Some(entry) = blocked.get(&at) else { break };
        let (edge, next) = edge(entry, blocked, known);
        if at != known.me {
            words.push_str(", which");
        }
        words.push(' ');
        words.push_str(&edge);
        match next.iter().find(|&p| stuck(p) && !seen.contains(p)) {
            Some(&pid) => at = pid,
            None => break,
        }
    }
    words
}

/// What `entry` waits for, in words, and the processes that could end the wait.
fn edge(entry: &Entry, blocked: &HashMap<i32, &Entry>, known: &Known) -> (String, Vec<i32>) {
    if let [one] = entry.waits[..] {
        return one_edge(entry.pid, one, blocked, known);
    }
    // wait_any: "waits in wait_any for one of: to get from ...; for an event ..."
    let mut parts = Vec::new();
    let mut could = Vec::new();
    for &waiting in &entry.waits {
        let (words, pids) = one_edge(entry.pid, waiting, blocked, known);
        parts.push(words.strip_prefix("waits ").unwrap_or(&words).to_string());
        for pid in pids {
            if !could.contains(&pid) {
                could.push(pid);
            }
        }
    }
    (
        format!("waits in wait_any for one of: {}", parts.join("; ")),
        could,
    )
}

/// One wait in words, and the processes that could end it.
fn one_edge(
    at: i32,
    waiting: Waiting,
    blocked: &HashMap<i32, &Entry>,
    known: &Known,
) -> (String, Vec<i32>) {
    let others = |holders: Option<Vec<i32>>| -> (String, Vec<i32>) {
        let holders: Vec<i32> = holders
            .unwrap_or_default()
            .into_iter()
            .filter(|&h| h != at)
            .collect();
        (
            listed(holders.iter().map(|&h| who(blocked, h)).collect()),
            holders,
        )
    };
    match waiting {
        Waiting::Join(child) => (format!("joins {}", who(blocked, child)), vec![child]),
        Waiting::Reading(parent) => (
            format!(
                "waits for {} to join it and read its result (longer than a pipe holds)",
                who(blocked, parent)
            ),
            vec![parent],
        ),
        Waiting::Get(id) | Waiting::Put(id) | Waiting::Recv(id) | Waiting::QueueJoin(id) => {
            let (names, holders) = others(known.queue(id).and_then(|q| q.live_holders()));
            let only = if holders.is_empty() {
                "no other process".to_string()
            } else {
                format!("only {names}")
            };
            let edge = match waiting {
                Waiting::Get(_) => {
                    format!("waits to get from an empty queue that {only} could put to")
                }
                Waiting::Recv(_) => {
                    format!("waits to receive on a pipe that {only} could send to")
                }
                Waiting::QueueJoin(_) => format!(
                    "joins a queue ({} not done) that {only} could mark done",
                    known.queue(id).map_or(0, |q| q.unfinished())
                ),
                _ => format!("waits to put on a full queue that {only} could read from"),
            };
            (edge, holders)
        }
        Waiting::Task(owner) => (
            format!("waits for a task from {}", who(blocked, owner)),
            vec![owner],
        ),
        Waiting::AnyChild => (
            "waits for any of its children".to_string(),
            known.children.to_vec(),
        ),
        Waiting::AnyWorker => (
            "waits for any of its pool's workers".to_string(),
            known.busy_workers.to_vec(),
        ),
        Waiting::Lock(id) => {
            let holder = known.sync(id).map_or(0, |o| o.lock_holder());
            if holder == at {
                ("waits for a lock that it holds itself".to_string(), vec![])
            } else {
                (
                    format!("waits for a lock that {} holds", who(blocked, holder)),
                    vec![holder],
                )
            }
        }
        Waiting::Semaphore(id) | Waiting::Barrier(id) | Waiting::Event(id) => {
            let object = known.sync(id);
            let (names, holders) = others(object.and_then(|o| o.live_holders()));
            let only = if holders.is_empty() {
                "no other process".to_string()
            } else {
                format!("only {names}")
            };
            let edge = match waiting {
                Waiting::Semaphore(_) => {
                    format!("waits for a semaphore permit that {only} could release")
                }
                Waiting::Event(_) => format!("waits for an event that {only} could set"),
                _ => {
                    let (arrived, parties) =
                        object.map_or((0, 0), |o| (o.barrier_arrived(), o.barrier_parties()));
                    format!(
                        "waits at a barrier ({arrived} of {parties} arrived) that {only} could reach"
                    )
                }
            };
            (edge, holders)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pid: i32, started: u64, waits: Vec<Waiting>) -> Entry {
        Entry {
            pid,
            seq: 0,
            started,
            waits,
            name: format!("p{pid}"),
        }
    }

    fn deadlock_of(me: i32, children: &[i32], entries: &[Entry]) -> Option<String> {
        let known = Known {
            me,
            queues: &[],
            syncs: &[],
            children,
            busy_workers: &[],
        };
        find_deadlock(entries, &known).map(|(words, _)| words)
    }

    /// Two live pids: this test process, and init.
    fn live_pids() -> (i32, i32) {
        (std::process::id() as i32, 1)
    }

    #[test]
    fn a_child_waiting_to_be_read_goes_on_while_its_parent_joins_it_or_waits_for_any_child() {
        let (child, parent) = live_pids();
        for parents_wait in [Waiting::Join(child), Waiting::AnyChild] {
            let entries = [
                entry(parent, 1, vec![parents_wait]),
                entry(child, 2, vec![Waiting::Reading(parent)]),
            ];
            assert_eq!(deadlock_of(parent, &[child], &entries), None);
        }
    }

    #[test]
    fn a_child_waiting_to_be_read_by_a_pool_owner_waiting_for_its_workers_is_in_the_cycle() {
        // A pool's owner waiting for any of several workers reads no spawned
        // child's result (it published `AnyChild` before, which the detector
        // took for reading every child's pipe: a deadlock missed, a hang).
        let (child, parent) = live_pids();
        let entries = [
            entry(parent, 1, vec![Waiting::AnyWorker]),
            entry(child, 2, vec![Waiting::Reading(parent)]),
        ];
        assert!(deadlock_of(parent, &[child], &entries).is_some());
    }

    #[test]
    fn a_child_waiting_to_be_read_by_a_parent_that_waits_for_something_else_is_in_the_cycle() {
        // The parent joins the child, which waits for another process (the
        // test's own parent) to read it, which joins the parent.
        let (child, parent) = live_pids();
        let other = std::os::unix::process::parent_id() as i32;
        let entries = [
            entry(parent, 1, vec![Waiting::Join(child)]),
            entry(child, 2, vec![Waiting::Reading(other)]),
            entry(other, 3, vec![Waiting::Join(parent)]),
        ];
        assert_eq!(
            deadlock_of(parent, &[child], &entries),
            Some(format!(
                "deadlock: p1 (pid 1) joins p{child} (pid {child}), which waits for p{other} \
                 (pid {other}) to join it and read its result (longer than a pipe holds), \
                 which joins p1 (pid 1)"
            ))
        );
    }
}
