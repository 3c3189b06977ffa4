//! Every OS call procscript makes, through nix: the one module that talks to the kernel.

use nix::errno::Errno;
use nix::time::{clock_gettime, ClockId};
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::ptr::NonNull;

/// The standard streams scripts write to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdFd {
    Out,
    Err,
}

impl StdFd {
    pub fn name(self) -> &'static str {
        match self {
            StdFd::Out => "stdout",
            StdFd::Err => "stderr",
        }
    }

    fn write(self, bytes: &[u8]) -> nix::Result<usize> {
        // Bypasses Rust's stdout buffer on purpose: nothing is ever buffered,
        // so nothing can be printed twice after a fork.
        match self {
            StdFd::Out => {
                // SAFETY: PRINT_FD is stdout, or a descriptor the embedding
                // Engine keeps open for the whole run (see `PrintRedirect`).
                let fd = unsafe { BorrowedFd::borrow_raw(PRINT_FD.load(Ordering::Relaxed)) };
                nix::unistd::write(fd, bytes)
            }
            StdFd::Err => nix::unistd::write(std::io::stderr(), bytes),
        }
    }
}

/// Where `print` writes: stdout (1), unless an embedding host redirected it.
/// A process-wide setting, as stdout itself is: forked children inherit it.
static PRINT_FD: AtomicI32 = AtomicI32::new(1);

/// Sends `print` (and the output of programs that `run` starts) to `fd` until
/// dropped. The caller keeps `fd` open while this lives.
pub struct PrintRedirect {
    previous: RawFd,
}

impl PrintRedirect {
    pub fn new(fd: BorrowedFd<'_>) -> PrintRedirect {
        use std::os::fd::AsRawFd;
        PrintRedirect {
            previous: PRINT_FD.swap(fd.as_raw_fd(), Ordering::Relaxed),
        }
    }
}

impl Drop for PrintRedirect {
    fn drop(&mut self) {
        PRINT_FD.store(self.previous, Ordering::Relaxed);
    }
}

/// In a child about to become a program: its stdout is where `print` writes.
fn program_stdout_follows_print() {
    let fd = PRINT_FD.load(Ordering::Relaxed);
    if fd != 1 {
        // SAFETY: as in `StdFd::write`, the descriptor is open for the run.
        let _ = nix::unistd::dup2_stdout(unsafe { BorrowedFd::borrow_raw(fd) });
    }
}

/// An anonymous in-memory file that every process of a run can append to
/// (they share its offset), read back whole by `read_memory_file`.
pub fn memory_file(name: &str) -> Result<OwnedFd, String> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    use nix::sys::memfd::{memfd_create, MFdFlags};
    let fd = memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(|e| e.desc().to_string())?;
    fcntl(&fd, FcntlArg::F_SETFL(OFlag::O_APPEND)).map_err(|e| e.desc().to_string())?;
    Ok(fd)
}

/// Everything written to a memory file, from its start.
pub fn read_memory_file(fd: &OwnedFd) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match nix::sys::uio::pread(fd, &mut buf, out.len() as i64) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.desc().to_string()),
        }
    }
}

#[derive(Debug)]
pub enum WriteError {
    /// The reading end is closed.
    BrokenPipe,
    Other(String),
}

/// Writes all of `bytes`. A line short enough for one write(2) (every line up
/// to PIPE_BUF into a pipe) goes out whole, never interleaved with another process's.
pub fn write_all(fd: StdFd, mut bytes: &[u8]) -> Result<(), WriteError> {
    while !bytes.is_empty() {
        match fd.write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) | Err(Errno::EAGAIN) => continue,
            Err(Errno::EPIPE) => return Err(WriteError::BrokenPipe),
            Err(e) => return Err(WriteError::Other(e.desc().to_string())),
        }
    }
    Ok(())
}

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

/// Seconds on the monotonic clock, the same clock in every process of the tree.
pub fn monotonic_seconds() -> f64 {
    match clock_gettime(ClockId::CLOCK_MONOTONIC) {
        Ok(t) => t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9,
        Err(_) => 0.0,
    }
}

