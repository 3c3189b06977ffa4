//! What ran, rebuilt from the event record: one `ProcView` per process, in tree order,
//! for the tree, trace and timeline views.

pub mod record;

pub mod chrome;
pub mod timeline;
pub mod tree;

use crate::os;
use crate::views::record::{Event, Made, MadeAt, Note, Status};
use std::collections::HashMap;

/// One process of the run.
#[derive(Debug, Clone)]
pub struct ProcView {
    pub pid: i32,
    /// Index of the parent in `Run::procs` (None for the first process).
    pub parent: Option<usize>,
    /// How it was made: "script", "fork", "spawn work(1)", "pool worker", "run ls -l".
    pub how: Made,
    pub name: String,
    /// Where in the script's files it was made.
    pub at: MadeAt,
    pub start: f64,
    /// When it stopped running.
    pub end: f64,
    /// When its parent collected its status (between end and this it was a zombie).
    pub reaped: Option<f64>,
    /// How it ended: "exited 0", "error: division by zero", "killed by SIGKILL".
    pub outcome: Outcome,
    pub children: Vec<usize>,
    /// Spans spent waiting: (from, to, what).
    pub waits: Vec<(f64, f64, String)>,
    /// Moments: (when, what).
    pub marks: Vec<(f64, String)>,
    /// Whether the process's end came from the process itself (not from waitpid).
    ended_itself: bool,
    /// A remote pool worker's relay: where the worker runs ("h2 (pid 4242)");
    /// a remote pool's link: where its worker host runs.
    pub remote: Option<String>,
    /// A remote pool's link to a host (its one connection there).
    pub link: bool,
}

/// How a process of the run ended, as far as the record tells.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing recorded its end (yet).
    Unknown,
    /// It ended itself, or its parent's waitpid saw this status.
    Ended(Status),
    /// It stopped at an uncaught error.
    Failed(String),
    /// exec replaced it with a program.
    Became(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Unknown => f.write_str("end not recorded"),
            Outcome::Ended(status) => status.fmt(f),
            Outcome::Failed(message) => write!(f, "error: {message}"),
            Outcome::Became(program) => write!(f, "became {program}"),
        }
    }
}

impl ProcView {
    /// The host a remote pool worker's relay serves ("h2"), from its place.
    pub fn host(&self) -> Option<&str> {
        let place = self.remote.as_deref()?;
        Some(place.split(" (pid ").next().unwrap_or(place))
    }

    /// "fork at line 3", "spawn work(1) at line 7 as Process-1", "script demo.proc".
    pub fn describe(&self) -> String {
        match &self.how {
            Made::Script => format!("script {}", self.name),
            _ if self.link => {
                let place = self.remote.as_deref().unwrap_or("a host");
                format!("link at {} to {place}", self.at)
            }
            how => {
                let mut text = format!("{how} at {}", self.at);
                if let Some(place) = &self.remote {
                    text.push_str(&format!(" on {place}"));
                }
                if !self.name.is_empty() {
                    text.push_str(&format!(" as {}", self.name));
                }
                text
            }
        }
    }
}

/// The parent's mark for a child it made: "fork", "spawn", "pool", "run".
fn verb(how: &Made) -> &'static str {
    match how {
        Made::Script => "script",
        Made::Fork => "fork",
        Made::Spawn { .. } => "spawn",
        Made::PoolWorker => "pool",
        Made::Program { .. } => "run",
    }
}

/// A whole run: every process (the first is the root), and the time it spans.
#[derive(Debug)]
pub struct Run {
    pub procs: Vec<ProcView>,
    pub t0: f64,
    pub t1: f64,
    /// Events that could not be recorded (the log filled, or a process died mid-write).
    pub lost: u64,
}

impl Run {
    /// Rebuilds the processes from their events.
    pub fn from_events(events: &[Event], lost: u64) -> Run {
        let t0 = events.iter().map(|e| e.t).fold(f64::INFINITY, f64::min);
        let t1 = events.iter().map(|e| e.t).fold(f64::NEG_INFINITY, f64::max);
        let (mut procs, by_pid) = births(events);
        let mut open_waits: HashMap<i32, (f64, String)> = HashMap::new();
        for e in events {
            if let Note::Began { .. } = e.kind {
                continue;
            }
            if let Some(&i) = by_pid.get(&e.pid) {
                apply(&mut procs, &by_pid, &mut open_waits, i, e);
            }
        }
        for p in &mut procs {
            if p.outcome == Outcome::Unknown {
                p.end = p.marks.iter().map(|(t, _)| *t).fold(p.start, f64::max);
            }
            p.end = p.end.max(p.start);
        }
        Run {
            procs,
            t0: if t0.is_finite() { t0 } else { 0.0 },
            t1: if t1.is_finite() { t1 } else { 0.0 },
            lost,
        }
    }

    /// Process indexes in tree order (each parent before its children, siblings by creation).
    pub fn tree_order(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.procs.len());
        let mut stack: Vec<usize> = self
            .procs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.parent.is_none())
            .map(|(i, _)| i)
            .rev()
            .collect();
        while let Some(i) = stack.pop() {
            order.push(i);
            // A remote pool's workers, host by host (local children first).
            let mut children = self.procs[i].children.clone();
            children.sort_by_key(|&c| self.procs[c].host());
            stack.extend(children.iter().rev());
        }
        order
    }

    /// The host whose remote worker process `i` serves: its own, or its
    /// nearest ancestor's (a relay's launcher is on the relay's host's side).
    pub fn host_of(&self, i: usize) -> Option<&str> {
        let mut at = Some(i);
        while let Some(j) = at {
            if let Some(host) = self.procs[j].host() {
                return Some(host);
            }
            at = self.procs[j].parent;
        }
        None
    }
}

