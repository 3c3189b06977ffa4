//! Signals: the handlers, the pending stop and the due script handlers they leave for safe points, the wake pipe, signal names.

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

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

/// Whether a signal's default action stops a process.
pub fn stops_a_process(sig: Signal) -> bool {
    matches!(
        sig,
        Signal::SIGSTOP | Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU
    )
}

/// The last SIGINT, SIGTERM or SIGALRM received and not yet acted on (0: none).
static PENDING_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The self-pipe every blocking wait polls; the signal handlers write a byte to it.
static WAKE_READ: AtomicI32 = AtomicI32::new(-1);
static WAKE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// In a child that has not waited yet: its parent's wake pipe, still open
/// here (closed when the child opens its own, at its first wait). A child
/// that never waits (a spawn that returns at once) so spends no pipe2 and
/// no two closes on a pipe it would never read.
static INHERITED_READ: AtomicI32 = AtomicI32::new(-1);
static INHERITED_WRITE: AtomicI32 = AtomicI32::new(-1);

/// Set while the prompt waits for a line: see `while_reading_input`.
static TERM_INTERRUPTS_INPUT: AtomicBool = AtomicBool::new(false);

/// The signals (one bit per number) whose script handler runs at safe points,
/// and those the script ignores: set by `on_signal`, read by the handler.
static SCRIPT_HANDLED: AtomicU32 = AtomicU32::new(0);
static SCRIPT_IGNORED: AtomicU32 = AtomicU32::new(0);

/// Signals received whose script handler has not run yet (one bit each: the
/// kernel coalesces a signal that arrives again before it is delivered, and
/// so does this mask before the handler runs).
static HANDLERS_DUE: AtomicU32 = AtomicU32::new(0);

/// Set while a wait that can go on after a handler runs (`join`, `q.get`,
/// `sleep`...) is in progress: then a due handler ends the wait as a stop
/// would, and the evaluator runs the handler and waits again.
static WAITS_END_FOR_HANDLERS: AtomicBool = AtomicBool::new(false);

/// The bit of a signal in the masks above (every signal a script may handle is below 32).
fn signal_bit(sig: nix::libc::c_int) -> u32 {
    1u32.checked_shl(sig as u32).unwrap_or(0)
}

extern "C" fn on_signal(sig: nix::libc::c_int) {
    // Only atomics, write(2) and kill(2): all async-signal-safe. errno is
    // saved and restored so the interrupted code sees its own.
    let saved = Errno::last_raw();
    let bit = signal_bit(sig);
    if SCRIPT_IGNORED.load(Ordering::Relaxed) & bit != 0 {
        Errno::set_raw(saved);
        return;
    }
    let for_script = SCRIPT_HANDLED.load(Ordering::Relaxed) & bit != 0;
    if for_script {
        HANDLERS_DUE.fetch_or(bit, Ordering::Relaxed);
    }
    let pending = PENDING_SIGNAL.load(Ordering::Relaxed);
    // A SIGINT raised for another stop signal (below) must not hide it.
    let raised_for = |p: i32| p != 0 && p != libc::SIGINT && p != libc::SIGALRM;
    if !for_script && sig != libc::SIGCHLD && !(sig == libc::SIGINT && raised_for(pending)) {
        PENDING_SIGNAL.store(sig, Ordering::Relaxed);
    }
    if !for_script
        && raised_for(sig)
        && sig != libc::SIGCHLD
        && TERM_INTERRUPTS_INPUT.load(Ordering::Relaxed)
    {
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
    for slot in [&WAKE_WRITE, &WAKE_READ, &INHERITED_WRITE, &INHERITED_READ] {
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
    // The handlers (and what they ignore) stay, as fork copies them; the
    // signals the parent received are the parent's to handle.
    HANDLERS_DUE.store(0, Ordering::Relaxed);
    WAITS_END_FOR_HANDLERS.store(false, Ordering::Relaxed);
    // The parent's pipe is no longer written here (the handlers find -1),
    // and is closed when this process opens its own, at its first wait. A
    // parent that had not waited yet left its own parent's pipe, which
    // stays where it is.
    for (wake, inherited) in [
        (&WAKE_WRITE, &INHERITED_WRITE),
        (&WAKE_READ, &INHERITED_READ),
    ] {
        let fd = wake.swap(-1, Ordering::SeqCst);
        if fd >= 0 {
            inherited.store(fd, Ordering::SeqCst);
        }
    }
}

/// The read end of this process's wake pipe, which every blocking wait
/// polls, and whether it was opened just now: a signal that came before
/// found no pipe to write to, so the caller must look again (`Woken`)
/// instead of sleeping.
pub(super) fn wake_pipe() -> (Option<BorrowedFd<'static>>, bool) {
    let mut wake = WAKE_READ.load(Ordering::Relaxed);
    let fresh = wake < 0 && INHERITED_READ.load(Ordering::Relaxed) >= 0;
    if fresh {
        open_wake_pipe();
        wake = WAKE_READ.load(Ordering::Relaxed);
    }
    // SAFETY: the wake pipe's read end stays open for the life of the process
    // (it is only replaced by the first wait after a fork, here, before it is
    // polled).
    (
        (wake >= 0).then(|| unsafe { BorrowedFd::borrow_raw(wake) }),
        fresh,
    )
}

/// Catches SIGINT and SIGTERM (and SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, whose
/// kernel default would end this process alone, leaving the children of
/// its programs behind) into a flag the interpreter checks at safe points,
/// and SIGCHLD, and makes each of them wake any blocking wait.
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
        for sig in HANDLEABLE {
            let _ = signal::sigaction(sig, &stop);
        }
        let _ = signal::sigaction(Signal::SIGALRM, &stop);
        let _ = signal::sigaction(Signal::SIGCHLD, &child);
    }
}

