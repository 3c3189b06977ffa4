//! Process pools: n workers forked once and reused. Tasks travel over a socket per worker
//! (functions by compiled index, queues as descriptors, large values the pool pinned when
//! it was made by their index: see `values::pins`); a worker that dies is reported and
//! replaced, so a pool never hangs, and one whose task changed a pinned value retires.

use crate::error::{ErrorKind, Unwind, R};
use crate::front::ast::Span;
use crate::os::{self, Event};
use crate::process::pool_slots::TaskSlots;
use crate::process::remote::{self, Launcher};
use crate::process::waits::{Detector, Waiting};
use crate::process::wire::{self, Report};
use crate::process::{held, pool_answer as answer};
use crate::process::{Failure, Forked, NewChild, Runner, BROKEN_PIPE_EXIT};
use crate::values::pins::PinTable;
use crate::values::Value;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// A pool as a script value.
#[derive(Debug)]
pub struct Pool {
    /// The process that made the pool: only it may use it.
    pub owner: i32,
    pub size: usize,
    pub(super) state: RefCell<PoolState>,
    /// The large values that existed when the pool was made (none if there were none).
    pub(super) pins: Option<Rc<PinTable>>,
    /// What each worker does when it starts, and when it retires; where it runs.
    pub(super) setup: WorkerSetup,
    /// Which tasks sent ahead to a worker it has started (the rest can be taken back).
    pub(super) slots: TaskSlots,
}

/// The options of `pool(n, {...})` that shape its workers.
#[derive(Debug, Default, Clone)]
pub struct WorkerSetup {
    /// Called with no arguments in each worker when it starts (`"init"`).
    pub init: Option<Value>,
    /// A worker is replaced after running this many tasks (`"max_tasks"`).
    pub max_tasks: Option<u64>,
    /// Where the workers run when not here (`"on"`: ssh or Slurm).
    pub remote: Option<Launcher>,
}

/// A task submitted with `p.submit`: `join` waits for it.
#[derive(Debug)]
pub struct TaskHandle {
    pub pool: Rc<Pool>,
    pub id: u64,
}

/// Tasks sent ahead to one worker (they wait in its socket): few enough that
/// sending never blocks, and a worker that is busy never holds many.
pub(super) const MAX_AHEAD_TASKS: usize = 32;
const MAX_AHEAD_BYTES: usize = 64 * 1024;

/// An untimed wait's deadlock watch: which tasks it needs, and its checks
/// (made every `DEADLOCK_TICK_MS`).
type Watch<'a> = (Needed<'a>, &'a mut Detector);

/// The tasks an untimed wait needs: every one of them (`join`, `map`), or any one
/// (`imap_unordered`), for deadlock detection.
#[derive(Clone, Copy)]
pub(super) enum Needed<'a> {
    All(&'a dyn Fn(u64) -> bool),
    Any(&'a dyn Fn(u64) -> bool),
}
const DEADLOCK_TICK_MS: i32 = 100;

#[derive(Debug)]
pub(super) struct Worker {
    pid: i32,
    /// The parent's end of the worker's socket.
    pub(super) socket: Option<OwnedFd>,
    /// Tasks sent to it, oldest (the one running) first.
    pub(super) sent: VecDeque<SentTask>,
    /// How many tasks it was sent in all (numbers its slots).
    sends: u64,
    /// How many of those the pool took back before it started them (it skips them).
    pub(super) taken_back: u64,
    /// The compiled functions it knows (those of its parent when forked).
    functions: usize,
    /// The pin table's count of changes when it was forked: it holds the pinned
    /// values that changed later as they were at the pin.
    forked_at: u64,
    /// Its place in the pool (a remote worker's host is chosen by it).
    pub(super) slot: usize,
    /// A remote worker's host and pid there ("h2 (pid 4242)").
    pub(super) place: Option<Rc<str>>,
}

/// A task sent to a worker and not answered yet.
#[derive(Debug, Clone, Copy)]
pub(super) struct SentTask {
    pub(super) id: u64,
    bytes: usize,
    /// Its word in the pool's [`TaskSlots`].
    pub(super) slot: u32,
}

impl Worker {
    pub(super) fn pid(&self) -> i32 {
        self.pid
    }

    pub(super) fn busy(&self) -> bool {
        !self.sent.is_empty()
    }

    /// Can this task be sent to it now without the send blocking? A worker that
    /// retires after `max_tasks` is sent no more than it will run.
    fn has_room(&self, bytes: usize, max_tasks: Option<u64>) -> bool {
        let ahead: usize = self.sent.iter().map(|t| t.bytes).sum();
        let within_life = max_tasks.is_none_or(|max| self.sends - self.taken_back < max);
        within_life
            && (self.sent.is_empty()
                || (self.sent.len() < MAX_AHEAD_TASKS && ahead + bytes <= MAX_AHEAD_BYTES))
    }
}

pub(super) struct Pending {
    pub(super) id: u64,
    bytes: Vec<u8>,
    /// Keeps the descriptors of its queues, locks... open until the task is sent.
    carried: wire::Carried,
    /// The pinned values the task names.
    held: Vec<u32>,
    /// Its handle may take it back (`submit`, `imap`): see `remote::held_slot`.
    cancellable: bool,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pending({})", self.id)
    }
}

