//! Other programs: a launch description, starting one as a child (clone with CLONE_VM|CLONE_VFORK), or replacing this process by one (exec).
//!
//! A program starts without copying the interpreter: the child shares this
//! process's memory (as `posix_spawn` does inside glibc) and this thread waits
//! until the child has called exec or failed. `posix_spawn` itself is not
//! used because it cannot set `PR_SET_PDEATHSIG`, and that setting is what
//! keeps the promise that a program never outlives a procscript process
//! killed by SIGKILL (see docs/language.md, "External programs").
//!
//! The child runs only the calls in [`become_program`], every one a plain
//! system call through libc on data prepared before the clone: no
//! allocation, no lock, nothing shared with this process changes.

use super::descriptors::print_fd;
use super::processes::current_pid;
use super::OsError;
use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{self, SigSet, Signal};
use nix::unistd::Pid;
use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Where a program's stderr goes.
#[derive(Clone, Copy, Debug)]
pub enum ErrorsTo<'a> {
    /// procscript's own stderr.
    Inherit,
    /// This descriptor (a file, /dev/null, a pipe).
    Fd(BorrowedFd<'a>),
    /// Wherever the program's stdout goes (`2>&1`).
    Stdout,
}

/// The process group a program starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupOf {
    /// procscript's own (Ctrl-C at the terminal reaches it with procscript).
    Inherit,
    /// A new group led by the program (its pid is the group's id).
    Own,
    /// The group of an earlier program (the later programs of a pipeline).
    Join(i32),
}

/// Everything about a program to start: its words, folder, environment,
/// standard streams and process group. Descriptors are borrowed: the caller
/// keeps them open until the start returns, then drops its copies.
pub struct Launch<'a> {
    pub prog: &'a str,
    pub args: &'a [String],
    /// The folder it starts in (None: this process's).
    pub cwd: Option<&'a str>,
    /// Variables added to (or replacing those of) the environment.
    pub env: &'a [(String, String)],
    /// Start from an empty environment instead of this process's.
    pub clear_env: bool,
    /// None: this process's stdin.
    pub stdin: Option<BorrowedFd<'a>>,
    /// None: where `print` writes (this process's stdout, or the host's redirection).
    pub stdout: Option<BorrowedFd<'a>>,
    pub stderr: ErrorsTo<'a>,
    pub group: GroupOf,
}

impl<'a> Launch<'a> {
    /// A program with this process's folder, environment, streams and group.
    pub fn plain(prog: &'a str, args: &'a [String]) -> Launch<'a> {
        Launch {
            prog,
            args,
            cwd: None,
            env: &[],
            clear_env: false,
            stdin: None,
            stdout: None,
            stderr: ErrorsTo::Inherit,
            group: GroupOf::Inherit,
        }
    }

    /// The command line, as records and messages show it.
    pub fn command_line(&self) -> String {
        std::iter::once(self.prog)
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The environment variable naming the running `procscript` binary, which
/// the command sets for every program its scripts run (`run`, `capture`,
/// `exec`, a shell): a script can run its own interpreter without it being
/// on the PATH, as `cargo run` leaves it.
pub const INTERPRETER_VARIABLE: &str = "PROCSCRIPT";

/// Sets [`INTERPRETER_VARIABLE`] to this executable's path. Called by the
/// command at its start, while it has one thread (the environment is not
/// safe to change with others running).
pub fn export_interpreter_path() {
    if let Ok(path) = std::env::current_exe() {
        std::env::set_var(INTERPRETER_VARIABLE, path);
    }
}

/// The words for an exec's errno, as people think of programs.
pub(super) fn describe(errno: Errno) -> &'static str {
    match errno {
        Errno::ENOENT => "no such program",
        Errno::EACCES => "permission denied",
        Errno::EISDIR => "it is a folder, not a program",
        errno => errno.desc(),
    }
}

/// A NUL-terminated array of pointers into `strings`, for execvp and friends.
struct CArray {
    /// Owned here: `pointers` point into them.
    _strings: Vec<CString>,
    pointers: Vec<*const libc::c_char>,
}

impl CArray {
    fn new(strings: Vec<CString>) -> CArray {
        let pointers = strings
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        CArray {
            _strings: strings,
            pointers,
        }
    }
}

fn c_string(text: &[u8]) -> Result<CString, OsError> {
    CString::new(text)
        .map_err(|_| OsError::NulInArgument(String::from_utf8_lossy(text).into_owned()))
}

