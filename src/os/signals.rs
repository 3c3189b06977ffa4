//! Signals: the handlers, the pending stop they leave for safe points, the wake pipe, signal names.

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The signals a script may name in `kill(h, "NAME")`, in number order.
const NAMED_SIGNALS: [Signal; 14] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGABRT,
    Signal::SIGKILL,
    Signal::SIGUSR1,
    Signal::SIGSEGV,
    Signal::SIGUSR2,
    Signal::SIGPIPE,
    Signal::SIGALRM,
    Signal::SIGTERM,
    Signal::SIGCONT,
    Signal::SIGSTOP,
    Signal::SIGTSTP,
];

/// `SIGTERM` to `"TERM"`: the name a script writes.
fn script_name(sig: Signal) -> &'static str {
    let name = sig.as_str();
    name.strip_prefix("SIG").unwrap_or(name)
}

/// The names a script may give `kill`, without the SIG prefix.
pub fn signal_names() -> Vec<&'static str> {
    NAMED_SIGNALS.iter().map(|&sig| script_name(sig)).collect()
}

/// `"TERM"` or `"SIGTERM"` to `SIGTERM`, for the signals a script may name.
pub fn signal_by_name(name: &str) -> Option<Signal> {
    let bare = name.strip_prefix("SIG").unwrap_or(name);
    NAMED_SIGNALS
        .iter()
        .copied()
        .find(|&sig| script_name(sig) == bare)
}

/// `SIGTERM` to `"SIGTERM"`, as messages and views show a signal.
pub fn signal_name(sig: Signal) -> &'static str {
    sig.as_str()
}

/// The shell's exit code for a process a signal ended: 128 + its number.
/// The one place a signal becomes a number that a script or a parent sees.
pub fn exit_code_for(sig: Signal) -> i32 {
    128 + sig as i32
}

/// Whether a signal's purpose is to end a process (so a stopped one must be woken for it).
pub fn ends_a_process(sig: Signal) -> bool {
    matches!(
        sig,
        Signal::SIGHUP | Signal::SIGINT | Signal::SIGQUIT | Signal::SIGABRT | Signal::SIGTERM
    )
}

/// The last SIGINT, SIGTERM or SIGALRM received and not yet acted on (0: none).
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
    if sig != libc::SIGCHLD && !(sig == libc::SIGINT && pending == libc::SIGTERM) {
        PENDING_SIGNAL.store(sig, Ordering::Relaxed);
    }
    if sig == libc::SIGTERM && TERM_INTERRUPTS_INPUT.load(Ordering::Relaxed) {
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

/// The stop request that arrived and waits for a safe point: `Err` with
/// SIGINT (Ctrl-C), SIGTERM, or the SIGALRM of --timeout. The one check every
/// safe point makes; the evaluator turns the signal into an unwind with `?`.
#[inline]
pub fn pending_stop() -> Result<(), Signal> {
    match PENDING_SIGNAL.load(Ordering::Relaxed) {
        0 => Ok(()),
        raw => Err(stop_signal(raw)),
    }
}

/// The handler stores only the signals it is installed for, so the
/// conversion cannot fail; SIGTERM is a harmless answer if it ever did.
#[cold]
fn stop_signal(raw: i32) -> Signal {
    Signal::try_from(raw).unwrap_or(Signal::SIGTERM)
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

/// Delivers SIGALRM to this process once `after` has passed (for --timeout),
/// to the microsecond: setitimer, as alarm(2) counts only whole seconds. A
/// forked child does not inherit it; a later call replaces it.
pub fn alarm_after(after: std::time::Duration) {
    // A zero value would disarm the timer instead of firing at once.
    let after = after.max(std::time::Duration::from_micros(1));
    set_real_timer(nix::libc::timeval {
        tv_sec: after.as_secs().min(i32::MAX as u64) as nix::libc::time_t,
        tv_usec: after.subsec_micros() as nix::libc::suseconds_t,
    });
}

/// Disarms the timer `alarm_after` set, so a run that ended early leaves no
/// SIGALRM behind for the host's next run.
pub fn cancel_alarm() {
    set_real_timer(nix::libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    });
}

/// Is a --timeout timer running in this process? (exec would hand it to
/// the program, which dies of SIGALRM, or outlives it if it ignores it.)
pub fn alarm_pending() -> bool {
    let mut timer = nix::libc::itimerval {
        it_interval: nix::libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: nix::libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
    };
    // SAFETY: getitimer writes only the itimerval we own, on the stack.
    let ok = unsafe { nix::libc::getitimer(nix::libc::ITIMER_REAL, &mut timer) } == 0;
    ok && (timer.it_value.tv_sec > 0 || timer.it_value.tv_usec > 0)
}

fn set_real_timer(value: nix::libc::timeval) {
    let timer = nix::libc::itimerval {
        it_interval: nix::libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: value,
    };
    // SAFETY: setitimer reads the itimerval we pass and writes no old value
    // (a null pointer is allowed); it touches no memory of ours otherwise.
    let _ = unsafe { nix::libc::setitimer(nix::libc::ITIMER_REAL, &timer, std::ptr::null_mut()) };
}
