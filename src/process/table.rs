//! Real processes: this process's table of children (made through the ceremony in `fork`),
//! and join, wait, kill and the rest on the table.

use crate::error::diagnostic::Diag;
use crate::error::{ErrorKind, Unwind, R};
use crate::front::ast::Span;
use crate::os::{self, Deadline, ExitStatus, SharedCounter, Waited};
use crate::process::failure::{Failure, BROKEN_PIPE_EXIT};
use crate::process::pool::Pool;
use crate::process::queue::Queue;
use crate::process::waits::WaitBoard;
use crate::process::wire::{self, Report};
use crate::values::Value;
use crate::views::record::{MadeAt, Note, Recorder};
use held::Held;
use std::os::fd::OwnedFd;
use std::rc::{Rc, Weak};

pub use crate::process::fork::{Forked, NewChild};

mod held;
mod programs;
mod records;
mod reports;
mod waiting;

pub use programs::{ProgramEnd, TIMEOUT_GRACE_SECONDS};

/// A `spawn`ed child as a script value.
#[derive(Debug)]
pub struct ProcessHandle {
    pub pid: i32,
    pub name: Rc<str>,
    /// The process that spawned it: only that one may join it.
    pub owner: i32,
    /// Its record in the owner's table (a pid may be reused; the record is
    /// not); moved when the table is compacted (`records`).
    slot: std::cell::Cell<usize>,
    /// Its result, once joined: kept here, not in the table, so that it lives
    /// as long as the handle and no longer (a loop of `join spawn` keeps none).
    result: std::cell::RefCell<Option<Result<Value, Failure>>>,
}

impl ProcessHandle {
    /// Has its result (or failure) been taken by a `join`?
    pub(crate) fn joined(&self) -> bool {
        self.result.borrow().is_some()
    }
}

enum Kind {
    /// A `fork` child.
    Forked,
    /// A program (`run`, `capture`, `start`, a pipeline's).
    Program {
        /// `run`, `capture` or a pipeline will still read how it ended
        /// (`wait_program`), even if a `wait()` collected it meanwhile (in a
        /// signal handler); false for `start`'s, whose handle the script has.
        awaited: bool,
    },
    /// A pool's worker: the pool's, not the script's; `wait()` never sees it.
    PoolWorker,
    Spawned {
        /// Read end of the pipe the child's result comes through; None once at EOF.
        pipe: Option<OwnedFd>,
        received: Vec<u8>,
        /// Set by the first join; later joins return the same.
        outcome: Option<Result<Value, Failure>>,
    },
}

/// The exit code recorded for a child that something else reaped.
const LOST_EXIT_CODE: i32 = 255;
/// How long `kill(h, "STOP")` waits for the child to be stopped before it
/// returns (a child that handles or ignores SIGTSTP never stops).
const STOP_TAKES_EFFECT_WITHIN: std::time::Duration = std::time::Duration::from_millis(100);

struct Child {
    pid: i32,
    name: Rc<str>,
    kind: Kind,
    /// Set once the child has been reaped; never waited for again (its pid may be reused).
    status: Option<ExitStatus>,
    /// A `join` or `wait()` has reported this child.
    waited: bool,
    /// A `join` has raised this child's failure (its report is told).
    reported: bool,
    /// Something else in this process reaped it (a nested run of the host):
    /// how it ended is unknown, and `join` says so instead of guessing.
    lost: bool,
    /// A program that leads its own process group: signals go to the group.
    group: bool,
    /// The handle the script has of it (a spawn's, a `start`'s), while it
    /// holds one: a compaction moves it with the record (`records`).
    handle: Weak<ProcessHandle>,
}

