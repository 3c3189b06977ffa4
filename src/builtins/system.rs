//! The process's own world: the clock, the environment, raising errors, exit and sleep.

use super::args::{expect_int, expect_str, seconds, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os;
use crate::values::Value;

pub(super) fn time(_: &mut Interp, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Float(os::monotonic_seconds()))
}

pub(super) fn env(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let name = expect_str("env", args, 0, site)?;
    Ok(std::env::var(&**name)
        .map(|v| Value::str(&v))
        .unwrap_or(Value::Nil))
}

pub(super) fn raise(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let message = args[0].to_display();
    Err(ErrorKind::Raised
        .at(site.span, message, "raised here")
        .into())
}

pub(super) fn exit(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let code = match args.first() {
        None => 0,
        Some(_) => expect_int("exit", args, 0, site)?,
    };
    if !(0..=255).contains(&code) {
        let diag = ErrorKind::InvalidValue
            .at(
                site.arg(0),
                format!("exit code {code} is out of range"),
                "not between 0 and 255",
            )
            .with_help("the OS keeps only 8 bits of an exit code");
        return Err(diag.into());
    }
    Err(Unwind::exit(code as i32))
}

pub(super) fn sleep(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let seconds = seconds(&args[0], "the time to sleep", site.arg(0))?;
    // One deadline for the whole sleep, however often a handler interrupts it.
    let deadline = os::Deadline::after(Some(seconds.min(1e9)));
    interp.wait_running_handlers("sleep", site.span, |_| {
        os::sleep_until(deadline);
        Ok(os::pending_stop()?)
    })?;
    Ok(Value::Nil)
}