/// A launch turned into what the child's system calls take, prepared before
/// the clone so that the child allocates nothing.
struct Prepared {
    argv: CArray,
    /// None: this process's environment (`environ`).
    envp: Option<CArray>,
    cwd: Option<CString>,
    /// Descriptors to move onto 0, 1 and 2 (-1: leave it).
    moves: [libc::c_int; 3],
    stderr_to_stdout: bool,
    /// The group to join: 0 for a new one, None to stay in procscript's.
    group: Option<libc::pid_t>,
    /// Copies made of descriptors numbered below 3 (kept open until the start).
    _lifted: Vec<OwnedFd>,
}

/// The environment a launch asks for: this process's (or none) with its variables set.
fn environment(launch: &Launch) -> Result<Option<CArray>, OsError> {
    if !launch.clear_env && launch.env.is_empty() {
        return Ok(None);
    }
    let replaced = |key: &OsStr| {
        launch
            .env
            .iter()
            .any(|(k, _)| k.as_bytes() == key.as_bytes())
    };
    let mut strings = Vec::new();
    if !launch.clear_env {
        for (key, value) in std::env::vars_os().filter(|(k, _)| !replaced(k)) {
            let mut entry = key.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            strings.push(c_string(&entry)?);
        }
    }
    for (key, value) in launch.env {
        strings.push(c_string(format!("{key}={value}").as_bytes())?);
    }
    Ok(Some(CArray::new(strings)))
}

/// A descriptor the child can move onto 0, 1 or 2 without clobbering another:
/// one numbered below 3 (possible when this process started with a standard
/// stream closed) is first copied above them.
fn movable(fd: Option<BorrowedFd>, lifted: &mut Vec<OwnedFd>) -> Result<libc::c_int, OsError> {
    let Some(fd) = fd else { return Ok(-1) };
    if fd.as_raw_fd() > 2 {
        return Ok(fd.as_raw_fd());
    }
    let copy =
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3)).map_err(OsError::Call)?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
    let copy = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(copy) };
    let raw = copy.as_raw_fd();
    lifted.push(copy);
    Ok(raw)
}

fn prepare(launch: &Launch) -> Result<Prepared, OsError> {
    let words = std::iter::once(launch.prog)
        .chain(launch.args.iter().map(String::as_str))
        .map(|w| c_string(w.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let cwd = launch.cwd.map(|d| c_string(d.as_bytes())).transpose()?;
    let mut lifted = Vec::new();
    let stderr = match launch.stderr {
        ErrorsTo::Fd(fd) => Some(fd),
        ErrorsTo::Inherit | ErrorsTo::Stdout => None,
    };
    let stdout = match launch.stdout {
        Some(fd) => movable(Some(fd), &mut lifted)?,
        // Where `print` writes, when a host moved it off stdout.
        None => match print_fd() {
            1 => -1,
            // SAFETY: the print descriptor stays open for the whole run (see `PrintRedirect`).
            fd => movable(Some(unsafe { BorrowedFd::borrow_raw(fd) }), &mut lifted)?,
        },
    };
    Ok(Prepared {
        argv: CArray::new(words),
        envp: environment(launch)?,
        cwd,
        moves: [
            movable(launch.stdin, &mut lifted)?,
            stdout,
            movable(stderr, &mut lifted)?,
        ],
        stderr_to_stdout: matches!(launch.stderr, ErrorsTo::Stdout),
        group: match launch.group {
            GroupOf::Inherit => None,
            GroupOf::Own => Some(0),
            GroupOf::Join(pgid) => Some(pgid),
        },
        _lifted: lifted,
    })
}

/// Which step of becoming the program failed, with its errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The parent died before the child could tie its life to it.
    Parent,
    Streams,
    Folder,
    Exec,
}

/// The clone child's first step: SIGKILL when the parent dies, for any
/// reason (the setting survives exec), and its process group. False when
/// the parent is already gone (the race prctl alone cannot close).
fn tie_to_parent(p: &Prepared, parent: libc::pid_t) -> bool {
    // SAFETY: plain system calls with integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        if libc::getppid() != parent {
            return false;
        }
        if let Some(group) = p.group {
            // A group that has just ended (a pipeline's first program failed)
            // is no reason to fail: the parent sees that failure and stops the rest.
            libc::setpgid(0, group);
        }
    }
    true
}

