//! Methods of queues and pools (`q.put(v)`, `p.map(f, xs)`): their implementations, at the ids of their spec in `front::spec`.

use crate::builtins::{joinable, pipes, pool_methods, seconds, sync, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::front::ast::Span;
use crate::front::ir::MethodCall;
use crate::front::spec::{self, check_method_arity};
use crate::os;
use crate::process::pool::Pool;
use crate::process::queue::{Queue, QueueError, Wait};
use crate::process::waits::{Detector, WaitBoard, Waiting};
use crate::process::wire;
use crate::values::Value;
use crate::views::record::Note;
use std::rc::Rc;

type MethodFn = fn(&mut Interp, &Value, &[Value], &CallSite) -> R<Value>;

/// The implementation of every method, at its id in [`spec::methods`] (the
/// type and name are there to be checked against the spec, and to name ids
/// at compile time with [`id_of`]). A `const`, so that `id_of` can read it.
#[rustfmt::skip]
const RUN: &[(&str, &str, MethodFn)] = &[
    ("queue", "put", queue_put),
    ("queue", "get", queue_get),
    ("queue", "try_put", queue_try_put),
    ("queue", "try_get", queue_try_get),
    ("queue", "size", queue_size),
    ("queue", "empty", queue_empty),
    ("queue", "full", queue_full),
    ("queue", "task_done", joinable::queue_task_done),
    ("queue", "join", joinable::queue_join),
    ("queue", "close", joinable::queue_close),
    ("pipe end", "send", pipes::send),
    ("pipe end", "recv", pipes::recv),
    ("pipe end", "poll", pipes::poll),
    ("lock", "acquire", sync::lock_acquire),
    ("lock", "release", sync::lock_release),
    ("lock", "locked", sync::lock_locked),
    ("lock", "with", sync::lock_with),
    ("lock", "owner_died", sync::lock_owner_died),
    ("event", "set", sync::event_set),
    ("event", "clear", sync::event_clear),
    ("event", "is_set", sync::event_is_set),
    ("event", "wait", sync::event_wait),
    ("semaphore", "acquire", sync::semaphore_acquire),
    ("semaphore", "release", sync::semaphore_release),
    ("semaphore", "value", sync::semaphore_value),
    ("barrier", "wait", sync::barrier_wait),
    ("value", "get", sync::value_get),
    ("value", "set", sync::value_set),
    ("value", "add", sync::value_add),
    ("value", "compare_set", sync::value_compare_set),
    ("pool", "map", pool_methods::map),
    ("pool", "apply", pool_methods::apply),
    ("pool", "submit", pool_methods::submit),
    ("pool", "close", pool_methods::close),
    ("pool", "imap", pool_methods::imap),
    ("pool", "imap_unordered", pool_methods::imap_unordered),
    ("pool", "starmap", pool_methods::starmap),
    ("pool", "terminate", pool_methods::terminate),
    ("task", "cancel", pool_methods::cancel),
];

/// The id of method `name` of type `on`, found at compile time (a name not in
/// the table fails the build).
pub const fn id_of(on: &str, name: &str) -> u16 {
    let mut i = 0;
    while i < RUN.len() {
        if same(RUN[i].0, on) && same(RUN[i].1, name) {
            return i as u16;
        }
        i += 1;
    }
    panic!("no such method in the table")
}

/// `a == b`, which a `const fn` cannot write for strings yet.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Calls `target.name(args)`, or explains why there is no such method.
pub fn call(
    interp: &mut Interp,
    target: &Value,
    call: &MethodCall,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let on = target.type_name();
    let id = match call.found.get() {
        // The same type as last time at this call site: the same method.
        Some((seen, id)) if std::ptr::eq(seen, on) => id,
        _ => {
            let Some(id) = spec::method_id(on, &call.name) else {
                return Err(no_method(target, &call.name, call.name_span));
            };
            call.found.set(Some((on, id)));
            id
        }
    };
    check_method_arity(id, args.len(), site.span, call.name_span).map_err(Unwind::error)?;
    if let Value::Relayed(proxy) = target {
        return super::relayed_calls::call(interp, proxy, id, args, site);
    }
    (RUN[id as usize].2)(interp, target, args, site)
}

/// Calls the method with spec id `id` (its arity checked) on `target`: a
/// remote task's call, made by its relay on the real object.
pub fn call_by_id(
    interp: &mut Interp,
    target: &Value,
    id: u16,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let fits = spec::methods()
        .get(id as usize)
        .is_some_and(|m| m.on == target.type_name() && !matches!(target, Value::Relayed(_)));
    if !fits {
        let diag = ErrorKind::NoMethod.at(
            site.span,
            "a remote task called a method its object does not have",
            "here",
        );
        return Err(diag.into());
    }
    check_method_arity(id, args.len(), site.span, site.span).map_err(Unwind::error)?;
    (RUN[id as usize].2)(interp, target, args, site)
}

fn no_method(target: &Value, name: &str, span: Span) -> Unwind {
    let on = target.type_name();
    let own: Vec<&str> = spec::methods()
        .iter()
        .filter(|m| m.on == on)
        .map(|m| m.name)
        .collect();
    let help = if let Some(python) = python_method(on, name) {
        python.to_string()
    } else if let Some(id) = spec::lookup(name) {
        format!(
            "call it as a function: {}",
            spec::all()[id as usize].signature
        )
    } else if !own.is_empty() {
        format!("{} has the methods {}", sync::a(on), own.join(", "))
    } else {
        "methods exist on queues, pools, locks, events, semaphores, barriers and values".to_string()
    };
    let diag = ErrorKind::NoMethod
        .at(
            span,
            format!("{on} has no method `{name}`"),
            "no such method",
        )
        .with_help(help);
    diag.into()
}

/// What procscript writes for a method Python's multiprocessing has.
fn python_method(on: &str, name: &str) -> Option<&'static str> {
    Some(match (on, name) {
        ("process", "join") => "write `join h` (or `join(h, seconds)` to wait at most that long)",
        ("process", "is_alive") => "write `alive(h)`",
        ("process", "terminate") => "write `terminate(h)`",
        ("process", "kill") => "write `kill(h)`, or `kill(h, \"KILL\")`",
        ("pool", "join") => {
            "a pool ends with `p.close()`, which waits for its tasks and ends the workers"
        }
        ("task", "get" | "wait") => "write `join t` for a task's result",
        ("process", "wait") => "write `join h` (`wait()` waits for any child, not this one)",
        // sort and reverse give a new list: `sort(xs)` alone changes nothing.
        ("list", "sort") => "write `xs = sort(xs)`: `sort` gives a new, sorted list",
        ("list", "reverse") => "write `xs = reverse(xs)`: `reverse` gives a new list",
        ("list", "append") => "write `push(xs, v)`",
        ("list", "extend") => "write `xs = xs + more`",
        ("list", "index" | "count") => "loop over the list: `for i in 0..len(xs) { ... }`",
        ("string", "strip") => "write `trim(s)`",
        ("string", "startswith") => "write `starts_with(s, prefix)`",
        ("string", "endswith") => "write `ends_with(s, suffix)`",
        ("string", "join") => "write `join_str(parts, s)`",
        ("string", "format") => "write the values into the string: `\"{x} and {y:.2f}\"`",
        ("map", "items") => "loop over the keys: `for k in keys(m) { let v = m[k] }`",
        _ => return None,
    })
}

