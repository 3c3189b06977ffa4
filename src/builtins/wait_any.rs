//! `wait_any(items, seconds?)`: waits until one of several process handles, tasks, queues, pipe ends and events is ready (Python's `multiprocessing.connection.wait`).
//!
//! The items live in different places (the child table, pools, shared
//! memory), so there is no one word to sleep on: the wait looks at every item,
//! then sleeps a tick that grows from 1 to 20 ms (any child's end or a signal
//! cuts it short), keeping this process's pools going in between.

use super::args::CallSite;
use super::methods::wait_for;
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::front::ast::Span;
use crate::os;
use crate::process::pool::Pool;
use crate::process::queue::{Queue, Wait};
use crate::process::sync::Kind;
use crate::process::waits::{Detector, Waiting, MAX_ANY};
use crate::values::Value;

/// The longest sleep between two looks at the items.
const MAX_TICK_S: f64 = 0.02;
/// How often an untimed wait asks whether anyone is left to make an item ready.
const HOPELESS_CHECK_S: f64 = 0.1;

/// The items, checked: each one a kind `wait_any` can wait for.
fn items_of(list: &Value, site: &CallSite) -> R<Vec<Value>> {
    let Value::List(items) = list else {
        let ty = list.type_name();
        let diag = ErrorKind::TypeMismatch
            .at(site.arg(0), format!("wait_any takes a list, not {}", super::sync::a(ty)), format!("this is {ty}"))
            .with_help("write `wait_any([h, q, e])` with the handles, tasks, queues, pipe ends and events to wait for");
        return Err(diag.into());
    };
    let items = items.borrow().clone();
    for item in &items {
        let fits = match item {
            Value::Process(_) | Value::Task(_) | Value::Queue(_) | Value::Pipe(_) => true,
            Value::Sync(object) => object.kind() == Kind::Event,
            _ => false,
        };
        if !fits {
            let ty = item.type_name();
            let what = match item {
                Value::Relayed(_) => format!("the driver's {ty} in a remote task"),
                _ => super::sync::a(ty),
            };
            let diag = ErrorKind::TypeMismatch
                .at(
                    site.arg(0),
                    format!("wait_any cannot wait for {what}"),
                    "in this list",
                )
                .with_help(
                    "wait_any waits for process handles, tasks, queues, pipe ends and events",
                );
            return Err(diag.into());
        }
    }
    Ok(items)
}

/// Whether a queue's `get` (a pipe end's `recv`) would not wait: a message
/// waits, the queue is closed, or (when `look_for_holders`) no other live
/// process holds it, so the get fails at once.
fn queue_ready(queue: &Queue, look_for_holders: bool) -> bool {
    queue.message_waits() || queue.is_closed() || (look_for_holders && !queue.others_alive())
}

/// Whether the item is ready now.
fn ready(interp: &mut Interp, item: &Value, look_for_holders: bool, span: Span) -> R<bool> {
    Ok(match item {
        Value::Process(_) => !interp.procs.is_alive(item, span)?,
        Value::Task(task) => task.pool.task_finished(interp, task.id, span)?,
        Value::Queue(queue) => queue_ready(queue, look_for_holders),
        Value::Pipe(end) => queue_ready(&end.recv, look_for_holders),
        Value::Sync(event) => event.event_is_set(),
        _ => false,
    })
}

/// The items ready now, in the list's order (see `ready` for `look_for_holders`).
fn ready_items(
    interp: &mut Interp,
    items: &[Value],
    look_for_holders: bool,
    span: Span,
) -> R<Vec<Value>> {
    let mut found = Vec::new();
    for item in items {
        if ready(interp, item, look_for_holders, span)? {
            found.push(item.clone());
        }
    }
    Ok(found)
}

/// An unset event that no other live process holds: nobody can set it.
fn nobody_could_set(item: &Value) -> bool {
    match item {
        Value::Sync(event) => !event.others_alive(),
        _ => false,
    }
}

fn hopeless(span: Span) -> Unwind {
    let diag = ErrorKind::Deadlock
        .at(
            span,
            "wait_any() would wait forever: none of its events is set and no other process that holds them is still running",
            "nobody can answer this",
        )
        .with_help("give wait_any a timeout, or set an event before waiting for it");
    diag.into()
}

/// The waits to publish for deadlock detection, one per item, when the wait
/// has no timeout (only untimed waits count); None when an item's wait is not
/// one the board knows (a pool task), or there are too many: then only having
/// nobody left who could make an item ready is checked.
fn published(items: &[Value], wait: Wait) -> Option<Vec<Waiting>> {
    if !matches!(wait, Wait::Forever) || items.len() > MAX_ANY {
        return None;
    }
    items
        .iter()
        .map(|item| match item {
            Value::Queue(q) => Some(Waiting::Get(q.id())),
            Value::Pipe(end) => Some(Waiting::Recv(end.recv.id())),
            Value::Sync(event) => Some(Waiting::Event(event.id())),
            Value::Process(h) => Some(Waiting::Join(h.pid)),
            _ => None,
        })
        .collect()
}

/// `wait_any(items, seconds?)`: the items ready now, in the list's order,
/// waiting until at least one is; `[]` once the timeout passed.
pub(super) fn wait_any(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let items = items_of(&args[0], site)?;
    let wait = wait_for(args.get(1), site, 1)?;
    let waiting = published(&items, wait);
    let result = interp.wait_running_handlers("wait_any", site.span, |this| {
        wait_for_one(this, &items, wait, waiting.clone(), site.span)
    });
    interp.procs.waits.clear();
    result
}

fn wait_for_one(
    interp: &mut Interp,
    items: &[Value],
    wait: Wait,
    waiting: Option<Vec<Waiting>>,
    span: Span,
) -> R<Value> {
    let mut tick: f64 = 0.001;
    let mut detector = Detector::new();
    let mut holders_check = os::Deadline::after(Some(HOPELESS_CHECK_S));
    loop {
        let untimed = matches!(wait, Wait::Forever);
        // A script signal handler may make any item ready: nothing is hopeless then.
        let look = untimed && holders_check.passed() && !os::any_script_handler();
        let found = ready_items(interp, items, look, span)?;
        if !found.is_empty() {
            return Ok(Value::list(found));
        }
        if look {
            // The items are looked at again after their holders: the last one
            // may have set an event and ended since the look above.
            if items.iter().all(nobody_could_set)
                && ready_items(interp, items, false, span)?.is_empty()
            {
                return Err(hopeless(span));
            }
            holders_check = os::Deadline::after(Some(HOPELESS_CHECK_S));
        }
        let left = match wait {
            Wait::Until(deadline) if deadline.passed() => return Ok(Value::list(Vec::new())),
            Wait::Until(deadline) => deadline.left().unwrap_or(0.0),
            _ => f64::INFINITY,
        };
        os::pending_stop().map_err(Unwind::from)?;
        let busy = Pool::service_all(interp)?;
        if let (Some(waiting), false) = (&waiting, busy) {
            let name = interp.procs.wait_name();
            interp.procs.waits.publish_any(waiting, &name);
            interp.procs.fail_if_deadlocked(&mut detector, span)?;
        }
        let nap = if busy { 0.001 } else { tick };
        os::pause_for_children(nap.min(left));
        tick = (tick * 2.0).min(MAX_TICK_S);
    }
}