/// Becoming the program, in the clone child or (for `exec`) in this
/// process: move its streams, enter its folder, put the signals as a
/// program expects them, and exec. Returns only the step that failed, with
/// its errno. Only system calls, on prepared data: nothing allocates.
fn become_program(p: &Prepared, in_clone: bool) -> (Step, i32) {
    let errno = || Errno::last_raw();
    // SAFETY: dup2 and chdir on descriptors and a C string that `p` keeps alive.
    unsafe {
        for (target, &fd) in p.moves.iter().enumerate() {
            if fd >= 0 && libc::dup2(fd, target as libc::c_int) < 0 {
                return (Step::Streams, errno());
            }
        }
        if p.stderr_to_stdout && libc::dup2(1, 2) < 0 {
            return (Step::Streams, errno());
        }
        if let Some(cwd) = &p.cwd {
            if libc::chdir(cwd.as_ptr()) < 0 {
                return (Step::Folder, errno());
            }
        }
    }
    reset_signals_for_program(in_clone);
    // SAFETY: argv and envp are NUL-terminated arrays of pointers to C strings owned by `p`.
    unsafe {
        match &p.envp {
            None => libc::execvp(p.argv.pointers[0], p.argv.pointers.as_ptr()),
            Some(envp) => libc::execvpe(
                p.argv.pointers[0],
                p.argv.pointers.as_ptr(),
                envp.pointers.as_ptr(),
            ),
        };
    }
    (Step::Exec, errno())
}

/// Signals as a freshly started program expects them: SIGPIPE at its default
/// (Rust ignores it) and nothing blocked. In a clone child, first every
/// handler of ours at its default too: a handler must never run there, as it
/// would write into this process's memory (exec would reset them anyway). A
/// signal this process ignores on purpose stays ignored, as exec keeps it.
fn reset_signals_for_program(in_clone: bool) {
    for sig in Signal::iterator() {
        if !in_clone && sig != Signal::SIGPIPE {
            continue;
        }
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: sigaction with a null new action only reads the current one
        // into a zeroed struct we own; setting SIG_DFL installs no handler.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig as libc::c_int, std::ptr::null(), &mut old) != 0 {
                continue;
            }
            let handled = old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN;
            if handled || sig == Signal::SIGPIPE {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig as libc::c_int, &default, std::ptr::null_mut());
            }
        }
    }
    let _ = signal::sigprocmask(
        signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        None,
    );
}

/// The stack the clone child runs on: enough for `become_program` and for
/// execvp, which builds the candidate paths (and, for a script without `#!`,
/// a new argument list) on its stack.
fn child_stack_size(p: &Prepared) -> usize {
    let path = std::env::var_os("PATH").map_or(0, |p| p.len());
    64 * 1024 + path + 2 * p.argv.pointers.len() * std::mem::size_of::<usize>()
}

/// Starts a program as a child of this process; its pid. An exec failure (no
/// such program, a folder that cannot be entered) comes back as an error,
/// with no child left.
pub fn start_program(launch: &Launch) -> Result<i32, OsError> {
    let prepared = prepare(launch)?;
    let parent = current_pid();
    let failure = std::cell::Cell::new(None);
    let mut stack = vec![0u8; child_stack_size(&prepared)];
    // No handler of ours may run in the child before it has reset them all:
    // every signal waits (blocked) until then, or until the clone returns here.
    let mut before = SigSet::empty();
    let _ = signal::sigprocmask(
        signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut before),
    );
    let child = Box::new(|| {
        let step = if tie_to_parent(&prepared, parent) {
            become_program(&prepared, true)
        } else {
            (Step::Parent, libc::ESRCH)
        };
        failure.set(Some(step));
        127
    });
    let flags = nix::sched::CloneFlags::CLONE_VM | nix::sched::CloneFlags::CLONE_VFORK;
    // SAFETY: CLONE_VFORK suspends this thread until the child has exec'd or
    // ended, so the stack, `prepared` and `failure` outlive every use the
    // child makes of them; the child only makes system calls on prepared
    // data (no allocation, no lock), runs with every signal blocked until
    // its handlers are reset, and ends by exec or by returning 127 (which
    // exits the child only).
    let cloned = unsafe { nix::sched::clone(child, &mut stack, flags, Some(libc::SIGCHLD)) };
    let _ = signal::sigprocmask(signal::SigmaskHow::SIG_SETMASK, Some(&before), None);
    let pid = cloned.map_err(OsError::Call)?.as_raw();
    let Some((step, errno)) = failure.get() else {
        return Ok(pid);
    };
    // The child has ended (it returned): reap it here.
    let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
    Err(step_failed(launch, step, Errno::from_raw(errno)))
}