/// Sleeps for a non-negative, finite number of seconds.
pub fn sleep(seconds: f64) {
    std::thread::sleep(std::time::Duration::from_secs_f64(seconds.min(1e9)));
}

/// The width of the terminal on stderr, if stderr is one.
pub fn stderr_terminal_width() -> Option<usize> {
    let mut size = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we pass; fd 2 is
    // stderr, and a non-terminal simply makes the call fail.
    let ok = unsafe { nix::libc::ioctl(2, nix::libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col as usize)
}

// ---------------------------------------------------------------- processes

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's number for it: the exit code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(sig) => 128 + sig,
        }
    }
}

pub enum Forked {
    Child,
    Parent(i32),
}

/// fork(2). Nothing is buffered in this process (print writes directly), and
/// std's streams are flushed anyway, so no output can be printed twice.
pub fn fork() -> Result<Forked, String> {
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
            PENDING_SIGNAL.store(0, Ordering::Relaxed);
            MY_PID.store(getpid(), Ordering::Relaxed);
            // The parent's wake pipe must not be shared: each process wakes on its own signals.
            open_wake_pipe();
            restore(&before);
            Ok(Forked::Child)
        }
        Ok(ForkResult::Parent { child }) => {
            restore(&before);
            Ok(Forked::Parent(child.as_raw()))
        }
        Err(e) => {
            restore(&before);
            Err(e.desc().to_string())
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
pub fn die_by_signal(sig: i32) -> ! {
    if let Ok(signal) = Signal::try_from(sig) {
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // SAFETY: installing the default action has no handler to be unsafe.
        let _ = unsafe { signal::sigaction(signal, &default) };
        let mut set = SigSet::empty();
        set.add(signal);
        let _ = signal::sigprocmask(signal::SigmaskHow::SIG_UNBLOCK, Some(&set), None);
        let _ = signal::raise(signal);
    }
    exit_now(128 + sig)
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
                return Waited::Ended(pid.as_raw(), ExitStatus::Signaled(sig as i32))
            }
            Ok(_) => Waited::Running,
            Err(Errno::EINTR) => Waited::Interrupted,
            Err(_) => return Waited::NoChildren,
        };
        if !block {
            return result;
        }
        if pending_signal().is_some() {
            return Waited::Interrupted;
        }
        wait_event(&[], None);
    }
}

/// Sends a signal; false when the process no longer exists.
pub fn send_signal(pid: i32, sig: i32) -> Result<bool, String> {
    let signal = Signal::try_from(sig).map_err(|e| e.desc().to_string())?;
    match signal::kill(Pid::from_raw(pid), signal) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(e.desc().to_string()),
    }
}

/// Signal numbers by name, without the SIG prefix.
pub const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ABRT", 6),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
];

/// Whether a signal's purpose is to end a process (so a stopped one must be woken for it).
pub fn ends_a_process(sig: i32) -> bool {
    [1, 2, 3, 6, 15].contains(&sig)
}

pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;
pub const SIGCONT: i32 = 18;

/// `"TERM"` or `"SIGTERM"` to 15.
pub fn signal_number(name: &str) -> Option<i32> {
    let bare = name.strip_prefix("SIG").unwrap_or(name);
    SIGNALS
        .iter()
        .find(|(n, _)| *n == bare)
        .map(|(_, num)| *num)
}

/// 15 to `"SIGTERM"`.
pub fn signal_name(sig: i32) -> String {
    match SIGNALS.iter().find(|(_, num)| *num == sig) {
        Some((name, _)) => format!("SIG{name}"),
        None => format!("signal {sig}"),
    }
}

