//! Process calls: fork, wait, kill, exit, dying with the parent, and what /proc says of a process.

use super::descriptors::wait_event;
use super::signals::{exit_code_for, forget_parent_signals, pending_stop};
use super::OsError;
use nix::errno::Errno;
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};
use std::sync::atomic::{AtomicI32, Ordering};

pub fn getpid() -> i32 {
    nix::unistd::getpid().as_raw()
}

/// This process's pid, cached (set at start and after every fork) for hot paths.
static MY_PID: AtomicI32 = AtomicI32::new(0);

pub fn current_pid() -> i32 {
    match MY_PID.load(Ordering::Relaxed) {
        0 => {
            let pid = getpid();
            MY_PID.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}

pub fn getppid() -> i32 {
    nix::unistd::getppid().as_raw()
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(Signal),
}

impl ExitStatus {
    /// The shell's number for it: the exit code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(sig) => exit_code_for(sig),
        }
    }
}

pub enum Forked {
    Child,
    Parent(i32),
}

/// fork(2). Nothing is buffered in this process (print writes directly), and
/// std's streams are flushed anyway, so no output can be printed twice.
pub fn fork() -> Result<Forked, OsError> {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // The handled signals wait (blocked) until the child has forgotten the
    // parent's pending signal and has its own wake pipe: a SIGTERM sent to the
    // child in between would otherwise be cleared below and lost, and the
    // child would run on as if never signalled.
    let mut handled = SigSet::empty();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGALRM,
        Signal::SIGCHLD,
    ] {
        handled.add(sig);
    }
    let mut before = SigSet::empty();
    let _ = signal::sigprocmask(
        signal::SigmaskHow::SIG_BLOCK,
        Some(&handled),
        Some(&mut before),
    );
    let restore = |mask: &SigSet| {
        let _ = signal::sigprocmask(signal::SigmaskHow::SIG_SETMASK, Some(mask), None);
    };
    // SAFETY: the interpreter never starts a thread, so the child is a copy of
    // a single-threaded process and may run any code, not only async-signal-safe calls.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => {
            MY_PID.store(getpid(), Ordering::Relaxed);
            forget_parent_signals();
            restore(&before);
            Ok(Forked::Child)
        }
        Ok(ForkResult::Parent { child }) => {
            restore(&before);
            Ok(Forked::Parent(child.as_raw()))
        }
        Err(e) => {
            restore(&before);
            Err(OsError::Call(e))
        }
    }
}

/// Ends this process at once, running no destructor and flushing nothing of
/// the parent's: the one way every child process ends.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit(2) is always safe to call; it only ends the process.
    unsafe { nix::libc::_exit(code) }
}

/// Ends this process by the default action of `sig`, so its parent sees it
/// killed by that signal (as a shell does after Ctrl-C).
pub fn die_by_signal(sig: Signal) -> ! {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: the default action runs no handler of ours, so no code of this
    // process can run in signal context because of it.
    let _ = unsafe { signal::sigaction(sig, &default) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = signal::sigprocmask(signal::SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    let _ = signal::raise(sig);
    // Only reached if the signal's default action does not end a process.
    exit_now(exit_code_for(sig))
}

/// waitpid(2) on one child (`Some(pid)`) or any child (`None`).
pub enum Waited {
    Ended(i32, ExitStatus),
    Running,
    NoChildren,
    Interrupted,
}

/// Blocking waits poll the wake pipe, so a SIGCHLD, SIGINT or SIGTERM that
/// arrives at any moment (even just before the wait starts) ends the wait.
pub fn wait_child(pid: Option<i32>, block: bool) -> Waited {
    let target = pid.map(Pid::from_raw).unwrap_or(Pid::from_raw(-1));
    loop {
        let result = match nix::sys::wait::waitpid(target, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => {
                return Waited::Ended(pid.as_raw(), ExitStatus::Exited(code))
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) => {
                return Waited::Ended(pid.as_raw(), ExitStatus::Signaled(sig))
            }
            Ok(_) => Waited::Running,
            Err(Errno::EINTR) => Waited::Interrupted,
            Err(_) => return Waited::NoChildren,
        };
        if !block {
            return result;
        }
        if pending_stop().is_err() {
            return Waited::Interrupted;
        }
        wait_event(&[], None);
    }
}

/// Sends a signal; false when the process no longer exists.
pub fn send_signal(pid: i32, sig: Signal) -> Result<bool, OsError> {
    match signal::kill(Pid::from_raw(pid), sig) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(OsError::Call(e)),
    }
}

/// Sends a signal to every process of a process group; false when the group is empty.
pub fn signal_group(pgid: i32, sig: Signal) -> Result<bool, OsError> {
    match signal::killpg(Pid::from_raw(pgid), sig) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(OsError::Call(e)),
    }
}

/// Whether any process is left in a process group.
pub fn group_exists(pgid: i32) -> bool {
    signal::killpg(Pid::from_raw(pgid), None).is_ok()
}

/// Makes this process receive SIGKILL when its parent dies. Returns false if
/// the parent is already gone (the race prctl alone cannot close).
///
/// KILL, not TERM: a parent of the tree that ends normally or by an error
/// stops its children itself (TERM, a grace period, KILL), so the signal
/// only comes when the parent died abruptly (SIGKILL, a crash). Nobody is
/// then left to escalate, and TERM would leave a stopped child, or a program
/// that ignores TERM, running forever.
pub fn die_with_parent(parent: i32) -> bool {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    nix::unistd::getppid().as_raw() == parent
}