/// This process's place in the tree and its children.
pub struct Procs {
    /// The script's first process (the one the user started).
    root: i32,
    me: i32,
    /// Set in a spawned child: its name, for error reports.
    name: Option<Rc<str>>,
    /// What `name()` answers: "main", a spawn's name, or (after `fork`) the parent's.
    pub(crate) script_name: Rc<str>,
    children: Vec<Child>,
    /// Where each child's record is in `children`, by pid.
    index: std::collections::HashMap<i32, usize>,
    /// The table's length at which it is next compacted (`records`).
    compact_at: usize,
    spawn_count: u32,
    pub(crate) max_procs: usize,
    pub(crate) live: SharedCounter,
    /// In a spawned child: where its result goes.
    pub(crate) report_to: Option<OwnedFd>,
    /// In a pool worker: its socket, where tasks come from and results go.
    /// A fork inside a task does not inherit it: the copy is no worker.
    pub(crate) task_socket: Option<OwnedFd>,
    /// Pools this process made (closed when it ends).
    pub(crate) pools: Vec<Weak<Pool>>,
    /// Queues, locks... this process has seen (a forked child registers as their holder).
    pub(crate) held: Held,
    /// Records and narrates process events, when a view asked for them.
    pub(crate) recorder: Option<Rc<Recorder>>,
    /// Pool tasks this worker has run (numbers them in recorded events).
    pub(crate) tasks_run: u64,
    /// The tree's board of waits, for deadlock detection (shared by fork).
    pub(crate) waits: Rc<WaitBoard>,
    /// Where results are read from children's pipes, made once: a fresh zeroed
    /// buffer on the stack at each join wrote 4 pages shared with a live child,
    /// each then copied by the kernel (copy on write); this one touches 1.
    result_buf: Box<[u8]>,
    /// Whether it made a child (the root: a host may have); until then it has
    /// no descendant to reap and is no subreaper (two system calls spared).
    pub(crate) made_children: bool,
}

/// "`Process-1` (pid 4243)", or "process 4243" for a forked child.
fn describe_child(name: &str, pid: i32) -> String {
    if name.is_empty() {
        format!("process {pid}")
    } else {
        format!("`{name}` (pid {pid})")
    }
}

impl Procs {
    /// The table of the root process; sets up signal handling and the process count.
    pub fn new_root(max_procs: usize) -> Procs {
        os::install_signal_handlers();
        os::become_subreaper();
        os::create_output_lock();
        let me = os::getpid();
        Procs {
            root: me,
            me,
            name: None,
            script_name: "main".into(),
            children: Vec::new(),
            index: std::collections::HashMap::new(),
            compact_at: records::FIRST_COMPACTION,
            spawn_count: 0,
            max_procs: max_procs.max(1),
            live: SharedCounter::new(1),
            report_to: None,
            task_socket: None,
            pools: Vec::new(),
            held: Held::default(),
            recorder: None,
            tasks_run: 0,
            waits: Rc::new(WaitBoard::new()),
            result_buf: vec![0u8; 16 * 1024].into_boxed_slice(),
            made_children: true,
        }
    }

    pub fn me(&self) -> i32 {
        self.me
    }

    /// Records (and, with --explain, narrates) what just happened.
    #[inline]
    pub(crate) fn note(&self, kind: impl FnOnce() -> Note) {
        if let Some(recorder) = &self.recorder {
            recorder.note(kind());
        }
    }

    /// Records an event that happened at `t` (seconds on the monotonic clock).
    pub(crate) fn note_at(&self, t: f64, kind: impl FnOnce() -> Note) {
        if let Some(recorder) = &self.recorder {
            recorder.note_at(t, kind());
        }
    }

    /// The pools this process made that still exist.
    pub(crate) fn live_pools(&self) -> Vec<Rc<Pool>> {
        self.pools.iter().filter_map(Weak::upgrade).collect()
    }

    /// A child just forked holds every queue this process holds. Recorded here,
    /// in the parent, so a queue wait can never be called hopeless before the
    /// child has even run.
    pub(crate) fn child_holds_queues(&mut self, pid: i32) {
        self.held.register_holder(pid);
    }

    /// Remembers a queue so that children forked later count as its holders.
    pub(crate) fn track_queue(&mut self, queue: &Rc<Queue>) {
        self.held.track_queue(queue);
    }

    pub fn is_root(&self) -> bool {
        self.me == self.root
    }

    /// "process 4243 (Process-1)", for reports from child processes.
    pub fn describe_me(&self) -> String {
        match &self.name {
            Some(name) => format!("process {} ({name})", self.me),
            None => format!("process {}", self.me),
        }
    }

