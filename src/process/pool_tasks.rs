//! What a script asks of a pool and its tasks: `join`, `map`, `starmap`, `close`,
//! `terminate`, and a task's `cancel`, `state` and `alive`.

use crate::error::{ErrorKind, R};
use crate::front::ast::Span;
use crate::os;
use crate::process::pool::{Needed, Pool, PoolState, TaskHandle, Worker};
use crate::process::Runner;
use crate::values::Value;
use crate::views::record::Note;
use std::rc::Rc;

/// Where a task stands, as `state(t)` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Not started by a worker yet (held by the pool, or sent ahead to a busy worker).
    Queued,
    Running,
    Done,
    Failed,
    /// Taken back before it ran (`t.cancel()`, a `break` out of an imap loop).
    Cancelled,
}

impl TaskState {
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }
}

impl Pool {
    /// A finished task's result, or its failure raised as an error at `span`.
    pub(super) fn task_result(&self, id: u64, span: Span, what: &str) -> R<Value> {
        let mut state = self.state.borrow_mut();
        state.seen.insert(id);
        if state.cancelled.contains(&id) {
            let diag = ErrorKind::TaskCancelled
                .at(span, format!("{what} was cancelled"), "it never ran")
                .with_help("a task taken back by `t.cancel()` (or a `break` out of an imap loop) has no result");
            return Err(diag.into());
        }
        // A remote task's failure names where it ran.
        let on = state
            .places
            .get(&id)
            .map_or(String::new(), |p| format!(" on {p}"));
        match state.results.get(&id) {
            Some(Ok(v)) => Ok(v.clone()),
            Some(Err(failure)) => Err(failure.raise(
                format!("{what} failed{on}: {}", failure.message),
                span,
                "the task ran here",
            )),
            None => Ok(Value::Nil),
        }
    }

    /// `join` of a task handle (with an optional timeout: nil if not done in time).
    pub fn join_task(
        runner: &mut impl Runner,
        task: &TaskHandle,
        timeout: Option<f64>,
        span: Span,
    ) -> R<Value> {
        let pool = &task.pool;
        let id = task.id;
        runner.procs().note(|| Note::WaitBegan {
            what: "join".to_string(),
        });
        let done = pool.check_owner(runner, span).and_then(|()| {
            let deadline = os::Deadline::after(timeout);
            let (done, needed) = (|s: &PoolState| s.results.contains_key(&id), |t| t == id);
            pool.pump(runner, span, deadline, &done, Some(Needed::All(&needed)))
        });
        runner.procs().note(|| Note::WaitEnded);
        if !done? {
            return Ok(Value::Nil);
        }
        pool.task_result(id, span, "the task")
    }

    /// The calls of `p.map(f, items)`: `f(item)` for each item.
    pub fn map_calls(items: &Value, span: Span) -> R<Vec<Vec<Value>>> {
        Ok(list_items("map", items, span)?
            .into_iter()
            .map(|item| vec![item])
            .collect())
    }

    /// The calls of `p.starmap(f, [[a, b], ...])`: `f(a, b)` for each list of arguments.
    pub fn starmap_calls(items: &Value, span: Span) -> R<Vec<Vec<Value>>> {
        let mut calls = Vec::new();
        for (n, item) in list_items("starmap", items, span)?.into_iter().enumerate() {
            match item {
                Value::List(args) => calls.push(args.borrow().clone()),
                other => {
                    let ty = other.type_name();
                    let diag = ErrorKind::TypeMismatch
                        .at(
                            span,
                            format!("starmap takes a list of argument lists; item {n} is {ty}"),
                            "here",
                        )
                        .with_help("`p.starmap(f, [[1, 2], [3, 4]])` calls f(1, 2) and f(3, 4)");
                    return Err(diag.into());
                }
            }
        }
        Ok(calls)
    }

    /// Submits `callee` with each list of arguments (the tasks of a map); their ids.
    pub fn submit_all(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        callee: &Value,
        calls: &[Vec<Value>],
        span: Span,
    ) -> R<Vec<u64>> {
        let mut ids = Vec::with_capacity(calls.len());
        for args in calls {
            ids.push(self.submit(runner, callee, args, span, false)?);
        }
        Ok(ids)
    }