/// The last SIGINT or SIGTERM received and not yet handled (0: none).
static PENDING_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The self-pipe every blocking wait polls; the signal handlers write a byte to it.
static WAKE_READ: AtomicI32 = AtomicI32::new(-1);
static WAKE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// Set while the prompt waits for a line: see `while_reading_input`.
static TERM_INTERRUPTS_INPUT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: nix::libc::c_int) {
    // Only atomics, write(2) and kill(2): all async-signal-safe. errno is
    // saved and restored so the interrupted code sees its own.
    let saved = Errno::last_raw();
    let pending = PENDING_SIGNAL.load(Ordering::Relaxed);
    // A SIGINT raised for a SIGTERM (below) must not hide it.
    if sig != nix::libc::SIGCHLD && !(sig == SIGINT && pending == SIGTERM) {
        PENDING_SIGNAL.store(sig, Ordering::Relaxed);
    }
    if sig == SIGTERM && TERM_INTERRUPTS_INPUT.load(Ordering::Relaxed) {
        // A line editor retries read(2) after signals it does not know, but
        // returns on SIGINT (as for Ctrl-C): raise one so that it does.
        let _ = signal::kill(nix::unistd::getpid(), Signal::SIGINT);
    }
    let fd = WAKE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: writes one byte from a live stack variable to a non-blocking
        // pipe; a full pipe (EAGAIN) already guarantees a wake-up.
        unsafe { nix::libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    Errno::set_raw(saved);
}

/// Opens this process's wake pipe (closing one inherited from a parent).
fn open_wake_pipe() {
    use std::os::fd::IntoRawFd;
    // The write end first: a signal arriving meanwhile must never write into
    // a pipe whose read end is already closed.
    for slot in [&WAKE_WRITE, &WAKE_READ] {
        let old = slot.swap(-1, Ordering::SeqCst);
        if old >= 0 {
            let _ = nix::unistd::close(old);
        }
    }
    let flags = nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK;
    if let Ok((read, write)) = nix::unistd::pipe2(flags) {
        WAKE_READ.store(read.into_raw_fd(), Ordering::SeqCst);
        WAKE_WRITE.store(write.into_raw_fd(), Ordering::SeqCst);
    }
}

/// Catches SIGINT and SIGTERM into a flag the interpreter checks at safe
/// points, and SIGCHLD, and makes each of them wake any blocking wait.
pub fn install_signal_handlers() {
    // A write to a closed pipe is an EPIPE error we handle, never a silent
    // death (Rust's main sets this too, but a host embedding procscript may not).
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: ignoring a signal installs no handler.
    let _ = unsafe { signal::sigaction(Signal::SIGPIPE, &ignore) };
    open_wake_pipe();
    let stop = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let child = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores into an atomic and writes to a pipe,
    // both async-signal-safe.
    unsafe {
        let _ = signal::sigaction(Signal::SIGINT, &stop);
        let _ = signal::sigaction(Signal::SIGTERM, &stop);
        let _ = signal::sigaction(Signal::SIGALRM, &stop);
        let _ = signal::sigaction(Signal::SIGCHLD, &child);
    }
}

/// What ended a `wait_event`.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// This one of the watched descriptors is readable (or at its end).
    Readable(usize),
    /// A signal arrived (SIGCHLD, SIGINT or SIGTERM).
    Woken,
    Timeout,
}

/// Waits until one of `fds` is readable, a signal arrives, or `timeout_ms` passes.
pub fn wait_event(fds: &[&OwnedFd], timeout_ms: Option<i32>) -> Event {
    use nix::poll::{PollFd, PollFlags, PollTimeout};
    use std::os::fd::BorrowedFd;
    let wake = WAKE_READ.load(Ordering::Relaxed);
    // SAFETY: the wake pipe's read end stays open for the life of the process
    // (it is only replaced right after fork, before any wait).
    let wake_fd = (wake >= 0).then(|| unsafe { BorrowedFd::borrow_raw(wake) });
    let mut polled: Vec<PollFd> = fds
        .iter()
        .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
        .collect();
    if let Some(w) = wake_fd {
        polled.push(PollFd::new(w, PollFlags::POLLIN));
    }
    let timeout = match timeout_ms {
        None => PollTimeout::NONE,
        Some(ms) => PollTimeout::try_from(ms.max(0)).unwrap_or(PollTimeout::MAX),
    };
    match nix::poll::poll(&mut polled, timeout) {
        Ok(0) => Event::Timeout,
        Ok(_) => {
            let ready = |pfd: &PollFd| pfd.revents().is_some_and(|r| !r.is_empty());
            if let Some(i) = polled[..fds.len()].iter().position(ready) {
                return Event::Readable(i);
            }
            if let Some(w) = wake_fd {
                let mut sink = [0u8; 64];
                while matches!(nix::unistd::read(w, &mut sink), Ok(n) if n > 0) {}
            }
            Event::Woken
        }
        Err(_) => Event::Woken,
    }
}

