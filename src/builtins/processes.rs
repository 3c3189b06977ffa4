//! Children, queues and pools: looking at and signalling processes, making queues and pools.

use super::args::{expect_int, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os;
use crate::process::pool::Pool;
use crate::process::pool_tasks::TaskState;
use crate::values::Value;
use std::rc::Rc;

pub(super) fn alive(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    if let Value::Task(task) = &args[0] {
        let state = task.pool.task_state(interp, task.id, site.arg(0))?;
        return Ok(Value::Bool(matches!(
            state,
            TaskState::Queued | TaskState::Running
        )));
    }
    interp
        .procs
        .is_alive(&args[0], site.arg(0))
        .map(Value::Bool)
}

/// `done(h)`: the other side of `alive(h)`, so that a script can tell a
/// `join(h, seconds)` that gave up (`nil`, not done) from a child that returned `nil`.
pub(super) fn done(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    if let Value::Task(_) = &args[0] {
        return alive(interp, args, site)
            .map(|alive| Value::Bool(matches!(alive, Value::Bool(false))));
    }
    interp
        .procs
        .is_alive(&args[0], site.arg(0))
        .map(|alive| Value::Bool(!alive))
}

pub(super) fn state(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    if let Value::Task(task) = &args[0] {
        let state = task.pool.task_state(interp, task.id, site.arg(0))?;
        return Ok(Value::str(state.name()));
    }
    interp
        .procs
        .child_state(&args[0], site.arg(0))
        .map(Value::str)
}

pub(super) fn kill(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let sig = match args.get(1) {
        None => os::Signal::SIGTERM,
        Some(Value::Str(name)) => os::signal_by_name(name).ok_or_else(|| {
            let diag = ErrorKind::InvalidValue
                .at(
                    site.arg(1),
                    format!("unknown signal \"{name}\""),
                    "not a signal name",
                )
                .with_help(format!("signal names: {}", os::signal_names().join(", ")));
            Unwind::from(diag)
        })?,
        Some(other) => {
            return Err(site.wrong_type("kill", 1, "a signal name such as \"TERM\"", other))
        }
    };
    if let Value::Int(pid) = args[0] {
        // The first process's parent (a shell, a test harness) is not the
        // script's: only a child may signal its parent.
        let parent_in_script = pid == os::getppid() as i64 && !interp.procs.is_root();
        if pid == os::getpid() as i64 || parent_in_script {
            return signal_self_or_parent(interp, pid as i32, sig, site);
        }
    }
    interp
        .procs
        .signal_child(&args[0], sig, site.arg(0))
        .map_err(|mut unwind| {
            // Any other pid is refused: a script never signals a process it
            // did not make (a pid may have been reused by an unrelated one).
            if let Some(diag) = unwind.diag_mut().filter(|d| d.kind == ErrorKind::NotAChild) {
                diag.help = Some(
                    "kill signals this process (pid), its own children, and the parent (ppid) \
                     of a child process, never other processes"
                        .into(),
                );
            }
            unwind
        })
        .map(Value::Bool)
}

/// `kill(pid(), sig)` or `kill(ppid(), sig)`: true when it was sent.
fn signal_self_or_parent(
    interp: &mut Interp,
    pid: i32,
    sig: os::Signal,
    site: &CallSite,
) -> R<Value> {
    interp.note(|| crate::views::record::Note::Killed {
        target: pid,
        signal: sig,
    });
    let sent = os::send_signal(pid, sig).map_err(|reason| {
        Unwind::from(ErrorKind::Os.at(site.span, format!("kill failed: {reason}"), "here"))
    })?;
    // A signal to this process itself is handled before the next statement.
    interp.safe_point(site.span)?;
    Ok(Value::Bool(sent))
}

pub(super) fn terminate(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    interp
        .procs
        .signal_child(&args[0], os::Signal::SIGTERM, site.arg(0))
        .map(Value::Bool)
}

pub(super) fn wait(interp: &mut Interp, _: &[Value], site: &CallSite) -> R<Value> {
    interp.wait_running_handlers(
        "wait",
        site.span,
        crate::process::ending::wait_serving_pools,
    )
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
                let diag = ErrorKind::InvalidValue
                    .at(
                        site.arg(0),
                        format!("a queue must hold at least 1 item, not {n}"),
                        "too small",
                    )
                    .with_help("queue() without a count has no count limit");
                return Err(diag.into());
            }
            n as u64
        }
    };
    let queue = crate::process::queue::Queue::create(max_items).map_err(|reason| {
        let diag = ErrorKind::Os.at(site.span, format!("cannot make a queue: {reason}"), "here");
        Unwind::from(diag)
    })?;
    let queue = Rc::new(queue);
    interp.procs.track_queue(&queue);
    Ok(Value::Queue(queue))
}

pub(super) fn pool(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let n = expect_int("pool", args, 0, site)?;
    let setup = super::pool_options::read(args, site)?;
    Pool::start(interp, n, setup, site.arg(0))
}
