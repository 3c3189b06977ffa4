//! Numbers: abs, round, min, max and sum.

use super::args::{expect_list, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::front::ast::Span;
use crate::values::{compare, Value};

/// A whole float as an int, or an error when it is outside the int range.
pub(super) fn float_to_int(x: f64, span: Span) -> R<i64> {
    // 2^63 is exactly representable; everything below it fits.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        Ok(x as i64)
    } else {
        let x = Value::Float(x).to_display();
        let diag = ErrorKind::Conversion.at(
            span,
            format!("cannot convert {x} to an int"),
            "out of the int range",
        );
        Err(diag.into())
    }
}

pub(super) fn abs(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => n.checked_abs().map(Value::Int).ok_or_else(|| {
            let diag = ErrorKind::Overflow.at(
                site.arg(0),
                "integer overflow in `abs`",
                "has no positive int",
            );
            diag.into()
        }),
        Value::Float(x) => Ok(Value::Float(x.abs())),
        other => Err(site.wrong_type("abs", 0, "a number", other)),
    }
}

pub(super) fn round(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Float(x) => float_to_int(x.round(), site.arg(0)).map(Value::Int),
        other => Err(site.wrong_type("round", 0, "a number", other)),
    }
}

fn extreme(name: &str, args: &[Value], site: &CallSite, want: std::cmp::Ordering) -> R<Value> {
    let items: Vec<Value> = match args {
        [Value::List(items)] => items.borrow().clone(),
        _ => args.to_vec(),
    };
    let mut best: Option<Value> = None;
    for item in items {
        best = Some(match best {
            None => item,
            Some(b) => match compare(&item, &b) {
                Some(ord) if ord == want => item,
                Some(_) => b,
                None if crate::values::nan_is_why_unordered(&b, &item) => {
                    let message = format!("`{name}` {}", crate::values::NAN_UNORDERED);
                    return Err(ErrorKind::InvalidValue
                        .at(site.span, message, "nan here")
                        .into());
                }
                None => {
                    // In the order the script gave them.
                    let (a, b) = (b.type_name(), item.type_name());
                    let message = format!("`{name}` cannot compare {a} and {b}");
                    return Err(ErrorKind::TypeMismatch
                        .at(site.span, message, "mixed types")
                        .into());
                }
            },
        });
    }
    best.ok_or_else(|| {
        let message = format!("`{name}` of an empty list");
        ErrorKind::Empty.at(site.arg(0), message, "empty").into()
    })
}

pub(super) fn min(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    extreme("min", args, site, std::cmp::Ordering::Less)
}

pub(super) fn max(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    extreme("max", args, site, std::cmp::Ordering::Greater)
}

pub(super) fn sum(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let items = expect_list("sum", args, 0, site)?.borrow().clone();
    let mut total = Value::Int(0);
    for item in &items {
        total =
            crate::eval::ops::binary(crate::front::ast::BinOp::Add, &total, item).map_err(|e| {
                let diag = e.kind.at(
                    site.arg(0),
                    format!("`sum`: {}", e.message),
                    "the list holds a value that is not a number",
                );
                Unwind::from(diag)
            })?;
    }
    Ok(total)
}