/// The signal that arrived, if any, for the interpreter to act on.
#[inline]
pub fn pending_signal() -> Option<i32> {
    match PENDING_SIGNAL.load(Ordering::Relaxed) {
        0 => None,
        sig => Some(sig),
    }
}

/// Runs `f`, a wait for the user's input in a line editor, so that a SIGTERM
/// arriving meanwhile interrupts the editor as Ctrl-C would; the SIGTERM
/// stays pending for the caller to act on.
pub fn while_reading_input<T>(f: impl FnOnce() -> T) -> T {
    TERM_INTERRUPTS_INPUT.store(true, Ordering::Relaxed);
    let result = f();
    TERM_INTERRUPTS_INPUT.store(false, Ordering::Relaxed);
    result
}

/// Forgets a SIGINT that was handled (the prompt goes on after a Ctrl-C).
pub fn clear_pending_signal() {
    PENDING_SIGNAL.store(0, Ordering::Relaxed);
}

pub const SIGALRM: i32 = 14;

/// Delivers SIGALRM to this process after `seconds` (for --timeout). A forked
/// child does not inherit it.
pub fn alarm_after(seconds: u32) {
    let _ = nix::unistd::alarm::set(seconds.max(1));
}

/// Makes this process receive SIGTERM when its parent dies. Returns false if
/// the parent is already gone (the race prctl alone cannot close).
pub fn die_with_parent(parent: i32) -> bool {
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    nix::unistd::getppid().as_raw() == parent
}

/// Orphaned descendants are re-parented to this process instead of init.
pub fn become_subreaper() {
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// The pids of this process's children, read from /proc (adopted orphans included).
pub fn child_pids_from_proc(parent: i32) -> Vec<i32> {
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

/// The kernel's state letter for a process (R, S, D, T, Z, ...), if it exists.
pub fn process_state(pid: i32) -> Option<char> {
    proc_stat(pid).map(|(state, _)| state)
}

/// Sleeps, returning early when SIGINT or SIGTERM arrives.
pub fn sleep_interruptible(seconds: f64) {
    let end = monotonic_seconds() + seconds.min(1e9);
    while pending_signal().is_none() {
        let left = end - monotonic_seconds();
        if left <= 0.0 {
            return;
        }
        wait_event(&[], Some(ms_ceil(left)));
    }
}

/// Waits up to `seconds` for something to happen to a child (or a signal).
pub fn pause_for_children(seconds: f64) {
    wait_event(&[], Some(ms_ceil(seconds)));
}

pub fn ms_ceil(seconds: f64) -> i32 {
    (seconds * 1000.0).ceil().clamp(0.0, i32::MAX as f64) as i32
}

// ---------------------------------------------------------------- pipes

/// A pipe whose ends close on exec.
pub fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| e.desc().to_string())
}

/// Writes all bytes to a pipe or file; gives up when SIGINT or SIGTERM arrives.
pub fn write_fd(fd: &OwnedFd, mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) if pending_signal().is_some() => return Err("interrupted".into()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.desc().to_string()),
        }
    }
    Ok(())
}

pub enum ReadResult {
    Data(usize),
    Eof,
    Interrupted,
    /// Nothing arrived before the timeout.
    Timeout,
}