#[derive(Debug, Default)]
pub(super) struct PoolState {
    pub(super) workers: Vec<Worker>,
    pub(super) waiting: VecDeque<Pending>,
    /// Finished tasks: the result, or why there is none.
    pub(super) results: HashMap<u64, Result<Value, Failure>>,
    /// When each finished task finished (a count), for `imap_unordered`.
    pub(super) finished_at: HashMap<u64, u64>,
    finished: u64,
    /// Tasks taken back before they ran (`t.cancel()`, a `break` out of an imap loop).
    pub(super) cancelled: std::collections::HashSet<u64>,
    /// Tasks whose result someone has seen (`join`, `apply`, `map`); a failed
    /// task not among them is told when the pool closes.
    pub(super) seen: std::collections::HashSet<u64>,
    /// Copies of tasks sent but not answered, to resend if their worker dies first.
    pub(super) resend: HashMap<u64, Pending>,
    next_id: u64,
    pub(super) closed: bool,
    /// `p.terminate()` ended the workers: no task runs any more.
    pub(super) terminated: bool,
    /// Copied into another process by fork: its workers are not ours.
    pub(super) inherited: bool,
    /// Remote pools: how often each task was sent again after its worker was
    /// lost, and where a failed task ran (its error names the host).
    pub(super) retries: HashMap<u64, u32>,
    pub(super) places: HashMap<u64, Rc<str>>,
    /// Remote pools: the link to each host (by its index), and the hosts
    /// that could not be reached again after their link was lost.
    pub(super) links: HashMap<usize, remote::pool_side::LinkProc>,
    pub(super) gone_hosts: std::collections::HashSet<usize>,
}

impl PoolState {
    /// Records a task's outcome (the first one told: a task taken back stays so).
    pub(super) fn finish(&mut self, id: u64, outcome: Result<Value, Failure>) {
        if self.results.contains_key(&id) {
            return;
        }
        self.finished += 1;
        self.finished_at.insert(id, self.finished);
        self.results.insert(id, outcome);
    }

    /// Fails a task the script ended on purpose (cancelled, terminated): `join`
    /// tells it, and it is not told again when the pool ends.
    pub(super) fn end_on_purpose(&mut self, id: u64, message: &str) {
        let failure = Failure {
            message: message.to_string(),
            cause: None,
            broken_pipe: false,
        };
        self.finish(id, Err(failure));
        self.seen.insert(id);
    }

    /// Forgets a finished task whose result was handed out (a map's, a stream's).
    pub(super) fn forget(&mut self, id: u64) {
        self.results.remove(&id);
        self.finished_at.remove(&id);
        self.seen.remove(&id);
    }
}

impl Pool {
    /// In a forked child: forget the parent's workers and close our copies of their sockets.
    pub fn forget_in_child(&self) {
        let mut state = self.state.borrow_mut();
        state.inherited = true;
        state.workers.clear();
        state.links.clear();
        state.waiting.clear();
        state.resend.clear();
    }

