//! Locks, events, semaphores, barriers and shared values: making them (`lock()`...) and their methods (`l.acquire()`...), at the ids of their spec in `front::spec`.

use super::args::{expect_int, CallSite};
use super::methods::{published, wait_for, with_pools};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os;
use crate::process::queue::Wait;
use crate::process::sync::{self, Arrived, Broke, Number, SyncError, SyncObject};
use crate::process::waits::Waiting;
use crate::values::Value;
use std::rc::Rc;

// ---------------------------------------------------------------- making them

/// A new object, tracked so that children forked later count as its holders.
fn made(
    interp: &mut Interp,
    what: &str,
    object: Result<SyncObject, String>,
    site: &CallSite,
) -> R<Value> {
    let object = object.map_err(|reason| {
        let message = format!("cannot make a {what}: {reason}");
        Unwind::from(ErrorKind::Os.at(site.span, message, "here"))
    })?;
    let object = Rc::new(object);
    interp.procs.held.track_sync(&object);
    Ok(Value::Sync(object))
}

pub(super) fn lock(interp: &mut Interp, _: &[Value], site: &CallSite) -> R<Value> {
    made(interp, "lock", sync::new_lock(), site)
}

pub(super) fn event(interp: &mut Interp, _: &[Value], site: &CallSite) -> R<Value> {
    made(interp, "event", sync::new_event(), site)
}

/// A count from 1 (0 too when `zero_ok`) to `max`, or an error naming `what`.
fn count(f: &str, args: &[Value], site: &CallSite, min: i64, max: u64, what: &str) -> R<u32> {
    let n = expect_int(f, args, 0, site)?;
    if n < min || n as u64 > max {
        let diag = ErrorKind::InvalidValue.at(
            site.arg(0),
            format!("{what} must be {min} to {max}, not {n}"),
            "out of range",
        );
        return Err(diag.into());
    }
    Ok(n as u32)
}

pub(super) fn semaphore(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let n = count(
        "semaphore",
        args,
        site,
        0,
        i32::MAX as u64,
        "a semaphore's permits",
    )?;
    made(interp, "semaphore", sync::new_semaphore(n), site)
}

pub(super) fn barrier(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let max = sync::TABLE_SLOTS as u64;
    let n = count("barrier", args, site, 1, max, "a barrier's parties")?;
    made(interp, "barrier", sync::new_barrier(n), site)
}

pub(super) fn value(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let initial = match &args[0] {
        Value::Int(n) => Number::Int(*n),
        Value::Float(x) => Number::Float(*x),
        other => return Err(not_a_number("value", 0, other, site)),
    };
    made(interp, "value", sync::new_value(initial), site)
}

/// "a string", "an int".
pub(super) fn a(ty: &str) -> String {
    match ty.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {ty}"),
        _ => format!("a {ty}"),
    }
}

fn not_a_number(f: &str, i: usize, got: &Value, site: &CallSite) -> Unwind {
    let ty = got.type_name();
    let diag = ErrorKind::TypeMismatch
        .at(
            site.arg(i),
            format!("`{f}` shares an int or a float, not {}", a(ty)),
            format!("this is {ty}"),
        )
        .with_help("a shared value holds one number; share other data through a queue");
    diag.into()
}

// ---------------------------------------------------------------- errors

fn object_of(target: &Value) -> &Rc<SyncObject> {
    match target {
        Value::Sync(o) => o,
        _ => unreachable!(
            "the table only routes locks, events, semaphores, barriers and values here"
        ),
    }
}

fn who(pid: i32) -> String {
    if pid == os::current_pid() {
        format!("this process (pid {pid})")
    } else {
        format!("process {pid}")
    }
}

fn sync_error(e: SyncError, call: &str, seconds: Option<&Value>, site: &CallSite) -> Unwind {
    let diag = match e {
        SyncError::Interrupted(sig) => return Unwind::from(sig),
        SyncError::Aborted => unreachable!("answered by the caller"),
        // Only a barrier's wait times out with an error (it broke the barrier).
        SyncError::Timeout => {
            let seconds = seconds.map(Value::to_display).unwrap_or_default();
            ErrorKind::BrokenBarrier
                .at(site.span, format!("{call} timed out after {seconds} seconds: the barrier is broken now"), "timed out")
                .with_help("every other member's wait fails too, as in Python; a barrier that may wait long wants no timeout")
        }
        SyncError::NotHeld(holder) => {
            let message = match holder {
                None => format!("{call}: the lock is not held"),
                Some(pid) => format!("{call}: the lock is held by {}, not this process", who(pid)),
            };
            ErrorKind::NotHeld
                .at(site.span, message, "released here")
                .with_help("only the process that acquired a lock releases it; `l.with(f)` pairs the two")
        }
        SyncError::OverReleased(limit) => ErrorKind::OverReleased
            .at(
                site.span,
                format!("{call} would make more permits free than the {limit} it was made with: it was released more times than acquired"),
                "one release too many",
            )
            .with_help("a semaphore never holds more permits than it was made with (as Python's BoundedSemaphore)"),
        SyncError::Broken(why, by) => {
            let message = match why {
                Broke::TimedOut => format!("the barrier is broken: the wait of {} timed out", who(by)),
                Broke::Left => format!(
                    "the barrier is broken: {} left its wait (an error or a signal ended it)",
                    who(by)
                ),
                Broke::Died => format!("the barrier is broken: {} died while waiting at it", who(by)),
            };
            ErrorKind::BrokenBarrier
                .at(site.span, message, "broken barrier")
                .with_help("a broken barrier stays broken: every wait on it fails at once")
        }
        SyncError::Overflow => ErrorKind::Overflow.at(site.span, format!("{call} overflowed the int range"), "too large"),
    };
    diag.into()
}