/// Orphaned descendants are re-parented to this process instead of init.
pub fn become_subreaper() {
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// The pids of every live descendant of `ancestor` (children, their
/// children, ...), from /proc; zombies are left out (they cannot fork and
/// only need reaping, and a zombie has no children left).
pub fn descendant_pids(ancestor: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let mut parents = vec![ancestor];
    while let Some(parent) = parents.pop() {
        for pid in children_of(parent) {
            if process_alive(pid) {
                found.push(pid);
                parents.push(pid);
            }
        }
    }
    found
}

/// Which of `pids` can write to a pipe with one of these inodes
/// (`pipe_inode`): read from each one's /proc/PID/fd links (`pipe:[INODE]`)
/// and the access mode in /proc/PID/fdinfo (write-only, or read-write: the
/// pipe opened again through /proc/PID/fd).
pub fn writing_to_pipes(pids: &[i32], inodes: &[u64]) -> Vec<i32> {
    let writes = |pid: i32, fd: &std::fs::DirEntry| {
        let Ok(target) = std::fs::read_link(fd.path()) else {
            return false;
        };
        let target = target.to_string_lossy();
        let inode = target
            .strip_prefix("pipe:[")
            .and_then(|t| t.strip_suffix(']'));
        if !inode
            .and_then(|i| i.parse().ok())
            .is_some_and(|i| inodes.contains(&i))
        {
            return false;
        }
        let info = std::fs::read_to_string(format!(
            "/proc/{pid}/fdinfo/{}",
            fd.file_name().to_string_lossy()
        ));
        let flags = info.ok().and_then(|info| {
            let line = info.lines().find_map(|l| l.strip_prefix("flags:"))?;
            i64::from_str_radix(line.trim(), 8).ok()
        });
        flags.is_some_and(|f| f & i64::from(nix::libc::O_ACCMODE) != i64::from(nix::libc::O_RDONLY))
    };
    pids.iter()
        .copied()
        .filter(|&pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .is_ok_and(|fds| fds.flatten().any(|fd| writes(pid, &fd)))
        })
        .collect()
}

/// The children of a process: the kernel's list for its main thread, or a
/// scan of all of /proc where the kernel has no such list.
fn children_of(parent: i32) -> Vec<i32> {
    match std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")) {
        Ok(list) => list
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect(),
        Err(_) => scan_children(parent),
    }
}

/// The pids whose parent is `parent`, from a scan of every /proc entry.
fn scan_children(parent: i32) -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some((_, ppid)) = proc_stat(pid) {
            if ppid == parent {
                pids.push(pid);
            }
        }
    }
    pids
}

/// State letter and parent pid from `/proc/<pid>/stat`.
fn proc_stat(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// When the process started, in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`): tells a process from a later one with the same pid.
pub fn process_start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..]
        .split(' ')
        .nth(19)?
        .parse()
        .ok()
}

/// This process's start time (0 if unreadable), read once per process (reading
/// /proc costs nine system calls, and a join in a loop publishes its wait, with
/// this, each time): the pid it was read for is kept with it, so a forked child
/// reads its own.
pub fn own_start_time() -> u64 {
    static READ_FOR: AtomicI32 = AtomicI32::new(0);
    static STARTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let me = current_pid();
    if READ_FOR.load(Ordering::Relaxed) == me {
        return STARTED.load(Ordering::Relaxed);
    }
    let started = process_start_time(me).unwrap_or(0);
    STARTED.store(started, Ordering::Relaxed);
    READ_FOR.store(me, Ordering::Relaxed);
    started
}

/// Whether the process that started at `started` (clock ticks since boot, as
/// `process_start_time` says) still runs as `pid`: not a later process that
/// was given the same pid. `started` 0 (unknown) asks only for the pid.
pub fn process_alive_since(pid: i32, started: u64) -> bool {
    if pid <= 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    let mut fields = stat[close + 2..].split(' ');
    let alive = fields
        .next()
        .is_some_and(|state| state != "Z" && state != "X");
    alive && (started == 0 || fields.nth(18).and_then(|f| f.parse().ok()) == Some(started))
}

/// The kernel's state letter for a process (R, S, D, T, Z, ...), if it exists.
pub fn process_state(pid: i32) -> Option<char> {
    proc_stat(pid).map(|(state, _)| state)
}

/// Waits, at most `limit`, until a process is stopped or has ended: a
/// stop signal takes effect when the process next runs, not when kill(2)
/// returns. False if it neither stopped nor ended by then (it handles or
/// ignores the signal, or sleeps in the kernel where signals wait).
pub fn wait_until_stopped(pid: i32, limit: std::time::Duration) -> bool {
    let started = std::time::Instant::now();
    loop {
        match process_state(pid) {
            Some('T' | 't' | 'Z' | 'X') | None => return true,
            Some(_) if started.elapsed() >= limit || pending_stop().is_err() => return false,
            Some(_) => std::thread::sleep(std::time::Duration::from_micros(200)),
        }
    }
}

/// The threads of this process, from `/proc/self/status` (`None` if it cannot be read).
pub fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Threads:"))?;
    line["Threads:".len()..].trim().parse().ok()
}

/// Does the process exist and has it not ended (a zombie has ended)?
pub fn process_alive(pid: i32) -> bool {
    pid > 0 && matches!(process_state(pid), Some(state) if state != 'Z' && state != 'X')
}
