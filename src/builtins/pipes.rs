//! Pipes (`pipe()`) and the methods of their ends (`e.send(v)`, `e.recv(seconds?)`, `e.poll(seconds?)`), at the ids of their spec in `front::spec`.

use super::args::CallSite;
use super::methods::{decode, encode_as, published, wait_for, with_pools};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::process::pipe::PipeEnd;
use crate::process::queue::{QueueError, Wait, QUEUE_BYTES};
use crate::process::waits::Waiting;
use crate::values::Value;
use std::rc::Rc;

/// `pipe()`: a list of two connected ends.
pub(super) fn pipe(interp: &mut Interp, _: &[Value], site: &CallSite) -> R<Value> {
    let (first, second) = PipeEnd::pair().map_err(|reason| {
        let diag = ErrorKind::Os.at(site.span, format!("cannot make a pipe: {reason}"), "here");
        Unwind::from(diag)
    })?;
    // Children forked later hold both directions.
    interp.procs.track_queue(&first.send);
    interp.procs.track_queue(&first.recv);
    Ok(Value::list(vec![
        Value::Pipe(Rc::new(first)),
        Value::Pipe(Rc::new(second)),
    ]))
}

fn end_of(target: &Value) -> &Rc<PipeEnd> {
    match target {
        Value::Pipe(end) => end,
        _ => unreachable!("the table only routes pipe ends here"),
    }
}

fn pipe_error(e: QueueError, call: &str, seconds: Option<&Value>, site: &CallSite) -> Unwind {
    let diag = match e {
        QueueError::Interrupted(sig) => return Unwind::from(sig),
        QueueError::Aborted => unreachable!("handled by the caller"),
        QueueError::Timeout => {
            let seconds = seconds.map(Value::to_display).unwrap_or_default();
            ErrorKind::QueueTimeout
                .at(
                    site.span,
                    format!("{call} timed out after {seconds} seconds: nothing was sent"),
                    "no message in time",
                )
                .with_help("catch the error to go on, or ask `e.poll(seconds)` first")
        }
        QueueError::Hopeless | QueueError::Closed => ErrorKind::PipeClosed
            .at(
                site.span,
                format!("{call}: the other end is closed: nothing was sent and no other process that holds the pipe is still running"),
                "nobody can send",
            )
            .with_help("a process holds a pipe when it made it, inherited it through fork or spawn, or received an end in a pool task"),
        QueueError::TooLarge(len) => ErrorKind::TooLarge.at(
            site.arg(0),
            format!("a message of {len} bytes is larger than a pipe carries ({QUEUE_BYTES} bytes)"),
            "too large",
        ),
        QueueError::TooManyDone => unreachable!("pipes mark nothing done"),
    };
    diag.into()
}

/// `e.send(v)`: waits only while 16 MiB of messages wait unreceived.
pub(super) fn send(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let bytes = encode_as(&args[0], site, "sent on a pipe", "pipe messages")?;
    let end = end_of(target).clone();
    let queue = &end.send;
    if queue
        .put(&bytes, Wait::No, &mut || Ok(false))
        .map_err(|e| pipe_error(e, "e.send()", None, site))?
    {
        return Ok(Value::Nil);
    }
    let waiting = published(Wait::Forever, Waiting::Put(queue.id()));
    interp.wait_running_handlers("send on pipe", site.span, |this| {
        with_pools(this, waiting, site.span, |idle| {
            queue.put(&bytes, Wait::Forever, idle)
        })?
        .map_err(|e| pipe_error(e, "e.send()", None, site))
    })?;
    Ok(Value::Nil)
}

/// `e.recv(seconds?)`: the oldest message sent by the other end.
pub(super) fn recv(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let wait = wait_for(args.first(), site, 0)?;
    let queue = &end_of(target).recv;
    let now = queue.get(Wait::No, &mut || Ok(false));
    let got = match now {
        Ok(Some(bytes)) => bytes,
        Err(e) => return Err(pipe_error(e, "e.recv()", args.first(), site)),
        Ok(None) => {
            let waiting = published(wait, Waiting::Recv(queue.id()));
            let got = interp.wait_running_handlers("recv on pipe", site.span, |this| {
                with_pools(this, waiting, site.span, |idle| queue.get(wait, idle))?
                    .map_err(|e| pipe_error(e, "e.recv()", args.first(), site))
            })?;
            got.unwrap_or_default()
        }
    };
    decode(&got, site)
}

/// `e.poll(seconds?)`: whether a message waits; without seconds it answers
/// at once (as Python's `poll()`), with them it waits at most that long.
pub(super) fn poll(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let queue = &end_of(target).recv;
    let wait = match args.first() {
        None => Wait::No,
        Some(_) => wait_for(args.first(), site, 0)?,
    };
    let waits = queue.message_waits();
    if waits || matches!(wait, Wait::No) {
        return Ok(Value::Bool(waits));
    }
    let ready = interp.wait_running_handlers("poll pipe", site.span, |this| {
        with_pools(this, None, site.span, |idle| queue.wait_message(wait, idle))?.or_else(|e| {
            match e {
                QueueError::Timeout => Ok(false),
                e => Err(pipe_error(e, "e.poll()", args.first(), site)),
            }
        })
    })?;
    Ok(Value::Bool(ready))
}
