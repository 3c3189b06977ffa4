//! Values pinned for a pool: the large values that existed when a pool forked its workers,
//! which tasks name (`Wire::Held`) instead of copying, and the watch on their changes.
//!
//! A pool's workers are forks: every value the script had when the pool was made is already
//! in each worker, at the same address. When a pool is made, [`pin`] walks everything the
//! interpreter can reach and lists the strings, lists and maps of plain data larger than
//! [`PIN_BYTES`] encoded: a [`PinTable`], which holds a clone of each (so no address is
//! freed and reused while the pool lives) and which each worker inherits, identical, by
//! fork. A task that carries a pinned value that is unchanged since the pin carries its
//! index in the table; the worker looks it up in its own copy.
//!
//! Changes are seen through stamps. Every list and map has one: the epoch it was made in.
//! A pin takes the epoch `P` and starts a new one, so the containers that existed at the
//! pin are those stamped `<= P`; `DerefMut` of such a container (every change of a list or
//! map goes through it) calls [`before_change`] once, which restamps it. In the process that
//! made the pool, that records a shallow copy of the container as it was (its *image*, so a
//! task submitted before the change can still be sent as it was then, by value, to a worker
//! forked after it) and marks the pinned values holding it as changed: later tasks send
//! them by value. In a worker, it marks the table dirty: the task changed a value the next
//! task must see as it was, so the worker retires after answering and the pool forks a
//! fresh one. Strings are immutable and never change.

use super::{Entries, Value};
use crate::limits;
use std::cell::{Cell, RefCell};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Pinned values are those whose encoding would take more than this: smaller ones cost
/// less to send by value than to watch.
pub const PIN_BYTES: usize = 4096;

/// The current epoch: a new container is stamped with it; a pin ends it.
static EPOCH: AtomicU64 = AtomicU64::new(1);
/// The latest epoch pinned in this process (0: none): containers stamped at or before it
/// may be pinned, so their next change is looked at. It only grows (a few containers
/// made before a closed pool's pin are looked at once more, then restamped).
static GUARD: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The tables watched in this process: its own pools' and, in a worker, its pool's.
    static TABLES: RefCell<Vec<Weak<PinTable>>> = const { RefCell::new(Vec::new()) };
    /// In a pool worker: the table of its pool, which tasks' `Held` values name.
    static WORKER_TABLE: RefCell<Option<Rc<PinTable>>> = const { RefCell::new(None) };
    /// Whether either of the two above may hold something. A first use of them
    /// registers their destructor, which in a new child cost a symbol lookup of
    /// the dynamic loader and 8 page faults (perf): a child whose parent
    /// watched nothing never touches them.
    static ANY_WATCHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The stamp of a container made now.
#[inline]
pub fn now() -> u64 {
    EPOCH.load(Relaxed)
}

/// Whether a container with this stamp may be pinned (its change must be looked at).
#[inline]
pub fn guarded(stamp: u64) -> bool {
    stamp <= GUARD.load(Relaxed)
}

/// A container's contents as they were before its first change after a pin.
#[derive(Debug)]
pub enum Image {
    List(Vec<Value>),
    Map(Entries),
}

/// The pinned values of one pool; see the module's documentation.
#[derive(Debug)]
pub struct PinTable {
    /// The epoch of the pin: containers stamped after it were made or changed since.
    pub epoch: u64,
    /// The pinned values, by the index that `Wire::Held` carries.
    entries: Vec<Value>,
    /// The index of each pinned value by its address.
    by_key: HashMap<usize, u32>,
    /// Each container inside a pinned value: the nearest pinned value holding it
    /// (most have one: a list of a million small maps makes no million vectors),
    /// and in `more_holders` the others.
    holders: HashMap<usize, u32>,
    more_holders: HashMap<usize, Vec<u32>>,
    /// Each pinned value: the nearest pinned values holding it.
    parents: Vec<Vec<u32>>,
    /// Each pinned value: the count of changes when it first changed (0: never).
    changed: RefCell<Vec<u64>>,
    changes: Cell<u64>,
    /// In the process that made the pool: the images of the containers changed since.
    images: RefCell<HashMap<usize, Image>>,
    /// Whether its pool still takes tasks: a closed pool's table watches nothing.
    open: Cell<bool>,
    /// Whether this is a worker's copy; then `dirty` says a task changed a pinned value.
    worker: Cell<bool>,
    dirty: Cell<bool>,
}

