//! Why a child or a pool task gave no value, and the error its parent raises for it.

use crate::error::diagnostic::Diag;
use crate::error::{ErrorKind, Unwind};
use crate::front::ast::Span;
use crate::os;

/// Why a child or a task gave no value: the message, and the child's own
/// diagnostic when it sent one (the cause of the error the parent raises).
#[derive(Clone, Debug)]
pub struct Failure {
    pub message: String,
    pub cause: Option<Diag>,
    /// The child ended as `print` ends a process whose output reader has
    /// gone (exit code 141, no report).
    pub broken_pipe: bool,
}

/// The exit code of a process whose output reader went away (128 + SIGPIPE).
pub const BROKEN_PIPE_EXIT: i32 = 141;

impl Failure {
    /// The error raised where the failure is collected: `message` at `span`,
    /// caused by the child's own diagnostic. A child that ended because the
    /// output's reader went away (`| head`) ends this process too, quietly
    /// with the same code, when this process's output has gone as well.
    pub fn raise(&self, message: String, span: Span, label: &str) -> Unwind {
        if self.broken_pipe && os::output_is_gone() {
            return Unwind::exit(BROKEN_PIPE_EXIT);
        }
        let mut diag = ErrorKind::ChildFailed.at(span, message, label);
        diag.cause = self.cause.clone();
        Unwind::error(diag)
    }
}
