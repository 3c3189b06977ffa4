//! Unix socket pairs that carry framed messages with descriptors attached (pool workers).

use super::signals::pending_stop;
use super::OsError;
use nix::errno::Errno;
use std::os::fd::OwnedFd;

/// A connected pair of stream sockets, closed on exec.
pub fn socket_pair() -> Result<(OwnedFd, OwnedFd), OsError> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(OsError::Call)
}

/// Most descriptors one frame may carry.
pub const MAX_FRAME_FDS: usize = 64;

/// Sends one frame (a length, then the bytes) with descriptors attached.
pub fn send_frame(sock: &OwnedFd, bytes: &[u8], fds: &[std::os::fd::RawFd]) -> Result<(), OsError> {
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
            // A stop request ends a send blocked on a full socket (the
            // worker is stopped, or busy): the frame is given up.
            Err(Errno::EINTR) if pending_stop().is_err() => {
                return Err(OsError::Call(Errno::EINTR))
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::Call(e)),
        }
    };
    while sent < frame.len() {
        // A signal cuts a blocked send short: if it was a stop request, the
        // next write would block with nothing left to interrupt it.
        if pending_stop().is_err() {
            return Err(OsError::Call(Errno::EINTR));
        }
        match nix::unistd::write(sock, &frame[sent..]) {
            Ok(n) => sent += n,
            Err(Errno::EINTR) if pending_stop().is_err() => {
                return Err(OsError::Call(Errno::EINTR))
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::Call(e)),
        }
    }
    Ok(())
}

/// A received frame: its bytes and the descriptors that came with it.
pub type Frame = (Vec<u8>, Vec<OwnedFd>);

/// Receives one frame and its descriptors; `None` at a clean end of stream.
pub fn recv_frame(sock: &OwnedFd) -> Result<Option<Frame>, OsError> {
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
                for c in msg.cmsgs().map_err(OsError::Call)? {
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
            Err(e) => return Err(OsError::Call(e)),
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

fn read_exact(fd: &OwnedFd, mut buf: &mut [u8]) -> Result<(), OsError> {
    while !buf.is_empty() {
        match nix::unistd::read(fd, buf) {
            Ok(0) => return Err(OsError::ClosedMidMessage),
            Ok(n) => buf = &mut buf[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(OsError::Call(e)),
        }
    }
    Ok(())
}
