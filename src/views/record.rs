//! The event record behind --tree, --trace, --timeline and --explain: every process of the
//! tree appends its own events to one shared-memory log; --explain narrates them as they happen.

use crate::os::{self, SharedRegion};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

/// Bytes for events; past this, events are counted as lost.
const LOG_BYTES: usize = 64 * 1024 * 1024;
const CURSOR: usize = 0; // u64: where the next record goes
const LOST: usize = 8; // u64: events that did not fit
const DATA: usize = 64;

/// One thing that happened to one process.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Event {
    pub pid: i32,
    /// Seconds on the monotonic clock (the same in every process).
    pub t: f64,
    pub kind: Note,
}

/// How a process was made.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Made {
    /// The script's first process (a session's too).
    Script,
    Fork,
    /// `spawn` of this call (its source text).
    Spawn {
        call: String,
    },
    PoolWorker,
    /// `run`/`capture` of this command line.
    Program {
        command: String,
    },
}

/// "script", "fork", "spawn work(1)", "pool worker", "run ls -l".
impl std::fmt::Display for Made {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Made::Script => f.write_str("script"),
            Made::Fork => f.write_str("fork"),
            Made::Spawn { call } => write!(f, "spawn {call}"),
            Made::PoolWorker => f.write_str("pool worker"),
            Made::Program { command } => write!(f, "run {command}"),
        }
    }
}

/// Where a process was made: the file (empty for the script itself, a
/// module's path otherwise) and the 1-based line.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct MadeAt {
    pub file: String,
    pub line: u32,
}

/// "line 7" in the script, "lib/text.proc:7" in a module.
impl std::fmt::Display for MadeAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.file.is_empty() {
            true => write!(f, "line {}", self.line),
            false => write!(f, "{}:{}", self.file, self.line),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Note {
    /// Recorded by the parent when it made `pid` (or by the first process itself).
    Began {
        child: i32,
        how: Made,
        name: String,
        at: MadeAt,
    },
    /// The process reached its end (or `exit`) with this code.
    Ended {
        code: i32,
    },
    /// The process stopped at an uncaught error.
    Failed {
        message: String,
    },
    /// The parent collected `child`'s status.
    Reaped {
        child: i32,
        status: Status,
    },
    Killed {
        target: i32,
        #[serde(with = "signal_number")]
        signal: os::Signal,
    },
    WaitBegan {
        what: String,
    },
    WaitEnded,
    Put {
        queue: u64,
    },
    Got {
        queue: u64,
    },
    TaskBegan {
        task: u64,
    },
    TaskEnded {
        task: u64,
    },
    /// exec replaced the process with a program.
    Exec {
        program: String,
    },
    /// A signal arrived and the script's handler for it ran (`on_signal`).
    SignalHandled {
        #[serde(with = "signal_number")]
        signal: os::Signal,
    },
    /// A remote pool's relay: the worker on another machine answered and serves
    /// (`place`: "h2 (pid 4242)"); the launcher's words.
    Serves {
        place: String,
        launcher: String,
    },
    /// A remote pool's link: the worker host on another machine answered the
    /// hello (`place`: "h2 (pid 4241)") and serves this host's workers over
    /// one connection; the launcher's words.
    Links {
        place: String,
        launcher: String,
    },
}

/// How a process ended, as its parent's waitpid saw it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub enum Status {
    Exited(i32),
    /// Killed by this signal.
    Killed(#[serde(with = "signal_number")] os::Signal),
}

impl From<os::ExitStatus> for Status {
    fn from(status: os::ExitStatus) -> Status {
        match status {
            os::ExitStatus::Exited(code) => Status::Exited(code),
            os::ExitStatus::Signaled(sig) => Status::Killed(sig),
        }
    }
}

/// "exited 0", "killed by SIGKILL".
impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exited {code}"),
            Status::Killed(sig) => write!(f, "killed by {}", os::signal_name(*sig)),
        }
    }
}

/// A signal in the log: its number (nix's `Signal` has no serde form).
mod signal_number {
    use crate::os::Signal;
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(sig: &Signal, to: S) -> Result<S::Ok, S::Error> {
        (*sig as i32).serialize(to)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Signal, D::Error> {
        Signal::try_from(i32::deserialize(from)?).map_err(D::Error::custom)
    }
}

/// The shared log, mapped in every process of the tree.
pub struct EventLog {
    region: SharedRegion,
}

impl EventLog {
    pub fn create() -> Result<EventLog, String> {
        Ok(EventLog {
            region: SharedRegion::create("procscript-events", DATA + LOG_BYTES)
                .map_err(|e| e.to_string())?,
        })
    }