/// The address that identifies a pinnable value (its shared allocation), if it is one.
pub fn key_of(v: &Value) -> Option<usize> {
    match v {
        Value::Str(s) => Some(s.as_ptr() as usize),
        Value::List(list) => Some(list.as_ptr() as usize),
        Value::Map(map) => Some(map.as_ptr() as usize),
        _ => None,
    }
}

impl PinTable {
    /// The index of `v` if it is pinned and unchanged since the pin.
    pub fn held(&self, v: &Value) -> Option<u32> {
        let fresh = match v {
            Value::Str(s) => s.len() >= PIN_BYTES / 2,
            Value::List(list) => list.borrow().stamp() <= self.epoch,
            Value::Map(map) => map.borrow().stamp() <= self.epoch,
            _ => false,
        };
        if !fresh {
            return None;
        }
        let index = *self.by_key.get(&key_of(v)?)?;
        (self.changed.borrow()[index as usize] == 0).then_some(index)
    }

    /// The count of changes seen so far (a worker forked now holds what they left).
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    /// Whether a worker forked when `changes()` was `forked_at` holds pinned value
    /// `index` as it was at the pin.
    pub fn pristine_in(&self, index: u32, forked_at: u64) -> bool {
        let changed = self.changed.borrow();
        changed
            .get(index as usize)
            .is_some_and(|&at| at == 0 || at > forked_at)
    }

    /// Pinned value `index` (in a worker: its own copy); `None` for an unknown index.
    pub fn entry(&self, index: u32) -> Option<Value> {
        self.entries.get(index as usize).cloned()
    }

    /// Calls `f` with the contents the container `key` had at the pin, if it changed since.
    pub fn with_image<T>(&self, key: usize, f: impl FnOnce(Option<&Image>) -> T) -> T {
        f(self.images.borrow().get(&key))
    }

    /// In a worker: whether a task changed a pinned value.
    pub fn dirty(&self) -> bool {
        self.dirty.get()
    }

