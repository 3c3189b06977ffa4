//! Reading the arguments of builtins and methods: where the call stands, the expected types, and the one reading of a number of seconds.

use crate::error::{ErrorKind, Unwind, R};
use crate::front::ast::Span;
use crate::values::{List, Value};
use std::rc::Rc;

/// Where a builtin was called from, for errors that point at an argument.
pub struct CallSite<'a> {
    pub span: Span,
    pub arg_spans: &'a [Span],
}

impl CallSite<'_> {
    pub fn arg(&self, i: usize) -> Span {
        self.arg_spans.get(i).copied().unwrap_or(self.span)
    }

    /// "`len` takes a string, list or map, not int", pointing at argument `i`.
    pub(crate) fn wrong_type(&self, name: &str, i: usize, wanted: &str, got: &Value) -> Unwind {
        let ty = got.type_name();
        let diag = ErrorKind::TypeMismatch.at(
            self.arg(i),
            format!("`{name}` takes {wanted}, not {ty}"),
            format!("this is {ty}"),
        );
        diag.into()
    }
}

pub(super) fn expect_str<'v>(
    name: &str,
    args: &'v [Value],
    i: usize,
    site: &CallSite,
) -> R<&'v Rc<str>> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        other => Err(site.wrong_type(name, i, "a string", other)),
    }
}

pub(super) fn expect_int(name: &str, args: &[Value], i: usize, site: &CallSite) -> R<i64> {
    match &args[i] {
        Value::Int(n) => Ok(*n),
        other => Err(site.wrong_type(name, i, "an int", other)),
    }
}

pub(super) fn expect_list<'v>(
    name: &str,
    args: &'v [Value],
    i: usize,
    site: &CallSite,
) -> R<&'v List> {
    match &args[i] {
        Value::List(items) => Ok(items),
        other => Err(site.wrong_type(name, i, "a list", other)),
    }
}

/// The one reading of a number of seconds (`sleep`, `join(x, seconds)`, the
/// timeouts of queue methods): an int or float, finite, 0 or more. `what`
/// names it in the error: "a timeout", "a sleep".
pub fn seconds(value: &Value, what: &str, span: Span) -> R<f64> {
    let seconds = match value {
        Value::Int(n) => *n as f64,
        Value::Float(x) => *x,
        other => {
            let diag = ErrorKind::TypeMismatch.at(
                span,
                format!(
                    "{what} must be a number of seconds, not {}",
                    other.type_name()
                ),
                "not a valid number of seconds",
            );
            return Err(diag.into());
        }
    };
    if seconds.is_finite() && seconds >= 0.0 {
        return Ok(seconds);
    }
    let diag = ErrorKind::InvalidValue.at(
        span,
        format!(
            "{what} must be a number of seconds, 0 or more, not {}",
            value.to_display()
        ),
        "not a valid number of seconds",
    );
    Err(diag.into())
}