    /// The new child's side of a fork: a fresh table, and death with the parent.
    pub(crate) fn become_child(&mut self, name: Option<Rc<str>>) {
        let parent = self.me;
        self.me = os::current_pid(); // read by the fork
        if let Some(name) = &name {
            self.script_name = name.clone();
        }
        self.name = name;
        // The parent's children are not ours. Their records are a private copy
        // that this process never frees (it ends by _exit): dropping them one
        // by one made every spawn cost as much as the spawns before it.
        // Nor is their index cleared (a write to every one of its pages, each
        // a copy of the parent's): it is forgotten too.
        std::mem::forget(std::mem::take(&mut self.children));
        std::mem::forget(std::mem::take(&mut self.index));
        self.report_to = None;
        self.task_socket = None;
        self.spawn_count = 0;
        self.compact_at = records::FIRST_COMPACTION;
        // The parent's pools are not ours; their sockets must not stay open here.
        for pool in std::mem::take(&mut self.pools) {
            if let Some(pool) = pool.upgrade() {
                pool.forget_in_child();
            }
        }
        // The parent's pinned values are not watched here (a worker watches its pool's).
        crate::values::pins::forget_inherited();
        // This process can use every queue its parent had: count it as a holder.
        let me = self.me;
        self.child_holds_queues(me);
        self.made_children = false; // a subreaper from its first child on (fork_child)
        if !os::die_with_parent(parent) {
            os::die_by_signal(os::Signal::SIGTERM);
        }
    }
}

/// The evaluator as the process layer sees it: the table it owns, and what
/// only the evaluator can do (run a pool task, place and show a span).
/// The process layer never names the evaluator itself.
pub trait Runner {
    fn procs(&mut self) -> &mut Procs;
    /// In a pool worker: runs one task as the pool sent it.
    fn run_task(&mut self, task: &[u8], fds: Vec<OwnedFd>) -> R<Value>;
    /// In a pool worker: calls a function it inherited (the pool's `init`) with no arguments.
    fn call_function(&mut self, function: &Value) -> R<Value>;
    /// In an idle pool worker: runs the script handlers of the signals that
    /// came while it waited for a task (a safe point between tasks).
    fn run_due_handlers(&mut self) -> R<()>;
    /// Where the last `return` ran (a result that cannot be sent is reported there).
    fn returned_at(&self) -> Span;
    /// The file and 1-based line of a span, for the record.
    fn made_at(&self, span: Span) -> MadeAt;
    /// A diagnostic as this process prints it on stderr.
    fn render(&self, diag: &Diag) -> String;
    /// How many compiled functions this process knows: more once a prompt
    /// entry defines new ones, which pool workers forked before do not know.
    fn functions_known(&self) -> usize;
    /// The large values this process holds now, pinned for a new pool's workers.
    fn pin_values(&self) -> Option<Rc<crate::values::pins::PinTable>>;
    /// What a remote worker is sent first: the versions, the script, the host functions' names.
    fn hello(&self) -> crate::process::remote::protocol::Hello;
    /// In a remote pool's relay: calls method `method` (its id in the spec)
    /// of one of this process's queues, locks... for a remote task.
    fn call_method(
        &mut self,
        target: &Value,
        method: u16,
        args: &[Value],
        span: Span,
        arg_spans: &[Span],
    ) -> R<Value>;
}

impl Procs {
    // ------------------------------------------------------------ collecting statuses

    /// Reaps every child that has ended, keeping each status for a later join,
    /// so zombies never pile up.
    pub fn collect_ended(&mut self) {
        self.reap_ended();
    }

    /// Reaps every child that has ended; false when no child at all is
    /// left (so no descendant is either: each would have one of them as
    /// its ancestor, or have been re-parented to this subreaper).
    fn reap_ended(&mut self) -> bool {
        loop {
            match os::wait_child(None, false) {
                Waited::Ended(pid, status) => self.record_exit(pid, status),
                Waited::NoChildren => return false,
                Waited::Running | Waited::Interrupted => return true,
            }
        }
    }

