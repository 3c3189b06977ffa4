//! Methods of pools and tasks (`p.map(f, xs)`, `p.imap(f, xs)`, `p.terminate()`,
//! `t.cancel()`): their implementations, routed from the method table in `methods`.

use crate::builtins::CallSite;
use crate::error::{ErrorKind, R};
use crate::eval::Interp;
use crate::process::pool::{Pool, TaskHandle};
use crate::process::pool_stream::TaskStream;
use crate::values::Value;
use std::rc::Rc;

fn pool_of(target: &Value) -> &Rc<Pool> {
    match target {
        Value::Pool(p) => p,
        _ => unreachable!("the table only routes pools here"),
    }
}

/// The `[args]` list of apply and submit (none: no arguments).
fn task_args(method: &str, args: &[Value], site: &CallSite) -> R<Vec<Value>> {
    match args.get(1) {
        None => Ok(Vec::new()),
        Some(Value::List(items)) => Ok(items.borrow().clone()),
        Some(other) => {
            let ty = other.type_name();
            let diag = ErrorKind::TypeMismatch
                .at(
                    site.arg(1),
                    format!("a task's arguments are a list, not {ty}"),
                    format!("this is {ty}"),
                )
                .with_help(format!(
                    "the arguments go in a list: `p.{}(f, [a, b])` calls f(a, b)",
                    method
                ));
            Err(diag.into())
        }
    }
}

pub(super) fn map(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let calls = Pool::map_calls(&args[1], site.span)?;
    run_all(interp, pool_of(target), &args[0], &calls, "map", site)
}

pub(super) fn starmap(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let calls = Pool::starmap_calls(&args[1], site.span)?;
    run_all(interp, pool_of(target), &args[0], &calls, "starmap", site)
}

/// Runs `callee` with each list of arguments; the results in order. Signal
/// handlers run during the wait (as in every other wait), not after it.
fn run_all(
    interp: &mut Interp,
    pool: &Rc<Pool>,
    callee: &Value,
    calls: &[Vec<Value>],
    what: &str,
    site: &CallSite,
) -> R<Value> {
    let ids = pool.submit_all(interp, callee, calls, site.span)?;
    interp.wait_running_handlers(what, site.span, |this| pool.wait_all(this, &ids, site.span))?;
    pool.results_of(&ids, site.span)
}

pub(super) fn apply(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let task = new_task(interp, "apply", target, args, site, false)?;
    interp.wait_running_handlers("apply", site.span, |this| {
        Pool::join_task(this, &task, None, site.span)
    })
}

pub(super) fn submit(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let task = new_task(interp, "submit", target, args, site, true)?;
    Ok(Value::Task(Rc::new(task)))
}

/// Sends the task `args` ask for (a function and its arguments) to the pool;
/// `cancellable` when a handle may take it back before it starts.
fn new_task(
    interp: &mut Interp,
    method: &str,
    target: &Value,
    args: &[Value],
    site: &CallSite,
    cancellable: bool,
) -> R<TaskHandle> {
    let pool = pool_of(target);
    let call_args = task_args(method, args, site)?;
    let id = pool.submit(interp, &args[0], &call_args, site.span, cancellable)?;
    Ok(TaskHandle {
        pool: pool.clone(),
        id,
    })
}

pub(super) fn close(interp: &mut Interp, target: &Value, _: &[Value], site: &CallSite) -> R<Value> {
    pool_of(target).close(interp, site.span)?;
    Ok(Value::Nil)
}

pub(super) fn terminate(
    interp: &mut Interp,
    target: &Value,
    _: &[Value],
    site: &CallSite,
) -> R<Value> {
    pool_of(target).terminate(interp, site.span)?;
    Ok(Value::Nil)
}

pub(super) fn imap(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    stream(interp, target, args, site, true)
}

pub(super) fn imap_unordered(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    stream(interp, target, args, site, false)
}

/// A task stream; its tasks start when a `for` loop reads it.
fn stream(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
    ordered: bool,
) -> R<Value> {
    let pool = pool_of(target);
    pool.check_usable(interp, &args[0], site.span)?;
    let stream = TaskStream::new(pool, &args[0], &args[1], ordered, site.arg(1))?;
    Ok(Value::TaskStream(Rc::new(stream)))
}

pub(super) fn cancel(
    interp: &mut Interp,
    target: &Value,
    _: &[Value],
    site: &CallSite,
) -> R<Value> {
    let Value::Task(task) = target else {
        unreachable!("the table only routes tasks here")
    };
    task.pool
        .cancel_task(interp, task.id, site.span)
        .map(Value::Bool)
}
