//! How a process of the tree ends: its children joined (or stopped), its pools closed,
//! its error told once (by whoever will report it), and `_exit` for every child.

use crate::error::diagnostic::Diag;
use crate::error::{ErrorKind, Stop, Unwind, R};
use crate::os;
use crate::os::Deadline;
use crate::process::pool::Pool;
use crate::process::waits::Waiting;
use crate::process::wire;
use crate::process::Runner;
use crate::values::Value;
use crate::views::record::Note;
use std::rc::Rc;

/// `join h`, `join pid`, `join task`, `join [..]`, and `join(x, seconds)`.
pub fn join(
    runner: &mut impl Runner,
    target: &Value,
    deadline: Deadline,
    span: crate::front::ast::Span,
) -> R<Value> {
    if let Value::List(items) = target {
        let items = items.borrow().clone();
        let mut results = Vec::with_capacity(items.len());
        for item in &items {
            results.push(join_one(runner, item, deadline, span)?);
        }
        return Ok(Value::list(results));
    }
    join_one(runner, target, deadline, span)
}

fn join_one(
    runner: &mut impl Runner,
    target: &Value,
    deadline: Deadline,
    span: crate::front::ast::Span,
) -> R<Value> {
    match target {
        Value::Task(task) => Pool::join_task(runner, task, deadline.left(), span),
        _ => join_child_serving_pools(runner, target, deadline, span),
    }
}

/// A `join` of a child keeps this process's pools going (tasks handed out,
/// results read), as a queue wait does: the child may wait for a task still
/// held back. Once no pool has work it is one wait (published if untimed).
fn join_child_serving_pools(
    runner: &mut impl Runner,
    target: &Value,
    deadline: Deadline,
    span: crate::front::ast::Span,
) -> R<Value> {
    while Pool::service_all(runner)? {
        let value = runner
            .procs()
            .join_child(target, pool_tick(deadline), span)?;
        // Only a handle's join can give nil; it keeps its result once joined.
        let joined = match target {
            Value::Process(handle) => handle.joined(),
            _ => true,
        };
        if joined || !matches!(value, Value::Nil) || deadline.passed() {
            return Ok(value);
        }
    }
    runner.procs().join_child(target, deadline, span)
}

/// How long a wait may go before it serves its pools again, within `deadline`.
fn pool_tick(deadline: Deadline) -> Deadline {
    Deadline::after(Some(deadline.left().unwrap_or(0.05).min(0.05)))
}

/// `wait()`, keeping this process's pools going as `join` does.
pub fn wait_serving_pools(runner: &mut impl Runner) -> R<Value> {
    while Pool::service_all(runner)? {
        if let Some(ended) = runner.procs().wait_any_now() {
            return Ok(ended);
        }
        os::pause_for_children(0.05);
        os::pending_stop()?;
    }
    runner.procs().wait_any_unmarked()
}

/// A spawned child sends its result, or its whole error, to its parent, then
/// ends. Its parent reports the error; the child reports it itself only when
/// it cannot be sent.
pub fn end_spawned_child(runner: &mut impl Runner, result: R<crate::values::Value>) -> ! {
    let result = match result {
        Ok(value) => match wire::encode_returned(&value) {
            // A stop (SIGTERM, Ctrl-C, --timeout) that came before the
            // report went, or while it waited in the pipe for the parent's
            // join, ends this child by its signal, as it would anywhere
            // else: ended with 0, the child told its parent that a cut
            // report (read as nil) was what it returned.
            Ok(bytes) => os::pending_stop()
                .and_then(|()| {
                    send_report(runner, &bytes);
                    os::pending_stop()
                })
                .map_err(Unwind::from),
            Err(not_sendable) => Err(Unwind::error(
                ErrorKind::NotSendable
                    .at(
                        runner.returned_at(),
                        not_sendable.message(),
                        "returned here",
                    )
                    .with_help(
                        "a spawned function may return nil, bool, int, float, string, list or map",
                    ),
            )),
        },
        Err(unwind) => Err(unwind),
    };
    match end_process(runner, result) {
        Stop::Exit(code) => os::exit_now(code),
        _ => os::exit_now(1),
    }
}

/// Writes the child's report into its pipe; false if there is none or the
/// parent can no longer read it.
fn send_report(runner: &mut impl Runner, bytes: &[u8]) -> bool {
    let procs = runner.procs();
    let Some(pipe) = procs.report_to.take() else {
        return false;
    };
    // One longer than the pipe holds waits for the parent's join: on the
    // board, so that a parent waiting for this child in another way (a get
    // from a queue only this child could put to) is told of the deadlock.
    let may_wait = !os::report_waits_whole(bytes.len());
    if may_wait {
        let name = procs.wait_name();
        procs.waits.publish(Waiting::Reading(os::getppid()), &name);
    }
    let sent = os::write_report(&pipe, bytes).is_ok();
    if may_wait {
        procs.waits.clear();
    }
    sent
}

/// The exit code of a run stopped by `--timeout`, as timeout(1) gives.
pub const TIMEOUT_EXIT: i32 = 124;

