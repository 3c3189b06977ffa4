//! The table's records of children: made at each fork, found by pid, and dropped once nothing can name them.
//!
//! A record outlives its child: `join` reads how it ended, a handle's
//! `exitcode` and `alive(h)` read it later. But a script that spawns and
//! joins in a loop would keep one for every child it ever had: 200 bytes
//! each, and every fork copies the page table of all of them (spawn + join
//! cost 210 us a child at 1,000, 278 us at 30,000). So when the table has
//! doubled since it was last compacted, the records nothing can name any
//! more are dropped: a spawned child's or a program's, once it was reaped,
//! joined (its outcome taken; or collected by `wait()` without a failure
//! to tell) and its handle (if any) is gone; a pool worker's once its pool
//! reaped it. A forked child's stays: it is named by its pid, which a
//! script keeps as a number.

use super::{Child, Kind, NewChild, ProcessHandle, Procs};
use crate::os::ExitStatus;
use crate::process::failure::Failure;
use crate::values::Value;
use std::cell::{Cell, RefCell};
use std::os::fd::OwnedFd;
use std::rc::{Rc, Weak};

/// The table's length at its first compaction.
pub(super) const FIRST_COMPACTION: usize = 1024;

impl Procs {
    pub(super) fn find(&self, pid: i32) -> Option<usize> {
        self.index.get(&pid).copied()
    }

    /// Records a child this process started (a fork, a pool worker, a program).
    pub(crate) fn add_child(&mut self, pid: i32, name: Rc<str>, new: &NewChild) {
        let kind = match new {
            NewChild::PoolWorker => Kind::PoolWorker,
            NewChild::Program { .. } => Kind::Program { awaited: true },
            NewChild::Fork | NewChild::Spawn { .. } => Kind::Forked,
        };
        self.push_child(pid, name, kind);
    }

    /// The name `spawn` gives a child without `as`: "Process-1", "Process-2", ...
    pub(crate) fn next_spawn_name(&mut self) -> Rc<str> {
        self.spawn_count += 1;
        format!("Process-{}", self.spawn_count).into()
    }

    /// `spawn`'s record of a new child: its table entry and its handle.
    pub(crate) fn add_spawned(&mut self, pid: i32, name: Rc<str>, pipe: Option<OwnedFd>) -> Value {
        let kind = Kind::Spawned {
            pipe,
            received: Vec::new(),
            outcome: None,
        };
        let slot = self.push_child(pid, name, kind);
        Value::Process(self.handle_of(slot))
    }

    /// The script's handle of the child recorded at `slot` (a spawn's, a
    /// `start`'s), kept in the record too, so that a compaction moves it.
    pub(super) fn handle_of(&mut self, slot: usize) -> Rc<ProcessHandle> {
        let child = &mut self.children[slot];
        let handle = Rc::new(ProcessHandle {
            pid: child.pid,
            name: child.name.clone(),
            owner: self.me,
            slot: Cell::new(slot),
            result: RefCell::new(None),
        });
        child.handle = Rc::downgrade(&handle);
        handle
    }

    fn push_child(&mut self, pid: i32, name: Rc<str>, kind: Kind) -> usize {
        if self.children.len() >= self.compact_at {
            self.compact();
        }
        let slot = self.children.len();
        self.index.insert(pid, slot);
        self.children.push(Child {
            pid,
            name,
            kind,
            status: None,
            waited: false,
            reported: false,
            lost: false,
            group: false,
            handle: Weak::new(),
        });
        slot
    }

    /// Drops the records nothing can name (see the top of this file), moves
    /// the live handles to their records' new places, and sets the length at
    /// which to look again: twice what is left, so each record is moved a
    /// bounded number of times in all.
    fn compact(&mut self) {
        self.children.retain_mut(|child| !child.forgotten());
        self.index.clear();
        for (slot, child) in self.children.iter().enumerate() {
            self.index.insert(child.pid, slot);
            if let Some(handle) = child.handle.upgrade() {
                handle.slot.set(slot);
            }
        }
        self.compact_at = (2 * self.children.len()).max(FIRST_COMPACTION);
    }
}

impl Child {
    /// A spawned child, a program or a pool worker that ended, was joined
    /// (or collected by `wait()`, waited for by `run`, `capture`, a
    /// pipeline, reaped by its pool), and whose handle the script no longer
    /// has (if it ever had one): no script value names its record.
    fn forgotten(&mut self) -> bool {
        let Some(status) = self.status else {
            return false;
        };
        let named_no_more = self.waited && self.handle.strong_count() == 0;
        match self.kind {
            // A failure nobody joined is told as the process ends: kept till
            // then. A child collected by `wait()` that did not fail has none
            // (a loop of spawn and wait() kept every record).
            Kind::Spawned { .. } => {
                named_no_more && (self.reported || !self.has_untold_failure(status))
            }
            Kind::Program { awaited } => named_no_more && !awaited,
            // The pool reaped it (it died, or retired after `max_tasks`):
            // no script value names a worker, and `wait()` never sees one.
            Kind::PoolWorker => named_no_more,
            Kind::Forked => false,
        }
    }

    /// Whether the child failed with a report that no join has told yet
    /// (what `untold_failures` tells as the process ends).
    fn has_untold_failure(&mut self, status: ExitStatus) -> bool {
        !self.reported
            && matches!(
                self.outcome(status),
                Some(Err(Failure { cause: Some(_), .. }))
            )
    }

    /// A program's end was read by `run`, `capture` or a pipeline, or is the
    /// script's to read (`start`): see `Kind::Program`.
    pub(super) fn no_longer_awaited(&mut self) {
        if let Kind::Program { awaited } = &mut self.kind {
            *awaited = false;
        }
    }
}
