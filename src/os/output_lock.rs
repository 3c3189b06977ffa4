//! The tree's output lock: lines longer than one atomic pipe write (PIPE_BUF) are written whole under it.

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// The longest write(2) into a pipe that the kernel keeps whole (POSIX PIPE_BUF on Linux).
pub const PIPE_BUF: usize = 4096;

/// A memory file every process of the tree inherits; its POSIX record lock
/// (per process, not inherited by fork, released by the kernel when the
/// holder dies) lets one process at a time write a long line.
static LOCK_FD: AtomicI32 = AtomicI32::new(-1);

/// Makes the tree's lock, once per process that starts a tree (the root).
pub fn create_output_lock() {
    if LOCK_FD.load(Ordering::Relaxed) >= 0 {
        return;
    }
    use nix::sys::memfd::{memfd_create, MFdFlags};
    if let Ok(fd) = memfd_create("procscript-output", MFdFlags::MFD_CLOEXEC) {
        let fd: OwnedFd = fd;
        // Kept open for the life of the process (and its forked children).
        LOCK_FD.store(fd.as_raw_fd(), Ordering::Relaxed);
        std::mem::forget(fd);
    }
}

/// Runs `write` holding the tree's lock when `len` bytes are more than one
/// pipe write keeps whole; shorter lines need no lock. A signal that stops
/// the script while waiting ends the wait: the line is written without the
/// lock, as the tree is stopping anyway.
pub fn with_output_lock<T>(len: usize, write: impl FnOnce() -> T) -> T {
    let raw = LOCK_FD.load(Ordering::Relaxed);
    if len <= PIPE_BUF || raw < 0 {
        return write();
    }
    // SAFETY: the lock's descriptor is opened once and never closed (above).
    let fd = unsafe { BorrowedFd::borrow_raw(raw) };
    let locked = set_lock(fd, nix::libc::F_WRLCK as i16);
    let result = write();
    if locked {
        set_lock(fd, nix::libc::F_UNLCK as i16);
    }
    result
}

/// Takes (waiting) or releases the lock on the file's first byte.
fn set_lock(fd: BorrowedFd, kind: i16) -> bool {
    // SAFETY: flock is a plain C struct; all-zero is a valid value of it.
    let mut lock: nix::libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = kind;
    lock.l_whence = nix::libc::SEEK_SET as i16;
    lock.l_len = 1;
    loop {
        match fcntl(fd, FcntlArg::F_SETLKW(&lock)) {
            Ok(_) => return true,
            Err(Errno::EINTR) if super::pending_stop().is_ok() => continue,
            Err(_) => return false,
        }
    }
}