/// Every process of the run, linked to its parent, and where each is by pid.
fn births(events: &[Event]) -> (Vec<ProcView>, HashMap<i32, usize>) {
    let mut procs: Vec<ProcView> = Vec::new();
    let mut by_pid: HashMap<i32, usize> = HashMap::new();
    // Every process first: a child may record its own children before its
    // parent has recorded its birth, so links come after.
    let mut parent_pids: Vec<i32> = Vec::new();
    for e in events {
        if let Note::Began {
            child,
            how,
            name,
            at,
        } = &e.kind
        {
            by_pid.insert(*child, procs.len());
            parent_pids.push(e.pid);
            procs.push(ProcView {
                pid: *child,
                parent: None,
                how: how.clone(),
                name: name.clone(),
                at: at.clone(),
                start: e.t,
                end: e.t,
                reaped: None,
                outcome: Outcome::Unknown,
                children: Vec::new(),
                waits: Vec::new(),
                marks: Vec::new(),
                ended_itself: false,
                remote: None,
                link: false,
            });
        }
    }
    for i in 0..procs.len() {
        let parent_pid = parent_pids[i];
        if parent_pid == procs[i].pid {
            continue;
        }
        if let Some(&p) = by_pid.get(&parent_pid) {
            procs[i].parent = Some(p);
            procs[p].children.push(i);
            let verb = verb(&procs[i].how);
            let (t, pid) = (procs[i].start, procs[i].pid);
            procs[p].marks.push((t, format!("{verb} {pid}")));
        }
    }
    let starts: Vec<f64> = procs.iter().map(|p| p.start).collect();
    for p in &mut procs {
        p.children.sort_by(|&a, &b| starts[a].total_cmp(&starts[b]));
    }
    (procs, by_pid)
}

/// What one event (other than a birth) of process `i` tells about the run.
fn apply(
    procs: &mut [ProcView],
    by_pid: &HashMap<i32, usize>,
    open_waits: &mut HashMap<i32, (f64, String)>,
    i: usize,
    e: &Event,
) {
    match &e.kind {
        Note::Began { .. } => {}
        Note::Ended { code } => {
            let p = &mut procs[i];
            p.end = e.t;
            p.ended_itself = true;
            if p.outcome == Outcome::Unknown {
                p.outcome = Outcome::Ended(Status::Exited(*code));
            }
            p.marks.push((e.t, format!("exit({code})")));
        }
        Note::Failed { message } => {
            let p = &mut procs[i];
            p.end = e.t;
            p.ended_itself = true;
            p.outcome = Outcome::Failed(message.clone());
            p.marks.push((e.t, "error".into()));
        }
        Note::Reaped { child, status } => {
            procs[i]
                .marks
                .push((e.t, format!("waitpid {child}: {status}")));
            if let Some(&c) = by_pid.get(child) {
                let p = &mut procs[c];
                p.reaped = Some(e.t);
                // A kill tells more than the end the child recorded itself.
                if !p.ended_itself || matches!(status, Status::Killed(_)) {
                    p.outcome = Outcome::Ended(*status);
                }
                if !p.ended_itself {
                    p.end = e.t;
                }
            }
        }
        Note::Killed { target, signal } => procs[i]
            .marks
            .push((e.t, format!("kill {target} {}", os::signal_name(*signal)))),
        Note::WaitBegan { what } => {
            open_waits.insert(e.pid, (e.t, what.clone()));
        }
        Note::WaitEnded => {
            if let Some((from, what)) = open_waits.remove(&e.pid) {
                procs[i].waits.push((from, e.t, what));
            }
        }
        Note::Put { .. } => procs[i].marks.push((e.t, "put".into())),
        Note::Got { .. } => procs[i].marks.push((e.t, "get".into())),
        Note::TaskBegan { task } => procs[i].marks.push((e.t, format!("task {task}"))),
        Note::TaskEnded { task } => procs[i].marks.push((e.t, format!("task {task} done"))),
        Note::SignalHandled { signal } => procs[i]
            .marks
            .push((e.t, format!("{} handled", script_signal(*signal)))),
        Note::Serves { place, .. } => {
            procs[i].marks.push((e.t, format!("serves on {place}")));
            procs[i].remote = Some(place.clone());
        }
        Note::Links { place, .. } => {
            procs[i].marks.push((e.t, format!("linked to {place}")));
            procs[i].remote = Some(place.clone());
            procs[i].link = true;
        }
        Note::Exec { program } => {
            procs[i].marks.push((e.t, format!("exec {program}")));
            procs[i].outcome = Outcome::Became(program.clone());
        }
    }
}

/// `SIGUSR1` as a script names it: "USR1".
fn script_signal(sig: os::Signal) -> &'static str {
    let name = os::signal_name(sig);
    name.strip_prefix("SIG").unwrap_or(name)
}

/// "12.3 ms", "1.52 s".
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}
