//! The fork ceremony, the one way a process of the script is made (fork, spawn, pool
//! worker, program): a place in the tree's count, a channel, the fork, the birth record.

use crate::error::{ErrorKind, Unwind, R};
use crate::front::ast::Span;
use crate::os;
use crate::process::Procs;
use crate::views::record::{Made, MadeAt, Note};
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// A process about to be made, as the fork ceremony needs to know it.
pub enum NewChild<'a> {
    /// `fork`: the child goes on with the script.
    Fork,
    /// `spawn f(..) as name`: the child runs `call` and sends back its result.
    Spawn { call: String, name: Rc<str> },
    /// A pool worker: the child runs tasks from its socket.
    PoolWorker,
    /// `run`, `capture`, `start`, a pipeline's program: the child becomes
    /// the program the launch describes. `at` is where the program is named.
    Program {
        launch: &'a os::Launch<'a>,
        at: Span,
    },
}

impl NewChild<'_> {
    /// "cannot {what}: ..." when the process limit is reached.
    fn what(&self) -> &'static str {
        match self {
            NewChild::Fork => "fork",
            NewChild::Spawn { .. } => "spawn",
            NewChild::PoolWorker => "start a pool worker",
            NewChild::Program { .. } => "start a program",
        }
    }

    /// The error for a failed OS call while making the child.
    fn failed(&self, reason: &os::OsError, span: Span) -> Unwind {
        if reason.is_process_limit() {
            return self.refused_by_the_system(span);
        }
        let diag = match self {
            NewChild::Fork => ErrorKind::Os.at(span, format!("fork failed: {reason}"), "here"),
            NewChild::Spawn { .. } => {
                ErrorKind::Os.at(span, format!("spawn failed: {reason}"), "here")
            }
            NewChild::PoolWorker => ErrorKind::Os.at(
                span,
                format!("cannot start a pool worker: {reason}"),
                "here",
            ),
            NewChild::Program { launch, at } => ErrorKind::ProgramStart
                .at(
                    *at,
                    format!("cannot run `{}`: {reason}", launch.prog),
                    "this program",
                )
                .with_help(reason.program_start_help()),
        };
        diag.into()
    }

    /// fork(2) failed with EAGAIN: a limit of the system's (RLIMIT_NPROC, a
    /// pids cgroup) met before the tree's own. Reported once per tree, as
    /// the tree's own limit is: every process of a fork bomb meets it.
    fn refused_by_the_system(&self, span: Span) -> Unwind {
        let mut diag = ErrorKind::ProcessLimit
            .at(
                span,
                format!(
                    "cannot {}: the system refused a new process (a limit on processes \
                     such as `ulimit -u` or a pids cgroup was reached)",
                    self.what()
                ),
                "refused by the system",
            )
            .with_help("set --max-procs below the system's limit, so that the script meets its own limit first");
        diag.process_limit = true;
        diag.into()
    }

    /// How the record shows it was made.
    fn made(&self) -> Made {
        match self {
            NewChild::Fork => Made::Fork,
            NewChild::Spawn { call, .. } => Made::Spawn { call: call.clone() },
            NewChild::PoolWorker => Made::PoolWorker,
            NewChild::Program { launch, .. } => Made::Program {
                command: launch.command_line(),
            },
        }
    }
}

/// Where the fork ceremony left us, with the channel the child talks through.
pub enum Forked {
    /// In the new child (never for a program, which became the program):
    /// the child's end of its channel (none for `fork`).
    Child(Option<OwnedFd>),
    /// In the parent: the child's pid and the parent's end of the channel
    /// (none for `fork` and for a program whose output is not captured).
    Parent(i32, Option<OwnedFd>),
}

/// A fork copies only the thread that calls it: a lock another thread held
/// (the allocator's, stdio's) stays locked in the child for ever. A host
/// program with threads gets this error instead of a child that hangs.
///
/// Reading the count costs a read of /proc, so it is read once and trusted
/// until code that could start a thread runs again: the interpreter never
/// does; the host does before a run and inside its functions (see
/// [`host_code_ran`]). A forked child inherits the answer, rightly: a fork
/// copies one thread.
fn refuse_if_threaded(span: Span, what: &str) -> R<()> {
    if ONE_THREAD_SEEN.load(Relaxed) {
        return Ok(());
    }
    match os::thread_count() {
        Some(threads) if threads > 1 => Err(Unwind::error(
            ErrorKind::Os
                .at(
                    span,
                    format!(
                        "cannot {what}: this process has {threads} threads, and a fork is only safe with one"
                    ),
                    "would fork here",
                )
                .with_help(
                    "run scripts from a single-threaded process: join the host's threads first, or start procscript as a child process",
                ),
        )),
        _ => {
            ONE_THREAD_SEEN.store(true, Relaxed);
            Ok(())
        }
    }
}

/// Whether this process was seen with one thread since host code last ran.
static ONE_THREAD_SEEN: AtomicBool = AtomicBool::new(false);

/// Host code ran (a run begins, a host function returned): it may have
/// started threads, so the next fork counts them again.
pub fn host_code_ran() {
    ONE_THREAD_SEEN.store(false, Relaxed);
}

