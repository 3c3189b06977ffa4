//! Byte streams of remote workers: length-prefixed frames over pipes (an ssh or srun launcher's stdin/stdout), moving descriptors onto stdout, reading what a pipe holds now, this host's name.

use super::OsError;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// The largest frame a stream carries (a task with its captured values, an answer).
pub const MAX_STREAM_FRAME: usize = 1 << 30;

/// Writes one frame: its length (4 bytes, little-endian), then the bytes.
/// Gives up when a stop request arrives while the write is blocked.
pub fn write_stream_frame(fd: BorrowedFd, bytes: &[u8]) -> Result<(), OsError> {
    let mut frame = Vec::with_capacity(4 + bytes.len());
    frame.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    frame.extend_from_slice(bytes);
    write_fd_borrowed(fd, &frame)
}

fn write_fd_borrowed(fd: BorrowedFd, mut bytes: &[u8]) -> Result<(), OsError> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) if super::pending_stop().is_err() => {
                return Err(OsError::Call(Errno::EINTR))
            }
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => wait_for(fd, PollFlags::POLLOUT),
            Err(e) => return Err(OsError::Call(e)),
        }
    }
    Ok(())
}

/// Writes what `fd` (non-blocking) takes now of `bytes`: how many it took
/// (0 when it is full). Never waits.
pub fn write_some(fd: BorrowedFd, bytes: &[u8]) -> Result<usize, OsError> {
    match nix::unistd::write(fd, bytes) {
        Ok(n) => Ok(n),
        Err(Errno::EINTR) | Err(Errno::EAGAIN) => Ok(0),
        Err(e) => Err(OsError::Call(e)),
    }
}

/// Waits (a tenth of a second at most) until `fd` is ready for `what`.
fn wait_for(fd: BorrowedFd, what: PollFlags) {
    let mut polled = [PollFd::new(fd, what)];
    let _ = nix::poll::poll(&mut polled, PollTimeout::from(100u8));
}

/// Reads one frame; `None` at the end of the stream before a frame began.
pub fn read_stream_frame(fd: BorrowedFd) -> Result<Option<Vec<u8>>, OsError> {
    let mut header = [0u8; 4];
    if !read_exact(fd, &mut header, true)? {
        return Ok(None);
    }
    let len = u32::from_le_bytes(header) as usize;
    if len > MAX_STREAM_FRAME {
        return Err(OsError::ClosedMidMessage);
    }
    let mut body = vec![0u8; len];
    read_exact(fd, &mut body, false)?;
    Ok(Some(body))
}

/// Fills `buf`; false when the stream ended before the first byte (and `eof_ok`).
fn read_exact(fd: BorrowedFd, buf: &mut [u8], eof_ok: bool) -> Result<bool, OsError> {
    let mut got = 0;
    while got < buf.len() {
        match nix::unistd::read(fd, &mut buf[got..]) {
            Ok(0) if got == 0 && eof_ok => return Ok(false),
            Ok(0) => return Err(OsError::ClosedMidMessage),
            Ok(n) => got += n,
            Err(Errno::EINTR) if super::pending_stop().is_err() => {
                return Err(OsError::Call(Errno::EINTR))
            }
            Err(Errno::EINTR) | Err(Errno::EAGAIN) => {
                // A non-blocking descriptor mid-frame: wait until more arrives.
                wait_for(fd, PollFlags::POLLIN);
            }
            Err(e) => return Err(OsError::Call(e)),
        }
    }
    Ok(true)
}

/// Reads what a non-blocking pipe holds now (nothing when it is empty); `None` at its end.
pub fn read_available(fd: &OwnedFd) -> Option<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) if all.is_empty() => return None,
            Ok(0) => return Some(all),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(_) => return Some(all),
        }
    }
}

/// Makes reads of `fd` return at once when nothing is there.
pub fn set_nonblocking(fd: &OwnedFd) -> Result<(), OsError> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = fcntl(fd.as_fd(), FcntlArg::F_GETFL).map_err(OsError::Call)?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags)).map_err(OsError::Call)?;
    Ok(())
}

