//! Functions an embedding program registers for its scripts to call, beside the built-ins.

use crate::error::diagnostic::Diag;
use crate::error::ErrorKind;
use crate::front::ast::Span;
use crate::front::spec::HostTable;
use crate::values::Value;
use std::fmt;
use std::rc::Rc;

/// What a host function returns: a value, or an error message that becomes a
/// runtime error at the call (catchable with `try`).
pub type HostResult = Result<Value, String>;

/// The Rust side of a host function.
pub(crate) type HostFn = Box<dyn Fn(&[Value]) -> HostResult>;

/// A Rust function a script calls by name, registered with
/// [`Engine::register`](crate::Engine::register).
///
/// It runs in whichever process calls it: a function called from a spawned
/// child or a pool worker runs in that process, on its own copy of the host's
/// memory, as everything else a child does.
///
/// A script sees it as a function value:
///
/// ```
/// use procscript::{Engine, Source, Value};
///
/// let engine = Engine::new().register("answer", 0, |_| Ok(Value::Int(42)));
/// let source = Source::new("x.proc", "let f = answer\nprint(f, type(f), f())");
/// assert_eq!(engine.run_captured(&source).1, "<host answer> function 42\n");
/// ```
pub struct HostFunction {
    pub(crate) name: Rc<str>,
    pub(crate) min_args: usize,
    /// `usize::MAX` for any number.
    pub(crate) max_args: usize,
    /// Its place in the engine's list (how pool tasks name it).
    pub(crate) index: u32,
    run: HostFn,
}

impl fmt::Debug for HostFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostFunction({})", self.name)
    }
}

/// Every host function of a run, by index.
pub type Hosts = Rc<[Rc<HostFunction>]>;

impl HostFunction {
    pub(crate) fn new(
        name: &str,
        min_args: usize,
        max_args: usize,
        index: u32,
        run: HostFn,
    ) -> HostFunction {
        HostFunction {
            name: name.into(),
            min_args,
            max_args,
            index,
            run,
        }
    }

    /// The name scripts call it by (as given to [`Engine::register`](crate::Engine::register));
    /// see [`HostFunction`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks the argument count; `name_span` is where the function's name stands.
    pub(crate) fn check_arity(
        &self,
        given: usize,
        span: Span,
        name_span: Span,
    ) -> Result<(), Diag> {
        crate::front::spec::check_count(&self.name, self.min_args, self.max_args, given, span)
            .map_err(|d| d.with_note(name_span, "a function of the program running this script"))
    }

    /// Calls it; an error names the function and points at the call.
    /// A panic in it is caught here and becomes the script's error: in a
    /// spawned child, unwinding past `run` would go on in the host's own code.
    pub(crate) fn call(&self, args: &[Value], span: Span) -> Result<Value, Diag> {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.run)(args)));
        crate::process::fork::host_code_ran();
        let result = outcome.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(format!("`{}` panicked: {what}", self.name))
        });
        result.map_err(|message| {
            ErrorKind::Host.at(
                span,
                message,
                format!("in `{}`, a function of the host program", self.name),
            )
        })
    }
}

/// Any list of host functions (the engine's `Vec`, a run's [`Hosts`]) is what
/// the resolver looks names up in.
impl<T: AsRef<[Rc<HostFunction>]>> HostTable for T {
    fn index_of(&self, name: &str) -> Option<u32> {
        self.as_ref()
            .iter()
            .position(|h| &*h.name == name)
            .map(|i| i as u32)
    }

    fn check_arity(
        &self,
        index: u32,
        given: usize,
        span: Span,
        name_span: Span,
    ) -> Result<(), Diag> {
        self.as_ref()[index as usize].check_arity(given, span, name_span)
    }

    fn names(&self) -> Vec<String> {
        self.as_ref().iter().map(|h| h.name.to_string()).collect()
    }
}
