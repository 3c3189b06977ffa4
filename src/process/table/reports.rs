//! A spawned child's report: read from its pipe while it comes, or all at once when it has ended.

use super::{Kind, Procs};
use crate::error::R;
use crate::os::{self, Deadline, ReadResult};
use std::os::fd::OwnedFd;

impl Procs {
    /// Reads an ended child's pipe to its end: all it will ever send is there.
    pub(super) fn drain_pipe(&mut self, i: usize) -> R<()> {
        let Kind::Spawned { pipe, received, .. } = &mut self.children[i].kind else {
            return Ok(());
        };
        let buf = &mut self.result_buf;
        while let Some(fd) = pipe {
            match os::read_fd(fd, buf, Deadline::NEVER) {
                ReadResult::Data(n) => received.extend_from_slice(&buf[..n]),
                ReadResult::Eof | ReadResult::Timeout => *pipe = None,
                ReadResult::Interrupted => os::pending_stop()?,
            }
        }
        Ok(())
    }

    /// Reads what child `i`'s pipe holds now, without waiting: whether
    /// anything came (a report longer than the pipe is being written).
    pub(super) fn read_ready_report(&mut self, i: usize) -> R<bool> {
        let Kind::Spawned { pipe, received, .. } = &mut self.children[i].kind else {
            return Ok(false);
        };
        let buf = &mut self.result_buf;
        let mut came = false;
        while let Some(fd) = pipe {
            match os::read_ready(fd, buf) {
                ReadResult::Data(n) => {
                    received.extend_from_slice(&buf[..n]);
                    came = true;
                }
                ReadResult::Eof => *pipe = None,
                ReadResult::Timeout => break,
                ReadResult::Interrupted => {
                    os::pending_stop()?;
                    break;
                }
            }
        }
        Ok(came)
    }

    /// Whether child `i`'s report has begun to come (a wait before this one
    /// read some): its child sent its one SIGCHLD then, so a wait now must
    /// watch the pipe, which may be empty for a moment (a child stopped and
    /// continued) and fill with no signal at all.
    pub(super) fn report_begun(&self, i: usize) -> bool {
        matches!(&self.children[i].kind, Kind::Spawned { received, .. } if !received.is_empty())
    }

    /// The read end of child `i`'s report pipe, while it is open.
    pub(super) fn report_pipe(&self, i: usize) -> Option<&OwnedFd> {
        match &self.children[i].kind {
            Kind::Spawned { pipe, .. } => pipe.as_ref(),
            _ => None,
        }
    }

    /// Reads what spawned children have already written, without waiting
    /// (and without taking a wake-up that `wait()`'s sleep after it needs).
    pub(super) fn drain_ready_pipes(&mut self) {
        for i in 0..self.children.len() {
            let _ = self.read_ready_report(i);
        }
    }
}
