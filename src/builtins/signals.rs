//! Signals a script handles, and who it is: `on_signal` and `name`.

use super::args::CallSite;
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os::{self, Disposition, Unhandleable};
use crate::values::Value;

/// `on_signal(sig, handler | "ignore" | "default")`.
pub(super) fn on_signal(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let Value::Str(name) = &args[0] else {
        return Err(site.wrong_type("on_signal", 0, "a signal name such as \"USR1\"", &args[0]));
    };
    let sig = os::handleable_signal(name).map_err(|why| refusal(name, why, site))?;
    let how = match &args[1] {
        Value::Str(word) if &**word == "ignore" => Disposition::Ignore,
        Value::Str(word) if &**word == "default" => Disposition::Default,
        Value::Str(word) => {
            let diag = ErrorKind::InvalidValue
                .at(
                    site.arg(1),
                    format!("`on_signal` takes a function, \"ignore\" or \"default\", not \"{word}\""),
                    "not a handler",
                )
                .with_help("give a function of one argument (the signal's name), \"ignore\" or \"default\"");
            return Err(diag.into());
        }
        Value::Func(closure) if closure.proto.params.len() != 1 => {
            let proto = &closure.proto;
            let given = proto.params.len();
            let diag = ErrorKind::Arity.at(
                site.arg(1),
                format!(
                    "a signal handler takes 1 argument (the signal's name), but {} takes {given}",
                    proto.describe()
                ),
                "not a handler of one argument",
            );
            return Err(diag.into());
        }
        Value::Func(_) | Value::Builtin(_) | Value::Host(_) => Disposition::Handler,
        other => {
            let wanted = "a function, \"ignore\" or \"default\"";
            return Err(site.wrong_type("on_signal", 1, wanted, other));
        }
    };
    let handler = (how == Disposition::Handler).then(|| args[1].clone());
    interp.set_signal_handler(sig, handler);
    os::set_disposition(sig, how);
    Ok(Value::Nil)
}

/// Why `name` cannot be given to `on_signal`, as the error a user sees.
fn refusal(name: &str, why: Unhandleable, site: &CallSite) -> Unwind {
    let handleable = os::handleable_signal_names().join(", ");
    let diag = match why {
        Unhandleable::ByNoProcess(sig) => ErrorKind::UnhandleableSignal
            .at(
                site.arg(0),
                format!("{} cannot be handled or ignored", os::signal_name(sig)),
                "the kernel acts on it without asking the process",
            )
            .with_help(format!(
                "KILL and STOP always end or stop a process; on_signal handles {handleable}"
            )),
        Unhandleable::Reserved(sig) => ErrorKind::UnhandleableSignal
            .at(
                site.arg(0),
                format!("a script cannot handle {}", os::signal_name(sig)),
                "procscript keeps this signal's meaning",
            )
            .with_help(format!("on_signal handles {handleable}")),
        Unhandleable::Unknown => ErrorKind::InvalidValue
            .at(
                site.arg(0),
                format!("unknown signal \"{name}\""),
                "not a signal name",
            )
            .with_help(format!("on_signal handles {handleable}")),
    };
    diag.into()
}

/// `name()`: "main" in the first process, the spawn's name in a spawned
/// child; a `fork` child keeps its parent's name, as it keeps everything.
pub(super) fn name(interp: &mut Interp, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Str(interp.procs.script_name.clone()))
}
