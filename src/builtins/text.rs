//! Strings: splitting, joining, trimming, case and replacing.

use super::args::{expect_list, expect_str, CallSite};
use crate::error::{ErrorKind, R};
use crate::eval::Interp;
use crate::values::Value;

pub(super) fn split(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("split", args, 0, site)?;
    let parts: Vec<Value> = match args.get(1) {
        None | Some(Value::Nil) => s.split_whitespace().map(Value::str).collect(),
        Some(_) => {
            let sep = expect_str("split", args, 1, site)?;
            if sep.is_empty() {
                let empty = "split with an empty separator";
                return Err(ErrorKind::InvalidValue
                    .at(site.arg(1), empty, "empty")
                    .into());
            }
            let mut chars = sep.chars();
            match (chars.next(), chars.next()) {
                // One character (a newline, a comma): a byte search, much faster.
                (Some(c), None) => s.split(c).map(Value::str).collect(),
                _ => s.split(&**sep).map(Value::str).collect(),
            }
        }
    };
    Ok(Value::list(parts))
}

pub(super) fn join_str(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let items = expect_list("join_str", args, 0, site)?;
    let sep = match args.get(1) {
        Some(_) => expect_str("join_str", args, 1, site)?.to_string(),
        None => String::new(),
    };
    let mut out = String::new();
    for (i, item) in items.borrow().iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        item.write_display(&mut out);
        crate::eval::ops::check_len(out.len(), "string").map_err(|e| e.at_plain(site.span))?;
    }
    Ok(Value::Str(out.into()))
}

pub(super) fn trim(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::str(expect_str("trim", args, 0, site)?.trim()))
}

pub(super) fn upper(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Str(
        expect_str("upper", args, 0, site)?.to_uppercase().into(),
    ))
}

pub(super) fn lower(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Str(
        expect_str("lower", args, 0, site)?.to_lowercase().into(),
    ))
}

pub(super) fn replace(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("replace", args, 0, site)?;
    let old = expect_str("replace", args, 1, site)?;
    let new = expect_str("replace", args, 2, site)?;
    if old.is_empty() {
        let empty = "`replace` of an empty string";
        return Err(ErrorKind::InvalidValue
            .at(site.arg(1), empty, "empty")
            .into());
    }
    let grows = new.len().saturating_sub(old.len()) * s.matches(&**old).count();
    crate::eval::ops::check_len(s.len() + grows, "string").map_err(|e| e.at_plain(site.span))?;
    Ok(Value::Str(s.replace(&**old, new).into()))
}

pub(super) fn starts_with(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("starts_with", args, 0, site)?;
    Ok(Value::Bool(s.starts_with(&**expect_str(
        "starts_with",
        args,
        1,
        site,
    )?)))
}

pub(super) fn ends_with(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("ends_with", args, 0, site)?;
    Ok(Value::Bool(s.ends_with(&**expect_str(
        "ends_with",
        args,
        1,
        site,
    )?)))
}