// ---------------------------------------------------------------- queues

pub(super) fn queue_of(target: &Value) -> &Rc<Queue> {
    match target {
        Value::Queue(q) => q,
        _ => unreachable!("the table only routes queues here"),
    }
}

/// The wait a `seconds` argument asks for (none given: wait as long as it takes).
pub(super) fn wait_for(arg: Option<&Value>, site: &CallSite, i: usize) -> R<Wait> {
    match arg {
        None => Ok(Wait::Forever),
        Some(v) => {
            let seconds = seconds(v, "a timeout", site.arg(i))?;
            Ok(Wait::Until(os::Deadline::after(Some(seconds))))
        }
    }
}

pub(super) fn queue_error(
    e: QueueError,
    op: &str,
    seconds: Option<&Value>,
    site: &CallSite,
) -> Unwind {
    match e {
        QueueError::Interrupted(sig) => Unwind::from(sig),
        QueueError::Timeout => {
            let (state, what) = if op == "put" {
                ("full", "room")
            } else {
                ("empty", "message")
            };
            let seconds = seconds.map(Value::to_display).unwrap_or_default();
            let diag = ErrorKind::QueueTimeout
                .at(
                    site.span,
                    format!("q.{op} timed out after {seconds} seconds: the queue stayed {state}"),
                    format!("no {what} in time"),
                )
                .with_help(format!(
                    "catch the error to go on, or use q.try_{op} to never wait"
                ));
            diag.into()
        }
        QueueError::Hopeless => {
            let state = if op == "put" { "full" } else { "empty" };
            let diag = ErrorKind::QueueDeadlock
                .at(
                    site.span,
                    format!(
                        "q.{op}() would wait forever: the queue is {state} and no other process that holds it is still running"
                    ),
                    "nobody can answer this",
                )
                .with_help("a process holds a queue when it created it, inherited it through fork or spawn, or received it in a pool task");
            diag.into()
        }
        QueueError::Aborted => unreachable!("handled by the caller"),
        QueueError::Closed | QueueError::TooManyDone => super::joinable::closed_error(e, op, site),
        QueueError::TooLarge(len) => {
            let diag = ErrorKind::TooLarge.at(
                site.arg(0),
                format!(
                    "a message of {len} bytes is larger than a queue holds ({} bytes)",
                    crate::process::queue::QUEUE_BYTES
                ),
                "too large",
            );
            diag.into()
        }
    }
}

