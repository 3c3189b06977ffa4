//! Real processes: this process's table of children, and fork, spawn, join, wait and the
//! rest, including how every process of the tree ends (children joined or stopped first).

use crate::ast::Span;
use crate::diagnostic::Diag;
use crate::interp::{error, error_help, Interp, Stop, Unwind, R};
use crate::os::{self, ExitStatus, Forked, ReadResult, SharedCounter, Waited};
use crate::pool::Pool;
use crate::queue::Queue;
use crate::record::Kind as Event;
use crate::value::Value;
use crate::wire::{self, Report};
use std::os::fd::OwnedFd;
use std::rc::{Rc, Weak};

/// How long stopped children get between SIGTERM and SIGKILL.
const GRACE_SECONDS: f64 = 1.0;

/// A `spawn`ed child as a script value.
#[derive(Debug)]
pub struct ProcessHandle {
    pub pid: i32,
    pub name: Rc<str>,
    /// The process that spawned it: only that one may join it.
    pub owner: i32,
    /// Its record in the owner's table (a pid may be reused; the record is not).
    slot: usize,
}

enum Kind {
    Forked,
    Spawned {
        /// Read end of the pipe the child's result comes through; None once at EOF.
        pipe: Option<OwnedFd>,
        received: Vec<u8>,
        /// Set by the first join; later joins return the same.
        outcome: Option<Result<Value, String>>,
    },
}

struct Child {
    pid: i32,
    name: Rc<str>,
    kind: Kind,
    /// Set once the child has been reaped; never waited for again (its pid may be reused).
    status: Option<ExitStatus>,
    /// A `join` or `wait()` has reported this child.
    waited: bool,
}

/// This process's place in the tree and its children.
pub struct Procs {
    /// The script's first process (the one the user started).
    root: i32,
    me: i32,
    /// Set in a spawned child: its name, for error reports.
    name: Option<Rc<str>>,
    children: Vec<Child>,
    /// Where each child's record is in `children`, by pid.
    index: std::collections::HashMap<i32, usize>,
    spawn_count: u32,
    max_procs: usize,
    pub(crate) live: SharedCounter,
    /// In a spawned child: where its result goes.
    report_to: Option<OwnedFd>,
    /// Pools this process made (closed when it ends).
    pub(crate) pools: Vec<Weak<Pool>>,
    /// Queues this process has seen (a forked child registers as their holder).
    pub(crate) queues: Vec<Weak<Queue>>,
}

impl Procs {
    /// The table of the root process; sets up signal handling and the process count.
    pub fn new_root(max_procs: usize) -> Procs {
        os::install_signal_handlers();
        os::become_subreaper();
        let me = os::getpid();
        Procs {
            root: me,
            me,
            name: None,
            children: Vec::new(),
            index: std::collections::HashMap::new(),
            spawn_count: 0,
            max_procs: max_procs.max(1),
            live: SharedCounter::new(1),
            report_to: None,
            pools: Vec::new(),
            queues: Vec::new(),
        }
    }

    pub fn me(&self) -> i32 {
        self.me
    }

    /// Records a child this process started (a pool worker, a program).
    pub(crate) fn add_child(&mut self, pid: i32, name: Rc<str>) {
        self.push_child(Child {
            pid,
            name,
            kind: Kind::Forked,
            status: None,
            waited: false,
        });
    }

    /// The pools this process made that still exist.
    pub(crate) fn live_pools(&self) -> Vec<Rc<Pool>> {
        self.pools.iter().filter_map(Weak::upgrade).collect()
    }

    /// A child just forked holds every queue this process holds. Recorded here,
    /// in the parent, so a queue wait can never be called hopeless before the
    /// child has even run.
    pub(crate) fn child_holds_queues(&mut self, pid: i32) {
        self.queues.retain(|q| match q.upgrade() {
            Some(queue) => {
                queue.register(pid);
                true
            }
            None => false,
        });
    }

