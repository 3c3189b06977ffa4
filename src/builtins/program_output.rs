//! Reading what captured programs write: stdout and stderr together, until their end, a timeout, or the size limit.

use super::program_options::{ProgramOptions, StderrTo};
use super::program_streams::Streams;
use crate::error::R;
use crate::eval::Interp;
use crate::front::ast::Span;
use crate::os::{self, Deadline, Event, ReadResult};
use crate::values::{Entries, Value};
use std::os::fd::OwnedFd;

/// What a capture read, and why it stopped reading.
pub(super) struct Captured {
    pub out: Vec<u8>,
    pub err: Vec<u8>,
    pub ended: Reading,
}

/// Why a capture stopped reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reading {
    /// Every writer closed its end (the programs ended, or closed their output).
    Done,
    /// The deadline passed first.
    TimedOut,
    /// More than a string may hold arrived.
    TooLarge,
}

impl Captured {
    pub(super) fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// What a capture that did not fail returns: the output as a string; or,
    /// with `check` off or stderr captured, the map of `code_key` (`"code"`
    /// or `"codes"`), `out` and `err` (nil when stderr was not captured).
    pub(super) fn result(self, options: &ProgramOptions, code_key: &str, code: Value) -> Value {
        let err_captured = options.stderr == StderrTo::Capture;
        let out = Value::Str(Captured::text(&self.out).into());
        if options.check && !err_captured {
            return out;
        }
        let mut entries = Entries::default();
        entries.insert(code_key.into(), code);
        entries.insert("out".into(), out);
        let err = if err_captured {
            Value::Str(Captured::text(&self.err).into())
        } else {
            Value::Nil
        };
        entries.insert("err".into(), err);
        Value::map(entries)
    }
}

/// Reads the captured stdout and stderr of `from` (either may be absent) as
/// the programs write them, both at once so that neither pipe fills and
/// blocks its writer, until both end, the deadline passes, or their sum
/// passes the size limit. A stop signal (Ctrl-C) unwinds; a signal with a
/// script handler runs it, and the reading goes on.
pub(super) fn read_outputs(
    interp: &mut Interp,
    from: &mut Streams,
    deadline: Deadline,
    span: Span,
) -> R<Captured> {
    let mut reader = OutputReader {
        streams: [from.out_read.take(), from.err_read.take()],
        texts: [Vec::new(), Vec::new()],
    };
    let ended = interp.wait_running_handlers("capture", span, |_| reader.read(deadline))?;
    let [out, err] = reader.texts;
    Ok(Captured { out, err, ended })
}

/// The pipes a capture reads and what came through them so far: a read that
/// a signal interrupts goes on where it stopped.
struct OutputReader {
    streams: [Option<OwnedFd>; 2],
    texts: [Vec<u8>; 2],
}

impl OutputReader {
    fn read(&mut self, deadline: Deadline) -> R<Reading> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let open: Vec<usize> = (0..2).filter(|&i| self.streams[i].is_some()).collect();
            if open.is_empty() {
                return Ok(Reading::Done);
            }
            if self.texts[0].len() + self.texts[1].len() > crate::limits::MAX_VALUE_LEN {
                return Ok(Reading::TooLarge);
            }
            let fds: Vec<&OwnedFd> = open
                .iter()
                .filter_map(|&i| self.streams[i].as_ref())
                .collect();
            match os::wait_event(&fds, deadline.left_ms()) {
                Event::Readable(k) => {
                    let i = open[k];
                    let Some(fd) = &self.streams[i] else { continue };
                    match os::read_fd(fd, &mut buf, Deadline::passed_already()) {
                        ReadResult::Data(n) => self.texts[i].extend_from_slice(&buf[..n]),
                        ReadResult::Eof => self.streams[i] = None,
                        ReadResult::Timeout => {}
                        ReadResult::Interrupted => os::pending_stop()?,
                    }
                }
                Event::Timeout | Event::Woken => {
                    os::pending_stop()?;
                    if deadline.passed() {
                        return Ok(Reading::TimedOut);
                    }
                }
            }
        }
    }
}