impl Procs {
    /// Takes a place in the tree's process count, or fails at `span`.
    pub(crate) fn take_place(&mut self, span: Span, what: &str) -> R<()> {
        self.collect_ended();
        if self.live.try_acquire(self.max_procs) {
            return Ok(());
        }
        let mut diag = ErrorKind::ProcessLimit
            .at(
                span,
                format!(
                    "cannot {what}: the script already has {} live {}",
                    self.max_procs,
                    if self.max_procs == 1 {
                        "process"
                    } else {
                        "processes"
                    }
                ),
                "over the process limit",
            )
            .with_help(
                "the limit counts every process of the script's tree; raise it with --max-procs N",
            );
        diag.process_limit = true;
        Err(Unwind::error(diag))
    }

    /// The fork ceremony, the one way a process of the script is made: a place
    /// in the process count, the child's channel, the fork (the place given
    /// back if it fails), the child's new table, the queues it holds, and the
    /// record of its birth (`line` is where in the script it was made).
    pub(crate) fn fork_child(&mut self, new: NewChild, span: Span, at: MadeAt) -> R<Forked> {
        if !matches!(new, NewChild::Program { .. }) {
            refuse_if_threaded(span, new.what())?;
        }
        self.take_place(span, new.what())?;
        if !self.made_children {
            // Orphans of what this process starts come back to it, to be
            // stopped at its end: set before its first child can leave any.
            os::become_subreaper();
            self.made_children = true;
        }
        let tells_birth = self.recorder.as_ref().is_some_and(|r| r.explains())
            && !matches!(new, NewChild::Program { .. });
        if tells_birth {
            self.live.birth_coming();
        }
        // The birth is recorded by the parent once fork returns, but dated
        // now: under load the child may have run (and recorded) a while by then.
        let forked_at = os::monotonic_seconds();
        // The parent's end and the child's end of the child's channel.
        type Ends = (Option<OwnedFd>, Option<OwnedFd>);
        let forked: Result<(os::Forked, Ends), os::OsError> = match &new {
            NewChild::Fork => os::fork().map(|f| (f, (None, None))),
            NewChild::Spawn { .. } => {
                os::pipe().and_then(|(read, write)| Ok((os::fork()?, (Some(read), Some(write)))))
            }
            NewChild::PoolWorker => os::socket_pair()
                .and_then(|(ours, theirs)| Ok((os::fork()?, (Some(ours), Some(theirs))))),
            NewChild::Program { launch, .. } => {
                os::start_program(launch).map(|pid| (os::Forked::Parent(pid), (None, None)))
            }
        };
        let (forked, (parent_end, child_end)) = match forked {
            Ok(forked) => forked,
            Err(reason) => {
                self.live.release();
                if tells_birth {
                    self.live.birth_told();
                }
                return Err(new.failed(&reason, span));
            }
        };
        match forked {
            os::Forked::Child => {
                drop(parent_end);
                let name = match &new {
                    NewChild::Spawn { name, .. } => Some(name.clone()),
                    NewChild::PoolWorker => Some("pool worker".into()),
                    _ => None,
                };
                self.become_child(name);
                self.announce_birth(&new);
                if tells_birth {
                    self.live.birth_told();
                }
                Ok(Forked::Child(child_end))
            }
            os::Forked::Parent(pid) => {
                drop(child_end);
                self.live.mark_counted(pid);
                if !matches!(new, NewChild::Program { .. }) {
                    self.child_holds_queues(pid);
                }
                let name: Rc<str> = match &new {
                    NewChild::Spawn { name, .. } => name.clone(),
                    NewChild::Program { launch, .. } => launch.prog.into(),
                    NewChild::Fork | NewChild::PoolWorker => "".into(),
                };
                self.note_at(forked_at, || Note::Began {
                    child: pid,
                    how: new.made(),
                    name: match &new {
                        NewChild::Spawn { name, .. } => name.to_string(),
                        _ => String::new(),
                    },
                    at,
                });
                if !matches!(new, NewChild::Spawn { .. }) {
                    self.add_child(pid, name, &new);
                }
                Ok(Forked::Parent(pid, parent_end))
            }
        }
    }

    /// --explain at the prompt: the children an entry forked tell of their own
    /// birth; wait (a little at most) until they have, so that their lines
    /// come before the next `>>>`, not in the middle of the next line typed.
    pub(crate) fn await_birth_lines(&self) {
        let give_up = os::Deadline::after(Some(2.0));
        while self.live.births_untold() > 0 && !give_up.passed() {
            os::sleep(0.002);
        }
    }

    /// --explain: the new child tells of its own fork, before it does anything else.
    fn announce_birth(&self, new: &NewChild) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        let what = match new {
            NewChild::Fork => "in the child it returns 0".to_string(),
            NewChild::Spawn { call, name } => format!("the child runs {call} as {name}"),
            NewChild::PoolWorker => "a pool worker, waiting for tasks".to_string(),
            NewChild::Program { .. } => return,
        };
        recorder.say(os::getppid(), &format!("fork() -> {} ({what})", self.me()));
    }
}
