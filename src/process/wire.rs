//! Values crossing a process boundary, encoded with serde + postcard: plain data for
//! results and queue messages; pool tasks may also carry functions and queues.

use crate::error::diagnostic::Diag;
use crate::front::ir::FnProto;
use crate::limits;
use crate::process::holders;
use crate::process::pipe::PipeEnd;
use crate::process::queue::Queue;
use crate::process::remote::relayed::Proxy;
use crate::process::report_size;
use crate::process::sync::SyncObject;
use crate::values::host::HostFunction;
use crate::values::pins::{self, PinTable};
use crate::values::{Closure, Entries, Value};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{OwnedFd, RawFd};
use std::rc::Rc;

/// A value as it travels between processes. Child results and queue messages
/// carry plain data only (the variants up to `Map`); a pool task may also carry
/// functions (by the index of a closure sent with the task), built-ins, queues
/// (by the index of a descriptor sent with the task), host functions (by
/// their index in the engine, the same in every process) and values pinned when
/// the pool was made (by their index in its `PinTable`, which each worker inherits).
///
/// Postcard writes a variant as its index, then its fields: the `tag` numbers
/// below, which the depth check reads, are tied to this order by a test.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub(super) enum Wire {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Wire>),
    Map(Vec<(String, Wire)>),
    Func(u32),
    Builtin(u16),
    Queue(u32),
    Host(u32),
    /// A lock, event, semaphore, barrier or value: like `Queue`, the index of
    /// a descriptor sent with the task (queues and these share the indexes).
    Sync(u32),
    /// A value the worker already holds: its index in the pool's pin table.
    Held(u32),
    /// A pipe end: the indexes of its send queue (high 16 bits) and recv queue.
    Pipe(u32),
    /// In a task sent to a remote worker: a queue, lock... of the driver that
    /// the worker reaches through its relay (see `remote::relayed::Proxy`).
    Relayed(u32),
}

/// The tag postcard writes for each `Wire` variant (its index in the enum).
mod tag {
    pub const NIL: u64 = 0;
    pub const BOOL: u64 = 1;
    pub const INT: u64 = 2;
    pub const FLOAT: u64 = 3;
    pub const STR: u64 = 4;
    pub const LIST: u64 = 5;
    pub const MAP: u64 = 6;
    pub const FUNC: u64 = 7;
    pub const BUILTIN: u64 = 8;
    pub const QUEUE: u64 = 9;
    pub const HOST: u64 = 10;
    pub const SYNC: u64 = 11;
    pub const HELD: u64 = 12;
    pub const PIPE: u64 = 13;
    pub const RELAYED: u64 = 14;
    /// `ChildReport::Returned`, followed by its value.
    pub const RETURNED: u8 = 0;
}

/// What a spawned child sends its parent when it ends.
#[derive(Serialize, Deserialize, Debug)]
enum ChildReport {
    Returned(Wire),
    /// The child's diagnostic and its causes, outermost first, each without
    /// its `cause` (a flat list decodes without recursion, however forged).
    Failed(Vec<Diag>),
}

/// The cause chain of `diag` as a flat list, outermost first.
fn flatten(diag: &Diag) -> Vec<Diag> {
    let mut levels = Vec::new();
    let mut level = Some(diag);
    while let Some(diag) = level {
        let mut flat = diag.clone();
        flat.cause = None;
        levels.push(flat);
        level = diag.cause.as_ref();
    }
    levels
}

/// Levels a report may carry: a sender keeps 33 (see `process::ending`); more
/// is a forged report, refused before it becomes a chain too deep to drop.
const MAX_REPORT_LEVELS: usize = 64;

/// The cause chain back from its flat list; none from an empty or overlong one.
fn unflatten(levels: Vec<Diag>) -> Option<Diag> {
    if levels.len() > MAX_REPORT_LEVELS {
        return None;
    }
    levels.into_iter().rev().fold(None, |cause, mut diag| {
        diag.cause = cause;
        Some(diag)
    })
}

/// Why a value cannot be sent.
#[derive(Debug)]
pub struct NotSendable {
    pub type_name: &'static str,
}

