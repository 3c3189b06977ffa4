//! Pool tasks for workers that lack some pinned values: their `Held` values sent as they
//! were at the pin, by value (see `values::pins`).

use crate::process::wire::{TaskWire, Wire};
use crate::values::pins::{key_of, Image, PinTable};
use crate::values::Value;
use std::borrow::Cow;

/// The bytes of a task (encoded against `pins`, naming the pinned values `held`) for a
/// worker forked when the table had seen `forked_at` changes: as encoded, unless it names a
/// pinned value that changed before the worker was forked. That value goes by value, as it
/// was at the pin, which is as it was when the task was submitted (it was unchanged then).
pub fn for_worker<'a>(
    bytes: &'a [u8],
    held: &[u32],
    pins: Option<&PinTable>,
    forked_at: u64,
) -> Cow<'a, [u8]> {
    let Some(pins) = pins.filter(|p| !held.iter().all(|&i| p.pristine_in(i, forked_at))) else {
        return Cow::Borrowed(bytes);
    };
    let pristine = |i| pins.pristine_in(i, forked_at);
    Cow::Owned(rewrite(bytes, pins, &pristine))
}

/// The task `bytes` with the `Held` values that are not `pristine` sent by value.
fn rewrite(bytes: &[u8], pins: &PinTable, pristine: &dyn Fn(u32) -> bool) -> Vec<u8> {
    let Ok(mut task) = postcard::from_bytes::<TaskWire>(bytes) else {
        return bytes.to_vec();
    };
    let mut fix = |wire: &mut Wire| replace_held(wire, pins, pristine);
    for (_, captures) in &mut task.closures {
        captures.iter_mut().for_each(&mut fix);
    }
    fix(&mut task.callee);
    task.args.iter_mut().for_each(&mut fix);
    postcard::to_allocvec(&task).unwrap_or_default()
}

/// Replaces the `Held` values in `wire` that the worker lacks. A task's own encoding
/// nests no deeper than `limits::MAX_VALUE_DEPTH`, so recursing is safe.
fn replace_held(wire: &mut Wire, pins: &PinTable, pristine: &dyn Fn(u32) -> bool) {
    match wire {
        Wire::Held(index) if !pristine(*index) => {
            *wire = pins
                .entry(*index)
                .map_or(Wire::Nil, |value| as_pinned(&value, pins));
        }
        Wire::List(items) => items
            .iter_mut()
            .for_each(|item| replace_held(item, pins, pristine)),
        Wire::Map(entries) => entries
            .iter_mut()
            .for_each(|(_, value)| replace_held(value, pins, pristine)),
        _ => {}
    }
}

/// A pinned value as it was at the pin: each container changed since read from its image.
/// Pinned values are plain data no deeper than `limits::MAX_VALUE_DEPTH`.
fn as_pinned(value: &Value, pins: &PinTable) -> Wire {
    match value {
        Value::Nil => Wire::Nil,
        Value::Bool(b) => Wire::Bool(*b),
        Value::Int(n) => Wire::Int(*n),
        Value::Float(x) => Wire::Float(*x),
        Value::Str(s) => Wire::Str(s.to_string()),
        Value::List(list) => {
            let key = key_of(value).unwrap_or_default();
            let items = pins.with_image(key, |image| match image {
                Some(Image::List(items)) => items.clone(),
                _ => list.borrow().to_vec(),
            });
            Wire::List(items.iter().map(|item| as_pinned(item, pins)).collect())
        }
        Value::Map(map) => {
            let key = key_of(value).unwrap_or_default();
            let entries = pins.with_image(key, |image| match image {
                Some(Image::Map(entries)) => entries.clone(),
                _ => crate::values::Entries::clone(&map.borrow()),
            });
            Wire::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), as_pinned(v, pins)))
                    .collect(),
            )
        }
        // Pinned values hold plain data only.
        _ => Wire::Nil,
    }
}
