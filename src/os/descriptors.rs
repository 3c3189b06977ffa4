//! The standard streams, pipes and waiting on descriptors: where bytes go in and out.

use super::output_lock::PIPE_BUF;
use super::signals::{pending_stop, wake_pipe};
use super::time::Deadline;
use super::OsError;
use nix::errno::Errno;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

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

/// The descriptor `print` writes to: a program's stdout goes there too,
/// unless the script redirects it.
pub(super) fn print_fd() -> RawFd {
    PRINT_FD.load(Ordering::Relaxed)
}

#[derive(Debug)]
pub enum WriteError {
    /// The reading end is closed.
    BrokenPipe,
    /// A stop request (SIGINT, SIGTERM, --timeout) came while the write was
    /// blocked (a full pipe nobody reads): the write is given up.
    Stopped(nix::sys::signal::Signal),
    Other(OsError),
}

/// Writes all of `bytes`. A line short enough for one write(2) (every line up
/// to PIPE_BUF into a pipe) goes out whole, never interleaved with another
/// process's; `print` holds the tree's output lock for longer ones.
pub fn write_all(fd: StdFd, mut bytes: &[u8]) -> Result<(), WriteError> {
    while !bytes.is_empty() {
        match fd.write(bytes) {
            Ok(n) => {
                bytes = &bytes[n..];
                // A signal cuts a blocked write short: if it was a stop
                // request, the next write would block with nothing to end it.
                if let (false, Err(sig)) = (bytes.is_empty(), pending_stop()) {
                    return Err(WriteError::Stopped(sig));
                }
            }
            Err(Errno::EINTR) | Err(Errno::EAGAIN) => {
                if let Err(sig) = pending_stop() {
                    return Err(WriteError::Stopped(sig));
                }
            }
            Err(Errno::EPIPE) => return Err(WriteError::BrokenPipe),
            Err(e) => return Err(WriteError::Other(OsError::Call(e))),
        }
    }
    Ok(())
}

/// Whether the reader of `print`'s output has gone (a pipe whose reading
/// end is closed, as after `| head`): poll says POLLERR for such a pipe.
pub fn output_is_gone() -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout};
    // SAFETY: PRINT_FD is stdout, or a descriptor the embedding keeps open
    // for the run (as in `StdFd::write`).
    let fd = unsafe { BorrowedFd::borrow_raw(PRINT_FD.load(Ordering::Relaxed)) };
    let mut polled = [PollFd::new(fd, PollFlags::POLLOUT)];
    matches!(nix::poll::poll(&mut polled, PollTimeout::ZERO), Ok(n) if n > 0)
        && polled[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLERR))
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
    wait_event_or_writable(fds, &[], timeout_ms)
}

/// The same, and also until one of `writable` can be written to (or its
/// reader is gone): `Readable(fds.len() + j)` for `writable[j]`. A process
/// that must never block on a write (a remote pool's link) waits so.
pub fn wait_event_or_writable(
    fds: &[&OwnedFd],
    writable: &[&OwnedFd],
    timeout_ms: Option<i32>,
) -> Event {
    use nix::poll::{PollFd, PollFlags, PollTimeout};
    let (wake_fd, fresh) = wake_pipe();
    let mut polled: Vec<PollFd> = fds
        .iter()
        .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
        .chain(
            writable
                .iter()
                .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLOUT)),
        )
        .collect();
    if let Some(w) = wake_fd {
        polled.push(PollFd::new(w, PollFlags::POLLIN));
    }
    // A wake pipe opened just now may have missed a signal: one look, then `Woken`.
    let timeout = match timeout_ms {
        _ if fresh => PollTimeout::ZERO,
        None => PollTimeout::NONE,
        Some(ms) => PollTimeout::try_from(ms.max(0)).unwrap_or(PollTimeout::MAX),
    };
    match nix::poll::poll(&mut polled, timeout) {
        Ok(0) if fresh => Event::Woken,
        Ok(0) => Event::Timeout,
        Ok(_) => {
            let ready = |pfd: &PollFd| pfd.revents().is_some_and(|r| !r.is_empty());
            let watched = fds.len() + writable.len();
            if let Some(i) = polled[..watched].iter().position(ready) {
                return Event::Readable(i);
            }
            if let Some(w) = wake_fd {
                drain_wake_pipe(w);
            }
            Event::Woken
        }
        // A handler ran (and wrote its byte), or the call failed: either way a
        // wake. Left in the pipe, the byte would wake the next wait at once
        // for nothing (three more calls at each `join`, strace).
        Err(_) => {
            if let Some(w) = wake_fd {
                drain_wake_pipe(w);
            }
            Event::Woken
        }
    }
}

