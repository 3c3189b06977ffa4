//! The queues and coordination objects a process has seen, so that a child forked from it counts as their holder too.

use crate::process::holders;
use crate::process::queue::Queue;
use crate::process::sync::SyncObject;
use std::rc::{Rc, Weak};

/// Weak: an object no value refers to any more is gone from here too.
#[derive(Default)]
pub(crate) struct Held {
    queues: Vec<Weak<Queue>>,
    syncs: Vec<Weak<SyncObject>>,
}

impl Held {
    pub(crate) fn track_queue(&mut self, queue: &Rc<Queue>) {
        self.queues.retain(|q| q.strong_count() > 0);
        self.queues.push(Rc::downgrade(queue));
    }

    pub(crate) fn track_sync(&mut self, object: &Rc<SyncObject>) {
        self.syncs.retain(|o| o.strong_count() > 0);
        self.syncs.push(Rc::downgrade(object));
    }

    /// Records `pid` as a holder of every object held here.
    pub(crate) fn register_holder(&mut self, pid: i32) {
        let (queues, syncs) = (self.queues(), self.syncs());
        if queues.is_empty() && syncs.is_empty() {
            return;
        }
        // Read from /proc once, for every object.
        let holder = holders::identity(pid);
        for queue in queues {
            queue.register(holder);
        }
        for object in syncs {
            object.register(holder);
        }
    }

    pub(crate) fn queues(&self) -> Vec<Rc<Queue>> {
        self.queues.iter().filter_map(Weak::upgrade).collect()
    }

    pub(crate) fn syncs(&self) -> Vec<Rc<SyncObject>> {
        self.syncs.iter().filter_map(Weak::upgrade).collect()
    }
}
