//! What a value is and conversions between types: len, str, int, float, type.

use super::args::CallSite;
use super::math::float_to_int;
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::values::Value;

pub(super) fn len(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let n = match &args[0] {
        Value::Str(s) => s.chars().count(),
        Value::List(items) => items.borrow().len(),
        Value::Map(entries) => entries.borrow().len(),
        other => return Err(site.wrong_type("len", 0, "a string, list or map", other)),
    };
    Ok(Value::Int(n as i64))
}

pub(super) fn to_str(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(match &args[0] {
        Value::Str(s) => Value::Str(s.clone()),
        other => {
            let text = other.to_display();
            crate::eval::ops::check_len(text.len(), "string").map_err(|e| e.at_plain(site.span))?;
            Value::Str(text.into())
        }
    })
}

pub(super) fn to_int(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Float(x) => float_to_int(x.trunc(), site.arg(0)).map(Value::Int),
        Value::Str(s) => s.trim().parse::<i64>().map(Value::Int).map_err(|_| {
            let message = format!("cannot convert \"{s}\" to an int");
            Unwind::from(ErrorKind::Conversion.at(site.arg(0), message, "not a whole number"))
        }),
        other => Err(site.wrong_type("int", 0, "a number or string", other)),
    }
}

pub(super) fn to_float(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Float(*n as f64)),
        Value::Float(x) => Ok(Value::Float(*x)),
        Value::Str(s) => s.trim().parse::<f64>().map(Value::Float).map_err(|_| {
            let message = format!("cannot convert \"{s}\" to a float");
            Unwind::from(ErrorKind::Conversion.at(site.arg(0), message, "not a number"))
        }),
        other => Err(site.wrong_type("float", 0, "a number or string", other)),
    }
}

pub(super) fn type_of(_: &mut Interp, args: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::str(args[0].type_name()))
}