    /// Remembers a queue so that children forked later count as its holders.
    pub(crate) fn track_queue(&mut self, queue: &Rc<Queue>) {
        self.queues.retain(|q| q.strong_count() > 0);
        self.queues.push(Rc::downgrade(queue));
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

    fn find(&self, pid: i32) -> Option<usize> {
        self.index.get(&pid).copied()
    }

    fn push_child(&mut self, child: Child) {
        self.index.insert(child.pid, self.children.len());
        self.children.push(child);
    }
}

/// "exited 0", "killed by SIGKILL": how a status reads in views.
fn describe_status(status: ExitStatus) -> String {
    match status {
        ExitStatus::Exited(code) => format!("exited {code}"),
        ExitStatus::Signaled(sig) => format!("killed by {}", os::signal_name(sig)),
    }
}

/// "`Process-1` (pid 4243)", or "process 4243" for a forked child.
fn describe_child(name: &str, pid: i32) -> String {
    if name.is_empty() {
        format!("process {pid}")
    } else {
        format!("`{name}` (pid {pid})")
    }
}

/// When a wait with a timeout must give up.
#[derive(Clone, Copy)]
struct Deadline(Option<f64>);

impl Deadline {
    fn after(seconds: Option<f64>) -> Deadline {
        Deadline(seconds.map(|s| os::monotonic_seconds() + s))
    }

    /// Milliseconds left (None: no limit).
    fn left_ms(self) -> Option<i32> {
        self.0.map(|end| {
            ((end - os::monotonic_seconds()) * 1000.0).clamp(0.0, i32::MAX as f64) as i32
        })
    }

    fn passed(self) -> bool {
        self.0.is_some_and(|end| os::monotonic_seconds() >= end)
    }
}

impl Interp {
    // ------------------------------------------------------------ creating processes

    pub(crate) fn take_place(&mut self, span: Span, what: &str) -> R<()> {
        self.collect_ended();
        if self.procs.live.try_acquire(self.procs.max_procs) {
            return Ok(());
        }
        let mut diag = Diag::new(
            format!(
                "cannot {what}: the script already has {} live processes",
                self.procs.max_procs
            ),
            span,
            "over the process limit",
        )
        .with_help(
            "the limit counts every process of the script's tree; raise it with --max-procs N",
        );
        diag.process_limit = true;
        Err(Unwind::error(diag))
    }

    /// The new child's side of a fork: a fresh table, and death with the parent.
    pub(crate) fn become_child(&mut self, name: Option<Rc<str>>) {
        let parent = self.procs.me;
        self.procs.me = os::getpid();
        self.procs.name = name;
        // The parent's children are not ours. Their records are a private copy
        // that this process never frees (it ends by _exit): dropping them one
        // by one made every spawn cost as much as the spawns before it.
        std::mem::forget(std::mem::take(&mut self.procs.children));
        self.procs.index.clear();
        self.procs.report_to = None;
        self.procs.spawn_count = 0;
        // The parent's pools are not ours; their sockets must not stay open here.
        for pool in std::mem::take(&mut self.procs.pools) {
            if let Some(pool) = pool.upgrade() {
                pool.forget_in_child();
            }
        }
        // This process can use every queue its parent had: count it as a holder.
        let me = self.procs.me;
        self.procs.child_holds_queues(me);
        if !os::die_with_parent(parent) {
            os::die_by_signal(os::Signal::SIGTERM);
        }
    }

    /// --explain: the new child tells of its own fork, before it does anything else.
    pub(crate) fn announce_birth(&self, what: &str) {
        if let Some(recorder) = &self.recorder {
            let me = self.procs.me;
            recorder.say(os::getppid(), &format!("fork() -> {me} ({what})"));
        }
    }

    /// `fork`: 0 in the child, the child's pid in the parent.
    pub fn fork_process(&mut self, span: Span) -> R<Value> {
        self.take_place(span, "fork")?;
        match os::fork() {
            Err(reason) => {
                self.procs.live.release();
                Err(error(format!("fork failed: {reason}"), span, "here"))
            }
            Ok(Forked::Child) => {
                self.become_child(None);
                self.announce_birth("in the child it returns 0");
                Ok(Value::Int(0))
            }
            Ok(Forked::Parent(pid)) => {
                self.procs.child_holds_queues(pid);
                self.procs.push_child(Child {
                    pid,
                    name: "".into(),
                    kind: Kind::Forked,
                    status: None,
                    waited: false,
                });
                let line = self.line_of(span);
                self.note(|| Event::Began {
                    child: pid,
                    how: "fork".into(),
                    name: String::new(),
                    line,
                });
                Ok(Value::Int(pid as i64))
            }
        }
    }