/// Reads what is there, waiting at most `timeout_ms` (None: as long as it
/// takes); a SIGINT or SIGTERM ends the wait.
pub fn read_fd(fd: &OwnedFd, buf: &mut [u8], timeout_ms: Option<i32>) -> ReadResult {
    let end = timeout_ms.map(|ms| monotonic_seconds() + ms as f64 / 1000.0);
    loop {
        if pending_signal().is_some() {
            return ReadResult::Interrupted;
        }
        let left = end.map(|end| ms_ceil(end - monotonic_seconds()));
        match wait_event(&[fd], left) {
            Event::Readable(_) => {
                return match nix::unistd::read(fd, buf) {
                    Ok(0) => ReadResult::Eof,
                    Ok(n) => ReadResult::Data(n),
                    Err(Errno::EINTR) | Err(Errno::EAGAIN) => continue,
                    Err(_) => ReadResult::Eof,
                }
            }
            Event::Timeout => return ReadResult::Timeout,
            Event::Woken => {
                if end.is_some_and(|end| monotonic_seconds() >= end) {
                    return ReadResult::Timeout;
                }
            }
        }
    }
}

// ---------------------------------------------------------------- shared state

/// What every process of one script's tree shares: a page of shared memory
/// mapped by the root and inherited through every fork.
#[repr(C)]
struct SharedPage {
    live: AtomicUsize,
    limit_reported: AtomicUsize,
}

/// The tree's count of live processes, and whether a child already reported
/// reaching the process limit (so a fork bomb reports it once, not per process).
pub struct SharedCounter {
    page: NonNull<SharedPage>,
    /// Whether `page` came from mmap (else from a Box, if mmap failed).
    mapped: bool,
}

impl SharedCounter {
    /// Maps a fresh shared page; falls back to a private one if mmap fails.
    pub fn new(initial: usize) -> SharedCounter {
        use nix::sys::mman::{MapFlags, ProtFlags};
        use std::num::NonZeroUsize;
        let len = NonZeroUsize::new(std::mem::size_of::<SharedPage>()).expect("non-zero size");
        // SAFETY: an anonymous shared mapping of a fresh page; nothing else
        // aliases it, and it stays mapped until this counter is dropped.
        let mapped = unsafe {
            nix::sys::mman::mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        };
        let counter = match mapped {
            // The page is zeroed, page-aligned and large enough for SharedPage,
            // whose fields are atomics valid as all zeros.
            Ok(ptr) => SharedCounter {
                page: ptr.cast(),
                mapped: true,
            },
            Err(_) => SharedCounter {
                page: NonNull::from(Box::leak(Box::new(SharedPage {
                    live: AtomicUsize::new(0),
                    limit_reported: AtomicUsize::new(0),
                }))),
                mapped: false,
            },
        };
        counter.page().live.store(initial, Ordering::SeqCst);
        counter
    }

    fn page(&self) -> &SharedPage {
        // SAFETY: the page is valid from `new` until `drop`, and only read
        // through atomics.
        unsafe { self.page.as_ref() }
    }

    /// Takes one place if fewer than `max` are taken.
    pub fn try_acquire(&self, max: usize) -> bool {
        self.page()
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    pub fn release(&self) {
        let _ = self
            .page()
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_sub(1))
            });
    }

    /// True for the first caller in the whole tree, false for every later one.
    pub fn first_limit_report(&self) -> bool {
        self.page().limit_reported.swap(1, Ordering::SeqCst) == 0
    }
}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        if self.mapped {
            // SAFETY: unmaps the page mapped in `new`; no reference to it
            // outlives the counter (`page()` borrows from it).
            let _ = unsafe {
                nix::sys::mman::munmap(self.page.cast(), std::mem::size_of::<SharedPage>())
            };
        }
    }
}

// ---------------------------------------------------------------- shared memory regions

use std::sync::atomic::{AtomicU32, AtomicU64};

/// A shared memory region backed by a memfd: inherited by fork, and passable
/// to other processes as a file descriptor. All access is bounds-checked.
pub struct SharedRegion {
    ptr: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

impl SharedRegion {
    /// A fresh zeroed region of `len` bytes (pages are only used once written).
    pub fn create(name: &str, len: usize) -> Result<SharedRegion, String> {
        use nix::sys::memfd::{memfd_create, MFdFlags};
        let fd = memfd_create(name, MFdFlags::MFD_CLOEXEC).map_err(|e| e.desc().to_string())?;
        nix::unistd::ftruncate(&fd, len as i64).map_err(|e| e.desc().to_string())?;
        Self::map(fd, len)
    }