pub(super) fn encode(value: &Value, site: &CallSite) -> R<Vec<u8>> {
    encode_as(value, site, "put in a queue", "queue messages")
}

/// A message's bytes; a value that is not plain data is an error saying it
/// cannot be `done` ("put in a queue") and what `messages` may be.
pub(super) fn encode_as(value: &Value, site: &CallSite, done: &str, messages: &str) -> R<Vec<u8>> {
    wire::encode_message(value).map_err(|not_sendable| {
        if not_sendable.type_name == "too large" {
            let message = not_sendable.message();
            return Unwind::from(ErrorKind::TooLarge.at(site.arg(0), message, "too large"));
        }
        let message = not_sendable
            .message()
            .replace("sent to another process", done);
        let diag = ErrorKind::QueueMessage
            .at(site.arg(0), message, "not plain data")
            .with_help(format!(
                "{messages} are nil, bool, int, float, string, list or map"
            ));
        Unwind::from(diag)
    })
}

pub(super) fn decode(bytes: &[u8], site: &CallSite) -> R<Value> {
    wire::decode_message(bytes).ok_or_else(|| {
        let damaged = "a message in the queue could not be read";
        Unwind::from(ErrorKind::QueueMessage.at(site.span, damaged, "damaged message"))
    })
}

/// Runs a queue operation while keeping this process's pools going; an error
/// from the pools (a signal, a worker that cannot be replaced) ends the wait.
/// An untimed wait (`waiting`) is published for deadlock detection while this
/// process has no pool work, and ends in an error if it is found in a cycle.
pub(super) fn with_pools<T, E>(
    interp: &mut Interp,
    waiting: Option<Waiting>,
    span: Span,
    op: impl FnOnce(crate::process::queue::Idle) -> Result<T, E>,
) -> Result<Result<T, E>, Unwind> {
    let mut failure = None;
    // Set up only once the operation has to wait: most puts and gets never
    // do, and they must not pay for a clock read, a name or a board write.
    let mut watch: Option<(Detector, Rc<WaitBoard>, String)> = None;
    let result = op(&mut || {
        let checked = Pool::service_all(interp).and_then(|busy| match waiting {
            Some(waiting) if !busy => {
                let (detector, board, name) = watch.get_or_insert_with(|| {
                    let procs = &interp.procs;
                    (Detector::new(), procs.waits.clone(), procs.wait_name())
                });
                board.publish(waiting, name);
                interp.procs.fail_if_deadlocked(detector, span)?;
                Ok(busy)
            }
            _ => {
                if let Some((detector, board, _)) = watch.as_mut() {
                    board.clear();
                    *detector = Detector::new();
                }
                Ok(busy)
            }
        });
        checked.map_err(|unwind| failure = Some(unwind))
    });
    if let Some((_, board, _)) = &watch {
        board.clear();
    }
    match failure {
        Some(unwind) => Err(unwind),
        None => Ok(result),
    }
}

