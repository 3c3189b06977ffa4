//! Indexing and fields: list, map and string positions, reads and stores.

use crate::error::diagnostic::Diag;
use crate::error::{self, ErrorKind, R};
use crate::front::ast::Span;
use crate::values::Value;
use std::rc::Rc;

pub(super) fn map_key(key: Value, span: Span) -> R<Rc<str>> {
    match key {
        Value::Str(s) => Ok(s),
        other => Err(not_a_key(&other, span).into()),
    }
}

fn not_a_key(key: &Value, span: Span) -> Diag {
    let ty = key.type_name();
    ErrorKind::TypeMismatch
        .at(
            span,
            format!("map keys must be strings, not {ty}"),
            format!("this is {ty}"),
        )
        .with_help("convert the key with str(x)")
}

/// "cannot index int", "cannot assign into nil".
fn not_indexable(what: &str, target: &Value, span: Span) -> Diag {
    error::cannot(what, target.type_name(), span)
}

/// Resolves a possibly negative index against a length.
fn list_position(index: &Value, len: usize, span: Span, what: &str) -> R<usize> {
    let i = match index {
        Value::Int(i) => *i,
        other => {
            let ty = other.type_name();
            let not_int = ErrorKind::TypeMismatch.at(
                span,
                format!("{what} indexes must be ints, not {ty}"),
                format!("indexed with {ty}"),
            );
            return Err(not_int.into());
        }
    };
    let pos = if i < 0 { i + len as i64 } else { i };
    if pos < 0 || pos >= len as i64 {
        return Err(error::out_of_range(i, len, what, span).into());
    }
    Ok(pos as usize)
}

pub(super) fn index_value(target: &Value, index: &Value, span: Span) -> R<Value> {
    match target {
        Value::List(items) => {
            let items = items.borrow();
            let pos = list_position(index, items.len(), span, "list")?;
            // `item`, not `[pos]`: indexing a range does not build it.
            Ok(items.item(pos).unwrap_or_default())
        }
        Value::Map(entries) => {
            let Value::Str(key) = index else {
                return Err(not_a_key(index, span).into());
            };
            let found = entries.borrow().get(key).cloned();
            found.ok_or_else(|| error::missing_key(key, span).into())
        }
        Value::Str(s) => {
            let len = s.chars().count();
            let pos = list_position(index, len, span, "string")?;
            let c = s.chars().nth(pos).expect("position checked");
            Ok(Value::Str(c.to_string().into()))
        }
        other => Err(not_indexable("index", other, span).into()),
    }
}

pub(super) fn store_index(target: &Value, index: Value, value: Value, span: Span) -> R<()> {
    match target {
        Value::List(items) => {
            let len = items.borrow().len();
            let pos = list_position(&index, len, span, "list")?;
            items.borrow_mut()[pos] = value;
            Ok(())
        }
        Value::Map(entries) => {
            let key = map_key(index, span)?;
            entries.borrow_mut().insert(key, value);
            Ok(())
        }
        Value::Str(_) => {
            let immutable = ErrorKind::Immutable
                .at(
                    span,
                    "strings cannot be changed in place",
                    "assigning into a string",
                )
                .with_help("build a new string instead, e.g. with + or replace(s, old, new)");
            Err(immutable.into())
        }
        other => Err(not_indexable("assign into", other, span).into()),
    }
}

pub(super) fn field(target: &Value, name: &str, span: Span) -> R<Value> {
    let help = match target {
        Value::Map(_) => format!("maps have no fields; write m[\"{name}\"]"),
        _ => "fields exist on process handles: pid, name, exitcode".to_string(),
    };
    let no_field = ErrorKind::NoField
        .at(
            span,
            format!("{} has no field `{name}`", target.type_name()),
            "no such field",
        )
        .with_help(help);
    Err(no_field.into())
}