/// Puts `fd` in place of this process's stdout (1) or stderr (2).
pub fn move_onto_std(fd: &OwnedFd, target: i32) -> Result<(), OsError> {
    // SAFETY: dup2 of a descriptor we own onto a standard stream number.
    let done = unsafe { nix::libc::dup2(fd.as_raw_fd(), target) };
    if done < 0 {
        return Err(OsError::Call(Errno::last()));
    }
    Ok(())
}

/// This process's stdin and stdout, as the worker host's stream to its driver.
pub fn std_streams() -> (BorrowedFd<'static>, BorrowedFd<'static>) {
    // SAFETY: descriptors 0 and 1 stay open for the life of the process
    // (the worker host never closes them; it ends when they do).
    unsafe { (BorrowedFd::borrow_raw(0), BorrowedFd::borrow_raw(1)) }
}

/// A copy of descriptor `fd` (0: stdin), for polling.
pub fn copy_of(fd: BorrowedFd) -> Result<OwnedFd, OsError> {
    fd.try_clone_to_owned()
        .map_err(|e| OsError::Call(Errno::from_raw(e.raw_os_error().unwrap_or(0))))
}

/// A copy of descriptor `fd`, which this process holds open (a queue's or
/// lock's, inherited through fork), as its own.
pub fn copy_of_raw(fd: std::os::fd::RawFd) -> Result<OwnedFd, OsError> {
    // SAFETY: the caller holds `fd` open for at least this call (it belongs to
    // a queue or lock kept alive by a value this process holds); the copy is
    // a new descriptor, owned by the result.
    copy_of(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// This host's name as Slurm or the system calls it: `SLURMD_NODENAME`
/// (several slurmd may share one machine), else the kernel's host name.
pub fn host_name() -> String {
    if let Ok(node) = std::env::var("SLURMD_NODENAME") {
        if !node.is_empty() {
            return node;
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// Reads frames from a stream in large reads: every frame already read is
/// taken before the stream is polled again.
pub struct FrameReader {
    buf: Vec<u8>,
    /// Where the next frame begins in `buf`.
    start: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    pub fn new() -> FrameReader {
        FrameReader {
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
        }
    }

    /// The next whole frame already read, if any (a length past the limit ends
    /// the stream as broken: `Err`).
    pub fn buffered(&mut self) -> Result<Option<Vec<u8>>, OsError> {
        let rest = &self.buf[self.start..];
        let Some(header) = rest.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > MAX_STREAM_FRAME {
            return Err(OsError::ClosedMidMessage);
        }
        let Some(body) = rest.get(4..4 + len) else {
            return Ok(None);
        };
        let frame = body.to_vec();
        self.start += 4 + len;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(frame))
    }

    /// One read of what the stream holds (it was polled readable); false at its end.
    pub fn fill(&mut self, fd: BorrowedFd) -> Result<bool, OsError> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match nix::unistd::read(fd, &mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(Errno::EINTR) if super::pending_stop().is_err() => {
                    return Err(OsError::Call(Errno::EINTR))
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(true),
                Err(e) => return Err(OsError::Call(e)),
            }
        }
    }

    /// The next frame, waiting for it; `None` at the stream's end.
    pub fn next_blocking(&mut self, fd: BorrowedFd) -> Result<Option<Vec<u8>>, OsError> {
        loop {
            if let Some(frame) = self.buffered()? {
                return Ok(Some(frame));
            }
            wait_for(fd, PollFlags::POLLIN);
            if !self.fill(fd)? {
                return match self.buf.len() > self.start {
                    true => Err(OsError::ClosedMidMessage),
                    false => Ok(None),
                };
            }
        }
    }
}

/// Frames, each its length then its bytes, as one buffer to write at once.
pub fn frames_as_one<'a>(frames: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut all = Vec::new();
    for frame in frames {
        all.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        all.extend_from_slice(frame);
    }
    all
}

/// Writes bytes (several frames made by `frames_as_one`) to a stream.
pub fn write_stream(fd: BorrowedFd, bytes: &[u8]) -> Result<(), OsError> {
    write_fd_borrowed(fd, bytes)
}
