//! What a pool worker sends back after each task: whether it retires (a task changed a
//! value the pool pinned), then the task's result or its whole error.

use crate::error::{ErrorKind, R};
use crate::front::ast::Span;
use crate::process::wire;
use crate::process::Runner;
use crate::values::Value;

/// The first byte of a worker's answer: it goes on, or it retires after it.
const GOES_ON: u8 = 0;
const RETIRING: u8 = 1;

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

/// A worker's answer read: whether it retires after it, and the task's report.
pub(super) fn decode(answer: &[u8]) -> (bool, wire::Report) {
    let (first, report) = answer.split_first().unwrap_or((&GOES_ON, &[]));
    (*first == RETIRING, wire::decode_report(report))
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