/// Ends this process's part of the tree: on a normal end or `exit`, joins
/// the children it has not joined; on an error or a signal, stops them.
/// A child process never returns from here; the root returns how it ended.
pub fn end_process(runner: &mut impl Runner, result: R<()>) -> Stop {
    let mut stop = match result {
        Ok(()) => Stop::Exit(0),
        Err(unwind) => unwind.into_stop(),
    };
    // An error caused by a Ctrl-C or SIGTERM (a child it killed) is the signal's doing.
    if let (Stop::Error(_), Err(sig)) = (&stop, os::pending_stop()) {
        stop = Stop::Signal(sig);
    }
    // A print that found its reader gone ends this process at once, as
    // SIGPIPE ends a shell tool: its children are stopped, not joined (a
    // child that never ends would make the join wait forever).
    let reader_gone =
        matches!(stop, Stop::Exit(crate::process::BROKEN_PIPE_EXIT)) && os::output_is_gone();
    if let (Stop::Exit(_), false) = (&stop, reader_gone) {
        // Pools first: their workers wait for tasks and would never end by themselves.
        if let Err(unwind) = close_all_pools(runner).and_then(|()| runner.procs().join_all()) {
            stop = unwind.into_stop();
        }
        // Children that ended for want of an output reader (`| head`): the
        // tree ends as one process would, quietly with their code.
        if matches!(stop, Stop::Exit(0))
            && runner.procs().a_child_lost_its_reader()
            && os::output_is_gone()
        {
            stop = Stop::Exit(crate::process::BROKEN_PIPE_EXIT);
        }
    }
    let procs = runner.procs();
    if !matches!(stop, Stop::Exit(_)) || reader_gone {
        procs.stop_children();
    }
    // Failures of children nobody joined are told here, once; in a spawn
    // bomb every child hits the limit, and one report of it is enough.
    for diag in procs.untold_failures() {
        if diag.innermost().process_limit && !runner.procs().live.first_limit_report() {
            continue;
        }
        let text = runner.render(&diag);
        let _ = os::write_all(os::StdFd::Err, text.as_bytes());
    }
    let procs = runner.procs();
    // The root's own limit error, when another process has told it already.
    if let Stop::Error(diag) = &mut stop {
        if procs.is_root() && diag.innermost().process_limit && !procs.live.first_limit_report() {
            diag.told = true;
        }
    }
    match &stop {
        Stop::Exit(code) => {
            let code = *code;
            procs.note(|| Note::Ended { code });
        }
        Stop::Error(diag) => {
            let message = diag.message.clone();
            procs.note(|| Note::Failed { message });
        }
        // A signal's end is seen by the parent (waitpid), or below for the root.
        Stop::Signal(sig) if procs.is_root() => {
            // --timeout's SIGALRM ends the run with 124, as the command exits.
            let code = match sig {
                os::Signal::SIGALRM => TIMEOUT_EXIT,
                sig => os::exit_code_for(*sig),
            };
            procs.note(|| Note::Ended { code });
        }
        Stop::Signal(_) => {}
    }
    procs.end_tree();
    if procs.is_root() {
        return stop;
    }
    match stop {
        Stop::Exit(code) => os::exit_now(code),
        Stop::Error(diag) => end_with_error(runner, diag),
        Stop::Signal(sig) => os::die_by_signal(sig),
    }
}

/// A child's uncaught error: sent whole to a spawning parent, which reports
/// it; told here only when no one else will (a forked child, or a parent
/// that can no longer read it).
fn end_with_error(runner: &mut impl Runner, mut diag: Diag) -> ! {
    let procs = runner.procs();
    diag.context = Some(procs.describe_me());
    keep_causes(&mut diag, MAX_CAUSES);
    let spawned = procs.report_to.is_some();
    if spawned && send_report(runner, &wire::encode_failed(&diag)) {
        os::exit_now(1);
    }
    // In a fork bomb every process hits the limit: one report says it. A
    // spawned child whose parent cannot take its report any more has a
    // parent ending with an error of its own, which the root reports.
    if diag.innermost().process_limit && (spawned || !runner.procs().live.first_limit_report()) {
        os::exit_now(1);
    }
    let text = runner.render(&diag);
    let _ = os::write_all(os::StdFd::Err, text.as_bytes());
    os::exit_now(1)
}

/// Causes a report carries at most before the innermost: a chain of children
/// each failing in the next (a recursion of spawns) must not make a report
/// too deep to decode, nor one of hundreds of nested boxes to read.
const MAX_CAUSES: usize = 2;

/// Keeps the first `n` causes and the innermost one (what went wrong at the
/// bottom, with its place), dropping the links between them; the last kept
/// outer level counts the failed processes left out.
fn keep_causes(diag: &mut Diag, n: usize) {
    let depth = std::iter::successors(diag.cause.as_ref(), |d| d.cause.as_ref()).count();
    if depth <= n + 1 {
        return;
    }
    let innermost = diag.innermost().clone();
    let mut level = &mut *diag;
    for _ in 0..n {
        match level.cause {
            Some(ref mut cause) => level = cause,
            None => return,
        }
    }
    let dropped: usize = std::iter::successors(level.cause.as_ref(), |d| d.cause.as_ref())
        .take(depth - n - 1)
        .map(|d| 1 + d.causes_elided)
        .sum();
    level.causes_elided += dropped;
    level.cause = Some(innermost);
}

/// Closes every pool this process made (at the end of the process).
pub(crate) fn close_all_pools(runner: &mut impl Runner) -> R<()> {
    let pools: Vec<Rc<Pool>> = runner.procs().live_pools();
    for pool in pools {
        pool.close(runner, crate::front::ast::Span::default())?;
    }
    Ok(())
}