    /// `spawn f(args) [as name]`: the child runs the call and sends back its result.
    pub fn spawn_process(
        &mut self,
        callee: Value,
        args: Vec<Value>,
        name: Option<Rc<str>>,
        how: String,
        span: Span,
    ) -> R<Value> {
        self.procs.spawn_count += 1;
        let name = name.unwrap_or_else(|| format!("Process-{}", self.procs.spawn_count).into());
        self.take_place(span, "spawn")?;
        let (read_end, write_end) = match os::pipe() {
            Ok(ends) => ends,
            Err(reason) => {
                self.procs.live.release();
                return Err(error(format!("spawn failed: {reason}"), span, "here"));
            }
        };
        match os::fork() {
            Err(reason) => {
                self.procs.live.release();
                Err(error(format!("spawn failed: {reason}"), span, "here"))
            }
            Ok(Forked::Child) => {
                drop(read_end);
                self.become_child(Some(name.clone()));
                let what = how.strip_prefix("spawn ").unwrap_or(&how);
                self.announce_birth(&format!("the child runs {what} as {name}"));
                self.procs.report_to = Some(write_end);
                let result = self.call_value(&callee, &args, span);
                self.end_spawned_child(result)
            }
            Ok(Forked::Parent(pid)) => {
                drop(write_end);
                self.procs.child_holds_queues(pid);
                let slot = self.procs.children.len();
                let line = self.line_of(span);
                self.note(|| Event::Began {
                    child: pid,
                    how,
                    name: name.to_string(),
                    line,
                });
                self.procs.push_child(Child {
                    pid,
                    name: name.clone(),
                    kind: Kind::Spawned {
                        pipe: Some(read_end),
                        received: Vec::new(),
                        outcome: None,
                    },
                    status: None,
                    waited: false,
                });
                Ok(Value::Process(Rc::new(ProcessHandle {
                    pid,
                    name,
                    owner: self.procs.me,
                    slot,
                })))
            }
        }
    }

    /// A spawned child sends its result (or error) to its parent, then ends.
    fn end_spawned_child(&mut self, result: R<Value>) -> ! {
        let (report, result) = match result {
            Ok(value) => match wire::encode_returned(&value) {
                Ok(bytes) => (Some(bytes), Ok(())),
                Err(not_sendable) => {
                    let diag = Diag::new(
                        not_sendable.message(),
                        self.returned_at,
                        "returned here",
                    )
                    .with_help(
                        "a spawned function may return nil, bool, int, float, string, list or map",
                    );
                    (
                        Some(wire::encode_failed(&diag.message)),
                        Err(Unwind::error(diag)),
                    )
                }
            },
            Err(mut unwind) => {
                let report = unwind.diag_mut().map(|d| wire::encode_failed(&d.message));
                (report, Err(unwind))
            }
        };
        if let (Some(bytes), Some(pipe)) = (report, self.procs.report_to.take()) {
            let _ = os::write_fd(&pipe, &bytes);
        }
        match self.end_process(result) {
            Stop::Exit(code) => os::exit_now(code),
            _ => os::exit_now(1),
        }
    }

    // ------------------------------------------------------------ collecting statuses

    /// Reaps every child that has ended, keeping each status for a later join,
    /// so zombies never pile up.
    pub fn collect_ended(&mut self) {
        while let Waited::Ended(pid, status) = os::wait_child(None, false) {
            self.record_exit(pid, status);
        }
    }

    fn record_exit(&mut self, pid: i32, status: ExitStatus) {
        self.procs.live.release();
        self.note(|| Event::Reaped {
            child: pid,
            status: describe_status(status),
        });
        if let Some(i) = self.procs.find(pid) {
            self.procs.children[i].status = Some(status);
            // The child is gone, so its pipe holds all it will ever send.
            let _ = self.drain_pipe(i, Deadline(None));
        }
    }

    /// Reads a spawned child's pipe to its end (or the deadline). Ok(false) on timeout.
    fn drain_pipe(&mut self, i: usize, deadline: Deadline) -> R<bool> {
        let Kind::Spawned { pipe, received, .. } = &mut self.procs.children[i].kind else {
            return Ok(true);
        };
        let mut buf = [0u8; 16 * 1024];
        while let Some(fd) = pipe {
            match os::read_fd(fd, &mut buf, deadline.left_ms()) {
                ReadResult::Data(n) => received.extend_from_slice(&buf[..n]),
                ReadResult::Eof => *pipe = None,
                ReadResult::Timeout => return Ok(false),
                ReadResult::Interrupted => os::pending_stop()?,
            }
        }
        Ok(true)
    }