    /// Maps a region another process created and sent as a descriptor.
    pub fn open(fd: OwnedFd) -> Result<SharedRegion, String> {
        let stat = nix::sys::stat::fstat(&fd).map_err(|e| e.desc().to_string())?;
        Self::map(fd, stat.st_size.max(0) as usize)
    }

    fn map(fd: OwnedFd, len: usize) -> Result<SharedRegion, String> {
        use nix::sys::mman::{MapFlags, ProtFlags};
        let size = std::num::NonZeroUsize::new(len).ok_or("empty region")?;
        // SAFETY: maps `len` bytes of a memfd we own, shared; the mapping lives
        // until Drop unmaps it, and all access goes through bounds checks below.
        let ptr = unsafe {
            nix::sys::mman::mmap(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                &fd,
                0,
            )
        }
        .map_err(|e| e.desc().to_string())?;
        Ok(SharedRegion {
            ptr: ptr.cast(),
            len,
            fd,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.fd.as_raw_fd()
    }

    fn at<T>(&self, offset: usize) -> *const T {
        let size = std::mem::size_of::<T>();
        assert!(
            offset % std::mem::align_of::<T>() == 0 && offset + size <= self.len,
            "shared region access out of bounds"
        );
        // SAFETY: offset + size is within the mapping (checked above).
        unsafe { self.ptr.as_ptr().add(offset) as *const T }
    }

    pub fn u32_at(&self, offset: usize) -> &AtomicU32 {
        // SAFETY: in bounds and aligned (checked by `at`); the mapping is
        // shared memory that other processes change, which atomics allow.
        unsafe { &*self.at::<AtomicU32>(offset) }
    }

    pub fn i32_at(&self, offset: usize) -> &AtomicI32 {
        // SAFETY: as for u32_at.
        unsafe { &*self.at::<AtomicI32>(offset) }
    }

    pub fn u64_at(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: as for u32_at.
        unsafe { &*self.at::<AtomicU64>(offset) }
    }

    /// Copies bytes in; the caller holds the region's lock for that range.
    pub fn write(&self, offset: usize, bytes: &[u8]) {
        assert!(
            offset + bytes.len() <= self.len,
            "shared region write out of bounds"
        );
        // SAFETY: the destination range is inside the mapping (checked above)
        // and cannot overlap `bytes`, which lives in this process's own memory.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.ptr.as_ptr().add(offset),
                bytes.len(),
            )
        }
    }

    /// Copies bytes out; the caller holds the region's lock for that range.
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        assert!(
            offset + buf.len() <= self.len,
            "shared region read out of bounds"
        );
        // SAFETY: the source range is inside the mapping (checked above) and
        // cannot overlap `buf`, which lives in this process's own memory.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                buf.as_mut_ptr(),
                buf.len(),
            )
        }
    }
}

