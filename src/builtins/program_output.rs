//! Reading what captured programs write: stdout and stderr together, until their end, a timeout, or the size limit.

use super::program_options::{ProgramOptions, StderrTo};
use super::program_streams::Streams;
use crate::error::R;
use crate::eval::Interp;
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

/// Reads the captured stdout and stderr of `from` (either may be absent) as the programs write them,
/// both at once so that neither pipe fills and blocks its writer, until both
/// end, the deadline passes, or their sum passes the size limit. A stop
/// signal (Ctrl-C) unwinds.
pub(super) fn read_outputs(
    interp: &mut Interp,
    from: &mut Streams,
    deadline: Deadline,
) -> R<Captured> {
    let mut streams: [Option<OwnedFd>; 2] = [from.out_read.take(), from.err_read.take()];
    let mut texts = [Vec::new(), Vec::new()];
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let open: Vec<usize> = (0..2).filter(|&i| streams[i].is_some()).collect();
        if open.is_empty() {
            return Ok(finish(texts, Reading::Done));
        }
        if texts[0].len() + texts[1].len() > crate::limits::MAX_VALUE_LEN {
            return Ok(finish(texts, Reading::TooLarge));
        }
        let fds: Vec<&OwnedFd> = open.iter().filter_map(|&i| streams[i].as_ref()).collect();
        match os::wait_event(&fds, deadline.left_ms()) {
            Event::Readable(k) => {
                let i = open[k];
                let Some(fd) = &streams[i] else { continue };
                match os::read_fd(fd, &mut buf, Deadline::passed_already()) {
                    ReadResult::Data(n) => texts[i].extend_from_slice(&buf[..n]),
                    ReadResult::Eof => streams[i] = None,
                    ReadResult::Timeout => {}
                    ReadResult::Interrupted => interp.check_signal()?,
                }
            }
            Event::Timeout | Event::Woken => {
                interp.check_signal()?;
                if deadline.passed() {
                    return Ok(finish(texts, Reading::TimedOut));
                }
            }
        }
    }
}

fn finish(texts: [Vec<u8>; 2], ended: Reading) -> Captured {
    let [out, err] = texts;
    Captured { out, err, ended }
}
