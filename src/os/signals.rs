//! Signals: the handlers, the pending stop they leave for safe points, the wake pipe, signal names.

use nix::errno::Errno;
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

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

/// In a fresh child: forgets the parent's pending signal, and opens its own
/// wake pipe (a shared one would wake both processes on either's signals).
pub(super) fn forget_parent_signals() {
    PENDING_SIGNAL.store(0, Ordering::Relaxed);
    open_wake_pipe();
}

/// The read end of this process's wake pipe, which every blocking wait polls.
pub(super) fn wake_pipe() -> Option<BorrowedFd<'static>> {
    let wake = WAKE_READ.load(Ordering::Relaxed);
    // SAFETY: the wake pipe's read end stays open for the life of the process
    // (it is only replaced right after fork, before any wait).
    (wake >= 0).then(|| unsafe { BorrowedFd::borrow_raw(wake) })
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