    fn record_exit(&mut self, pid: i32, status: ExitStatus) {
        // A child of this table holds a place; so does an adopted orphan that
        // was a process of the script (marked when it was made). An adopted
        // child of a program was never counted and gives back nothing.
        let mine = self
            .find(pid)
            .filter(|&i| self.children[i].status.is_none());
        if self.live.take_counted(pid) || mine.is_some() {
            self.live.release();
        }
        self.note(|| Note::Reaped {
            child: pid,
            status: status.into(),
        });
        if let Some(i) = mine {
            self.children[i].status = Some(status);
            // The child is gone, so its pipe holds all it will ever send.
            let _ = self.drain_pipe(i);
        }
    }

    // ------------------------------------------------------------ join and friends

    /// The child a handle or pid names; an error if it is not this process's child.
    fn child_index(&self, target: &Value, span: Span, verb: &str) -> R<usize> {
        let pid = match target {
            Value::Process(h) => {
                if h.owner != self.me {
                    let diag = ErrorKind::NotAChild
                        .at(
                            span,
                            format!(
                                "`{}` (pid {}) is not a child of this process",
                                h.name, h.pid
                            ),
                            format!("cannot {verb} it here"),
                        )
                        .with_help(
                            "only the process that spawned a child can join or signal it; this \
                             handle was copied into this process by fork or spawn",
                        );
                    return Err(diag.into());
                }
                if self
                    .children
                    .get(h.slot.get())
                    .is_some_and(|c| c.pid == h.pid)
                {
                    return Ok(h.slot.get());
                }
                h.pid
            }
            // A number past a pid's range names no child: it must not wrap
            // onto one (or onto -1, "every process", for kill).
            Value::Int(n) => match i32::try_from(*n) {
                Ok(pid) => pid,
                Err(_) => return Err(not_a_child(*n, span, verb)),
            },
            other => {
                // Only `join` takes a pool's task; `kill`, `alive` and `state`
                // work on processes, and a task is not one.
                let help = if verb == "join" {
                    "give a process handle from spawn, a pid from fork, or a task from submit"
                } else {
                    "give a process handle from spawn or a pid from fork"
                };
                let diag = crate::error::cannot(verb, other.type_name(), span).with_help(help);
                return Err(diag.into());
            }
        };
        self.find(pid)
            .ok_or_else(|| not_a_child(i64::from(pid), span, verb))
    }

    /// `join` of one child (a handle or a pid; tasks are the pool's).
    pub(crate) fn join_child(
        &mut self,
        target: &Value,
        deadline: Deadline,
        span: Span,
    ) -> R<Value> {
        let i = self.child_index(target, span, "join")?;
        let handle = match target {
            Value::Process(handle) => Some(handle),
            _ => None,
        };
        let kept = handle.and_then(|h| h.result.borrow().clone());
        let outcome = match kept {
            Some(outcome) => outcome,
            None => {
                if !self.wait_for(i, deadline, span)? {
                    return Ok(Value::Nil);
                }
                // Ctrl-C reaches the children too: report our own signal, not their deaths.
                os::pending_stop()?;
                if self.children[i].lost {
                    let child = &self.children[i];
                    let diag = ErrorKind::Os
                        .at(
                            span,
                            format!(
                                "`{}` (pid {}) was reaped by other code in this process: how it ended is lost",
                                child.name, child.pid
                            ),
                            "cannot join it",
                        )
                        .with_help("a host function must not run an Engine or wait for children itself");
                    return Err(Unwind::from(diag));
                }
                let child = &mut self.children[i];
                child.waited = true;
                let status = child.status.expect("waited for");
                // A join by pid answers the exit code and leaves the outcome
                // where it was: for a join of the handle, or to be told at
                // the end if it is a failure (taking it lost both).
                let Some(handle) = handle else {
                    return Ok(Value::Int(status.code() as i64));
                };
                let Some(outcome) = child.take_outcome(status) else {
                    return Ok(Value::Int(status.code() as i64));
                };
                *handle.result.borrow_mut() = Some(outcome.clone());
                outcome
            }
        };
        match outcome {
            Ok(v) => Ok(v),
            Err(failure) => Err(failure.raise(failure.message.clone(), span, "joined here")),
        }
    }

