//! Every OS call procscript makes, through nix: the one module that talks to the kernel.

use nix::errno::Errno;
use nix::time::{clock_gettime, ClockId};
use std::os::fd::AsFd;

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
            StdFd::Out => nix::unistd::write(std::io::stdout(), bytes),
            StdFd::Err => nix::unistd::write(std::io::stderr(), bytes),
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

/// Is standard input a terminal?
pub fn stdin_is_terminal() -> bool {
    nix::unistd::isatty(std::io::stdin().as_fd()).unwrap_or(false)
}
