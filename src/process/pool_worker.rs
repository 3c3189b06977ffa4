//! A pool worker's life: it runs its pool's `init`, then the tasks its pool sends, answers
//! each, and ends when the pool lets it go (or retires after `max_tasks` tasks, or after a
//! task changed a value the pool pinned).

use crate::error::diagnostic::Diag;
use crate::error::{Stop, Unwind, R};
use crate::os;
use crate::process::pool::WorkerSetup;
use crate::process::pool_answer as answer;
use crate::process::pool_slots::TaskSlots;
use crate::process::waits::Waiting;
use crate::process::{ending, Runner};
use crate::values::Value;
use crate::views::record::Note;
use std::os::fd::OwnedFd;

/// A worker's life: run `init`, then tasks until the pool closes its socket.
pub(super) fn worker_main(
    runner: &mut impl Runner,
    socket: OwnedFd,
    setup: &WorkerSetup,
    slots: &TaskSlots,
) -> ! {
    runner.procs().task_socket = Some(socket);
    let owner = os::getppid();
    let init_failed = setup.init.as_ref().and_then(|init| run_init(runner, init));
    let mut ran: u64 = 0;
    loop {
        let (frame, fds) = idle(runner, owner);
        let Some((slot, id, bytes)) = answer::read_task_frame(&frame) else {
            os::exit_now(1)
        };
        if !slots.claim(slot, id) {
            // Taken back before it started: not run, not counted.
            send_answer(runner, &answer::skipped());
            continue;
        }
        ran += 1;
        let procs = runner.procs();
        procs.tasks_run += 1;
        let task = procs.tasks_run;
        procs.note(|| Note::TaskBegan { task });
        let result = match &init_failed {
            // Every task of a worker whose init failed fails with that error.
            Some(diag) => Err(Unwind::from(diag.clone())),
            None => runner.run_task(bytes, fds),
        };
        let result = leave_if_forked(runner, result);
        // Children a task started and did not join are joined before the next task.
        let result = runner.procs().join_all().and(result);
        if let Err(unwind) = &result {
            if unwind.diag().is_none() {
                // exit() or a signal ends the worker itself; the pool sees it die.
                let Err(unwind) = result else { unreachable!() };
                end_now(runner, Err(unwind));
            }
        }
        runner.procs().note(|| Note::TaskEnded { task });
        // A task that changed a pinned value retires its worker: the next task
        // must see the value as it was when the pool was made.
        let retiring = crate::values::pins::worker_table().is_some_and(|t| t.dirty())
            || setup.max_tasks.is_some_and(|max| ran >= max);
        let report = answer::encode(&result, retiring, runner);
        send_answer(runner, &report);
        if retiring {
            retire(runner, owner);
        }
    }
}

/// Sends an answer to the pool; a pool gone away ends the worker.
fn send_answer(runner: &mut impl Runner, report: &[u8]) {
    let sent = match &runner.procs().task_socket {
        Some(socket) => os::send_frame(socket, report, &[]).is_ok(),
        None => false,
    };
    if !sent {
        os::exit_now(0);
    }
}

/// A `fork` in a task (or in `init`) made this copy: it is no worker, and ends
/// here like any forked child, telling its own error.
fn leave_if_forked<T>(runner: &mut impl Runner, result: R<T>) -> R<T> {
    if runner.procs().task_socket.is_some() {
        return result;
    }
    let mut result = result.map(|_| ());
    if let Some(diag) = result.as_mut().err().and_then(Unwind::diag_mut) {
        answer::drop_worker_frame(diag);
    }
    end_now(runner, result);
}

/// Runs the pool's `init` in this new worker. Its error is kept (each task of this
/// worker fails with it, so it is told where a result is awaited, and a worker whose
/// init fails is not restarted in a loop); an `exit()` or a signal ends the worker.
fn run_init(runner: &mut impl Runner, init: &Value) -> Option<Diag> {
    let result = runner.call_function(init);
    let result = leave_if_forked(runner, result);
    let result = runner.procs().join_all().and(result);
    match result {
        Ok(_) => None,
        Err(unwind) => match unwind.diag() {
            Some(diag) => {
                let mut diag = diag.clone();
                answer::drop_worker_frame(&mut diag);
                diag.message = format!("the pool's init failed: {}", diag.message);
                Some(diag)
            }
            None => end_now(runner, Err(unwind)),
        },
    }
}

/// A retiring worker runs no more tasks. It waits, idle, until the pool has
/// read its last answer and lets it go (ending at once, it could lose that
/// answer, or the pool read its end first); tasks sent meanwhile go again.
fn retire(runner: &mut impl Runner, owner: i32) -> ! {
    runner
        .procs()
        .waits
        .publish(Waiting::Task(owner), "pool worker");
    loop {
        match &runner.procs().task_socket {
            Some(socket) => drop(next_task(socket, || false)),
            None => os::exit_now(0),
        }
    }
}

/// Idle between tasks: published as waiting for the owner, for deadlock
/// detection, until the next task comes. A signal with a script handler runs
/// its handler here, as a wait of the script would (not at the next task,
/// which may never come); an error in it ends the worker as an error in a
/// task's code that nothing catches would.
fn idle(runner: &mut impl Runner, owner: i32) -> (Vec<u8>, Vec<OwnedFd>) {
    let waits = runner.procs().waits.clone();
    loop {
        waits.publish(Waiting::Task(owner), "pool worker");
        let next = match &runner.procs().task_socket {
            Some(socket) => next_task(socket, os::handlers_due),
            None => os::exit_now(1),
        };
        waits.clear();
        if let Some(task) = next {
            return task;
        }
        if let Err(unwind) = runner.run_due_handlers() {
            end_now(runner, Err(unwind));
        }
    }
}

/// Idle: waits for the next task, or ends the worker; None once `woken` says
/// the worker has something to do first. SIGTERM or Ctrl-C ends an idle
/// worker by the signal at once (it has no children between tasks); the wake
/// pipe keeps one that came before the wait.
fn next_task(socket: &OwnedFd, woken: fn() -> bool) -> Option<(Vec<u8>, Vec<OwnedFd>)> {
    while !matches!(os::wait_event(&[socket], None), os::Event::Readable(_)) {
        if let Err(sig) = os::pending_stop() {
            os::die_by_signal(sig)
        }
        if woken() {
            return None;
        }
    }
    match os::recv_frame(socket) {
        Ok(Some(frame)) => Some(frame),
        Err(_) if os::pending_stop().is_err() => {
            let sig = os::pending_stop().err().unwrap_or(os::Signal::SIGTERM);
            os::die_by_signal(sig)
        }
        // The pool closed (or the parent died): end quietly.
        _ => os::exit_now(0),
    }
}

/// Ends this process as a child of the tree ends (see [`ending::end_process`]).
fn end_now(runner: &mut impl Runner, result: R<()>) -> ! {
    match ending::end_process(runner, result) {
        Stop::Exit(code) => os::exit_now(code),
        _ => os::exit_now(1),
    }
}