/// The stop request that arrived and waits for a safe point: `Err` with
/// SIGINT (Ctrl-C), SIGTERM, or the SIGALRM of --timeout. The one check every
/// safe point makes; the evaluator turns the signal into an unwind with `?`.
/// Inside `ending_waits_for_handlers`, a signal whose script handler is due
/// is an `Err` too, so that every wait ends for it the way it ends for a stop.
#[inline]
pub fn pending_stop() -> Result<(), Signal> {
    match PENDING_SIGNAL.load(Ordering::Relaxed) {
        0 if WAITS_END_FOR_HANDLERS.load(Ordering::Relaxed) => match first_due() {
            Some(sig) => Err(sig),
            None => Ok(()),
        },
        0 => Ok(()),
        raw => Err(stop_signal(raw)),
    }
}

/// Whether neither a stop request nor a script handler is due: what every
/// safe point reads first (two atomics), before `pending_stop` and
/// `handlers_due`, which then find nothing to do either.
#[inline]
pub fn nothing_due() -> bool {
    (PENDING_SIGNAL.load(Ordering::Relaxed) as u32 | HANDLERS_DUE.load(Ordering::Relaxed)) == 0
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

// ---------------------------------------------------------------- script handlers

/// The signals a script may handle or ignore with `on_signal`, in number
/// order. The others that a script may name are the kernel's (KILL, STOP),
/// or procscript's own (ALRM is --timeout; PIPE, CONT, TSTP, SEGV, ABRT keep
/// their meaning so that output, job control and crashes work as usual).
const HANDLEABLE: [Signal; 6] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGTERM,
];

/// The names `on_signal` accepts, without the SIG prefix.
pub fn handleable_signal_names() -> Vec<&'static str> {
    HANDLEABLE.iter().map(|&sig| script_name(sig)).collect()
}

/// Why `on_signal` refuses a name.
#[derive(Debug, PartialEq, Eq)]
pub enum Unhandleable {
    /// KILL or STOP: the kernel acts on them without asking the process.
    ByNoProcess(Signal),
    /// A signal procscript or the terminal relies on.
    Reserved(Signal),
    /// Not a signal name at all.
    Unknown,
}

/// `"USR1"` or `"SIGUSR1"` to the signal, when a script may handle it.
pub fn handleable_signal(name: &str) -> Result<Signal, Unhandleable> {
    match signal_by_name(name) {
        Some(sig) if HANDLEABLE.contains(&sig) => Ok(sig),
        Some(sig @ (Signal::SIGKILL | Signal::SIGSTOP)) => Err(Unhandleable::ByNoProcess(sig)),
        Some(sig) => Err(Unhandleable::Reserved(sig)),
        // A real signal that `kill` does not name (CHLD, WINCH...): procscript
        // keeps its meaning (CHLD wakes its waits), which "unknown" would hide.
        None => match format!("SIG{}", name.strip_prefix("SIG").unwrap_or(name)).parse() {
            Ok(sig) => Err(Unhandleable::Reserved(sig)),
            Err(_) => Err(Unhandleable::Unknown),
        },
    }
}

