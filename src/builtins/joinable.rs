//! The joinable side of every queue (`q.task_done()`, `q.join()`, `q.close()`), as Python's JoinableQueue, and its errors.

use super::methods::{published, queue_error, queue_of, wait_for, with_pools};
use crate::builtins::CallSite;
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::process::queue::QueueError;
use crate::process::waits::Waiting;
use crate::values::Value;

/// The errors of a closed queue and of one `task_done` too many.
pub(super) fn closed_error(e: QueueError, op: &str, site: &CallSite) -> Unwind {
    let diag = match e {
        QueueError::TooManyDone => ErrorKind::TaskDoneTooMany
            .at(
                site.span,
                "q.task_done() was called more times than messages were put",
                "one task_done too many",
            )
            .with_help("call q.task_done() once for each message taken with q.get()"),
        _ if op == "put" => ErrorKind::QueueClosed
            .at(site.span, "q.put(): the queue is closed", "put after close")
            .with_help("a closed queue takes no more messages; its getters take what is left"),
        _ => ErrorKind::QueueClosed
            .at(
                site.span,
                format!("q.{op}(): the queue is closed and no message is left"),
                "closed and drained",
            )
            .with_help(
                "catch the error to end a loop of gets: `try { let m = q.get() } catch e { ... }`",
            ),
    };
    diag.into()
}

pub(super) fn queue_task_done(
    _: &mut Interp,
    target: &Value,
    _: &[Value],
    site: &CallSite,
) -> R<Value> {
    queue_of(target)
        .task_done()
        .map_err(|e| closed_error(e, "task_done", site))?;
    Ok(Value::Nil)
}

/// `q.join(seconds?)`: true once every message put is marked done, false
/// when the timeout passed first.
pub(super) fn queue_join(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let queue = queue_of(target).clone();
    let wait = wait_for(args.first(), site, 0)?;
    if queue.unfinished() == 0 {
        return Ok(Value::Bool(true));
    }
    let waiting = published(wait, Waiting::QueueJoin(queue.id()));
    let what = format!("join queue ({} not done)", queue.unfinished());
    let joined = interp.wait_running_handlers(&what, site.span, |this| {
        with_pools(this, waiting, site.span, |idle| queue.join(wait, idle))?.or_else(|e| match e {
            QueueError::Timeout => Ok(false),
            QueueError::Hopeless => Err(hopeless_join(queue.unfinished(), site)),
            e => Err(queue_error(e, "join", args.first(), site)),
        })
    })?;
    Ok(Value::Bool(joined))
}

fn hopeless_join(unfinished: u64, site: &CallSite) -> Unwind {
    let diag = ErrorKind::QueueDeadlock
        .at(
            site.span,
            format!(
                "q.join() would wait forever: {unfinished} {} not marked done and no other process that holds the queue is still running",
                if unfinished == 1 { "message is" } else { "messages are" }
            ),
            "nobody can answer this",
        )
        .with_help("each q.get() wants a q.task_done() once the message is handled");
    diag.into()
}

pub(super) fn queue_close(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    queue_of(target).close();
    Ok(Value::Nil)
}