    /// Waits until every task of `ids` has its result. It may be stopped (by a
    /// signal whose script handler then runs) and started again: it takes nothing.
    pub fn wait_all(self: &Rc<Self>, runner: &mut impl Runner, ids: &[u64], span: Span) -> R<()> {
        let done = |s: &PoolState| ids.iter().all(|id| s.results.contains_key(id));
        let needed = |task| ids.contains(&task);
        let deadline = os::Deadline::NEVER;
        self.pump(runner, span, deadline, &done, Some(Needed::All(&needed)))?;
        Ok(())
    }

    /// The results of a map's tasks in order, once all are there; the first
    /// failure (in order) is raised.
    pub fn results_of(&self, ids: &[u64], span: Span) -> R<Value> {
        self.state.borrow_mut().seen.extend(ids.iter().copied());
        let mut results = Vec::with_capacity(ids.len());
        for (n, id) in ids.iter().enumerate() {
            results.push(self.task_result(*id, span, &format!("the task for item {n}"))?);
        }
        let mut state = self.state.borrow_mut();
        for id in ids {
            state.forget(*id);
        }
        Ok(Value::list(results))
    }

    /// Pumps until `done`, recorded as a wait named `what`.
    pub(super) fn wait_until(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        what: &str,
        span: Span,
        done: &dyn Fn(&PoolState) -> bool,
        needed: Needed,
    ) -> R<bool> {
        runner.procs().note(|| Note::WaitBegan {
            what: what.to_string(),
        });
        let result = self.pump(runner, span, os::Deadline::NEVER, done, Some(needed));
        runner.procs().note(|| Note::WaitEnded);
        result
    }

    /// `t.cancel()`: a task no worker has started is taken back (true) and never runs;
    /// one that started, or finished, is left alone (false).
    pub fn cancel_task(self: &Rc<Self>, runner: &mut impl Runner, id: u64, span: Span) -> R<bool> {
        self.check_owner(runner, span)?;
        Ok(self.take_back(id))
    }

    /// Takes a task back if no worker started it: its outcome is "cancelled".
    pub(super) fn take_back(&self, id: u64) -> bool {
        let mut state = self.state.borrow_mut();
        if state.results.contains_key(&id) {
            return false;
        }
        let taken = if let Some(at) = state.waiting.iter().position(|t| t.id == id) {
            state.waiting.remove(at);
            true
        } else {
            // Sent ahead: the worker skips it (not counted toward its
            // `max_tasks`), unless it claimed it first.
            let holder = state.workers.iter_mut().find_map(|w| {
                let slot = w.sent.iter().find(|t| t.id == id)?.slot;
                Some((w, slot))
            });
            match holder {
                Some((worker, slot)) if self.slots.take_back(slot, id) => {
                    worker.taken_back += 1;
                    true
                }
                _ => false,
            }
        };
        if taken {
            state.resend.remove(&id);
            state.cancelled.insert(id);
            state.end_on_purpose(id, "cancelled");
        }
        taken
    }

    /// `state(t)`, after reading the answers already there.
    pub fn task_state(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        id: u64,
        span: Span,
    ) -> R<TaskState> {
        self.check_owner(runner, span)?;
        self.service(runner, span)?;
        let state = self.state.borrow();
        if state.cancelled.contains(&id) {
            return Ok(TaskState::Cancelled);
        }
        match state.results.get(&id) {
            Some(Ok(_)) => return Ok(TaskState::Done),
            Some(Err(_)) => return Ok(TaskState::Failed),
            None => {}
        }
        let sent = state
            .workers
            .iter()
            .flat_map(|w| w.sent.iter())
            .find(|t| t.id == id);
        Ok(match sent {
            Some(t) if self.slots.started(t.slot, id) => TaskState::Running,
            _ => TaskState::Queued,
        })
    }

    /// Reads the answers already there and hands out waiting tasks, without waiting.
    pub(super) fn service(self: &Rc<Self>, runner: &mut impl Runner, span: Span) -> R<()> {
        let now = os::Deadline::passed_already();
        self.pump(runner, span, now, &|_| false, None).map(|_| ())
    }