/// How a wait is told: its call as errors write it, and its timeout argument.
struct Told<'a> {
    call: &'static str,
    seconds: Option<&'a Value>,
}

/// Runs a wait on an object, recorded for the views as `what` and published
/// (untimed only) as `waiting` for deadlock detection. A signal with a script
/// handler runs the handler and starts the wait again.
fn wait_on<T>(
    interp: &mut Interp,
    what: String,
    wait: Wait,
    waiting: Waiting,
    site: &CallSite,
    told: Told,
    mut op: impl FnMut(crate::process::queue::Idle) -> Result<T, SyncError>,
) -> R<T> {
    interp.wait_running_handlers(&what, site.span, |this| {
        with_pools(this, published(wait, waiting), site.span, &mut op)?
            .map_err(|e| sync_error(e, told.call, told.seconds, site))
    })
}

// ---------------------------------------------------------------- locks

/// How a wait that answers true or false goes: its call as errors write
/// it, the span's words, what it waits for, and the look without waiting.
struct BoolWait {
    call: &'static str,
    /// Made only when the wait begins: a wait that is not needed costs no text.
    what: fn(&SyncObject) -> String,
    waiting: fn(u64) -> Waiting,
    ready: fn(&SyncObject) -> bool,
    wait: fn(&SyncObject, Wait, crate::process::queue::Idle) -> Result<bool, SyncError>,
}

/// `l.acquire(seconds?)`, `s.acquire(seconds?)`, `e.wait(seconds?)`: true at
/// once when `ready`, else after a wait that the views show as a span.
fn bool_wait(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
    how: BoolWait,
) -> R<Value> {
    let object = object_of(target).clone();
    let wait = wait_for(args.first(), site, 0)?;
    if (how.ready)(&object) {
        return Ok(Value::Bool(true));
    }
    let waiting = (how.waiting)(object.id());
    let told = Told {
        call: how.call,
        seconds: None,
    };
    let what = (how.what)(&object);
    wait_on(interp, what, wait, waiting, site, told, |idle| {
        (how.wait)(&object, wait, idle)
    })
    .map(Value::Bool)
}

/// A release's outcome as the script sees it.
fn released(result: Result<(), SyncError>, call: &str, site: &CallSite) -> R<Value> {
    result.map_err(|e| sync_error(e, call, None, site))?;
    Ok(Value::Nil)
}

pub(super) fn lock_acquire(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let how = BoolWait {
        call: "l.acquire()",
        what: |lock| format!("acquire lock held by {}", who(lock.lock_holder())),
        waiting: Waiting::Lock,
        ready: SyncObject::lock_try_acquire,
        wait: SyncObject::lock_acquire,
    };
    bool_wait(interp, target, args, site, how)
}

pub(super) fn lock_release(
    _: &mut Interp,
    target: &Value,
    _: &[Value],
    site: &CallSite,
) -> R<Value> {
    released(object_of(target).lock_release(), "l.release()", site)
}

pub(super) fn lock_locked(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Bool(object_of(target).lock_is_held()))
}

pub(super) fn lock_owner_died(
    _: &mut Interp,
    target: &Value,
    _: &[Value],
    _: &CallSite,
) -> R<Value> {
    Ok(Value::Bool(object_of(target).lock_owner_died()))
}

/// `l.with(f)`: acquire, call, release even when `f` fails.
pub(super) fn lock_with(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    lock_acquire(interp, target, &[], site)?;
    let result = interp.call_value(&args[0], &[], site.arg(0));
    let released = object_of(target).lock_release();
    let value = result?;
    released.map_err(|e| sync_error(e, "l.with(f)", None, site))?;
    Ok(value)
}

// ---------------------------------------------------------------- events