/// The wait to publish for a queue operation: only an untimed one counts.
pub(super) fn published(wait: Wait, waiting: Waiting) -> Option<Waiting> {
    matches!(wait, Wait::Forever).then_some(waiting)
}

fn queue_put(interp: &mut Interp, target: &Value, args: &[Value], site: &CallSite) -> R<Value> {
    let bytes = encode(&args[0], site)?;
    let wait = wait_for(args.get(1), site, 1)?;
    let queue = queue_of(target).clone();
    let waiting = published(wait, Waiting::Put(queue.id()));
    interp.wait_running_handlers("put", site.span, |this| {
        with_pools(this, waiting, site.span, |idle| {
            queue.put(&bytes, wait, idle)
        })?
        .map_err(|e| queue_error(e, "put", args.get(1), site))
    })?;
    let id = queue.id();
    interp.note(|| Note::Put { queue: id });
    Ok(Value::Nil)
}

fn queue_get(interp: &mut Interp, target: &Value, args: &[Value], site: &CallSite) -> R<Value> {
    let wait = wait_for(args.first(), site, 0)?;
    let queue = queue_of(target).clone();
    let waiting = published(wait, Waiting::Get(queue.id()));
    let got = interp.wait_running_handlers("get", site.span, |this| {
        with_pools(this, waiting, site.span, |idle| queue.get(wait, idle))?
            .map_err(|e| queue_error(e, "get", args.first(), site))
    })?;
    match got {
        Some(bytes) => {
            let id = queue.id();
            interp.note(|| Note::Got { queue: id });
            decode(&bytes, site)
        }
        None => Ok(Value::Nil),
    }
}

fn queue_try_put(_: &mut Interp, target: &Value, args: &[Value], site: &CallSite) -> R<Value> {
    let bytes = encode(&args[0], site)?;
    queue_of(target)
        .put(&bytes, Wait::No, &mut || Ok(false))
        .map(Value::Bool)
        .map_err(|e| queue_error(e, "put", None, site))
}

fn queue_try_get(_: &mut Interp, target: &Value, _: &[Value], site: &CallSite) -> R<Value> {
    match queue_of(target).get(Wait::No, &mut || Ok(false)) {
        Ok(Some(bytes)) => decode(&bytes, site),
        // try_get never fails for want of a message, closed or not.
        Ok(None) | Err(QueueError::Closed) => Ok(Value::Nil),
        Err(e) => Err(queue_error(e, "get", None, site)),
    }
}

fn queue_size(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Int(queue_of(target).size() as i64))
}

fn queue_empty(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Bool(queue_of(target).size() == 0))
}

fn queue_full(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Bool(queue_of(target).is_full()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_method_in_the_spec_has_its_implementation_at_the_same_id() {
        let spec: Vec<(&str, &str)> = super::spec::methods()
            .iter()
            .map(|m| (m.on, m.name))
            .collect();
        let run: Vec<(&str, &str)> = super::RUN
            .iter()
            .map(|(on, name, _)| (*on, *name))
            .collect();
        assert_eq!(spec, run);
    }
}
