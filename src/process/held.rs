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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::wire::{decode_task, encode_task};

    fn len_of(v: &Value) -> usize {
        match v {
            Value::List(items) => items.borrow().len(),
            _ => 0,
        }
    }

    #[test]
    fn a_pinned_list_goes_by_index_until_it_changes_and_as_it_was_to_newer_workers() {
        let big = Value::list((0..1000).map(Value::Int).collect());
        let pins = crate::values::pins::pin([&big].into_iter()).expect("large enough to pin");
        let held =
            encode_task(&Value::Builtin(0), std::slice::from_ref(&big), Some(&pins)).unwrap();
        assert_eq!(held.held, vec![0]);
        assert!(held.bytes.len() < 16, "{} bytes", held.bytes.len());
        // Outside a worker no table answers: the index is refused, never trusted.
        let refused = decode_task(&held.bytes, Vec::new(), &[], &[]).unwrap_err();
        assert!(refused.contains("pinned value"), "{refused}");
        if let Value::List(items) = &big {
            items.borrow_mut().push(Value::Nil);
        }
        let copied =
            encode_task(&Value::Builtin(0), std::slice::from_ref(&big), Some(&pins)).unwrap();
        assert!(copied.held.is_empty());
        // A worker forked after the change gets the value as the task was given it.
        assert!(!pins.pristine_in(0, pins.changes()) && pins.pristine_in(0, 0));
        let bytes = for_worker(&held.bytes, &held.held, Some(&pins), pins.changes());
        let (_, args) = decode_task(&bytes, Vec::new(), &[], &[]).unwrap();
        assert_eq!(len_of(&args[0]), 1000);
        assert_eq!(len_of(&big), 1001);
        pins.close();
    }
}