/// Empties the (non-blocking) wake pipe. A read that returns less than it
/// asked for has emptied it, so the usual case is one call, not two.
fn drain_wake_pipe(wake: std::os::fd::BorrowedFd<'_>) {
    let mut sink = [0u8; 64];
    while matches!(nix::unistd::read(wake, &mut sink), Ok(n) if n == sink.len()) {}
}

// ---------------------------------------------------------------- pipes

/// The inode of the pipe (or file) behind a descriptor, as /proc/PID/fd names it.
pub fn pipe_inode(fd: &OwnedFd) -> Option<u64> {
    nix::sys::stat::fstat(fd.as_fd()).ok().map(|st| st.st_ino)
}

/// A pipe whose ends close on exec.
pub fn pipe() -> Result<(OwnedFd, OwnedFd), OsError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(OsError::Call)
}

/// Writes all bytes to a pipe or file; gives up when SIGINT or SIGTERM arrives.
pub fn write_fd(fd: &OwnedFd, mut bytes: &[u8]) -> Result<(), OsError> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            // A signal that came while the write was blocked, after it had
            // written some, makes it return that count, not EINTR: the next
            // write would block again, and the stop would wait for a reader.
            Ok(n) if n < bytes.len() && pending_stop().is_err() => {
                return Err(OsError::Call(Errno::EINTR))
            }
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) if pending_stop().is_err() => {
                return Err(OsError::Call(Errno::EINTR))
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::Call(e)),
        }
    }
    Ok(())
}

/// Whether a report of `len` bytes waits whole in its pipe for the parent's
/// read after the child's exit (an empty pipe always takes PIPE_BUF bytes);
/// a longer one is written while the parent reads it (`write_report`).
pub fn report_waits_whole(len: usize) -> bool {
    len <= PIPE_BUF
}

/// Writes a spawned child's report (its result or its error) into the pipe
/// its parent reads. The parent sleeps until the child has ended and reads
/// the report then (one wake-up for a join, not three), which suits a report
/// that fits in the pipe; a longer one could never be written whole that way,
/// so after its first PIPE_BUF bytes (which an empty pipe always takes) the
/// parent is woken with a SIGCHLD, and reads the rest as it comes.
pub fn write_report(fd: &OwnedFd, bytes: &[u8]) -> Result<(), OsError> {
    if report_waits_whole(bytes.len()) {
        return write_fd(fd, bytes);
    }
    write_fd(fd, &bytes[..PIPE_BUF])?;
    // A parent that has ended left this process to be killed (PDEATHSIG);
    // the signal then goes to init or a subreaper, which ignore it.
    let _ = nix::sys::signal::kill(nix::unistd::getppid(), nix::sys::signal::Signal::SIGCHLD);
    // A stop that came meanwhile would not cut short the write of the rest
    // (it would wait for the parent's join, taking some first).
    if pending_stop().is_err() {
        return Err(OsError::Call(Errno::EINTR));
    }
    write_fd(fd, &bytes[PIPE_BUF..])
}

pub enum ReadResult {
    Data(usize),
    Eof,
    Interrupted,
    /// Nothing arrived before the timeout.
    Timeout,
}

/// Reads what is there now, without waiting and without touching the wake
/// pipe (a wake it took would be lost to the wait that follows): `Timeout`
/// when nothing is there yet.
pub fn read_ready(fd: &OwnedFd, buf: &mut [u8]) -> ReadResult {
    use nix::poll::{PollFd, PollFlags, PollTimeout};
    let mut polled = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    match nix::poll::poll(&mut polled, PollTimeout::ZERO) {
        Ok(0) => ReadResult::Timeout,
        Ok(_) => match nix::unistd::read(fd, buf) {
            Ok(0) => ReadResult::Eof,
            Ok(n) => ReadResult::Data(n),
            Err(Errno::EINTR) | Err(Errno::EAGAIN) => ReadResult::Timeout,
            Err(_) => ReadResult::Eof,
        },
        Err(_) => ReadResult::Interrupted,
    }
}

/// Reads what is there, waiting until `deadline` at most; a SIGINT or SIGTERM
/// ends the wait.
pub fn read_fd(fd: &OwnedFd, buf: &mut [u8], deadline: Deadline) -> ReadResult {
    loop {
        if pending_stop().is_err() {
            return ReadResult::Interrupted;
        }
        match wait_event(&[fd], deadline.left_ms()) {
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
                if deadline.passed() {
                    return ReadResult::Timeout;
                }
            }
        }
    }
}
