//! Values crossing a process boundary, encoded with serde + postcard: plain data for
//! results and queue messages; pool tasks may also carry functions and queues.

use crate::host::HostFunction;
use crate::ir::FnProto;
use crate::limits;
use crate::queue::Queue;
use crate::value::{Closure, Entries, Value};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::{OwnedFd, RawFd};
use std::rc::Rc;

/// The data a value carries between processes.
#[derive(Serialize, Deserialize, Debug)]
enum Wire {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Wire>),
    Map(Vec<(String, Wire)>),
}

/// What a spawned child sends its parent when it ends.
#[derive(Serialize, Deserialize, Debug)]
enum ChildReport {
    Returned(Wire),
    Failed(String),
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
            t => format!("a {t} cannot be sent to another process"),
        }
    }
}

fn to_wire(v: &Value, depth: usize) -> Result<Wire, NotSendable> {
    if depth > limits::MAX_VALUE_DEPTH {
        return Err(NotSendable {
            type_name: "nested",
        });
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
                .map(|item| to_wire(item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => Wire::Map(
            entries
                .borrow()
                .iter()
                .map(|(k, v)| Ok((k.to_string(), to_wire(v, depth + 1)?)))
                .collect::<Result<_, _>>()?,
        ),
        Value::Cell(cell) => to_wire(&cell.borrow(), depth)?,
        other => {
            return Err(NotSendable {
                type_name: other.type_name(),
            })
        }
    })
}

fn from_wire(w: Wire) -> Value {
    match w {
        Wire::Nil => Value::Nil,
        Wire::Bool(b) => Value::Bool(b),
        Wire::Int(n) => Value::Int(n),
        Wire::Float(x) => Value::Float(x),
        Wire::Str(s) => Value::Str(s.into()),
        Wire::List(items) => Value::list(items.into_iter().map(from_wire).collect()),
        Wire::Map(entries) => {
            let map: Entries = entries
                .into_iter()
                .map(|(k, v)| (Rc::from(k), from_wire(v)))
                .collect();
            Value::map(map)
        }
    }
}

/// Checks that a value can be sent, and encodes it as a child's successful result.
pub fn encode_returned(v: &Value) -> Result<Vec<u8>, NotSendable> {
    let wire = to_wire(v, 0)?;
    Ok(postcard::to_allocvec(&ChildReport::Returned(wire)).unwrap_or_default())
}

/// Encodes a child's failure message.
pub fn encode_failed(message: &str) -> Vec<u8> {
    postcard::to_allocvec(&ChildReport::Failed(message.to_string())).unwrap_or_default()
}

/// A decoded child report: its returned value, or its error message.
pub enum Report {
    Returned(Value),
    Failed(String),
    /// Nothing, or something unreadable, arrived.
    Missing,
}

/// Encodes a queue message.
pub fn encode_message(v: &Value) -> Result<Vec<u8>, NotSendable> {
    Ok(postcard::to_allocvec(&to_wire(v, 0)?).unwrap_or_default())
}

/// Decodes a queue message; `None` if the bytes are not one.
pub fn decode_message(bytes: &[u8]) -> Option<Value> {
    if !shallow_enough(bytes, 0) {
        return None;
    }
    postcard::from_bytes::<Wire>(bytes).ok().map(from_wire)
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
            0 => {}
            1 => pos += 1,
            3 => pos += 8,
            2 | 4 | 5 | 6 => {
                let Some((n, next)) = varint(bytes, pos) else {
                    return true;
                };
                pos = next;
                match tag {
                    4 => pos = pos.saturating_add(n as usize),
                    5 | 6 if n > 0 => {
                        if open.len() >= limits::MAX_VALUE_DEPTH {
                            return false;
                        }
                        open.push(Level {
                            left: n,
                            is_map: tag == 6,
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
    // A successful report is tag 0 followed by the value: check its depth first.
    if bytes.first() == Some(&0) && !shallow_enough(bytes, 1) {
        return Report::Missing;
    }
    match postcard::from_bytes::<ChildReport>(bytes) {
        Ok(ChildReport::Returned(w)) => Report::Returned(from_wire(w)),
        Ok(ChildReport::Failed(message)) => Report::Failed(message),
        Err(_) => Report::Missing,
    }
}

// ---------------------------------------------------------------- pool tasks

/// A value in a pool task: plain data, or a function (by its compiled
/// function's index and its captured values), a built-in, or a queue (by the
/// index of a descriptor sent with the task).
#[derive(Serialize, Deserialize, Debug)]
enum Rich {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Rich>),
    Map(Vec<(String, Rich)>),
    Func(u32),
    Builtin(u16),
    Queue(u32),
    /// A host function, by its index in the engine (the same in every process).
    Host(u32),
}

#[derive(Serialize, Deserialize, Debug)]
struct TaskWire {
    /// Every closure the task reaches: its function's index and its captures.
    closures: Vec<(u32, Vec<Rich>)>,
    callee: Rich,
    args: Vec<Rich>,
}

/// A task ready to send: its bytes, and the queues whose descriptors go with it.
pub struct EncodedTask {
    pub bytes: Vec<u8>,
    pub queues: Vec<Rc<Queue>>,
}

impl EncodedTask {
    pub fn fds(&self) -> Vec<RawFd> {
        self.queues.iter().map(|q| q.raw_fd()).collect()
    }
}

#[derive(Default)]
struct TaskEncoder {
    closures: Vec<(u32, Vec<Rich>)>,
    seen_closures: HashMap<*const Closure, u32>,
    queues: Vec<Rc<Queue>>,
}

impl TaskEncoder {
    fn value(&mut self, v: &Value, depth: usize) -> Result<Rich, NotSendable> {
        if depth > limits::MAX_VALUE_DEPTH {
            return Err(NotSendable {
                type_name: "nested",
            });
        }
        Ok(match v {
            Value::Nil | Value::Uninit => Rich::Nil,
            Value::Bool(b) => Rich::Bool(*b),
            Value::Int(n) => Rich::Int(*n),
            Value::Float(x) => Rich::Float(*x),
            Value::Str(s) => Rich::Str(s.to_string()),
            Value::List(items) => Rich::List(
                items
                    .borrow()
                    .iter()
                    .map(|item| self.value(item, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(entries) => Rich::Map(
                entries
                    .borrow()
                    .iter()
                    .map(|(k, v)| Ok((k.to_string(), self.value(v, depth + 1)?)))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Builtin(id) => Rich::Builtin(*id),
            Value::Host(h) => Rich::Host(h.index),
            Value::Cell(cell) => self.value(&cell.borrow(), depth)?,
            Value::Func(closure) => {
                let key = Rc::as_ptr(closure);
                if let Some(id) = self.seen_closures.get(&key) {
                    return Ok(Rich::Func(*id));
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
                Rich::Func(id)
            }
            Value::Queue(queue) => {
                let index = match self.queues.iter().position(|q| Rc::ptr_eq(q, queue)) {
                    Some(i) => i,
                    None => {
                        self.queues.push(queue.clone());
                        self.queues.len() - 1
                    }
                };
                Rich::Queue(index as u32)
            }
            other => {
                return Err(NotSendable {
                    type_name: other.type_name(),
                })
            }
        })
    }
}

/// Encodes a call for a pool worker.
pub fn encode_task(callee: &Value, args: &[Value]) -> Result<EncodedTask, NotSendable> {
    let mut encoder = TaskEncoder::default();
    let callee = encoder.value(callee, 0)?;
    let args = args
        .iter()
        .map(|a| encoder.value(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    if encoder.queues.len() > crate::os::MAX_FRAME_FDS {
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
        queues: encoder.queues,
    })
}

struct TaskDecoder<'a> {
    closures: Vec<Rc<Closure>>,
    queues: Vec<Option<Value>>,
    fds: Vec<Option<OwnedFd>>,
    protos: &'a [Rc<FnProto>],
    hosts: &'a [Rc<HostFunction>],
}

impl TaskDecoder<'_> {
    fn value(&mut self, r: Rich) -> Result<Value, String> {
        Ok(match r {
            Rich::Nil => Value::Nil,
            Rich::Bool(b) => Value::Bool(b),
            Rich::Int(n) => Value::Int(n),
            Rich::Float(x) => Value::Float(x),
            Rich::Str(s) => Value::Str(s.into()),
            Rich::List(items) => Value::list(
                items
                    .into_iter()
                    .map(|i| self.value(i))
                    .collect::<Result<_, _>>()?,
            ),
            Rich::Map(entries) => {
                let mut map = Entries::default();
                for (k, v) in entries {
                    map.insert(Rc::from(k), self.value(v)?);
                }
                Value::map(map)
            }
            Rich::Builtin(id) if (id as usize) < crate::builtins::spec::all().len() => {
                Value::Builtin(id)
            }
            Rich::Func(id) => Value::Func(
                self.closures
                    .get(id as usize)
                    .cloned()
                    .ok_or("a task names a function it does not carry")?,
            ),
            Rich::Queue(i) => {
                let i = i as usize;
                if let Some(Some(q)) = self.queues.get(i) {
                    return Ok(q.clone());
                }
                let fd = self
                    .fds
                    .get_mut(i)
                    .and_then(Option::take)
                    .ok_or("a task names a queue it does not carry")?;
                let queue = Value::Queue(Rc::new(Queue::open(fd)?));
                if self.queues.len() <= i {
                    self.queues.resize(i + 1, None);
                }
                self.queues[i] = Some(queue.clone());
                queue
            }
            Rich::Builtin(_) => return Err("a task names an unknown built-in".into()),
            Rich::Host(i) => Value::Host(
                self.hosts
                    .get(i as usize)
                    .cloned()
                    .ok_or("a task names an unknown host function")?,
            ),
        })
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
    let mut decoder = TaskDecoder {
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
mod tests {
    use super::*;

    fn nested_lists(depth: usize) -> Vec<u8> {
        // Wire::List is tag 5, then the item count; the innermost list is empty.
        let mut bytes = Vec::new();
        for _ in 0..depth {
            bytes.extend([5, 1]);
        }
        bytes.extend([5, 0]);
        bytes
    }

    #[test]
    fn plain_values_round_trip() {
        let mut map = Entries::default();
        map.insert(
            "k".into(),
            Value::list(vec![Value::Int(-3), Value::Float(2.5), Value::Nil]),
        );
        map.insert("s".into(), Value::str("héllo"));
        let v = Value::map(map);
        let bytes = encode_message(&v).unwrap();
        assert!(crate::value::equals(&decode_message(&bytes).unwrap(), &v));
    }

    #[test]
    fn deep_hostile_messages_are_refused_not_a_crash() {
        assert!(decode_message(&nested_lists(500)).is_some());
        // A million levels would overflow the decoder's stack.
        assert!(decode_message(&nested_lists(1_000_000)).is_none());
        let mut report = vec![0];
        report.extend(nested_lists(1_000_000));
        assert!(matches!(decode_report(&report), Report::Missing));
    }

    #[test]
    fn damaged_messages_are_refused() {
        for bytes in [&[][..], &[9], &[4, 200], &[5, 3, 0], &[6, 1, 1]] {
            assert!(decode_message(bytes).is_none(), "{bytes:?}");
        }
    }
}
