//! Error kinds with stable codes, the typed constructors of runtime errors, and how evaluation unwinds.

pub mod diagnostic;
pub mod source_files;

use crate::error::diagnostic::Diag;
use crate::front::ast::Span;
use crate::os;
use serde::{Deserialize, Serialize};

/// What kind of error a [`Diag`] is. Each kind has a stable code, shown as
/// the report's first line and listed in docs/language.md (Errors), so a test
/// or a host can tell errors apart without matching their text.
///
/// ```
/// use miette::Diagnostic;
/// use procscript::{Engine, ErrorKind, Outcome, Source};
///
/// let source = Source::new("x.proc", "let xs = [1]\nprint(xs[3])");
/// let Outcome::Failed(error) = Engine::new().run(&source) else { panic!() };
/// assert_eq!(error.kind, ErrorKind::IndexOutOfRange);
/// let code = error.kind.code().unwrap().to_string();
/// assert_eq!(code, "procscript::index::out_of_range");
/// assert!(ErrorKind::Runtime.code().is_none());
/// ```
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    thiserror::Error,
    miette::Diagnostic,
)]
pub enum ErrorKind {
    /// A runtime error not yet given a kind of its own: it has no code.
    #[default]
    #[error("runtime error")]
    Runtime,
    /// The text is not a well-formed script.
    #[error("syntax error")]
    #[diagnostic(code("procscript::syntax"))]
    Syntax,
    /// `return`, `break` or `continue` where there is nothing to leave.
    #[error("statement out of place")]
    #[diagnostic(code("procscript::syntax::misplaced"))]
    Misplaced,
    /// A name that no `let`, `fn`, builtin or host function defines.
    #[error("import failed")]
    #[diagnostic(code("procscript::import"))]
    Import,
    #[error("undefined name")]
    #[diagnostic(code("procscript::name::undefined"))]
    Undefined,
    /// A variable read before its `let` ran.
    #[error("used before declaration")]
    #[diagnostic(code("procscript::name::before_declaration"))]
    UsedBeforeDeclared,
    /// Two functions of one name in one block.
    #[error("defined twice")]
    #[diagnostic(code("procscript::name::duplicate"))]
    DefinedTwice,
    /// A value of the wrong type for an operator, a statement or an argument.
    #[error("type mismatch")]
    #[diagnostic(code("procscript::type::mismatch"))]
    TypeMismatch,
    /// A call of something that is not a function.
    #[error("not callable")]
    #[diagnostic(code("procscript::call::not_callable"))]
    NotCallable,
    /// A call with the wrong number of arguments.
    #[error("wrong number of arguments")]
    #[diagnostic(code("procscript::call::arity"))]
    Arity,
    /// Recursion past the call depth limit.
    #[error("calls too deep")]
    #[diagnostic(code("procscript::call::too_deep"))]
    TooDeep,
    /// An index outside a list or string.
    #[error("index out of range")]
    #[diagnostic(code("procscript::index::out_of_range"))]
    IndexOutOfRange,
    /// A key a map does not hold.
    #[error("missing key")]
    #[diagnostic(code("procscript::index::missing_key"))]
    MissingKey,
    /// A field a value does not have.
    #[error("no such field")]
    #[diagnostic(code("procscript::index::no_field"))]
    NoField,
    /// An assignment into a value that cannot change (a string).
    #[error("immutable value")]
    #[diagnostic(code("procscript::index::immutable"))]
    Immutable,
    /// An int result that does not fit in 64 bits.
    #[error("integer overflow")]
    #[diagnostic(code("procscript::arith::overflow"))]
    Overflow,
    /// Division or modulo by zero.
    #[error("division by zero")]
    #[diagnostic(code("procscript::arith::division_by_zero"))]
    DivisionByZero,
    /// A value of the right type that is not allowed (a zero range step, a negative timeout).
    #[error("invalid value")]
    #[diagnostic(code("procscript::value::invalid"))]
    InvalidValue,
    /// A string, list or range past the size limits.
    #[error("value too large")]
    #[diagnostic(code("procscript::limit::size"))]
    TooLarge,
    /// The step budget (set by a host or the fuzzer) ran out.
    #[error("step budget spent")]
    #[diagnostic(code("procscript::limit::steps"))]
    StepBudget,
    /// Something the language does not support (`spawn` of a method call).
    #[error("not supported")]
    #[diagnostic(code("procscript::unsupported"))]
    Unsupported,
    /// `error(message)`: the script raised it.
    #[error("raised by the script")]
    #[diagnostic(code("procscript::raised"))]
    Raised,
    /// A method the value does not have.
    #[error("no such method")]
    #[diagnostic(code("procscript::call::no_method"))]
    NoMethod,
    /// A string or float that does not convert (`int("x")`).
    #[error("conversion failed")]
    #[diagnostic(code("procscript::value::conversion"))]
    Conversion,
    /// A list with nothing to take (`pop`, `min`).
    #[error("empty list")]
    #[diagnostic(code("procscript::value::empty"))]
    Empty,
    /// A file operation or a write to stdout or stderr failed.
    #[error("input or output failed")]
    #[diagnostic(code("procscript::io"))]
    Io,
    /// A program could not be started (`run`, `capture`).
    #[error("program did not start")]
    #[diagnostic(code("procscript::program::start"))]
    ProgramStart,
    /// A program `capture` ran ended with a failure.
    #[error("program failed")]
    #[diagnostic(code("procscript::program::failed"))]
    ProgramFailed,
    /// A program's options map holds an unknown key, a value of the wrong
    /// type, or options that do not go together: found before anything runs.
    #[error("bad program option")]
    #[diagnostic(code("procscript::program::option"))]
    ProgramOption,
    /// A program ran past its `timeout` and was stopped (`capture`).
    #[error("program timed out")]
    #[diagnostic(code("procscript::program::timeout"))]
    ProgramTimeout,
    /// A queue's `put` or `get` waited past its timeout.
    #[error("queue timeout")]
    #[diagnostic(code("procscript::queue::timeout"))]
    QueueTimeout,
    /// A queue's `put` or `get` would wait forever: no other holder is left.
    #[error("queue deadlock")]
    #[diagnostic(code("procscript::queue::deadlock"))]
    QueueDeadlock,
    /// A wait that can never end: every process that could end it waits on it.
    #[error("deadlock")]
    #[diagnostic(code("procscript::process::deadlock"))]
    Deadlock,
    /// A lock released by a process that does not hold it.
    #[error("lock not held")]
    #[diagnostic(code("procscript::sync::not_held"))]
    NotHeld,
    /// A semaphore released more times than it was acquired.
    #[error("semaphore over-released")]
    #[diagnostic(code("procscript::sync::over_released"))]
    OverReleased,
    /// A barrier broken by a member that died or whose wait timed out.
    #[error("broken barrier")]
    #[diagnostic(code("procscript::sync::broken_barrier"))]
    BrokenBarrier,
    /// A put on a closed queue, or a get on one closed and drained.
    #[error("queue closed")]
    #[diagnostic(code("procscript::queue::closed"))]
    QueueClosed,
    /// `q.task_done()` called more times than messages were put.
    #[error("task_done too many times")]
    #[diagnostic(code("procscript::queue::task_done"))]
    TaskDoneTooMany,
    /// A pipe end's `recv` with nothing sent and no other process left to send.
    #[error("pipe closed")]
    #[diagnostic(code("procscript::pipe::closed"))]
    PipeClosed,
    /// A value that cannot go into a queue, or a message that cannot be read.
    #[error("bad queue message")]
    #[diagnostic(code("procscript::queue::message"))]
    QueueMessage,
    /// An error a host function (of the program embedding procscript) returned.
    #[error("host function failed")]
    #[diagnostic(code("procscript::host"))]
    Host,
    /// A task given to a closed pool.
    #[error("pool closed")]
    #[diagnostic(code("procscript::pool::closed"))]
    PoolClosed,
    /// A pool task taken back before it ran (`t.cancel()`, or a `break` out of an imap loop).
    #[error("task cancelled")]
    #[diagnostic(code("procscript::pool::cancelled"))]
    TaskCancelled,
    /// An unknown or ill-typed option of `pool(n, {...})`.
    #[error("bad pool option")]
    #[diagnostic(code("procscript::pool::option"))]
    PoolOption,
    /// A pool used by a process that did not make it.
    #[error("not the pool's owner")]
    #[diagnostic(code("procscript::pool::not_owner"))]
    NotPoolOwner,
    /// A process could not start: the tree's process limit was reached.
    #[error("process limit reached")]
    #[diagnostic(code("procscript::process::limit"))]
    ProcessLimit,
    /// A child process or pool task failed: its own error is the cause.
    #[error("child failed")]
    #[diagnostic(code("procscript::process::failed"))]
    ChildFailed,
    /// A pid or handle that is not a child of this process.
    #[error("not a child")]
    #[diagnostic(code("procscript::process::not_child"))]
    NotAChild,
    /// A value a child or task cannot send back (or a task cannot carry).
    #[error("not sendable")]
    #[diagnostic(code("procscript::process::not_sendable"))]
    NotSendable,
    /// A remote pool worker would not start or serve (another version, no procscript there).
    #[error("remote worker refused")]
    #[diagnostic(code("procscript::pool::remote"))]
    RemoteWorker,
    /// An OS call failed (fork, kill, making a queue).
    #[error("OS call failed")]
    #[diagnostic(code("procscript::os"))]
    Os,
    /// `on_signal` of a signal a script cannot handle (KILL, STOP, or one procscript relies on).
    #[error("signal cannot be handled")]
    #[diagnostic(code("procscript::signal::unhandleable"))]
    UnhandleableSignal,
}