    /// Ctrl-C stopped the entry that gave these tasks (and the workers with
    /// it): the tasks not yet done are dropped, not run by the next use of the
    /// pool; a `join` of one raises that it was cancelled.
    pub fn cancel_unfinished(&self) {
        let mut state = self.state.borrow_mut();
        let mut cancelled: Vec<u64> = state.waiting.drain(..).map(|task| task.id).collect();
        for worker in &mut state.workers {
            cancelled.extend(worker.sent.drain(..).map(|t| t.id));
        }
        state.resend.clear();
        for id in cancelled {
            state.finish(
                id,
                Err(Failure {
                    message: "cancelled: Ctrl-C stopped the entry that gave it".to_string(),
                    cause: None,
                    broken_pipe: false,
                }),
            );
        }
    }
}

impl Pool {
    /// `pool(n, options)`: starts n workers.
    pub fn start(runner: &mut impl Runner, size: i64, setup: WorkerSetup, span: Span) -> R<Value> {
        if !(1..=1024).contains(&size) {
            let diag = ErrorKind::InvalidValue.at(
                span,
                format!("a pool needs 1 to 1024 workers, not {size}"),
                "out of range",
            );
            return Err(diag.into());
        }
        let pool = Rc::new(Pool {
            owner: runner.procs().me(),
            size: size as usize,
            state: RefCell::new(PoolState::default()),
            // Remote workers hold nothing of this process: every value goes by
            // value, and a task sent is a task started.
            pins: setup
                .remote
                .is_none()
                .then(|| runner.pin_values())
                .flatten(),
            // A remote worker's relay claims each task for it (see `remote::launcher`).
            slots: TaskSlots::new(size as usize),
            setup,
        });
        runner.procs().pools.push(Rc::downgrade(&pool));
        for slot in 0..size as usize {
            match pool.start_worker(runner, slot, span) {
                Ok(worker) => pool.state.borrow_mut().workers.push(worker),
                Err(e) => {
                    pool.close(runner, span).ok();
                    return Err(e);
                }
            }
        }
        // Remote workers start at once, over one connection a host: then
        // each says whether it serves.
        if pool.setup.remote.is_some() {
            if let Err(e) = remote::pool_side::await_all(&pool, runner, span) {
                pool.close(runner, span).ok();
                return Err(e);
            }
        }
        Ok(Value::Pool(pool))
    }

    pub(super) fn check_owner(&self, runner: &mut impl Runner, span: Span) -> R<()> {
        if self.owner != runner.procs().me() || self.state.borrow().inherited {
            let diag = ErrorKind::NotPoolOwner
                .at(span, "this pool belongs to another process", "not usable here")
                .with_help(
                    "a pool can only be used by the process that made it; make one with pool(n) here",
                );
            return Err(diag.into());
        }
        Ok(())
    }

    /// Whether task `id` has finished (done or failed) by the last service of
    /// the pool (`wait_any`); an error in a process that does not own the pool.
    pub fn task_finished(&self, runner: &mut impl Runner, id: u64, span: Span) -> R<bool> {
        self.check_owner(runner, span)?;
        Ok(self.state.borrow().results.contains_key(&id))
    }

    /// Queues a task; it goes to a worker as soon as one is free. A
    /// `cancellable` one has a handle that may take it back before it starts.
    pub fn submit(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        callee: &Value,
        args: &[Value],
        span: Span,
        cancellable: bool,
    ) -> R<u64> {
        self.check_usable(runner, callee, span)?;
        let task =
            wire::encode_task(callee, args, self.pins.as_deref()).map_err(|not_sendable| {
                let diag = ErrorKind::NotSendable
                    .at(span, not_sendable.message(), "in this task")
                    .with_help("a pool task may carry plain values, functions, queues, locks, events, semaphores, barriers and values");
                Unwind::from(diag)
            })?;
        if self.setup.remote.is_some() {
            remote::pool_side::check_task(&task.bytes, span)?;
        }
        let id = {
            let mut state = self.state.borrow_mut();
            state.next_id += 1;
            let id = state.next_id;
            state.waiting.push_back(Pending {
                id,
                bytes: task.bytes,
                carried: task.carried,
                held: task.held,
                cancellable,
            });
            id
        };
        self.dispatch(runner, span)?;
        Ok(id)
    }