impl NotSendable {
    pub fn message(&self) -> String {
        match self.type_name {
            "nested" => format!(
                "a value nested more than {} levels deep cannot be sent to another process",
                limits::MAX_VALUE_DEPTH
            ),
            "too many queues" => format!(
                "a task can carry at most {} queues",
                crate::os::MAX_FRAME_FDS
            ),
            "too large" => format!(
                "a message of more than {} bytes is larger than a queue holds ({} bytes)",
                MESSAGE_BUDGET,
                crate::process::queue::QUEUE_BYTES
            ),
            t if t.starts_with(['a', 'e', 'i', 'o', 'u']) => {
                format!("an {t} cannot be sent to another process")
            }
            t => format!("a {t} cannot be sent to another process"),
        }
    }
}

/// Turns values into `Wire`. A task encoder also takes functions, built-ins,
/// queues and host functions, and collects the closures and queues they reach;
/// a plain one refuses them.
#[derive(Default)]
struct Encoder<'a> {
    task: bool,
    /// Every closure the task reaches: its function's index and its captures.
    closures: Vec<(u32, Vec<Wire>)>,
    seen_closures: HashMap<*const Closure, u32>,
    carried: Carried,
    /// Bytes the encoding may still take, roughly (strings and one word per
    /// item): a queue message stops at the queue's size, before a copy of
    /// gigabytes is made.
    budget: Option<usize>,
    /// A task's pool's pinned values: those unchanged since go as `Held`.
    pins: Option<&'a PinTable>,
    /// The pinned values the task names.
    held: Vec<u32>,
}