impl ErrorKind {
    /// A diagnostic of this kind: the message, where, and the label under that place.
    pub fn at(self, span: Span, message: impl Into<String>, label: impl Into<String>) -> Diag {
        let mut diag = Diag::new(message, span, label);
        diag.kind = self;
        diag
    }
}

/// Why evaluation stopped early: an error, or `exit(code)`. One pointer wide,
/// so that results on the hot path stay small.
#[derive(Debug)]
pub struct Unwind(Box<Stop>);

#[derive(Debug)]
pub enum Stop {
    Error(Diag),
    Exit(i32),
    /// SIGINT, SIGTERM or --timeout's SIGALRM arrived: stop the children and
    /// end by that signal.
    Signal(os::Signal),
}

impl Unwind {
    pub fn error(diag: Diag) -> Self {
        Unwind(Box::new(Stop::Error(diag)))
    }

    pub fn exit(code: i32) -> Self {
        Unwind(Box::new(Stop::Exit(code)))
    }

    pub fn from_stop(stop: Stop) -> Self {
        Unwind(Box::new(stop))
    }

    pub fn into_stop(self) -> Stop {
        *self.0
    }

    /// The signal, when this unwind is one (a stop, or a due handler's wake-up).
    pub fn signal(&self) -> Option<os::Signal> {
        match &*self.0 {
            Stop::Signal(sig) => Some(*sig),
            Stop::Error(_) | Stop::Exit(_) => None,
        }
    }

