//! The driver relay's table of the queues, locks... its remote worker holds: the descriptors each task brings become entries (the same object, the same entry), and the task's references to them become `Wire::Relayed` numbers the worker turns into proxies.

use super::relayed::Proxy;
use crate::process::pipe::PipeEnd;
use crate::process::pool_answer::{read_task_frame, task_frame};
use crate::process::queue::Queue;
use crate::process::sync::SyncObject;
use crate::process::wire::{TaskWire, Wire};
use crate::values::Value;
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// What makes two entries the same object: its type and its ids.
type Identity = (&'static str, u64, u64);

/// The objects this relay holds for its remote worker.
#[derive(Default)]
pub struct RelayTable {
    objects: Vec<(Identity, Value)>,
}

/// One task's descriptors, opened as the task names them.
struct Opening {
    fds: Vec<Option<OwnedFd>>,
    /// The queue or lock opened from each descriptor.
    opened: Vec<Option<Value>>,
}

impl RelayTable {
    /// The object at `index`, as the worker's proxy names it.
    pub fn object(&self, index: u32) -> Option<&Value> {
        self.objects.get(index as usize).map(|(_, value)| value)
    }

    /// A task frame (slot, id, task) with the descriptors that came with it,
    /// as the remote worker gets it: every queue, lock... named as a relayed object.
    pub fn rewrite(&mut self, frame: &[u8], fds: Vec<OwnedFd>) -> Result<Vec<u8>, String> {
        if fds.is_empty() {
            return Ok(frame.to_vec());
        }
        let (slot, id, task) = read_task_frame(frame).ok_or("not a task frame")?;
        let mut wire: TaskWire = postcard::from_bytes(task).map_err(|e| e.to_string())?;
        let mut opening = Opening {
            opened: vec![None; fds.len()],
            fds: fds.into_iter().map(Some).collect(),
        };
        let values = wire
            .closures
            .iter_mut()
            .flat_map(|(_, captures)| captures.iter_mut())
            .chain([&mut wire.callee])
            .chain(wire.args.iter_mut());
        for value in values {
            self.relay_all(value, &mut opening)?;
        }
        let task = postcard::to_allocvec(&wire).map_err(|e| e.to_string())?;
        Ok(task_frame(slot, id, &task))
    }

    /// Replaces each queue, lock... in `wire` by its relayed number. A task's
    /// encoding nests no deeper than `limits::MAX_VALUE_DEPTH`.
    fn relay_all(&mut self, wire: &mut Wire, opening: &mut Opening) -> Result<(), String> {
        let value = match wire {
            Wire::Queue(i) => opening.open(*i as usize, false)?,
            Wire::Sync(i) => opening.open(*i as usize, true)?,
            Wire::Pipe(ends) => {
                let send = opening.open((*ends >> 16) as usize, false)?;
                let recv = opening.open((*ends & 0xffff) as usize, false)?;
                Value::Pipe(Rc::new(PipeEnd::joined(send, recv)?))
            }
            Wire::List(items) => {
                return items
                    .iter_mut()
                    .try_for_each(|w| self.relay_all(w, opening));
            }
            Wire::Map(entries) => {
                return entries
                    .iter_mut()
                    .try_for_each(|(_, w)| self.relay_all(w, opening));
            }
            _ => return Ok(()),
        };
        let type_name = value.type_name();
        let index = self.entry(value);
        *wire = Wire::Relayed(Proxy::wire_number(index, type_name));
        Ok(())
    }

    /// The entry of `value`: the one already there for the same object, or a new one.
    fn entry(&mut self, value: Value) -> u32 {
        let identity: Identity = match &value {
            Value::Queue(q) => ("queue", q.id(), 0),
            Value::Pipe(end) => ("pipe end", end.send.id(), end.recv.id()),
            Value::Sync(o) => (o.kind().type_name(), o.id(), 0),
            other => (other.type_name(), 0, 0),
        };
        if let Some(i) = self.objects.iter().position(|(id, _)| *id == identity) {
            return i as u32;
        }
        self.objects.push((identity, value));
        self.objects.len() as u32 - 1
    }
}

impl Opening {
    /// The queue (or lock... when `sync`) of descriptor `i`, opened the first time.
    fn open(&mut self, i: usize, sync: bool) -> Result<Value, String> {
        if let Some(Some(value)) = self.opened.get(i) {
            return Ok(value.clone());
        }
        let fd = self
            .fds
            .get_mut(i)
            .and_then(Option::take)
            .ok_or("a task names a queue it does not carry")?;
        let value = match sync {
            true => Value::Sync(Rc::new(SyncObject::open(fd)?)),
            false => Value::Queue(Rc::new(Queue::open(fd)?)),
        };
        self.opened[i] = Some(value.clone());
        Ok(value)
    }
}
