//! The frames between a pool and its workers: a task with its slot and id; the answer,
//! whether the worker retires (a task changed a pinned value, or `max_tasks`) or skipped the
//! task (taken back), then the task's result or its whole error.

use crate::error::{ErrorKind, R};
use crate::front::ast::Span;
use crate::process::wire;
use crate::process::Runner;
use crate::values::Value;

/// The first byte of a worker's answer: it goes on, or it retires after it, or it
/// skipped the task (the pool took it back before it started).
const GOES_ON: u8 = 0;
const RETIRING: u8 = 1;
const SKIPPED: u8 = 2;

/// What a worker does after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    GoesOn,
    Retires,
    /// It did not run the task: the pool took it back.
    Skipped,
}

/// A task as sent to a worker: its slot (see `pool_slots`), its id, then the task.
pub(super) fn task_frame(slot: u32, id: u64, task: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(12 + task.len());
    frame.extend_from_slice(&slot.to_le_bytes());
    frame.extend_from_slice(&id.to_le_bytes());
    frame.extend_from_slice(task);
    frame
}

/// A task frame read by the worker: its slot, id and task (None: not a task frame).
pub(super) fn read_task_frame(frame: &[u8]) -> Option<(u32, u64, &[u8])> {
    let slot = u32::from_le_bytes(frame.get(..4)?.try_into().ok()?);
    let id = u64::from_le_bytes(frame.get(4..12)?.try_into().ok()?);
    Some((slot, id, &frame[12..]))
}

/// The answer for a task the worker did not run.
pub(super) fn skipped() -> Vec<u8> {
    vec![SKIPPED]
}

/// The worker's own call of the task has no place in the script: drops it from the call stack.
pub(super) fn drop_worker_frame(diag: &mut crate::error::diagnostic::Diag) {
    while diag
        .trace
        .last()
        .is_some_and(|f| f.call_site == Span::default())
    {
        diag.trace.pop();
    }
}

/// What a pool worker sends back after a task: whether it retires after this answer,
/// then the task's result, or its whole error.
pub(super) fn encode(result: &R<Value>, retiring: bool, runner: &mut impl Runner) -> Vec<u8> {
    let mut answer = vec![if retiring { RETIRING } else { GOES_ON }];
    answer.extend(report(result, runner));
    answer
}

/// A worker's answer read: what it does after it, and the task's report.
pub(super) fn decode(answer: &[u8]) -> (After, wire::Report) {
    let (first, report) = answer.split_first().unwrap_or((&GOES_ON, &[]));
    let after = match *first {
        RETIRING => After::Retires,
        SKIPPED => return (After::Skipped, wire::Report::Missing),
        _ => After::GoesOn,
    };
    (after, wire::decode_report(report))
}

/// The task's result, or its whole error, as a child report.
fn report(result: &R<Value>, runner: &mut impl Runner) -> Vec<u8> {
    let mut diag = match result {
        Ok(value) => match wire::encode_returned(value) {
            Ok(bytes) => return bytes,
            Err(not_sendable) => ErrorKind::NotSendable
                .at(
                    runner.returned_at(),
                    not_sendable.message(),
                    "the task's result",
                )
                .with_help("a pool task may return nil, bool, int, float, string, list or map"),
        },
        Err(unwind) => match unwind.diag() {
            Some(diag) => {
                let mut diag = diag.clone();
                drop_worker_frame(&mut diag);
                diag
            }
            None => ErrorKind::ChildFailed.at(Span::default(), "the task ended its worker", ""),
        },
    };
    diag.context = Some(runner.procs().describe_me());
    wire::encode_failed(&diag)
}