    /// The diagnostic, when this is an error (not an exit or a signal).
    pub fn diag(&self) -> Option<&Diag> {
        match &*self.0 {
            Stop::Error(diag) => Some(diag),
            Stop::Exit(_) | Stop::Signal(_) => None,
        }
    }

    /// The diagnostic, when this is an error (not an exit).
    pub fn diag_mut(&mut self) -> Option<&mut Diag> {
        match &mut *self.0 {
            Stop::Error(diag) => Some(diag),
            Stop::Exit(_) | Stop::Signal(_) => None,
        }
    }
}

/// A stop signal found pending at a safe point (`os::pending_stop()?`): the
/// one way a signal becomes an unwind.
impl From<os::Signal> for Unwind {
    fn from(sig: os::Signal) -> Self {
        Unwind(Box::new(Stop::Signal(sig)))
    }
}

impl From<Diag> for Unwind {
    fn from(diag: Diag) -> Self {
        Unwind::error(diag)
    }
}

pub type R<T> = Result<T, Unwind>;

/// A runtime error of no particular kind. For code not yet converted to
/// the typed constructors below; prefer one of those.
pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Unwind {
    Unwind::error(Diag::new(message, span, label))
}

// ------------------------------------------------------------ constructors

/// A parse error: the parser's diagnostics all mean the text is not a
/// well-formed script, so they get their kind where the parser is called.
pub fn syntax(mut diag: Diag) -> Diag {
    if diag.kind == ErrorKind::Runtime {
        diag.kind = ErrorKind::Syntax;
    }
    diag
}

/// "X must be an int, not str": a value of the wrong type (`ty`) where one type is wanted.
pub fn must_be(what: &str, wanted: &str, ty: &str, span: Span) -> Diag {
    ErrorKind::TypeMismatch.at(
        span,
        format!("{what} must be {wanted}, not {ty}"),
        format!("this is {ty}"),
    )
}

/// "cannot loop over int": an operation `what` that a value of type `ty` does not allow.
pub fn cannot(what: &str, ty: &str, span: Span) -> Diag {
    ErrorKind::TypeMismatch.at(span, format!("cannot {what} {ty}"), format!("this is {ty}"))
}

/// A call of a value of type `ty`, which is not a function.
pub fn not_callable(ty: &str, span: Span) -> Diag {
    ErrorKind::NotCallable.at(
        span,
        format!("cannot call {ty}"),
        format!("this is {ty}, not a function"),
    )
}

/// A call of a closure with the wrong number of arguments.
pub fn closure_arity(function: &str, want: usize, given: usize, span: Span, defined: Span) -> Diag {
    ErrorKind::Arity
        .at(
            span,
            format!(
                "{function} takes {want} argument{}, but {given} {} given",
                if want == 1 { "" } else { "s" },
                if given == 1 { "was" } else { "were" }
            ),
            format!("{given} given here"),
        )
        .with_note(defined, "defined here")
}