/// What a process does when a handleable signal arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The script's handler runs at the next safe point.
    Handler,
    /// Nothing happens.
    Ignore,
    /// procscript's default: the process stops its children and ends by the
    /// signal (exit 130 for INT, 143 for TERM, 128 + the signal for the others).
    Default,
}

/// Sets what this process does for `sig` (one of `HANDLEABLE`). Handler and
/// Ignore go through procscript's own handler, never SIG_IGN: an ignored
/// disposition would survive exec into every program the script runs.
pub fn set_disposition(sig: Signal, how: Disposition) {
    let bit = signal_bit(sig as i32);
    let ours = SigAction::new(
        SigHandler::Handler(on_signal),
        // No SA_RESTART: a blocking call returns EINTR, so every wait sees it.
        SaFlags::empty(),
        SigSet::empty(),
    );
    match how {
        Disposition::Handler | Disposition::Ignore => {
            // The masks first: a signal arriving as the handler is installed
            // must find out what it is for.
            let (set, clear) = match how {
                Disposition::Handler => (&SCRIPT_HANDLED, &SCRIPT_IGNORED),
                _ => (&SCRIPT_IGNORED, &SCRIPT_HANDLED),
            };
            set.fetch_or(bit, Ordering::SeqCst);
            clear.fetch_and(!bit, Ordering::SeqCst);
            // SAFETY: the handler only uses atomics, write(2) and kill(2).
            let _ = unsafe { signal::sigaction(sig, &ours) };
        }
        Disposition::Default => {
            // procscript's own handler stays: with neither mask bit, it
            // asks for the stop of the tree.
            SCRIPT_HANDLED.fetch_and(!bit, Ordering::SeqCst);
            SCRIPT_IGNORED.fetch_and(!bit, Ordering::SeqCst);
            HANDLERS_DUE.fetch_and(!bit, Ordering::SeqCst);
        }
    }
}

/// Gives every handleable signal procscript's default again (an embedding
/// program runs several scripts in one process; one's handlers must not
/// outlive it).
pub fn reset_dispositions() {
    for sig in HANDLEABLE {
        if SCRIPT_HANDLED.load(Ordering::SeqCst) & signal_bit(sig as i32) != 0
            || SCRIPT_IGNORED.load(Ordering::SeqCst) & signal_bit(sig as i32) != 0
        {
            set_disposition(sig, Disposition::Default);
        }
    }
}

/// Whether `sig` runs a script handler in this process.
pub fn runs_script_handler(sig: Signal) -> bool {
    SCRIPT_HANDLED.load(Ordering::Relaxed) & signal_bit(sig as i32) != 0
}

/// Whether this process runs a script handler for any signal: then any of
/// its waits may be answered by that handler (a `q.put` in it), whoever
/// sends the signal, so deadlock detection never counts it as stuck.
pub fn any_script_handler() -> bool {
    SCRIPT_HANDLED.load(Ordering::Relaxed) != 0
}

/// Whether a signal arrived whose script handler has not run yet.
#[inline]
pub fn handlers_due() -> bool {
    HANDLERS_DUE.load(Ordering::Relaxed) != 0
}

/// The lowest-numbered signal whose handler is due.
fn first_due() -> Option<Signal> {
    let due = HANDLERS_DUE.load(Ordering::Relaxed);
    (due != 0)
        .then(|| Signal::try_from(due.trailing_zeros() as i32).ok())
        .flatten()
}

/// Takes the signals whose handlers are due, in number order, and marks
/// them as no longer due (one arriving from now on is due again).
pub fn take_due_handlers() -> Vec<Signal> {
    let due = HANDLERS_DUE.swap(0, Ordering::SeqCst);
    (1..32)
        .filter(|n| due & (1 << n) != 0)
        .filter_map(|n| Signal::try_from(n).ok())
        .collect()
}

/// Runs `f`, a wait that can start again, so that a due script handler ends
/// it (see `pending_stop`); restores the setting `f` found when it returns.
pub fn ending_waits_for_handlers<T>(f: impl FnOnce() -> T) -> T {
    let before = WAITS_END_FOR_HANDLERS.swap(true, Ordering::Relaxed);
    let result = f();
    WAITS_END_FOR_HANDLERS.store(before, Ordering::Relaxed);
    result
}