    /// Waits for child `i` to end (or the deadline). Ok(false) on timeout.
    fn wait_for(&mut self, i: usize, deadline: Deadline) -> R<bool> {
        if !self.drain_pipe(i, deadline)? {
            return Ok(false);
        }
        let pid = self.procs.children[i].pid;
        while self.procs.children[i].status.is_none() {
            let block = deadline.0.is_none();
            match os::wait_child(Some(pid), block) {
                Waited::Ended(pid, status) => self.record_exit(pid, status),
                Waited::Interrupted => os::pending_stop()?,
                Waited::NoChildren => {
                    // Cannot happen for a child we have not reaped; do not wait forever.
                    self.procs.children[i].status = Some(ExitStatus::Exited(0));
                }
                Waited::Running => {
                    // Only with a deadline: wake on SIGCHLD, or at the deadline.
                    if deadline.passed() {
                        return Ok(false);
                    }
                    let left = deadline.left_ms().unwrap_or(0) as f64 / 1000.0;
                    os::pause_for_children(left);
                    os::pending_stop()?;
                }
            }
        }
        Ok(true)
    }

    // ------------------------------------------------------------ join and friends

    /// The child a handle or pid names; an error if it is not this process's child.
    fn child_index(&self, target: &Value, span: Span, verb: &str) -> R<usize> {
        let pid = match target {
            Value::Process(h) => {
                if h.owner != self.procs.me {
                    return Err(error_help(
                        format!(
                            "`{}` (pid {}) is not a child of this process",
                            h.name, h.pid
                        ),
                        span,
                        format!("cannot {verb} it here"),
                        "only the process that spawned a child can join or signal it; this \
                         handle was copied into this process by fork or spawn",
                    ));
                }
                if self
                    .procs
                    .children
                    .get(h.slot)
                    .is_some_and(|c| c.pid == h.pid)
                {
                    return Ok(h.slot);
                }
                h.pid
            }
            Value::Int(pid) => *pid as i32,
            other => {
                return Err(error_help(
                    format!("cannot {verb} {}", other.type_name()),
                    span,
                    format!("this is {}", other.type_name()),
                    "give a process handle from spawn, a pid from fork, or a task from submit",
                ))
            }
        };
        self.procs.find(pid).ok_or_else(|| {
            error_help(
                format!("{pid} is not a child of this process"),
                span,
                format!("cannot {verb} it"),
                "children() lists the pids of this process's live children",
            )
        })
    }

    /// `join h`, `join pid`, `join [..]`, and `join(x, seconds)`.
    pub fn join(&mut self, target: &Value, timeout: Option<f64>, span: Span) -> R<Value> {
        let deadline = Deadline::after(timeout);
        if let Value::List(items) = target {
            let items = items.borrow().clone();
            let mut results = Vec::with_capacity(items.len());
            for item in &items {
                results.push(self.join_one(item, deadline, span)?);
            }
            return Ok(Value::list(results));
        }
        self.join_one(target, deadline, span)
    }

    fn join_one(&mut self, target: &Value, deadline: Deadline, span: Span) -> R<Value> {
        if let Value::Task(task) = target {
            let left = deadline
                .0
                .map(|end| (end - os::monotonic_seconds()).max(0.0));
            return self.join_task(task, left, span);
        }
        let i = self.child_index(target, span, "join")?;
        if !self.wait_for(i, deadline)? {
            return Ok(Value::Nil);
        }
        // Ctrl-C reaches the children too: report our own signal, not their deaths.
        os::pending_stop()?;
        let child = &mut self.procs.children[i];
        child.waited = true;
        let status = child.status.expect("waited for");
        let who = describe_child(&child.name, child.pid);
        if let Value::Int(_) = target {
            return Ok(Value::Int(status.code() as i64));
        }
        let Kind::Spawned {
            received, outcome, ..
        } = &mut child.kind
        else {
            return Ok(Value::Int(status.code() as i64));
        };
        let outcome =
            outcome.get_or_insert_with(|| match (wire::decode_report(received), status) {
                (Report::Returned(v), ExitStatus::Exited(0)) => Ok(v),
                (Report::Failed(message), _) => Err(format!(
                    "{who} failed with exit code {}: {message}",
                    status.code()
                )),
                (_, ExitStatus::Exited(0)) => Ok(Value::Nil),
                (_, ExitStatus::Exited(code)) => Err(format!("{who} exited with code {code}")),
                (_, ExitStatus::Signaled(sig)) => {
                    Err(format!("{who} was killed by {}", os::signal_name(sig)))
                }
            });
        received.clear();
        match outcome {
            Ok(v) => Ok(v.clone()),
            Err(message) => Err(error_help(
                message.clone(),
                span,
                "joined here",
                "the child's own report, if it made one, is above on stderr",
            )),
        }
    }

