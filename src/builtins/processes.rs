//! Children, queues and pools: looking at and signalling processes, making queues and pools.

use super::args::{expect_int, CallSite};
use crate::interp::{error, error_help, Interp, R};
use crate::os;
use crate::pool::Pool;
use crate::value::Value;
use std::rc::Rc;

pub(super) fn alive(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    interp
        .procs
        .is_alive(&args[0], site.arg(0))
        .map(Value::Bool)
}

pub(super) fn state(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    interp
        .procs
        .child_state(&args[0], site.arg(0))
        .map(Value::str)
}

pub(super) fn kill(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let sig = match args.get(1) {
        None => os::Signal::SIGTERM,
        Some(Value::Str(name)) => os::signal_by_name(name).ok_or_else(|| {
            error_help(
                format!("unknown signal \"{name}\""),
                site.arg(1),
                "not a signal name",
                format!("signal names: {}", os::signal_names().join(", ")),
            )
        })?,
        Some(other) => {
            return Err(site.wrong_type("kill", 1, "a signal name such as \"TERM\"", other))
        }
    };
    interp
        .procs
        .signal_child(&args[0], sig, site.arg(0))
        .map(Value::Bool)
}

pub(super) fn terminate(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    interp
        .procs
        .signal_child(&args[0], os::Signal::SIGTERM, site.arg(0))
        .map(Value::Bool)
}

pub(super) fn wait(interp: &mut Interp, _: &[Value], _: &CallSite) -> R<Value> {
    interp.procs.wait_any()
}

pub(super) fn children(interp: &mut Interp, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(interp.procs.live_children())
}

pub(super) fn queue(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let max_items = match args.first() {
        None => 0,
        Some(_) => {
            let n = expect_int("queue", args, 0, site)?;
            if n < 1 {
                return Err(error_help(
                    format!("a queue must hold at least 1 item, not {n}"),
                    site.arg(0),
                    "too small",
                    "queue() without a count has no count limit",
                ));
            }
            n as u64
        }
    };
    let queue = crate::queue::Queue::create(max_items)
        .map_err(|reason| error(format!("cannot make a queue: {reason}"), site.span, "here"))?;
    let queue = Rc::new(queue);
    interp.procs.track_queue(&queue);
    Ok(Value::Queue(queue))
}

pub(super) fn pool(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let n = expect_int("pool", args, 0, site)?;
    Pool::start(interp, n, site.arg(0))
}
