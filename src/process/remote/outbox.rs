//! Bytes a link owes one of its peers (the worker host, a relay), written as far as the peer takes them now and never waited for, so that the link never blocks on one peer while another waits on it.

use crate::os;
use std::os::fd::OwnedFd;

/// What is still to be written to one non-blocking descriptor.
#[derive(Default)]
pub struct Outbox {
    bytes: Vec<u8>,
    /// How many of `bytes` went out already.
    sent: usize,
}

impl Outbox {
    /// Queues `bytes` after what is still owed.
    pub fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// Whether something is still to be written.
    pub fn owes(&self) -> bool {
        self.sent < self.bytes.len()
    }

    /// Writes what `fd` takes now; Err once it cannot be written to any more.
    pub fn flush(&mut self, fd: &OwnedFd) -> Result<(), os::OsError> {
        use std::os::fd::AsFd;
        while self.owes() {
            let n = os::write_some(fd.as_fd(), &self.bytes[self.sent..])?;
            if n == 0 {
                break;
            }
            self.sent += n;
        }
        if !self.owes() {
            self.bytes.clear();
            self.sent = 0;
        } else if self.sent > self.bytes.len() / 2 {
            // What went out is dropped now and then, not at each write: a copy of the rest.
            self.bytes.drain(..self.sent);
            self.sent = 0;
        }
        Ok(())
    }
}