    /// `wait()`: waits for any child; `[pid, exitcode]`, or nil when there is none.
    pub fn wait_any(&mut self) -> R<Value> {
        self.waiting("wait", |this| this.wait_any_inner())
    }

    fn wait_any_inner(&mut self) -> R<Value> {
        loop {
            self.collect_ended();
            if let Some(child) = self
                .procs
                .children
                .iter_mut()
                .find(|c| c.status.is_some() && !c.waited)
            {
                child.waited = true;
                let code = child.status.map(ExitStatus::code).unwrap_or(0);
                return Ok(Value::list(vec![
                    Value::Int(child.pid as i64),
                    Value::Int(code as i64),
                ]));
            }
            if !self.procs.children.iter().any(|c| !c.waited) {
                return Ok(Value::Nil);
            }
            // Keep reading results so a child writing a large one never blocks forever.
            self.drain_ready_pipes();
            // Wakes on SIGCHLD; the timeout only bounds how long a pipe may stay full.
            os::pause_for_children(0.01);
            os::pending_stop()?;
        }
    }

    /// `children()`: the pids of live children.
    pub fn live_children(&mut self) -> Value {
        self.collect_ended();
        Value::list(
            self.procs
                .children
                .iter()
                .filter(|c| c.status.is_none())
                .map(|c| Value::Int(c.pid as i64))
                .collect(),
        )
    }

    /// `alive(h)`: has the child not ended yet?
    pub fn is_alive(&mut self, target: &Value, span: Span) -> R<bool> {
        self.collect_ended();
        let i = self.child_index(target, span, "check")?;
        Ok(self.procs.children[i].status.is_none())
    }

    /// `state(h)`: what the OS says about the child, without reaping it.
    pub fn child_state(&self, target: &Value, span: Span) -> R<&'static str> {
        let i = self.child_index(target, span, "inspect")?;
        let child = &self.procs.children[i];
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
        let child = &self.procs.children[i];
        // A reaped child's pid may belong to another process by now.
        if child.status.is_some() {
            return Ok(false);
        }
        let pid = child.pid;
        self.note(|| Event::Killed {
            target: pid,
            signal: os::signal_name(sig).to_string(),
        });
        let sent = os::send_signal(pid, sig)
            .map_err(|reason| error(format!("kill failed: {reason}"), span, "here"))?;
        // A stopped child would keep a signal meant to end it pending, and a
        // later `join` would hang: wake it so that it acts on the signal.
        if sent && os::ends_a_process(sig) {
            let _ = os::send_signal(pid, os::Signal::SIGCONT);
        }
        Ok(sent)
    }

    /// A handle's `pid`, `name` or `exitcode`.
    pub fn handle_field(&self, handle: &ProcessHandle, name: &str, span: Span) -> R<Value> {
        Ok(match name {
            "pid" => Value::Int(handle.pid as i64),
            "name" => Value::Str(handle.name.clone()),
            "exitcode" => {
                let status = (handle.owner == self.procs.me)
                    .then(|| self.procs.children.get(handle.slot))
                    .flatten()
                    .filter(|c| c.pid == handle.pid)
                    .and_then(|c| c.status);
                status.map_or(Value::Nil, |s| Value::Int(s.code() as i64))
            }
            other => {
                return Err(error_help(
                    format!("a process has no field `{other}`"),
                    span,
                    "no such field",
                    "process handles have the fields pid, name and exitcode",
                ))
            }
        })
    }

    // ------------------------------------------------------------ the end of a process