    /// Its pool closed: no task will name a pinned value again; drops the images.
    pub fn close(&self) {
        self.open.set(false);
        self.images.borrow_mut().clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The container `key` is about to change for the first time since the pin.
    fn see_change(&self, key: usize, image: &dyn Fn() -> Image) {
        let Some(&holder) = self.holders.get(&key).filter(|_| self.open.get()) else {
            return;
        };
        if self.worker.get() {
            self.dirty.set(true);
            return;
        }
        self.images.borrow_mut().entry(key).or_insert_with(image);
        let mut changed = self.changed.borrow_mut();
        let mut pending = vec![holder];
        pending.extend(self.more_holders.get(&key).into_iter().flatten());
        while let Some(index) = pending.pop() {
            let slot = &mut changed[index as usize];
            if *slot == 0 {
                self.changes.set(self.changes.get() + 1);
                *slot = self.changes.get();
                pending.extend_from_slice(&self.parents[index as usize]);
            }
        }
    }
}

/// Called by `DerefMut` of a container stamped at or before the latest pin, before the
/// change: tells the tables watching it. Returns the container's new stamp.
#[cold]
#[inline(never)]
pub fn before_change(key: usize, image: &dyn Fn() -> Image) -> u64 {
    TABLES.with(|tables| {
        let mut tables = tables.borrow_mut();
        tables.retain(|table| table.strong_count() > 0);
        for table in tables.iter().filter_map(Weak::upgrade) {
            table.see_change(key, image);
        }
    });
    now()
}

/// Watches `table` in this process.
fn watch(table: &Rc<PinTable>) {
    GUARD.fetch_max(table.epoch, Relaxed);
    ANY_WATCHED.set(true);
    TABLES.with(|tables| tables.borrow_mut().push(Rc::downgrade(table)));
}

/// In a new child: the parent's tables are not watched here (its pools are not ours).
pub fn forget_inherited() {
    if !ANY_WATCHED.replace(false) {
        return;
    }
    TABLES.with(|tables| tables.borrow_mut().clear());
    WORKER_TABLE.with(|table| table.borrow_mut().take());
}

/// In a new pool worker: its pool's table is what its tasks' `Held` values name.
pub fn become_worker(table: &Rc<PinTable>) {
    table.worker.set(true);
    table.dirty.set(false);
    watch(table);
    WORKER_TABLE.with(|slot| *slot.borrow_mut() = Some(table.clone()));
}

/// In a pool worker: its pool's table, if it has one.
pub fn worker_table() -> Option<Rc<PinTable>> {
    WORKER_TABLE.with(|slot| slot.borrow().clone())
}

/// What the walk of [`pin`] learnt of one container.
struct Seen {
    value: Value,
    /// Its encoded size, roughly; `None` until its items are done.
    size: Option<usize>,
    /// Plain data only, no cycle, shallow enough to send: it may be pinned.
    plain: bool,
    depth: usize,
}

/// Pins the large values reachable from `roots`, and starts a new epoch. `None` when
/// there is none (the pool sends everything by value).
pub fn pin<'a>(roots: impl Iterator<Item = &'a Value>) -> Option<Rc<PinTable>> {
    let epoch = EPOCH.fetch_add(1, Relaxed);
    let (seen, strings) = walk(roots);
    let mut entries: Vec<Value> = strings;
    entries.extend(
        seen.values()
            .filter(|s| s.plain && s.size.is_some_and(|n| n > PIN_BYTES))
            .map(|s| s.value.clone()),
    );
    if entries.is_empty() {
        return None;
    }
    let by_key: HashMap<usize, u32> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((key_of(v)?, i as u32)))
        .collect();
    let Regions {
        holders,
        more_holders,
        parents,
    } = regions(&entries, &by_key);
    let table = Rc::new(PinTable {
        epoch,
        changed: RefCell::new(vec![0; entries.len()]),
        entries,
        by_key,
        holders,
        more_holders,
        parents,
        changes: Cell::new(0),
        images: RefCell::new(HashMap::new()),
        open: Cell::new(true),
        worker: Cell::new(false),
        dirty: Cell::new(false),
    });
    watch(&table);
    Some(table)
}

/// Every container reachable from `roots` (through variables, containers, and the
/// captures of functions), with its size; and the large strings.
fn walk<'a>(roots: impl Iterator<Item = &'a Value>) -> (HashMap<usize, Seen>, Vec<Value>) {
    let mut seen: HashMap<usize, Seen> = HashMap::new();
    let mut strings: HashMap<usize, Value> = HashMap::new();
    let mut closures: HashSet<*const super::Closure> = HashSet::new();
    let mut pending: Vec<Value> = roots.cloned().collect();
    // (container, items done): a container is sized once every child is.
    let mut stack: Vec<(Value, bool)> = Vec::new();
    loop {
        let Some((value, expanded)) = stack.pop() else {
            let Some(root) = pending.pop() else { break };
            stack.push((root, false));
            continue;
        };
        match &value {
            Value::Str(s) if s.len() > PIN_BYTES => {
                strings.insert(s.as_ptr() as usize, value.clone());
            }
            Value::Cell(cell) => pending.push(cell.borrow().clone()),
            Value::Func(closure) if closures.insert(Rc::as_ptr(closure)) => {
                pending.extend(closure.upvals.iter().map(|c| c.borrow().clone()));
            }
            Value::List(_) | Value::Map(_) => {
                let key = key_of(&value).unwrap_or_default();
                if expanded {
                    let (size, plain, depth) = size_of(&value, &seen);
                    if let Some(entry) = seen.get_mut(&key) {
                        (entry.size, entry.plain, entry.depth) = (Some(size), plain, depth);
                    }
                } else if let Entry::Vacant(slot) = seen.entry(key) {
                    slot.insert(Seen {
                        value: value.clone(),
                        size: None,
                        plain: false,
                        depth: 0,
                    });
                    stack.push((value.clone(), true));
                    // Numbers and small strings need no visit of their own.
                    for_each_item(&value, |item| match item {
                        Value::Str(s) if s.len() <= PIN_BYTES => {}
                        Value::Str(_) | Value::List(_) | Value::Map(_) | Value::Func(_) => {
                            stack.push((item.clone(), false))
                        }
                        _ => {}
                    });
                }
            }
            _ => {}
        }
    }
    (seen, strings.into_values().collect())
}