/// A call past the depth limit.
pub fn too_deep(max_depth: usize, span: Span) -> Diag {
    ErrorKind::TooDeep
        .at(
            span,
            format!("recursion deeper than {max_depth} calls"),
            "this call is too deep",
        )
        .with_help("check that the recursion has a base case that is reached")
}

/// A variable read while its `let` has not run (a captured one, at run time).
pub fn used_before_let(name: &str, span: Span) -> Diag {
    ErrorKind::UsedBeforeDeclared
        .at(
            span,
            format!("`{name}` is used before it is declared"),
            "its `let` has not run yet",
        )
        .with_help(format!("run `let {name} = ...` before this line runs"))
}

/// An index outside a list or string of `len` items.
pub fn out_of_range(index: i64, len: usize, what: &str, span: Span) -> Diag {
    let help = if len == 0 {
        format!("the {what} is empty")
    } else {
        format!(
            "valid indexes are 0 to {} (or -{len} to -1 from the end)",
            len - 1
        )
    };
    ErrorKind::IndexOutOfRange
        .at(
            span,
            format!("index {index} is out of range for a {what} of length {len}"),
            "out of range",
        )
        .with_help(help)
}

/// A key that is not in the map.
pub fn missing_key(key: &str, span: Span) -> Diag {
    ErrorKind::MissingKey
        .at(
            span,
            format!("key \"{key}\" is not in the map"),
            "missing key",
        )
        .with_help("use get(map, key, default) for a key that may be missing")
}

/// The step budget ran out at a loop iteration or call.
pub fn step_budget_spent(span: Span) -> Diag {
    ErrorKind::StepBudget.at(
        span,
        "the script ran out of its step budget",
        "stopped here",
    )
}

#[cfg(test)]
mod tests {
    use super::ErrorKind::{self, *};
    use miette::Diagnostic;

    /// Every kind with a code.
    const CODED: &[ErrorKind] = &[
        Syntax,
        Misplaced,
        Import,
        Undefined,
        UsedBeforeDeclared,
        DefinedTwice,
        TypeMismatch,
        NotCallable,
        Arity,
        TooDeep,
        IndexOutOfRange,
        MissingKey,
        NoField,
        Immutable,
        Overflow,
        DivisionByZero,
        InvalidValue,
        TooLarge,
        StepBudget,
        Unsupported,
        Raised,
        NoMethod,
        Conversion,
        Empty,
        Io,
        ProgramStart,
        ProgramFailed,
        ProgramOption,
        ProgramTimeout,
        QueueTimeout,
        QueueDeadlock,
        Deadlock,
        NotHeld,
        OverReleased,
        BrokenBarrier,
        QueueClosed,
        TaskDoneTooMany,
        PipeClosed,
        QueueMessage,
        Host,
        PoolClosed,
        TaskCancelled,
        PoolOption,
        NotPoolOwner,
        ProcessLimit,
        ChildFailed,
        NotAChild,
        NotSendable,
        RemoteWorker,
        Os,
        UnhandleableSignal,
    ];

    /// Kinds no module raises yet: not in the docs.
    const NOT_RAISED_YET: &[ErrorKind] = &[];

    /// Stops compiling when a kind is added without being listed in `CODED`.
    #[allow(dead_code)]
    fn listed(kind: ErrorKind) {
        match kind {
            Runtime | Syntax | Misplaced | Import | Undefined | UsedBeforeDeclared
            | DefinedTwice | TypeMismatch | NotCallable | Arity | TooDeep | IndexOutOfRange
            | MissingKey | NoField | Immutable | Overflow | DivisionByZero | InvalidValue
            | TooLarge | StepBudget | Unsupported | Raised | NoMethod | Conversion | Empty | Io
            | ProgramStart | ProgramFailed | ProgramOption | ProgramTimeout | QueueTimeout
            | QueueDeadlock | Deadlock | NotHeld | OverReleased | BrokenBarrier | QueueClosed
            | TaskDoneTooMany | PipeClosed | QueueMessage | Host | PoolClosed | TaskCancelled
            | PoolOption | NotPoolOwner | ProcessLimit | ChildFailed | NotAChild | NotSendable
            | RemoteWorker | Os | UnhandleableSignal => {}
        }
    }

    #[test]
    fn every_kind_but_runtime_has_its_own_code_and_the_docs_list_it() {
        let docs = include_str!("../../docs/language.md");
        let mut seen = std::collections::HashSet::new();
        assert!(Runtime.code().is_none());
        for kind in CODED {
            let code = kind.code().expect("a code").to_string();
            assert!(code.starts_with("procscript::"), "{code}");
            assert!(seen.insert(code.clone()), "{code} is used twice");
            let documented = docs.contains(&format!("| `{code}` |"));
            assert_eq!(
                documented,
                !NOT_RAISED_YET.contains(kind),
                "{code} in docs/language.md (Errors)"
            );
        }
    }
}