impl Drop for SharedRegion {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`; nothing refers to
        // it after the region is dropped (references borrow from the region).
        let _ = unsafe { nix::sys::mman::munmap(self.ptr.cast(), self.len) };
    }
}

impl std::fmt::Debug for SharedRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedRegion({} bytes)", self.len)
    }
}

/// Sleeps while `word` still holds `expected`, at most `timeout_ms`; returns
/// at once when another process calls `futex_wake` on it, or on a signal.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout_ms: u32) {
    let timeout = nix::libc::timespec {
        tv_sec: (timeout_ms / 1000) as nix::libc::time_t,
        tv_nsec: ((timeout_ms % 1000) * 1_000_000) as nix::libc::c_long,
    };
    // SAFETY: FUTEX_WAIT on a valid, aligned u32 in shared memory, with a
    // valid timeout; it only reads the word and sleeps.
    unsafe {
        nix::libc::syscall(
            nix::libc::SYS_futex,
            word.as_ptr(),
            nix::libc::FUTEX_WAIT,
            expected,
            &timeout as *const nix::libc::timespec,
        );
    }
}

/// Wakes up to `count` processes sleeping in `futex_wait` on `word`.
pub fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: FUTEX_WAKE on a valid, aligned u32; it touches no memory.
    unsafe {
        nix::libc::syscall(
            nix::libc::SYS_futex,
            word.as_ptr(),
            nix::libc::FUTEX_WAKE,
            count,
        );
    }
}

/// Does the process exist and has it not ended (a zombie has ended)?
pub fn process_alive(pid: i32) -> bool {
    pid > 0 && matches!(process_state(pid), Some(state) if state != 'Z' && state != 'X')
}

// ---------------------------------------------------------------- sockets carrying descriptors

/// A connected pair of stream sockets, closed on exec.
pub fn socket_pair() -> Result<(OwnedFd, OwnedFd), String> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| e.desc().to_string())
}

/// Most descriptors one frame may carry.
pub const MAX_FRAME_FDS: usize = 64;

/// Sends one frame (a length, then the bytes) with descriptors attached.
pub fn send_frame(sock: &OwnedFd, bytes: &[u8], fds: &[std::os::fd::RawFd]) -> Result<(), String> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, UnixAddr};
    use std::io::IoSlice;
    use std::os::fd::AsRawFd;
    let mut frame = Vec::with_capacity(4 + bytes.len());
    frame.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    frame.extend_from_slice(bytes);
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    let mut sent = loop {
        match sendmsg::<UnixAddr>(
            sock.as_raw_fd(),
            &[IoSlice::new(&frame)],
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(n) => break n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.desc().to_string()),
        }
    };
    while sent < frame.len() {
        match nix::unistd::write(sock, &frame[sent..]) {
            Ok(n) => sent += n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.desc().to_string()),
        }
    }
    Ok(())
}

/// A received frame: its bytes and the descriptors that came with it.
pub type Frame = (Vec<u8>, Vec<OwnedFd>);

/// Receives one frame and its descriptors; `None` at a clean end of stream.
pub fn recv_frame(sock: &OwnedFd) -> Result<Option<Frame>, String> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
    use std::io::IoSliceMut;
    use std::os::fd::{AsRawFd, FromRawFd};
    let mut header = [0u8; 4];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; MAX_FRAME_FDS]);
    let (got, fds) = loop {
        let mut iov = [IoSliceMut::new(&mut header)];
        match recvmsg::<UnixAddr>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => {
                let mut fds = Vec::new();
                for c in msg.cmsgs().map_err(|e| e.desc().to_string())? {
                    if let ControlMessageOwned::ScmRights(raw) = c {
                        // SAFETY: the kernel just created these descriptors for
                        // this process; nothing else owns them.
                        fds.extend(
                            raw.into_iter()
                                .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                        );
                    }
                }
                break (msg.bytes, fds);
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.desc().to_string()),
        }
    };
    if got == 0 {
        return Ok(None);
    }
    read_exact(sock, &mut header[got..])?;
    let len = u32::from_le_bytes(header) as usize;
    let mut body = vec![0u8; len];
    read_exact(sock, &mut body)?;
    Ok(Some((body, fds)))
}

fn read_exact(fd: &OwnedFd, mut buf: &mut [u8]) -> Result<(), String> {
    while !buf.is_empty() {
        match nix::unistd::read(fd, buf) {
            Ok(0) => return Err("the other end closed in the middle of a message".into()),
            Ok(n) => buf = &mut buf[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.desc().to_string()),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- programs

fn c_strings(prog: &str, args: &[String]) -> Result<Vec<std::ffi::CString>, String> {
    std::iter::once(prog)
        .chain(args.iter().map(String::as_str))
        .map(|a| std::ffi::CString::new(a).map_err(|_| format!("argument {a:?} holds a NUL byte")))
        .collect()
}

/// Prepares this process to become another program: default SIGPIPE (Rust
/// ignores it) and no blocked signals, as a freshly started program expects.
fn reset_for_exec() {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: installing the default action has no handler to be unsafe.
    let _ = unsafe { signal::sigaction(Signal::SIGPIPE, &default) };
    let _ = signal::sigprocmask(
        signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        None,
    );
}

/// execvp(3): replaces this process; returns only the reason it failed.
pub fn exec_program(prog: &str, args: &[String]) -> String {
    let argv = match c_strings(prog, args) {
        Ok(argv) => argv,
        Err(reason) => return reason,
    };
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // The new program's stdout is where `print` wrote; put it back if exec fails.
    let saved_stdout = nix::unistd::dup(std::io::stdout()).ok();
    program_stdout_follows_print();
    reset_for_exec();
    let reason = match nix::unistd::execvp(&argv[0], &argv) {
        Err(e) => describe_exec_error(e),
        Ok(never) => match never {},
    };
    if let Some(saved) = saved_stdout {
        let _ = nix::unistd::dup2_stdout(&saved);
    }
    reason
}

fn describe_exec_error(e: Errno) -> String {
    match e {
        Errno::ENOENT => "no such program".to_string(),
        Errno::EACCES => "permission denied".to_string(),
        e => e.desc().to_string(),
    }
}

/// Starts a program in a child process. With `capture`, its stdout goes to
/// the returned pipe. An exec failure comes back as an error, not a child.
pub fn start_program(
    prog: &str,
    args: &[String],
    capture: bool,
) -> Result<(i32, Option<OwnedFd>), String> {
    let argv = c_strings(prog, args)?;
    // The child reports an exec failure (its errno) through this pipe; on
    // success exec closes it (O_CLOEXEC) and the parent reads nothing.
    let (err_read, err_write) = pipe()?;
    let out = if capture { Some(pipe()?) } else { None };
    let parent = current_pid();
    match fork()? {
        Forked::Child => {
            drop(err_read);
            // The program dies with procscript too (the setting survives exec).
            if !die_with_parent(parent) {
                exit_now(127);
            }
            match out {
                Some((out_read, out_write)) => {
                    drop(out_read);
                    let _ = nix::unistd::dup2_stdout(&out_write);
                }
                None => program_stdout_follows_print(),
            }
            reset_for_exec();
            let errno = match nix::unistd::execvp(&argv[0], &argv) {
                Err(e) => e as i32,
                Ok(never) => match never {},
            };
            let _ = nix::unistd::write(&err_write, &errno.to_le_bytes());
            exit_now(127)
        }
        Forked::Parent(pid) => {
            drop(err_write);
            let out_read = out.map(|(read_end, write_end)| {
                drop(write_end);
                read_end
            });
            let mut errno = [0u8; 4];
            let mut got = 0;
            while got < 4 {
                match nix::unistd::read(&err_read, &mut errno[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
            }
            if got == 4 {
                // exec failed: the child exits at once; reap it here.
                let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
                return Err(describe_exec_error(Errno::from_raw(i32::from_le_bytes(
                    errno,
                ))));
            }
            Ok((pid, out_read))
        }
    }
}

// ---------------------------------------------------------------- files

fn io_error(e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::AlreadyExists => "it already exists".to_string(),
        _ => {
            let text = e.to_string();
            // "No such file or directory (os error 2)" reads better without the number.
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
    }
}

pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(io_error)
}

pub fn write_file(path: &str, bytes: &[u8], append: bool) -> Result<(), String> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(io_error)?;
    file.write_all(bytes).map_err(io_error)
}

/// The names in a folder, sorted.
pub fn list_dir(path: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = std::fs::read_dir(path)
        .map_err(io_error)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Creates a folder and any missing parents; fine if it exists.
pub fn make_dir(path: &str) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(io_error)
}

pub fn copy_file(from: &str, to: &str) -> Result<u64, String> {
    std::fs::copy(from, to).map_err(io_error)
}

pub fn remove_file(path: &str) -> Result<(), String> {
    std::fs::remove_file(path).map_err(io_error)
}

pub fn path_exists(path: &str) -> bool {
    std::path::Path::new(path).exists()
}

pub fn is_dir(path: &str) -> bool {
    std::path::Path::new(path).is_dir()
}

pub fn file_size(path: &str) -> Result<u64, String> {
    std::fs::metadata(path).map(|m| m.len()).map_err(io_error)
}

/// Is stderr a terminal (for progress lines)?
pub fn stderr_is_terminal() -> bool {
    nix::unistd::isatty(std::io::stderr().as_fd()).unwrap_or(false)
}