    /// `children()`: the pids of live children.
    pub fn live_children(&mut self) -> Value {
        // As `is_alive`: a child with a long result ends only once it is read.
        self.drain_ready_pipes();
        self.collect_ended();
        Value::list(
            self.children
                .iter()
                .filter(|c| c.status.is_none())
                .map(|c| Value::Int(c.pid as i64))
                .collect(),
        )
    }

    /// `alive(h)`: has the child not ended yet? (Also `done` and `wait_any`.)
    pub fn is_alive(&mut self, target: &Value, span: Span) -> R<bool> {
        let i = self.child_index(target, span, "check")?;
        Ok(self.status_now(i)?.is_none())
    }

    /// How child `i` ended, collected now if it has (`alive(h)`,
    /// `h.exitcode`); None while it runs. A child whose result is longer
    /// than the pipe holds ends only once it is read: what it sent is read
    /// here, as a join would, or a loop of `alive(h)` (a `wait_any([h])`, a
    /// wait for `h.exitcode`) would wait for it for ever.
    fn status_now(&mut self, i: usize) -> R<Option<ExitStatus>> {
        if self.children[i].status.is_none() {
            self.read_ready_report(i)?;
            self.collect_ended();
        }
        Ok(self.children[i].status)
    }

    /// `state(h)`: what the OS says about the child, without reaping it.
    pub fn child_state(&self, target: &Value, span: Span) -> R<&'static str> {
        let i = self.child_index(target, span, "inspect")?;
        let child = &self.children[i];
        if child.status.is_some() {
            return Ok("exited");
        }
        Ok(match os::process_state(child.pid) {
            Some('R') => "running",
            Some('T') | Some('t') => "stopped",
            Some('Z') | Some('X') => "zombie",
            Some(_) => "sleeping",
            None => "exited",
        })
    }

    /// `kill(h, sig)`: false when the child had already ended.
    pub fn signal_child(&mut self, target: &Value, sig: os::Signal, span: Span) -> R<bool> {
        let i = self.child_index(target, span, "signal")?;
        let child = &self.children[i];
        // A reaped child's pid may belong to another process by now.
        if child.status.is_some() {
            return Ok(false);
        }
        let pid = child.pid;
        // One that has ended but is not yet collected is collected now: it
        // gets no signal and the answer is false, as for one collected before.
        if let Waited::Ended(pid, status) = os::wait_child(Some(pid), false) {
            self.record_exit(pid, status);
            return Ok(false);
        }
        self.note(|| Note::Killed {
            target: pid,
            signal: sig,
        });
        let sent = self.send_to_child(i, sig).map_err(|reason| {
            Unwind::from(ErrorKind::Os.at(span, format!("kill failed: {reason}"), "here"))
        })?;
        // A stopped child would keep a signal meant to end it pending, and a
        // later `join` would hang: wake it so that it acts on the signal.
        if sent && os::ends_a_process(sig) {
            let _ = self.send_to_child(i, os::Signal::SIGCONT);
        }
        // So that `state(h)` right after `kill(h, "STOP")` says "stopped":
        // the child stops when it next runs, a moment after kill(2).
        if sent && os::stops_a_process(sig) {
            os::wait_until_stopped(self.children[i].pid, STOP_TAKES_EFFECT_WITHIN);
        }
        Ok(sent)
    }

    /// A handle's `pid`, `name` or `exitcode`.
    pub fn handle_field(&mut self, handle: &ProcessHandle, name: &str, span: Span) -> R<Value> {
        Ok(match name {
            "pid" => Value::Int(handle.pid as i64),
            "name" => Value::Str(handle.name.clone()),
            "exitcode" => {
                let slot = handle.slot.get();
                let mine = handle.owner == self.me
                    && self.children.get(slot).is_some_and(|c| c.pid == handle.pid);
                if !mine {
                    return Ok(Value::Nil);
                }
                // Collected now if it has ended, as `alive(h)` does (and Python's
                // `p.exitcode`): a loop waiting for the code to turn up ends.
                let status = self.status_now(slot)?;
                status.map_or(Value::Nil, |s| Value::Int(s.code() as i64))
            }
            other => {
                let diag = ErrorKind::NoField
                    .at(
                        span,
                        format!("a process has no field `{other}`"),
                        "no such field",
                    )
                    .with_help("process handles have the fields pid, name and exitcode");
                return Err(diag.into());
            }
        })
    }

    // ------------------------------------------------------------ waiting for all

    /// Waits for a child to end and returns how it ended.
    pub(crate) fn wait_child_status(&mut self, pid: i32) -> R<Option<ExitStatus>> {
        let Some(i) = self.find(pid) else {
            return Ok(None);
        };
        self.wait_for(i, Deadline::NEVER, Span::default())?;
        self.children[i].waited = true;
        Ok(self.children[i].status)
    }

    pub(crate) fn join_all(&mut self) -> R<()> {
        for i in 0..self.children.len() {
            self.wait_for(i, Deadline::NEVER, Span::default())?;
        }
        Ok(())
    }

    /// Whether a child ended as a process does whose output reader has gone.
    pub(crate) fn a_child_lost_its_reader(&self) -> bool {
        self.children
            .iter()
            .any(|c| c.status == Some(ExitStatus::Exited(BROKEN_PIPE_EXIT)))
    }

    /// The failures of spawned children that no `join` raised: their reports,
    /// which this process tells as it ends (nobody else will).
    pub(crate) fn untold_failures(&mut self) -> Vec<Diag> {
        let mut untold = Vec::new();
        for i in 0..self.children.len() {
            let child = &mut self.children[i];
            let Some(status) = child.status else { continue };
            if child.reported {
                continue;
            }
            child.reported = true;
            if let Some(Err(Failure {
                cause: Some(diag), ..
            })) = child.outcome(status)
            {
                untold.push(diag);
            }
        }
        untold
    }

    /// SIGTERM (and SIGCONT, so stopped ones can act on it) to every live
    /// child, SIGKILL to those still there after the grace period, and reap all.
    pub(crate) fn stop_children(&mut self) {
        self.stop_all(Self::live_pids);
    }

    /// Stops these children (a terminated pool's workers) as `stop_children` stops all.
    pub(crate) fn stop_these(&mut self, pids: &[i32]) {
        self.stop_all(|this| {
            let live = this.live_pids();
            pids.iter().copied().filter(|p| live.contains(p)).collect()
        });
    }

    /// Ends every descendant still there as this process ends: orphans it
    /// adopted (every process of the tree is a subreaper), and processes a
    /// dying child forked at the last moment. SIGTERM and SIGCONT, the grace
    /// period, then SIGKILL sweeps until one finds nothing (a fork bomb may
    /// still be forking while it is killed), reaping all. So no process of
    /// the tree outlives the process that ends it.
    pub(crate) fn end_tree(&mut self) {
        // The common case, and cheap: no child left (or ever), so no /proc scan.
        if !self.made_children || !self.reap_ended() {
            return;
        }
        self.stop_all(|this| os::descendant_pids(this.me));
        for _ in 0..MAX_KILL_SWEEPS {
            self.collect_ended();
            let left = os::descendant_pids(self.me);
            if left.is_empty() {
                break;
            }
            for pid in left {
                let _ = os::send_signal(pid, os::Signal::SIGKILL);
            }
            os::pause_for_children(0.01);
        }
        self.collect_ended();
    }

    /// Stops the processes `live` lists: SIGTERM and SIGCONT, a grace period,
    /// then SIGKILL, reaping each. A program's own children get the SIGTERM
    /// too, as at its timeout (a process of the script stops its own), and
    /// each process killed after the grace period is killed with everything
    /// below it: orphaned, those would come to this process and wait out a
    /// second grace period in `end_tree` (Ctrl-C on a program that ignores
    /// SIGTERM, as its children then do, took 2 s, not 1).
    fn stop_all(&mut self, live: impl Fn(&Self) -> Vec<i32>) {
        self.collect_ended();
        for pid in live(self) {
            self.note(|| Note::Killed {
                target: pid,
                signal: os::Signal::SIGTERM,
            });
            let below = match self.is_program(pid) {
                true => os::descendant_pids(pid),
                false => Vec::new(),
            };
            for sig in [os::Signal::SIGTERM, os::Signal::SIGCONT] {
                self.signal_with(pid, &below, sig);
            }
        }
        let deadline = Deadline::after(Some(GRACE_SECONDS));
        while !live(self).is_empty() && !deadline.passed() {
            // Keep pipes flowing: a child blocked writing its result cannot die.
            self.drain_ready_pipes();
            os::pause_for_children(0.005);
            self.collect_ended();
        }
        for pid in live(self) {
            self.note(|| Note::Killed {
                target: pid,
                signal: os::Signal::SIGKILL,
            });
            self.signal_with(pid, &os::descendant_pids(pid), os::Signal::SIGKILL);
            if let Waited::Ended(pid, status) = os::wait_child(Some(pid), true) {
                self.record_exit(pid, status);
            }
        }
    }

    /// Sends `sig` to the child `pid` and to the processes `below` it.
    fn signal_with(&self, pid: i32, below: &[i32], sig: os::Signal) {
        let _ = self.signal_pid(pid, sig);
        for &pid in below {
            let _ = os::send_signal(pid, sig);
        }
    }

    fn is_program(&self, pid: i32) -> bool {
        self.find(pid)
            .is_some_and(|i| matches!(self.children[i].kind, Kind::Program { .. }))
    }

    pub(crate) fn live_pids(&self) -> Vec<i32> {
        self.children
            .iter()
            .filter(|c| c.status.is_none())
            .map(|c| c.pid)
            .collect()
    }
}