/// Calls `f` with each item of a list, or each value of a map.
fn for_each_item(container: &Value, f: impl FnMut(&Value)) {
    match container {
        Value::List(list) => list.borrow().iter().for_each(f),
        Value::Map(map) => map.borrow().values().for_each(f),
        _ => {}
    }
}

/// A container's (size, plain, depth), its child containers being sized already (one
/// that is not is an enclosing one: a cycle).
fn size_of(container: &Value, seen: &HashMap<usize, Seen>) -> (usize, bool, usize) {
    let item_size = |item: &Value| match item {
        Value::Nil | Value::Bool(_) => (2, true, 0),
        Value::Int(_) | Value::Float(_) => (10, true, 0),
        Value::Str(s) => (s.len() + 5, true, 0),
        Value::List(_) | Value::Map(_) => match key_of(item).and_then(|key| seen.get(&key)) {
            Some(Seen {
                size: Some(n),
                plain,
                depth,
                ..
            }) => (*n, *plain, *depth + 1),
            _ => (1, false, 0),
        },
        _ => (1, false, 0),
    };
    let (mut size, mut plain, mut depth) = (0usize, true, 0);
    let mut add = |(bytes, item_plain, item_depth): (usize, bool, usize)| {
        size = size.saturating_add(bytes);
        plain &= item_plain;
        depth = depth.max(item_depth);
    };
    match container {
        Value::List(list) => list.borrow().iter().for_each(|v| add(item_size(v))),
        Value::Map(map) => map.borrow().iter().for_each(|(k, v)| {
            add((k.len() + 5, true, 0));
            add(item_size(v));
        }),
        _ => {}
    }
    (size, plain && depth < limits::MAX_VALUE_DEPTH, depth)
}

/// For each pinned container: the containers inside it (up to the pinned values nested in
/// it), each mapped to the nearest pinned values holding it; and each pinned value's
/// nearest pinned holders.
fn regions(entries: &[Value], by_key: &HashMap<usize, u32>) -> Regions {
    let mut found = Regions {
        holders: HashMap::new(),
        more_holders: HashMap::new(),
        parents: vec![Vec::new(); entries.len()],
    };
    for (index, entry) in entries.iter().enumerate() {
        let index = index as u32;
        let mut inside: HashSet<usize> = HashSet::new();
        let mut stack = vec![entry.clone()];
        while let Some(value) = stack.pop() {
            let Some(key) = key_of(&value) else { continue };
            if !inside.insert(key) {
                continue;
            }
            match by_key.get(&key) {
                Some(&other) if other != index => found.parents[other as usize].push(index),
                _ => {
                    if let Some(&first) = found.holders.get(&key) {
                        if first != index {
                            found.more_holders.entry(key).or_default().push(index);
                        }
                    } else {
                        found.holders.insert(key, index);
                    }
                    for_each_item(&value, |item| {
                        if matches!(item, Value::List(_) | Value::Map(_)) {
                            stack.push(item.clone())
                        }
                    });
                }
            }
        }
    }
    found
}

/// What [`regions`] finds; see the fields of [`PinTable`].
struct Regions {
    holders: HashMap<usize, u32>,
    more_holders: HashMap<usize, Vec<u32>>,
    parents: Vec<Vec<u32>>,
}