    /// Ends this process's part of the tree: on a normal end or `exit`, joins
    /// the children it has not joined; on an error or a signal, stops them.
    /// A child process never returns from here; the root returns how it ended.
    pub fn end_process(&mut self, result: R<()>) -> Stop {
        let mut stop = match result {
            Ok(()) => Stop::Exit(0),
            Err(unwind) => unwind.into_stop(),
        };
        // An error caused by a Ctrl-C or SIGTERM (a child it killed) is the signal's doing.
        if let (Stop::Error(_), Err(sig)) = (&stop, os::pending_stop()) {
            stop = Stop::Signal(sig);
        }
        if let Stop::Exit(_) = stop {
            // Pools first: their workers wait for tasks and would never end by themselves.
            if let Err(unwind) = self.close_all_pools().and_then(|()| self.join_all()) {
                stop = unwind.into_stop();
            }
        }
        if !matches!(stop, Stop::Exit(_)) {
            self.stop_children();
        }
        match &stop {
            Stop::Exit(code) => {
                let code = *code;
                self.note(|| Event::Ended { code });
            }
            Stop::Error(diag) => {
                let message = diag.message.clone();
                self.note(|| Event::Failed { message });
            }
            // A signal's end is seen by the parent (waitpid), or below for the root.
            Stop::Signal(sig) if self.procs.is_root() => {
                let code = os::exit_code_for(*sig);
                self.note(|| Event::Ended { code });
            }
            Stop::Signal(_) => {}
        }
        if self.procs.is_root() {
            self.stop_adopted();
            return stop;
        }
        match stop {
            Stop::Exit(code) => os::exit_now(code),
            Stop::Error(mut diag) => {
                // In a fork bomb every process hits the limit: one report says it.
                if diag.process_limit && !self.procs.live.first_limit_report() {
                    os::exit_now(1);
                }
                diag.context = Some(self.procs.describe_me());
                let text = diag.render(&self.source, self.color);
                let _ = os::write_all(os::StdFd::Err, text.as_bytes());
                os::exit_now(1)
            }
            Stop::Signal(sig) => os::die_by_signal(sig),
        }
    }

    /// Waits for a child to end and returns how it ended.
    pub(crate) fn wait_child_status(&mut self, pid: i32) -> R<Option<ExitStatus>> {
        let Some(i) = self.procs.find(pid) else {
            return Ok(None);
        };
        self.wait_for(i, Deadline(None))?;
        self.procs.children[i].waited = true;
        Ok(self.procs.children[i].status)
    }

    pub(crate) fn join_all(&mut self) -> R<()> {
        for i in 0..self.procs.children.len() {
            self.wait_for(i, Deadline(None))?;
        }
        Ok(())
    }

    /// SIGTERM (and SIGCONT, so stopped ones can act on it) to every live
    /// child, SIGKILL to those still there after the grace period, and reap all.
    pub(crate) fn stop_children(&mut self) {
        self.stop_all(Self::live_pids);
    }

    /// The root adopts orphaned descendants (subreaper): stop and reap them too.
    fn stop_adopted(&mut self) {
        self.stop_all(|this| os::child_pids_from_proc(this.procs.me));
    }

    /// Stops the processes `live` lists: SIGTERM and SIGCONT, a grace period,
    /// then SIGKILL, reaping each.
    fn stop_all(&mut self, live: fn(&Self) -> Vec<i32>) {
        self.collect_ended();
        for pid in live(self) {
            self.note(|| Event::Killed {
                target: pid,
                signal: "SIGTERM".into(),
            });
            let _ = os::send_signal(pid, os::Signal::SIGTERM);
            let _ = os::send_signal(pid, os::Signal::SIGCONT);
        }
        let deadline = Deadline::after(Some(GRACE_SECONDS));
        while !live(self).is_empty() && !deadline.passed() {
            // Keep pipes flowing: a child blocked writing its result cannot die.
            self.drain_ready_pipes();
            os::pause_for_children(0.005);
            self.collect_ended();
        }
        for pid in live(self) {
            self.note(|| Event::Killed {
                target: pid,
                signal: "SIGKILL".into(),
            });
            let _ = os::send_signal(pid, os::Signal::SIGKILL);
            if let Waited::Ended(pid, status) = os::wait_child(Some(pid), true) {
                self.record_exit(pid, status);
            }
        }
    }

    /// Reads what spawned children have already written, without waiting.
    fn drain_ready_pipes(&mut self) {
        for i in 0..self.procs.children.len() {
            let _ = self.drain_pipe(i, Deadline(Some(0.0)));
        }
    }

    fn live_pids(&self) -> Vec<i32> {
        self.procs
            .children
            .iter()
            .filter(|c| c.status.is_none())
            .map(|c| c.pid)
            .collect()
    }
}