    /// Whether this process may give the pool a task that calls `callee`: it made the
    /// pool, which is neither closed nor terminated, and `callee` is a function.
    pub fn check_usable(&self, runner: &mut impl Runner, callee: &Value, span: Span) -> R<()> {
        self.check_owner(runner, span)?;
        if self.state.borrow().terminated {
            let diag = ErrorKind::PoolClosed
                .at(
                    span,
                    "the pool was terminated",
                    "no new tasks after terminate()",
                )
                .with_help("make a new pool with pool(n)");
            return Err(diag.into());
        }
        if self.state.borrow().closed {
            let diag =
                ErrorKind::PoolClosed.at(span, "the pool is closed", "no new tasks after close()");
            return Err(diag.into());
        }
        if !matches!(callee, Value::Func(_) | Value::Builtin(_) | Value::Host(_)) {
            let ty = callee.type_name();
            let diag = ErrorKind::NotCallable.at(
                span,
                format!("a pool runs functions, not {ty}"),
                format!("this is {ty}"),
            );
            return Err(diag.into());
        }
        Ok(())
    }

    /// Sends waiting tasks ahead to the least loaded workers with room, so
    /// workers keep going while this process does other things; replaces
    /// workers found dead.
    pub(super) fn dispatch(self: &Rc<Self>, runner: &mut impl Runner, span: Span) -> R<()> {
        let known = runner.functions_known();
        let max_tasks = self.setup.max_tasks;
        loop {
            self.refresh_stale_workers(runner, known, span)?;
            let (worker_index, pending) = {
                let mut state = self.state.borrow_mut();
                let Some(front) = state.waiting.front() else {
                    return Ok(());
                };
                let bytes = front.bytes.len();
                let Some(i) = (0..state.workers.len())
                    .filter(|&i| state.workers[i].functions >= known)
                    .filter(|&i| state.workers[i].has_room(bytes, max_tasks))
                    .min_by_key(|&i| state.workers[i].sent.len())
                else {
                    return Ok(());
                };
                (i, state.waiting.pop_front().expect("front exists"))
            };
            let sent = {
                let state = self.state.borrow();
                let worker = &state.workers[worker_index];
                let fds = pending.carried.fds();
                pending.carried.register(worker.pid);
                let pins = self.pins.as_deref();
                let bytes = held::for_worker(&pending.bytes, &pending.held, pins, worker.forked_at);
                let slot = self.slots.mark_sent(worker_index, worker.sends, pending.id);
                let held = self.setup.remote.is_some() && pending.cancellable;
                let frame = answer::task_frame(remote::held_slot(slot, held), pending.id, &bytes);
                let sent = worker
                    .socket
                    .as_ref()
                    .is_some_and(|s| os::send_frame(s, &frame, fds).is_ok());
                sent.then_some(slot)
            };
            if let Some(slot) = sent {
                let mut state = self.state.borrow_mut();
                let worker = &mut state.workers[worker_index];
                worker.sends += 1;
                worker.sent.push_back(SentTask {
                    id: pending.id,
                    bytes: pending.bytes.len(),
                    slot,
                });
                state.resend.insert(pending.id, pending);
            } else {
                // The task goes back first: a signal that gave the send up
                // may be a script handler's, after which the wait goes on.
                self.state.borrow_mut().waiting.push_front(pending);
                // A stop request gave the send up (the worker stopped, its socket full).
                os::pending_stop()?;
                // The worker is gone: replace it.
                self.worker_died(runner, worker_index, span)?;
            }
        }
    }

