//! Files and folders, with errors that name the operation and the path.

use super::args::{expect_str, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os;
use crate::values::Value;

fn file_error(name: &str, path: &str, reason: os::OsError, site: &CallSite) -> Unwind {
    // A call a stop request interrupted (a FIFO nobody writes) ends by the signal.
    if let (os::OsError::File(os::Errno::EINTR), Err(sig)) = (&reason, os::pending_stop()) {
        return sig.into();
    }
    let diag = ErrorKind::Io.at(
        site.span,
        format!("{name}(\"{path}\"): {reason}"),
        "this file operation failed",
    );
    diag.into()
}

pub(super) fn read_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("read_file", args, 0, site)?;
    let bytes = os::read_file_at_most(path, crate::limits::MAX_VALUE_LEN)
        .map_err(|r| file_error("read_file", path, r, site))?;
    if bytes.len() > crate::limits::MAX_VALUE_LEN {
        let diag = ErrorKind::TooLarge.at(
            site.span,
            format!(
                "read_file(\"{path}\"): the file is larger than a string may be ({} bytes)",
                crate::limits::MAX_VALUE_LEN
            ),
            "too large",
        );
        return Err(diag
            .with_help(
                "read it in parts with a program, e.g. capture(\"head\", \"-c\", \"1000\", path)",
            )
            .into());
    }
    String::from_utf8(bytes)
        .map(|text| Value::Str(text.into()))
        .map_err(|_| {
            let diag = ErrorKind::Conversion
                .at(
                    site.span,
                    format!("read_file(\"{path}\"): the file is not UTF-8 text"),
                    "not text",
                )
                .with_help("copy_file and files_equal work on any file");
            Unwind::from(diag)
        })
}

fn write_text(name: &str, append: bool, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str(name, args, 0, site)?;
    let text = args[1].to_display();
    os::write_file(path, text.as_bytes(), append).map_err(|r| file_error(name, path, r, site))?;
    Ok(Value::Nil)
}

pub(super) fn write_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_text("write_file", false, args, site)
}

pub(super) fn append_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_text("append_file", true, args, site)
}

pub(super) fn list_dir(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("list_dir", args, 0, site)?;
    let names = os::list_dir(path).map_err(|r| file_error("list_dir", path, r, site))?;
    Ok(Value::list(names.iter().map(|n| Value::str(n)).collect()))
}

pub(super) fn mkdir(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("mkdir", args, 0, site)?;
    os::make_dir(path).map_err(|r| file_error("mkdir", path, r, site))?;
    Ok(Value::Nil)
}

pub(super) fn copy_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let from = expect_str("copy_file", args, 0, site)?;
    let to = expect_str("copy_file", args, 1, site)?;
    let bytes = os::copy_file(from, to).map_err(|failure| {
        let (role, path, reason) = match failure {
            os::CopyFailure::Source(reason) => ("the source", from, reason),
            os::CopyFailure::Destination(reason) => ("the destination", to, reason),
        };
        let message = format!("copy_file(\"{from}\", \"{to}\"): {role} \"{path}\": {reason}");
        Unwind::from(ErrorKind::Io.at(site.span, message, "this file operation failed"))
    })?;
    Ok(Value::Int(bytes as i64))
}

pub(super) fn is_link(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Bool(os::is_link(expect_str(
        "is_link", args, 0, site,
    )?)))
}

pub(super) fn read_link(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("read_link", args, 0, site)?;
    let target = os::read_link(path).map_err(|r| file_error("read_link", path, r, site))?;
    Ok(Value::str(&target))
}

pub(super) fn remove_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("remove_file", args, 0, site)?;
    os::remove_file(path).map_err(|r| file_error("remove_file", path, r, site))?;
    Ok(Value::Nil)
}

pub(super) fn exists(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Bool(os::path_exists(expect_str(
        "exists", args, 0, site,
    )?)))
}

pub(super) fn is_dir(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Bool(os::is_dir(expect_str(
        "is_dir", args, 0, site,
    )?)))
}

pub(super) fn file_size(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("file_size", args, 0, site)?;
    let size = os::file_size(path).map_err(|r| file_error("file_size", path, r, site))?;
    Ok(Value::Int(size as i64))
}

pub(super) fn files_equal(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let a = expect_str("files_equal", args, 0, site)?;
    let b = expect_str("files_equal", args, 1, site)?;
    let left = os::read_file(a).map_err(|r| file_error("files_equal", a, r, site))?;
    let right = os::read_file(b).map_err(|r| file_error("files_equal", b, r, site))?;
    Ok(Value::Bool(left == right))
}