    /// `p.close()`: finishes the tasks already given, then ends the workers.
    pub fn close(self: &Rc<Self>, runner: &mut impl Runner, span: Span) -> R<()> {
        let state = self.state.borrow();
        if state.inherited || state.terminated || self.owner != runner.procs().me() {
            return Ok(());
        }
        drop(state);
        self.state.borrow_mut().closed = true;
        let done = |s: &PoolState| s.waiting.is_empty() && !s.workers.iter().any(Worker::busy);
        self.wait_until(runner, "close", span, &done, Needed::All(&|_| true))?;
        let pids: Vec<i32> = self
            .state
            .borrow_mut()
            .workers
            .drain(..)
            .map(|w| w.pid())
            .collect();
        // Dropping the sockets above tells each worker to end.
        for pid in pids {
            runner.procs().wait_ending_child(pid)?;
        }
        // Then each remote host's link, with its connection.
        super::remote::pool_side::end_links(self, runner)?;
        if let Some(pins) = &self.pins {
            pins.close();
        }
        self.tell_unseen_failures(runner);
        Ok(())
    }

    /// `p.terminate()`: the workers are stopped now (SIGTERM, then SIGKILL after the
    /// grace period, with their own children); every task not finished fails with
    /// "pool terminated"; no task may be given after it.
    pub fn terminate(self: &Rc<Self>, runner: &mut impl Runner, span: Span) -> R<()> {
        self.check_owner(runner, span)?;
        let (pids, unfinished) = {
            let mut state = self.state.borrow_mut();
            state.closed = true;
            state.terminated = true;
            let mut unfinished: Vec<u64> = state.waiting.drain(..).map(|t| t.id).collect();
            let workers: Vec<Worker> = state.workers.drain(..).collect();
            for worker in &workers {
                unfinished.extend(worker.sent.iter().map(|t| t.id));
            }
            state.resend.clear();
            let mut pids: Vec<i32> = workers.iter().map(Worker::pid).collect();
            pids.extend(super::remote::pool_side::take_link_pids(&mut state));
            (pids, unfinished)
        };
        runner.procs().stop_these(&pids);
        let mut state = self.state.borrow_mut();
        for id in unfinished {
            state.end_on_purpose(id, "pool terminated");
        }
        if let Some(pins) = &self.pins {
            pins.close();
        }
        Ok(())
    }

    /// Failed tasks nobody joined are told once, on stderr, as an unjoined
    /// spawned child's failure is told when its parent ends.
    fn tell_unseen_failures(&self, runner: &mut impl Runner) {
        let untold: Vec<_> = {
            let mut state = self.state.borrow_mut();
            let mut ids: Vec<u64> = state
                .results
                .iter()
                .filter(|(id, result)| result.is_err() && !state.seen.contains(id))
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            state.seen.extend(ids.iter().copied());
            ids.iter()
                .filter_map(|id| match state.results.get(id) {
                    Some(Err(failure)) => failure.cause.clone(),
                    _ => None,
                })
                .collect()
        };
        for diag in untold {
            let text = runner.render(&diag);
            let _ = os::write_all(os::StdFd::Err, text.as_bytes());
        }
    }
}

/// The items of `map`, `starmap` or `imap`: a list, or an error naming the call.
pub(super) fn list_items(what: &str, items: &Value, span: Span) -> R<Vec<Value>> {
    let items = stream_items(what, items, span)?;
    let items = items.borrow();
    Ok(items.to_vec())
}

/// The list itself, which a task stream reads in place; a type error for anything else.
pub(super) fn stream_items(what: &str, items: &Value, span: Span) -> R<crate::values::List> {
    match items {
        Value::List(items) => Ok(items.clone()),
        other => {
            let ty = other.type_name();
            let diag = ErrorKind::TypeMismatch.at(
                span,
                format!("{what} takes a list of items, not {ty}"),
                format!("this is {ty}"),
            );
            Err(diag.into())
        }
    }
}