    /// At the prompt, an entry may define functions after the pool's workers
    /// were forked: an idle worker that does not know them all is ended and
    /// forked again (a busy one is, once its tasks are done), so that a pool
    /// runs any function, as it does in a script.
    fn refresh_stale_workers(&self, runner: &mut impl Runner, known: usize, span: Span) -> R<()> {
        if self.state.borrow().waiting.is_empty() {
            return Ok(());
        }
        let stale: Vec<usize> = {
            let state = self.state.borrow();
            (0..state.workers.len())
                .filter(|&i| state.workers[i].functions < known && !state.workers[i].busy())
                .collect()
        };
        for i in stale {
            let pid = {
                let mut state = self.state.borrow_mut();
                // Dropping its socket tells the worker to end.
                state.workers[i].socket = None;
                state.workers[i].pid
            };
            runner.procs().wait_ending_child(pid)?;
            let slot = self.state.borrow().workers[i].slot;
            let replacement = self.start_worker(runner, slot, span)?;
            self.state.borrow_mut().workers[i] = replacement;
        }
        Ok(())
    }

    /// The workers that have a task sent to them (not idle, whatever they publish).
    pub(crate) fn busy_worker_pids(&self) -> Vec<i32> {
        let state = self.state.borrow();
        state
            .workers
            .iter()
            .filter(|w| w.busy())
            .map(|w| w.pid)
            .collect()
    }

    /// Collects what finished and hands out waiting tasks, without waiting.
    /// Called while this process waits on something else (a queue), so its
    /// pools keep running. Returns whether any pool still has work.
    pub(crate) fn service_all(runner: &mut impl Runner) -> R<bool> {
        let pools = runner.procs().live_pools();
        let me = runner.procs().me();
        let mut busy = false;
        for pool in pools {
            if pool.owner != me || pool.state.borrow().inherited {
                continue;
            }
            pool.pump(
                runner,
                Span::default(),
                os::Deadline::passed_already(),
                &|_| false,
                None,
            )?;
            let state = pool.state.borrow();
            busy |= !state.waiting.is_empty() || state.workers.iter().any(Worker::busy);
        }
        Ok(busy)
    }

    /// A worker died: the task it was running fails with how it died, the
    /// tasks waiting behind it go back to be sent again, and a new worker
    /// takes its place.
    pub(super) fn worker_died(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        i: usize,
        span: Span,
    ) -> R<()> {
        self.worker_ended(runner, i, false, span)
    }

    /// A worker ended: dead (the task it was running fails), or retired after
    /// its last answer (`retired`: every task sent to it goes again). The tasks
    /// waiting behind go back to be sent again, and a new worker takes its place.
    fn worker_ended(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        i: usize,
        retired: bool,
        span: Span,
    ) -> R<()> {
        let (pid, sent) = {
            let mut state = self.state.borrow_mut();
            let worker = &mut state.workers[i];
            worker.socket = None;
            (worker.pid, std::mem::take(&mut worker.sent))
        };
        if self.setup.remote.is_some() {
            return remote::pool_side::worker_lost(self, runner, i, sent, span);
        }
        let (how, broken_pipe) = self.replace_worker(runner, i, span)?;
        let mut state = self.state.borrow_mut();
        let mut sent = sent.into_iter().peekable();
        if let Some(running) = sent.next_if(|_| !retired).map(|t| t.id) {
            state.finish(
                running,
                Err(Failure {
                    message: format!(
                        "pool worker {pid} {how} while running this task; \
                         a new worker took its place"
                    ),
                    cause: None,
                    broken_pipe,
                }),
            );
        }
        // Not started yet: resend them, in their order, ahead of newer tasks.
        let resend: Vec<u64> = sent.map(|t| t.id).collect();
        for id in resend.into_iter().rev() {
            if let Some(task) = state.resend.remove(&id) {
                state.waiting.push_front(task);
            }
        }
        Ok(())
    }

    /// Reaps a dead worker and starts another in its place; returns how it
    /// died, and whether that was for want of an output reader.
    fn replace_worker(&self, runner: &mut impl Runner, i: usize, span: Span) -> R<(String, bool)> {
        let pid = self.state.borrow().workers[i].pid;
        let status = runner.procs().wait_child_status(pid)?;
        let broken_pipe = status == Some(os::ExitStatus::Exited(BROKEN_PIPE_EXIT));
        let how = match status {
            Some(os::ExitStatus::Signaled(sig)) => {
                format!("was killed by {}", os::signal_name(sig))
            }
            Some(os::ExitStatus::Exited(code)) => format!("exited with code {code}"),
            None => "ended".to_string(),
        };
        let slot = self.state.borrow().workers[i].slot;
        let replacement = self.start_worker(runner, slot, span)?;
        self.state.borrow_mut().workers[i] = replacement;
        Ok((how, broken_pipe))
    }

