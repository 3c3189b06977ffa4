//! Values crossing a process boundary: encoded with serde + postcard; only plain data may cross.

use crate::limits;
use crate::value::Value;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
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
            let map: IndexMap<Rc<str>, Value> = entries
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

pub fn decode_report(bytes: &[u8]) -> Report {
    if bytes.is_empty() {
        return Report::Missing;
    }
    match postcard::from_bytes::<ChildReport>(bytes) {
        Ok(ChildReport::Returned(w)) => Report::Returned(from_wire(w)),
        Ok(ChildReport::Failed(message)) => Report::Failed(message),
        Err(_) => Report::Missing,
    }
}
