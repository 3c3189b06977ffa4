//! Lists and maps: building, reading, ordering and slicing them.

use super::args::{expect_int, expect_list, CallSite};
use crate::error::{ErrorKind, R};
use crate::eval::ops::range_list;
use crate::eval::Interp;
use crate::values::{compare, equals, Counted, Value};

pub(super) fn keys(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Map(m) => Ok(Value::list(
            m.borrow().keys().map(|k| Value::Str(k.clone())).collect(),
        )),
        other => Err(site.wrong_type("keys", 0, "a map", other)),
    }
}

pub(super) fn values(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Map(m) => Ok(Value::list(m.borrow().values().cloned().collect())),
        other => Err(site.wrong_type("values", 0, "a map", other)),
    }
}

pub(super) fn push(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => {
            let len = items.borrow().len();
            crate::eval::ops::check_len(len + 1, "list").map_err(|e| e.at_plain(site.span))?;
            items.borrow_mut().push(args[1].clone());
            Ok(Value::Nil)
        }
        other => Err(site.wrong_type("push", 0, "a list", other)),
    }
}

pub(super) fn pop(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => items.borrow_mut().pop().ok_or_else(|| {
            let empty = "this list is empty";
            ErrorKind::Empty
                .at(site.arg(0), "pop from an empty list", empty)
                .into()
        }),
        other => Err(site.wrong_type("pop", 0, "a list", other)),
    }
}

pub(super) fn contains(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let found = match (&args[0], &args[1]) {
        (Value::List(items), x) => items.borrow().iter().any(|v| equals(v, x)),
        (Value::Map(m), Value::Str(k)) => m.borrow().contains_key(k),
        (Value::Map(_), _) => false,
        (Value::Str(s), Value::Str(part)) => s.contains(&**part),
        (Value::Str(_), other) => {
            return Err(site.wrong_type("contains", 1, "a string to find in a string", other))
        }
        (other, _) => return Err(site.wrong_type("contains", 0, "a list, map or string", other)),
    };
    Ok(Value::Bool(found))
}

pub(super) fn range(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let counted = counted_range(args, site)?;
    if counted.step == 1 {
        let end = counted.at(counted.count);
        return range_list(counted.start, end).map_err(|e| e.at_plain(site.span));
    }
    if counted.count > crate::limits::MAX_LIST_LEN as u64 {
        let too_large = ErrorKind::TooLarge.at(
            site.span,
            "range too large to build as a list",
            format!("{} elements", counted.count),
        );
        return Err(too_large.into());
    }
    Ok(Value::counted(counted))
}

/// The ints of `range(end)` or `range(start, end, step?)`, counted, with no
/// length limit: a task stream given a range reads it without building it.
pub fn counted_range(args: &[Value], site: &CallSite) -> R<Counted> {
    let ints: Vec<i64> = (0..args.len())
        .map(|i| expect_int("range", args, i, site))
        .collect::<R<_>>()?;
    let (start, end, step) = match ints[..] {
        [end] => (0, end, 1),
        [start, end] => (start, end, 1),
        [start, end, step] => (start, end, step),
        _ => unreachable!("arity checked"),
    };
    if step == 0 {
        let zero =
            ErrorKind::InvalidValue.at(site.arg(2), "range step is zero", "the step must not be 0");
        return Err(zero.into());
    }
    // In 128 bits: `end - start` and `k * step` can pass i64's range even
    // when every item fits (range(i64::MIN, i64::MAX, 2**62) has 4).
    let span = if step > 0 {
        end as i128 - start as i128
    } else {
        start as i128 - end as i128
    };
    let count = (span.max(0) as u128).div_ceil(step.unsigned_abs() as u128) as u64;
    Ok(Counted { start, step, count })
}

pub(super) fn get(_: &mut Interp, args: &[Value], _: &CallSite) -> R<Value> {
    let found = match (&args[0], &args[1]) {
        (Value::Map(m), Value::Str(k)) => m.borrow().get(k).cloned(),
        (Value::List(items), Value::Int(i)) => {
            let items = items.borrow();
            let pos = if *i < 0 { *i + items.len() as i64 } else { *i };
            usize::try_from(pos)
                .ok()
                .and_then(|p| items.get(p).cloned())
        }
        _ => None,
    };
    Ok(found.unwrap_or_else(|| args[2].clone()))
}

pub(super) fn sort(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let mut items = expect_list("sort", args, 0, site)?.borrow().clone();
    let mut failed = None;
    items.sort_by(|a, b| {
        compare(a, b).unwrap_or_else(|| {
            let nan = crate::values::nan_is_why_unordered(a, b);
            failed.get_or_insert((a.type_name(), b.type_name(), nan));
            std::cmp::Ordering::Equal
        })
    });
    if let Some((_, _, true)) = failed {
        let nan = ErrorKind::InvalidValue.at(
            site.arg(0),
            format!("`sort` {}", crate::values::NAN_UNORDERED),
            "the list holds nan",
        );
        return Err(nan
            .with_help("nan is the one value not equal to itself: keep the items where x == x")
            .into());
    }
    if let Some((a, b, _)) = failed {
        let mixed = ErrorKind::TypeMismatch.at(
            site.arg(0),
            format!("`sort` cannot compare {a} and {b}"),
            "the list mixes types that have no order",
        );
        return Err(mixed.into());
    }
    Ok(Value::list(items))
}

pub(super) fn reverse(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => Ok(Value::list(items.borrow().iter().rev().cloned().collect())),
        Value::Str(s) => Ok(Value::Str(s.chars().rev().collect::<String>().into())),
        other => Err(site.wrong_type("reverse", 0, "a list or string", other)),
    }
}

/// Clamps Python-style slice bounds (negative counts from the end).
fn bounds(args: &[Value], len: usize, site: &CallSite) -> R<(usize, usize)> {
    let clamp = |i: i64| -> usize {
        let i = if i < 0 { i + len as i64 } else { i };
        i.clamp(0, len as i64) as usize
    };
    let start = clamp(expect_int("slice", args, 1, site)?);
    let end = match args.get(2) {
        None | Some(Value::Nil) => len,
        Some(_) => clamp(expect_int("slice", args, 2, site)?),
    };
    Ok((start, end.max(start)))
}

pub(super) fn slice(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => {
            let items = items.borrow();
            let (start, end) = bounds(args, items.len(), site)?;
            Ok(Value::list(items[start..end].to_vec()))
        }
        Value::Str(s) => {
            let (start, end) = bounds(args, s.chars().count(), site)?;
            Ok(Value::Str(
                s.chars()
                    .skip(start)
                    .take(end - start)
                    .collect::<String>()
                    .into(),
            ))
        }
        other => Err(site.wrong_type("slice", 0, "a list or string", other)),
    }
}