    /// Reads results until `done` holds, or the deadline passes (Ok(false)). An untimed
    /// wait is published as a join of the worker holding a `needed` task (`blocking_worker`).
    pub(super) fn pump(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        span: Span,
        deadline: os::Deadline,
        done: &dyn Fn(&PoolState) -> bool,
        needed: Option<Needed>,
    ) -> R<bool> {
        let Some(needed) = needed.filter(|_| deadline.is_never()) else {
            return self.pump_inner(runner, span, deadline, done, None);
        };
        let mut detector = Detector::new();
        let result = self.pump_inner(runner, span, deadline, done, Some((needed, &mut detector)));
        runner.procs().waits.clear();
        result
    }

    fn pump_inner(
        self: &Rc<Self>,
        runner: &mut impl Runner,
        span: Span,
        deadline: os::Deadline,
        done: &dyn Fn(&PoolState) -> bool,
        mut watch: Option<Watch>,
    ) -> R<bool> {
        loop {
            self.dispatch(runner, span)?;
            if self.state.borrow().workers.is_empty() {
                // Remote workers all lost: what waits fails, never hangs.
                remote::pool_side::fail_waiting(&mut self.state.borrow_mut());
            }
            if done(&self.state.borrow()) {
                return Ok(true);
            }
            if let Some((needed, _)) = &watch {
                let procs = runner.procs();
                match self.blocking_wait(*needed) {
                    Some(wait) => procs.waits.publish(wait, &procs.wait_name()),
                    None => procs.waits.clear(),
                }
            }
            let busy: Vec<usize> = self
                .state
                .borrow()
                .workers
                .iter()
                .enumerate()
                .filter(|(_, w)| w.busy() && w.socket.is_some())
                .map(|(i, _)| i)
                .collect();
            // A deadline already passed still gets one look at what is ready;
            // an untimed wait wakes every tick to look for a deadlock.
            let left = match watch {
                Some(_) => Some(DEADLOCK_TICK_MS),
                None => deadline.left_ms(),
            };
            let event = {
                let state = self.state.borrow();
                let sockets: Vec<&OwnedFd> = busy
                    .iter()
                    .filter_map(|&i| state.workers[i].socket.as_ref())
                    .collect();
                os::wait_event(&sockets, left)
            };
            match event {
                Event::Readable(k) => self.receive_ready(runner, busy[k], span)?,
                Event::Timeout => match &mut watch {
                    Some((_, detector)) => runner.procs().fail_if_deadlocked(detector, span)?,
                    None => return Ok(false),
                },
                Event::Woken => {
                    os::pending_stop()?;
                    if left == Some(0) {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// The wait to publish: a join of the worker holding (running, or sent ahead) a
    /// needed task not yet answered; when any one of several workers' tasks will
    /// do, a wait for any worker (which, unlike `wait()`, reads no spawned
    /// child's result meanwhile). None while tasks wait to be sent: this process
    /// hands them out itself as workers answer, so it goes on when any worker does.
    fn blocking_wait(&self, needed: Needed) -> Option<Waiting> {
        let state = self.state.borrow();
        if !state.waiting.is_empty() {
            return None;
        }
        let (Needed::All(is_needed) | Needed::Any(is_needed)) = needed;
        let unanswered = |id: &u64| is_needed(*id) && !state.results.contains_key(id);
        let mut holders = state
            .workers
            .iter()
            .filter(|w| w.sent.iter().any(|t| unanswered(&t.id)));
        let first = holders.next()?;
        match needed {
            Needed::Any(_) if holders.next().is_some() => Some(Waiting::AnyWorker),
            _ => Some(Waiting::Join(first.pid)),
        }
    }

    /// Reads the results worker `i` has sent by now (one at least, a few at
    /// most), so that the tasks sent next go out together (remote workers
    /// get them in one write).
    fn receive_ready(self: &Rc<Self>, runner: &mut impl Runner, i: usize, span: Span) -> R<()> {
        for _ in 0..MAX_AHEAD_TASKS {
            let pid = self.state.borrow().workers.get(i).map(|w| w.pid);
            self.receive(runner, i, span)?;
            let state = self.state.borrow();
            let Some(worker) = state
                .workers
                .get(i)
                .filter(|w| Some(w.pid) == pid && w.busy())
            else {
                return Ok(());
            };
            let ready = worker
                .socket
                .as_ref()
                .is_some_and(|socket| os::wait_event(&[socket], Some(0)) == Event::Readable(0));
            if !ready {
                // The look may have taken a signal's wake-up: a stop is answered here.
                drop(state);
                os::pending_stop()?;
                return Ok(());
            }
        }
        Ok(())
    }

    /// Reads one result from worker `i`, or finds it dead.
    fn receive(self: &Rc<Self>, runner: &mut impl Runner, i: usize, span: Span) -> R<()> {
        let frame = {
            let state = self.state.borrow();
            let socket = state.workers[i]
                .socket
                .as_ref()
                .expect("polled sockets exist");
            os::recv_frame(socket)
        };
        let Ok(Some((bytes, _))) = frame else {
            return self.worker_died(runner, i, span);
        };
        let (after, report) = answer::decode(&bytes);
        let place = self.state.borrow().workers[i].place.clone();
        let outcome = match report {
            Report::Returned(v) => Ok(v),
            Report::Failed(diag) => Err(Failure {
                message: diag.message.clone(),
                // A call the worker made itself has no place in the script to show.
                cause: (diag.span != Span::default()).then_some(diag),
                broken_pipe: false,
            }),
            Report::Missing => Err(Failure {
                message: "the task's result could not be read".to_string(),
                cause: None,
                broken_pipe: false,
            }),
        };
        let mut state = self.state.borrow_mut();
        // A worker answers its tasks in the order they were sent (one it
        // skipped, taken back, already has its outcome).
        if let Some(task) = state.workers[i].sent.pop_front() {
            state.resend.remove(&task.id);
            if let (Some(place), Err(_)) = (place, &outcome) {
                state.places.insert(task.id, place);
            }
            state.finish(task.id, outcome);
        }
        drop(state);
        if after == answer::After::Retires {
            self.worker_ended(runner, i, true, span)?;
        }
        Ok(())
    }
}
impl Pool {
    /// Forks a worker; the new process runs tasks until the pool lets it go
    /// (or, for a remote pool, relays them to a worker on another machine).
    pub(super) fn start_worker(
        &self,
        runner: &mut impl Runner,
        slot: usize,
        span: Span,
    ) -> R<Worker> {
        // A remote worker's relay talks to its host's link over a socket of its own.
        let link = match &self.setup.remote {
            Some(_) => Some(remote::pool_side::link_socket(self, runner, slot, span)?),
            None => None,
        };
        let at = runner.made_at(span);
        let pins = self.pins.as_ref();
        match runner.procs().fork_child(NewChild::PoolWorker, span, at)? {
            Forked::Child(Some(socket)) => {
                if let (Some(launcher), Some(link)) = (&self.setup.remote, link) {
                    let host = launcher.link_of(slot, self.size);
                    remote::launcher::relay_main(runner, socket, link, launcher, host, &self.slots)
                }
                if let Some(pins) = pins {
                    crate::values::pins::become_worker(pins);
                }
                super::pool_worker::worker_main(runner, socket, &self.setup, &self.slots)
            }
            // The ceremony gives every worker its socket; without one it has nothing to do.
            Forked::Child(None) => os::exit_now(1),
            Forked::Parent(pid, socket) => Ok(Worker {
                pid,
                socket,
                sent: VecDeque::new(),
                sends: 0,
                taken_back: 0,
                functions: runner.functions_known(),
                forked_at: pins.map_or(0, |pins| pins.changes()),
                slot,
                place: None,
            }),
        }
    }
}