/// How long stopped children get between SIGTERM and SIGKILL.
const GRACE_SECONDS: f64 = 1.0;

/// SIGKILL sweeps `end_tree` makes at most (10 ms apart): a bound, never
/// reached in practice, as a killed process forks no more.
const MAX_KILL_SWEEPS: usize = 500;

impl Child {
    /// A child the script made itself (not a pool's worker).
    fn is_the_scripts(&self) -> bool {
        !matches!(self.kind, Kind::PoolWorker)
    }

    /// A spawned child's result once it has ended (read from its pipe the
    /// first time); None for other children.
    fn outcome(&mut self, status: ExitStatus) -> Option<Result<Value, Failure>> {
        let who = describe_child(&self.name, self.pid);
        let Kind::Spawned {
            received, outcome, ..
        } = &mut self.kind
        else {
            return None;
        };
        let outcome = outcome.get_or_insert_with(|| {
            let failed = |message: String| {
                Err(Failure {
                    message,
                    cause: None,
                    broken_pipe: status == ExitStatus::Exited(BROKEN_PIPE_EXIT),
                })
            };
            match (wire::decode_report(received), status) {
                (Report::Returned(v), ExitStatus::Exited(0)) => Ok(v),
                (Report::Failed(diag), _) => Err(Failure {
                    // What went wrong at the bottom; the levels between are the causes.
                    message: format!(
                        "{who} failed with exit code {}: {}",
                        status.code(),
                        diag.innermost().message
                    ),
                    cause: Some(diag),
                    broken_pipe: false,
                }),
                (_, ExitStatus::Exited(0)) => Ok(Value::Nil),
                (_, ExitStatus::Exited(code)) => failed(format!("{who} exited with code {code}")),
                (_, ExitStatus::Signaled(sig)) => {
                    failed(format!("{who} was killed by {}", os::signal_name(sig)))
                }
            }
        });
        // The bytes are decoded: free them (clear would keep the capacity).
        *received = Vec::new();
        Some(outcome.clone())
    }

    /// The outcome, moved out of the table to the handle that joined it; the
    /// child counts as told (a join raised its failure, if any).
    fn take_outcome(&mut self, status: ExitStatus) -> Option<Result<Value, Failure>> {
        let outcome = self.outcome(status)?;
        self.reported = true;
        if let Kind::Spawned { outcome: kept, .. } = &mut self.kind {
            *kept = None;
        }
        Some(outcome)
    }
}

/// "4242 is not a child of this process", at the pid given.
fn not_a_child(pid: i64, span: Span, verb: &str) -> Unwind {
    let diag = ErrorKind::NotAChild
        .at(
            span,
            format!("{pid} is not a child of this process"),
            format!("cannot {verb} it"),
        )
        .with_help("children() lists the pids of this process's live children");
    diag.into()
}