impl Encoder<'_> {
    fn value(&mut self, v: &Value, depth: usize) -> Result<Wire, NotSendable> {
        if let Some(index) = self.pins.and_then(|pins| pins.held(v)) {
            if !self.held.contains(&index) {
                self.held.push(index);
            }
            return Ok(Wire::Held(index));
        }
        if depth > limits::MAX_VALUE_DEPTH {
            return Err(NotSendable {
                type_name: "nested",
            });
        }
        if let Some(budget) = &mut self.budget {
            let cost = match v {
                Value::Str(s) => s.len() + 1,
                Value::Map(entries) => entries.borrow().iter().map(|(k, _)| k.len() + 1).sum(),
                _ => 1,
            };
            *budget = budget.checked_sub(cost).ok_or(NotSendable {
                type_name: "too large",
            })?;
        }
        Ok(match v {
            Value::Nil | Value::Uninit => Wire::Nil,
            Value::Bool(b) => Wire::Bool(*b),
            Value::Int(n) => Wire::Int(*n),
            Value::Float(x) => Wire::Float(*x),
            Value::Str(s) => Wire::Str(s.to_string()),
            Value::List(items) => Wire::List(
                items
                    .borrow()
                    .iter()
                    .map(|item| self.value(item, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => Wire::Map(
                entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| Ok((k.to_string(), self.value(v, depth + 1)?)))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Cell(cell) => self.value(&cell.borrow(), depth)?,
            Value::Builtin(id) if self.task => Wire::Builtin(*id),
            Value::Host(h) if self.task => Wire::Host(h.index),
            Value::Func(closure) if self.task => Wire::Func(self.closure(closure, depth)?),
            Value::Queue(queue) if self.task => Wire::Queue(self.carried.queue(queue)),
            Value::Sync(object) if self.task => Wire::Sync(self.carried.sync(object)),
            Value::Pipe(e) if self.task => {
                Wire::Pipe(self.carried.queue(&e.send) << 16 | self.carried.queue(&e.recv))
            }
            other => {
                return Err(NotSendable {
                    type_name: other.type_name(),
                })
            }
        })
    }

    /// The closure's index in the task, encoding it (and its captures) the first time.
    fn closure(&mut self, closure: &Rc<Closure>, depth: usize) -> Result<u32, NotSendable> {
        let key = Rc::as_ptr(closure);
        if let Some(id) = self.seen_closures.get(&key) {
            return Ok(*id);
        }
        let id = self.closures.len() as u32;
        self.seen_closures.insert(key, id);
        self.closures.push((closure.proto.index, Vec::new()));
        let captures = closure
            .upvals
            .iter()
            .map(|cell| self.value(&cell.borrow(), depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        self.closures[id as usize].1 = captures;
        Ok(id)
    }
}

/// The queues, locks... a task carries, as descriptors sent with it; a
/// `Wire::Queue` or `Wire::Sync` names one by its place in `fds`.
#[derive(Default)]
pub struct Carried {
    /// Keep the descriptors open until the task is sent.
    queues: Vec<Rc<Queue>>,
    syncs: Vec<Rc<SyncObject>>,
    fds: Vec<RawFd>,
}

impl Carried {
    /// The descriptor's index, added the first time.
    fn index(&mut self, fd: RawFd) -> (u32, bool) {
        match self.fds.iter().position(|&f| f == fd) {
            Some(i) => (i as u32, false),
            None => {
                self.fds.push(fd);
                (self.fds.len() as u32 - 1, true)
            }
        }
    }

    fn queue(&mut self, queue: &Rc<Queue>) -> u32 {
        let (index, new) = self.index(queue.raw_fd());
        if new {
            self.queues.push(queue.clone());
        }
        index
    }

    fn sync(&mut self, object: &Rc<SyncObject>) -> u32 {
        let (index, new) = self.index(object.raw_fd());
        if new {
            self.syncs.push(object.clone());
        }
        index
    }

    pub fn fds(&self) -> &[RawFd] {
        &self.fds
    }

    /// The worker `pid` holds these from now on (see `Procs::child_holds_queues`).
    pub fn register(&self, pid: i32) {
        let holder = holders::identity(pid);
        self.queues.iter().for_each(|q| q.register(holder));
        self.syncs.iter().for_each(|o| o.register(holder));
    }
}

/// Plain data only: child results and queue messages.
fn to_wire(v: &Value) -> Result<Wire, NotSendable> {
    Encoder::default().value(v, 0)
}

/// Plain data only; `None` for anything a task alone may carry.
fn from_wire(w: Wire) -> Option<Value> {
    Decoder::default().value(w).ok()
}

/// Checks that a value can be sent, and encodes it as a child's successful result.
pub fn encode_returned(v: &Value) -> Result<Vec<u8>, NotSendable> {
    let wire = to_wire(v)?;
    Ok(postcard::to_allocvec(&ChildReport::Returned(wire)).unwrap_or_default())
}

/// Encodes a child's failure: its diagnostic, trimmed to fit in its pipe's
/// buffer (see `process::report_size`).
pub fn encode_failed(diag: &Diag) -> Vec<u8> {
    report_size::encode_bounded(diag, |diag| {
        postcard::to_allocvec(&ChildReport::Failed(flatten(diag))).unwrap_or_default()
    })
}

/// A decoded child report: its returned value, or its error.
pub enum Report {
    Returned(Value),
    Failed(Diag),
    /// Nothing, or something unreadable, arrived.
    Missing,
}

/// How much of a message is encoded before it is refused unread: past the
/// queue's size, so a message a little too large is reported with its exact
/// size by the queue, and a huge one costs no more than this.
const MESSAGE_BUDGET: usize = 2 * crate::process::queue::QUEUE_BYTES;

/// Encodes a queue message.
pub fn encode_message(v: &Value) -> Result<Vec<u8>, NotSendable> {
    let mut encoder = Encoder {
        budget: Some(MESSAGE_BUDGET),
        ..Encoder::default()
    };
    Ok(postcard::to_allocvec(&encoder.value(v, 0)?).unwrap_or_default())
}

/// Decodes a queue message; `None` if the bytes are not one.
pub fn decode_message(bytes: &[u8]) -> Option<Value> {
    if !shallow_enough(bytes, 0) {
        return None;
    }
    postcard::from_bytes::<Wire>(bytes).ok().and_then(from_wire)
}

/// Reads a postcard varint; returns (value, next position).
fn varint(bytes: &[u8], mut pos: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = *bytes.get(pos)?;
        pos += 1;
        value |= ((byte & 0x7f) as u64).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some((value, pos));
        }
    }
    None
}

/// Walks one encoded `Wire` value from `pos` without recursion and checks it
/// nests no deeper than `limits::MAX_VALUE_DEPTH`, so a hostile or damaged
/// message cannot exhaust the receiver's stack in the (recursive) decoder.
/// Anything malformed is left for the decoder to reject.
fn shallow_enough(bytes: &[u8], mut pos: usize) -> bool {
    struct Level {
        left: u64,
        is_map: bool,
    }
    let mut open: Vec<Level> = Vec::new();
    let mut started = false;
    loop {
        // Close finished lists and maps; a map's next value follows its key (a string).
        loop {
            match open.last_mut() {
                None if started => return true,
                None => break,
                Some(level) if level.left == 0 => {
                    open.pop();
                }
                Some(level) => {
                    level.left -= 1;
                    if level.is_map {
                        let Some((len, next)) = varint(bytes, pos) else {
                            return true;
                        };
                        pos = next.saturating_add(len as usize);
                    }
                    break;
                }
            }
        }
        started = true;
        let Some((tag, next)) = varint(bytes, pos) else {
            return true;
        };
        pos = next;
        match tag {
            tag::NIL => {}
            tag::BOOL => pos += 1,
            tag::FLOAT => pos += 8,
            // A varint: the number itself, or a length or count.
            tag::INT
            | tag::STR
            | tag::LIST
            | tag::MAP
            | tag::FUNC
            | tag::BUILTIN
            | tag::QUEUE
            | tag::HOST
            | tag::SYNC
            | tag::HELD
            | tag::PIPE
            | tag::RELAYED => {
                let Some((n, next)) = varint(bytes, pos) else {
                    return true;
                };
                pos = next;
                match tag {
                    tag::STR => pos = pos.saturating_add(n as usize),
                    tag::LIST | tag::MAP if n > 0 => {
                        if open.len() >= limits::MAX_VALUE_DEPTH {
                            return false;
                        }
                        open.push(Level {
                            left: n,
                            is_map: tag == tag::MAP,
                        });
                    }
                    _ => {}
                }
            }
            _ => return true,
        }
        if pos > bytes.len() {
            return true;
        }
    }
}

pub fn decode_report(bytes: &[u8]) -> Report {
    if bytes.is_empty() {
        return Report::Missing;
    }
    // A successful report is its tag followed by the value: check its depth first.
    if bytes.first() == Some(&tag::RETURNED) && !shallow_enough(bytes, 1) {
        return Report::Missing;
    }
    match postcard::from_bytes::<ChildReport>(bytes) {
        Ok(ChildReport::Returned(w)) => from_wire(w).map_or(Report::Missing, Report::Returned),
        Ok(ChildReport::Failed(levels)) => {
            unflatten(levels).map_or(Report::Missing, Report::Failed)
        }
        Err(_) => Report::Missing,
    }
}

// ---------------------------------------------------------------- pool tasks

#[derive(Serialize, Deserialize, Debug)]
pub(super) struct TaskWire {
    /// Every closure the task reaches: its function's index and its captures.
    pub(super) closures: Vec<(u32, Vec<Wire>)>,
    pub(super) callee: Wire,
    pub(super) args: Vec<Wire>,
}

/// A task ready to send: its bytes, the queues and locks... whose
/// descriptors go with it, and the pinned values it names.
pub struct EncodedTask {
    pub bytes: Vec<u8>,
    pub carried: Carried,
    pub held: Vec<u32>,
}

/// Encodes a call for a pool worker; values pinned in `pins` and unchanged
/// since go by their index.
pub fn encode_task(
    callee: &Value,
    args: &[Value],
    pins: Option<&PinTable>,
) -> Result<EncodedTask, NotSendable> {
    let mut encoder = Encoder {
        task: true,
        pins,
        ..Encoder::default()
    };
    let callee = encoder.value(callee, 0)?;
    let args = args
        .iter()
        .map(|a| encoder.value(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    if encoder.carried.fds.len() > crate::os::MAX_FRAME_FDS {
        return Err(NotSendable {
            type_name: "too many queues",
        });
    }
    let wire = TaskWire {
        closures: encoder.closures,
        callee,
        args,
    };
    Ok(EncodedTask {
        bytes: postcard::to_allocvec(&wire).unwrap_or_default(),
        carried: encoder.carried,
        held: encoder.held,
    })
}

/// Turns `Wire` back into values. A task decoder resolves functions, queues
/// and host functions against what came with the task; a plain one (the
/// default) has none of them and refuses every such value.
#[derive(Default)]
struct Decoder<'a> {
    task: bool,
    closures: Vec<Rc<Closure>>,
    queues: Vec<Option<Value>>,
    fds: Vec<Option<OwnedFd>>,
    protos: &'a [Rc<FnProto>],
    hosts: &'a [Rc<HostFunction>],
}

impl Decoder<'_> {
    fn value(&mut self, w: Wire) -> Result<Value, String> {
        Ok(match w {
            Wire::Nil => Value::Nil,
            Wire::Bool(b) => Value::Bool(b),
            Wire::Int(n) => Value::Int(n),
            Wire::Float(x) => Value::Float(x),
            Wire::Str(s) => Value::Str(s.into()),
            Wire::List(items) => Value::list(
                items
                    .into_iter()
                    .map(|i| self.value(i))
                    .collect::<Result<_, _>>()?,
            ),
            Wire::Map(entries) => {
                let mut map = Entries::default();
                for (k, v) in entries {
                    map.insert(Rc::from(k), self.value(v)?);
                }
                Value::map(map)
            }
            Wire::Func(_)
            | Wire::Builtin(_)
            | Wire::Queue(_)
            | Wire::Sync(_)
            | Wire::Host(_)
            | Wire::Held(_)
            | Wire::Pipe(_)
            | Wire::Relayed(_)
                if !self.task =>
            {
                return Err("only a pool task may carry functions and queues".into())
            }
            Wire::Builtin(id) if (id as usize) < crate::front::spec::all().len() => {
                Value::Builtin(id)
            }
            Wire::Builtin(_) => return Err("a task names an unknown built-in".into()),
            Wire::Func(id) => Value::Func(
                self.closures
                    .get(id as usize)
                    .cloned()
                    .ok_or("a task names a function it does not carry")?,
            ),
            Wire::Queue(i) => self.queue(i as usize, false)?,
            Wire::Sync(i) => self.queue(i as usize, true)?,
            Wire::Pipe(ends) => self.pipe_end(ends)?,
            Wire::Relayed(number) => Value::Relayed(Rc::new(
                Proxy::from_wire(number).ok_or("a task names an unknown kind of relayed object")?,
            )),
            Wire::Host(i) => Value::Host(
                self.hosts
                    .get(i as usize)
                    .cloned()
                    .ok_or("a task names an unknown host function")?,
            ),
            // A worker's own copy, from the table it inherited: never an address.
            Wire::Held(i) => pins::worker_table()
                .filter(|table| !table.dirty())
                .and_then(|table| table.entry(i))
                .ok_or("a task names a pinned value this worker does not hold")?,
        })
    }

    /// A pipe end from its two queues' indexes; apart from `value`, whose
    /// frame every level of a nested message pays for.
    fn pipe_end(&mut self, ends: u32) -> Result<Value, String> {
        let send = self.queue((ends >> 16) as usize, false)?;
        let recv = self.queue((ends & 0xffff) as usize, false)?;
        Ok(Value::Pipe(Rc::new(PipeEnd::joined(send, recv)?)))
    }

    /// The task's `i`th queue (or lock... when `sync`), opened from its descriptor the first time.
    fn queue(&mut self, i: usize, sync: bool) -> Result<Value, String> {
        if let Some(Some(q)) = self.queues.get(i) {
            return Ok(q.clone());
        }
        let fd = self
            .fds
            .get_mut(i)
            .and_then(Option::take)
            .ok_or("a task names a queue it does not carry")?;
        let queue = if sync {
            Value::Sync(Rc::new(SyncObject::open(fd)?))
        } else {
            Value::Queue(Rc::new(Queue::open(fd)?))
        };
        if self.queues.len() <= i {
            self.queues.resize(i + 1, None);
        }
        self.queues[i] = Some(queue.clone());
        Ok(queue)
    }
}

/// Decodes a task in a pool worker: the function to call and its arguments.
pub fn decode_task(
    bytes: &[u8],
    fds: Vec<OwnedFd>,
    protos: &[Rc<FnProto>],
    hosts: &[Rc<HostFunction>],
) -> Result<(Value, Vec<Value>), String> {
    let wire: TaskWire = postcard::from_bytes(bytes).map_err(|e| e.to_string())?;
    let mut decoder = Decoder {
        task: true,
        closures: Vec::new(),
        queues: Vec::new(),
        fds: fds.into_iter().map(Some).collect(),
        protos,
        hosts,
    };
    // Closures first, with empty cells, so captures may refer to any of them (recursion).
    for (index, captures) in &wire.closures {
        let proto = decoder
            .protos
            .get(*index as usize)
            .ok_or("a task names an unknown function")?
            .clone();
        if proto.captures.len() != captures.len() {
            return Err("a task's function does not match this program".into());
        }
        let upvals = (0..captures.len())
            .map(|_| Rc::new(RefCell::new(Value::Nil)))
            .collect();
        decoder.closures.push(Rc::new(Closure { proto, upvals }));
    }
    for (i, (_, captures)) in wire.closures.into_iter().enumerate() {
        for (j, capture) in captures.into_iter().enumerate() {
            let value = decoder.value(capture)?;
            *decoder.closures[i].upvals[j].borrow_mut() = value;
        }
    }
    let callee = decoder.value(wire.callee)?;
    let args = wire
        .args
        .into_iter()
        .map(|a| decoder.value(a))
        .collect::<Result<_, _>>()?;
    Ok((callee, args))
}

#[cfg(test)]
mod tests;