    /// Appends an event. Records are reserved with one atomic add, then
    /// written, then marked complete, so a process killed mid-write leaves a
    /// record the reader skips, never garbage.
    pub fn append(&self, event: &Event) {
        let Ok(bytes) = postcard::to_allocvec(event) else {
            return;
        };
        let size = (8 + bytes.len()).div_ceil(8) * 8;
        let pos = self.region.u64_at(CURSOR).fetch_add(size as u64, SeqCst) as usize;
        if pos + size > LOG_BYTES {
            self.region.u64_at(LOST).fetch_add(1, Relaxed);
            return;
        }
        let at = DATA + pos;
        self.region.u32_at(at).store(bytes.len() as u32, Release);
        self.region.write(at + 8, &bytes);
        self.region.u32_at(at + 4).store(1, Release);
    }

    /// Every complete event, in the order they were appended, and how many were lost.
    pub fn read_all(&self) -> (Vec<Event>, u64) {
        let end = (self.region.u64_at(CURSOR).load(Acquire) as usize).min(LOG_BYTES);
        let mut lost = self.region.u64_at(LOST).load(Relaxed);
        let mut events = Vec::new();
        let mut pos = 0;
        while pos + 8 <= end {
            let at = DATA + pos;
            let len = self.region.u32_at(at).load(Acquire) as usize;
            if len == 0 {
                // Reserved by a process that died before writing: nothing after it can be placed.
                lost += 1;
                break;
            }
            if self.region.u32_at(at + 4).load(Acquire) == 1 {
                let mut bytes = vec![0u8; len];
                self.region.read(at + 8, &mut bytes);
                match postcard::from_bytes::<Event>(&bytes) {
                    Ok(event) => events.push(event),
                    Err(_) => lost += 1,
                }
            } else {
                lost += 1;
            }
            pos += (8 + len).div_ceil(8) * 8;
        }
        (events, lost)
    }
}

/// What this run records and narrates.
pub struct Recorder {
    log: Option<EventLog>,
    explain: bool,
}

impl Recorder {
    /// `record`: keep events for the views; `explain`: narrate OS calls on stderr.
    pub fn new(record: bool, explain: bool) -> Result<Recorder, String> {
        Ok(Recorder {
            log: if record {
                Some(EventLog::create()?)
            } else {
                None
            },
            explain,
        })
    }

    pub fn note(&self, kind: Note) {
        self.note_at(os::monotonic_seconds(), kind);
    }

    /// Records an event that happened at `t`, a little earlier than now.
    pub fn note_at(&self, t: f64, kind: Note) {
        let event = Event {
            pid: os::current_pid(),
            t,
            kind,
        };
        if self.explain {
            if let Some(line) = narrate(&event) {
                let _ = os::write_all(os::StdFd::Err, line.as_bytes());
            }
        }
        if let Some(log) = &self.log {
            log.append(&event);
        }
    }

    /// Whether --explain narrates.
    pub fn explains(&self) -> bool {
        self.explain
    }

    /// Narrates a line for --explain only (nothing is recorded).
    pub fn say(&self, pid: i32, text: &str) {
        if self.explain {
            let _ = os::write_all(os::StdFd::Err, format!("[{pid}] {text}\n").as_bytes());
        }
    }

    pub fn events(&self) -> (Vec<Event>, u64) {
        match &self.log {
            Some(log) => log.read_all(),
            None => (Vec::new(), 0),
        }
    }
}

/// The --explain line for an event: each OS call in plain words.
fn narrate(event: &Event) -> Option<String> {
    let me = event.pid;
    let text = match &event.kind {
        // A child narrates its own birth (see Procs::announce_birth), so the
        // fork is always told before anything the child does. Programs cannot.
        Note::Began {
            child,
            how: how @ Made::Program { .. },
            ..
        } => format!("clone(CLONE_VM|CLONE_VFORK) -> {child}, which calls execvp to {how}"),
        Note::Began { .. } => return None,
        Note::Ended { code } => format!("exit({code})"),
        Note::Failed { message } => format!("uncaught error, exit(1): {message}"),
        Note::Reaped { child, status } => format!("waitpid({child}) -> {status}"),
        Note::Killed { target, signal } => {
            format!("kill({target}, {})", os::signal_name(*signal))
        }
        Note::Exec { program } => format!("execvp({program}): this process becomes the program"),
        Note::Serves { place, launcher } => {
            format!("the worker on {place} answered through its host's link (`{launcher}`): it serves the pool")
        }
        Note::Links { place, launcher } => format!(
            "the worker host on {place} answered over `{launcher}`: \
             this one connection serves the pool's workers there"
        ),
        Note::SignalHandled { signal } => {
            let name = os::signal_name(*signal);
            format!(
                "signal {} received; handler ran",
                name.trim_start_matches("SIG")
            )
        }
        _ => return None,
    };
    Some(format!("[{me}] {text}\n"))
}