/// execvp(3) of a launch in this process: returns only the reason it failed,
/// with this process's streams, folder and signals as they were.
pub fn exec_program(launch: &Launch) -> OsError {
    let prepared = match prepare(launch) {
        Ok(prepared) => prepared,
        Err(reason) => return reason,
    };
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let saved = match SavedState::take() {
        Ok(saved) => saved,
        Err(reason) => return reason,
    };
    let (step, errno) = become_program(&prepared, false);
    saved.restore();
    step_failed(launch, step, Errno::from_raw(errno))
}

/// Why becoming the program failed, in the words of the step that failed.
/// An exec's ENOENT for a file that exists means the kernel could not find
/// what runs it (the interpreter of its `#!` line, or its loader): saying
/// "no such program" of a file the user can see would mislead.
fn step_failed(launch: &Launch, step: Step, errno: Errno) -> OsError {
    match step {
        Step::Exec if errno == Errno::ENOENT && launch.cwd.is_none() => {
            match super::program_io::locate_program(launch.prog) {
                Ok(path) => OsError::MissingInterpreter(super::program_io::interpreter_of(&path)),
                Err(_) => OsError::Program(errno),
            }
        }
        // EACCES for a folder named as a path: told as a folder, as bash does.
        Step::Exec if errno == Errno::EACCES && names_a_folder(launch) => {
            OsError::Program(Errno::EISDIR)
        }
        Step::Exec => OsError::Program(errno),
        Step::Folder => OsError::File(errno),
        Step::Parent | Step::Streams => OsError::Call(errno),
    }
}

/// Whether the program is named by a path (it has a `/`) that is a folder,
/// seen from where the exec ran (the launch's `cwd`, when it has one).
fn names_a_folder(launch: &Launch) -> bool {
    let prog = Path::new(launch.prog);
    if !launch.prog.contains('/') {
        return false;
    }
    let path = match launch.cwd {
        Some(cwd) if prog.is_relative() => Path::new(cwd).join(prog),
        _ => prog.to_path_buf(),
    };
    std::fs::metadata(path).is_ok_and(|meta| meta.is_dir())
}

/// What an exec changes before it replaces the process, kept to be put back
/// when it fails: the standard streams, the folder, the signal settings.
struct SavedState {
    streams: Vec<OwnedFd>,
    folder: Option<OwnedFd>,
    sigpipe: Option<signal::SigAction>,
    mask: SigSet,
}

impl SavedState {
    fn take() -> Result<SavedState, OsError> {
        let streams = (0..3)
            .map(|fd| {
                // SAFETY: 0, 1 and 2 are open while the interpreter runs; only borrowed here.
                let fd = unsafe { BorrowedFd::borrow_raw(fd) };
                fd.try_clone_to_owned()
                    .map_err(|e| OsError::NoErrno(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let folder = nix::fcntl::open(
            ".",
            nix::fcntl::OFlag::O_PATH
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ok();
        let ignore = signal::SigAction::new(
            signal::SigHandler::SigIgn,
            signal::SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: reads the current SIGPIPE action by setting one that runs no handler.
        let sigpipe = unsafe { signal::sigaction(Signal::SIGPIPE, &ignore) }.ok();
        let mask = SigSet::thread_get_mask().unwrap_or_else(|_| SigSet::empty());
        Ok(SavedState {
            streams,
            folder,
            sigpipe,
            mask,
        })
    }

    fn restore(self) {
        for (target, fd) in self.streams.iter().enumerate() {
            // SAFETY: dup2 onto a standard stream from a copy we own.
            unsafe { libc::dup2(fd.as_raw_fd(), target as libc::c_int) };
        }
        if let Some(folder) = &self.folder {
            let _ = nix::unistd::fchdir(folder);
        }
        if let Some(action) = self.sigpipe {
            // SAFETY: puts back the action SIGPIPE had, which ran no handler of ours.
            let _ = unsafe { signal::sigaction(Signal::SIGPIPE, &action) };
        }
        let _ = signal::sigprocmask(signal::SigmaskHow::SIG_SETMASK, Some(&self.mask), None);
    }
}