pub(super) fn event_set(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    object_of(target).event_set();
    Ok(Value::Nil)
}

pub(super) fn event_clear(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    object_of(target).event_clear();
    Ok(Value::Nil)
}

pub(super) fn event_is_set(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Bool(object_of(target).event_is_set()))
}

pub(super) fn event_wait(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let how = BoolWait {
        call: "e.wait()",
        what: |_| "wait for event".to_string(),
        waiting: Waiting::Event,
        ready: SyncObject::event_is_set,
        wait: SyncObject::event_wait,
    };
    bool_wait(interp, target, args, site, how)
}

// ---------------------------------------------------------------- semaphores

pub(super) fn semaphore_acquire(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let how = BoolWait {
        call: "s.acquire()",
        what: |_| "acquire semaphore (no permit free)".to_string(),
        waiting: Waiting::Semaphore,
        ready: SyncObject::take_permit,
        wait: SyncObject::semaphore_acquire,
    };
    bool_wait(interp, target, args, site, how)
}

pub(super) fn semaphore_release(
    _: &mut Interp,
    target: &Value,
    _: &[Value],
    site: &CallSite,
) -> R<Value> {
    released(object_of(target).semaphore_release(), "s.release()", site)
}

pub(super) fn semaphore_value(
    _: &mut Interp,
    target: &Value,
    _: &[Value],
    _: &CallSite,
) -> R<Value> {
    Ok(Value::Int(object_of(target).semaphore_value() as i64))
}

// ---------------------------------------------------------------- barriers

pub(super) fn barrier_wait(
    interp: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let barrier = object_of(target).clone();
    let wait = wait_for(args.first(), site, 0)?;
    let told = Told {
        call: "b.wait()",
        seconds: args.first(),
    };
    let arrived = barrier.barrier_arrive();
    let (round, index) = match arrived.map_err(|e| sync_error(e, told.call, None, site))? {
        Arrived::Last(index) => return Ok(Value::Int(index as i64)),
        Arrived::Waiting { round, index } => (round, index),
    };
    let what = format!("wait at barrier of {}", barrier.barrier_parties());
    let waiting = Waiting::Barrier(barrier.id());
    let waited = wait_on(interp, what, wait, waiting, site, told, |idle| {
        barrier.barrier_await(round, index, wait, idle)
    });
    match waited {
        Ok(index) => Ok(Value::Int(index as i64)),
        // A handler that raised, a deadlock, pools that failed: the arrival
        // cannot stay counted, so the barrier breaks (unless it completed).
        Err(unwind) => {
            let _ = barrier.barrier_leave(round, index);
            Err(unwind)
        }
    }
}

// ---------------------------------------------------------------- values

/// An argument as the value's own type: an int value takes ints only, a float value ints or floats.
fn number_for(
    object: &SyncObject,
    f: &str,
    args: &[Value],
    i: usize,
    site: &CallSite,
) -> R<Number> {
    match (&args[i], object.value_is_float()) {
        (Value::Int(n), false) => Ok(Number::Int(*n)),
        (Value::Int(n), true) => Ok(Number::Float(*n as f64)),
        (Value::Float(x), true) => Ok(Number::Float(*x)),
        (other, is_float) => {
            let (holds, ty) = (
                if is_float { "a float" } else { "an int" },
                other.type_name(),
            );
            let diag = ErrorKind::TypeMismatch
                .at(
                    site.arg(i),
                    format!("{f}: this value holds {holds}, not {}", a(ty)),
                    format!("this is {ty}"),
                )
                .with_help("a value keeps the type it was made with: `value(0.0)` for a float");
            Err(diag.into())
        }
    }
}

pub(super) fn from_number(n: Number) -> Value {
    match n {
        Number::Int(n) => Value::Int(n),
        Number::Float(x) => Value::Float(x),
    }
}

pub(super) fn value_get(_: &mut Interp, target: &Value, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(from_number(object_of(target).value_get()))
}

pub(super) fn value_set(
    _: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let object = object_of(target);
    object.value_set(number_for(object, "c.set(v)", args, 0, site)?);
    Ok(Value::Nil)
}

pub(super) fn value_add(
    _: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let object = object_of(target);
    let n = number_for(object, "c.add(n)", args, 0, site)?;
    object
        .value_add(n)
        .map(from_number)
        .map_err(|e| sync_error(e, "c.add(n)", None, site))
}

pub(super) fn value_compare_set(
    _: &mut Interp,
    target: &Value,
    args: &[Value],
    site: &CallSite,
) -> R<Value> {
    let object = object_of(target);
    let old = number_for(object, "c.compare_set(old, new)", args, 0, site)?;
    let new = number_for(object, "c.compare_set(old, new)", args, 1, site)?;
    Ok(Value::Bool(object.value_compare_set(old, new)))
}
