//! An interactive session: entries run one after another in one process and keep their variables.

use crate::api::engine::{Engine, Outcome};
use crate::api::guard::RunGuard;
use crate::error::diagnostic::{Diag, Source};
use crate::error::{Stop, Unwind, R};
use crate::eval::Interp;
use crate::front::parser;
use crate::front::resolve;
use crate::os;
use crate::values::Value;

/// How one entry of a [`Session`] ended (examples at [`Session::run`]).
#[derive(Debug)]
pub enum Entry {
    /// It ran; the value of its last statement when that is an expression
    /// whose value is not `nil` (what a prompt echoes).
    Done(Option<Value>),
    /// It did not parse or compile, or failed while running; its variables
    /// and functions defined before the error stay. Render it with
    /// [`Session::source`].
    Error(Diag),
    /// Ctrl-C (SIGINT) stopped it; the processes the session started were
    /// stopped too. The session goes on.
    Interrupted,
    /// `exit(code)` or SIGTERM ended the session: its children were joined
    /// (or stopped), and nothing more may run.
    Exit(i32),
}

/// Entries run one after another in this process, as if each were appended
/// to one script: variables and functions of earlier entries stay, and so do
/// the processes they started. What `procscript` with no arguments uses.
///
/// A process that `fork` makes during an entry runs the rest of that entry,
/// then ends (exit code 0, or 1 after an error) without returning from
/// [`Session::run`]: only the process that made the session goes on to the
/// next entry, so a child never reads the prompt.
///
/// ```
/// use procscript::{Engine, Entry};
///
/// let engine = Engine::new();
/// let mut session = engine.session();
/// assert!(matches!(session.run("fn square(x) { return x * x }"), Entry::Done(None)));
/// assert!(matches!(session.run("let n = join spawn square(7)"), Entry::Done(None)));
/// let Entry::Done(Some(value)) = session.run("n + 1") else { panic!() };
/// assert_eq!(value.to_repr(), "50");
/// let Entry::Error(error) = session.run("n + nil") else { panic!() };
/// assert!(error.render(&session.source(), false).contains("<prompt>:4:5"));
/// assert_eq!(session.end(), 0);
/// ```
pub struct Session<'e> {
    engine: &'e Engine,
    names: resolve::Session,
    interp: Option<Interp>,
    /// Every entry that compiled, each ending with a newline: spans of
    /// functions defined in earlier entries point into it.
    text: String,
    /// The text errors of the last entry are shown in.
    last: Source,
    ended: bool,
}

const NAME: &str = "<prompt>";

impl<'e> Session<'e> {
    pub(crate) fn new(engine: &'e Engine) -> Self {
        Session {
            engine,
            names: resolve::Session::default(),
            interp: None,
            text: String::new(),
            last: Source::new(NAME, ""),
            ended: false,
        }
    }

    /// Whether `text` is an unfinished entry: a block, list, map, call or
    /// interpolation left open. A prompt asks for more lines instead of
    /// running it. A string left open is an error instead: a string ends on
    /// its line. (The parser's error messages use the same bracket scan.)
    ///
    /// ```
    /// use procscript::Session;
    ///
    /// assert!(Session::is_incomplete("fn f(x) {"));
    /// assert!(Session::is_incomplete("print(\"{1 +"));
    /// assert!(!Session::is_incomplete("let s = \"abc"));  // reported: unterminated string
    /// assert!(!Session::is_incomplete("fn f(x) { return x }"));
    /// assert!(!Session::is_incomplete("print(1))"));  // an error, not more to come
    /// ```
    pub fn is_incomplete(text: &str) -> bool {
        crate::front::syntax_error::needs_more_lines(text)
    }

    /// Runs `read`, the wait for the next entry, so that a SIGTERM arriving
    /// meanwhile interrupts it: a line editor returns as for Ctrl-C, and
    /// [`Session::terminated`] then says the session must end.
    ///
    /// ```
    /// let engine = procscript::Engine::new();
    /// let mut session = engine.session();
    /// // A prompt reads its line inside; here the "line" is at hand.
    /// let line = session.read_input(|| String::from("1 + 1"));
    /// if !session.terminated() {
    ///     session.run(&line);
    /// }
    /// assert_eq!(session.end(), 0);
    /// ```
    pub fn read_input<T>(&self, read: impl FnOnce() -> T) -> T {
        os::while_reading_input(read)
    }

    /// Whether SIGTERM arrived: the caller should [`Session::end`], which
    /// then stops the session's children and returns 143. (See
    /// [`Session::read_input`].)
    pub fn terminated(&self) -> bool {
        os::pending_stop() == Err(os::Signal::SIGTERM)
    }

    /// The text the last entry's errors refer to (every entry so far, named `<prompt>`).
    ///
    /// ```
    /// use procscript::{Engine, Entry};
    ///
    /// let engine = Engine::new();
    /// let mut session = engine.session();
    /// session.run("let a = 1");
    /// let Entry::Error(error) = session.run("a + \"b\"") else { panic!() };
    /// assert!(error.render(&session.source(), false).contains("<prompt>:2:5"));
    /// ```
    pub fn source(&self) -> Source {
        self.last.clone()
    }

    /// Runs one entry: one or more statements, as typed at the prompt.
    ///
    /// ```
    /// use procscript::{Engine, Entry};
    ///
    /// let engine = Engine::new();
    /// let mut session = engine.session();
    /// assert!(matches!(session.run("let xs = [1, 2]"), Entry::Done(None)));
    /// assert!(matches!(session.run("xs[9]"), Entry::Error(_)));
    /// let Entry::Done(Some(v)) = session.run("push(xs, 3); xs") else { panic!() };
    /// assert_eq!(v.to_repr(), "[1, 2, 3]");
    /// ```
    pub fn run(&mut self, entry: &str) -> Entry {
        if self.ended {
            return Entry::Exit(0);
        }
        let _running = match RunGuard::enter() {
            Ok(guard) => guard,
            Err(diag) => return Entry::Error(diag),
        };
        let _redirect = self.engine.redirect_print();
        let full = format!("{}{entry}\n", self.text);
        self.last = Source::new(NAME, full.as_str());
        self.last.modules = self.names.module_files();
        // The entry is parsed at its place after the earlier ones (blanked
        // out), so its spans are offsets into the whole session's text.
        let mut padded = blank_like(&self.text);
        padded.push_str(entry);
        let program = match parser::parse_program(&padded) {
            Ok(program) => program,
            Err(diag) => return Entry::Error(crate::error::syntax(diag)),
        };
        let compiled = match resolve::compile_entry(&program, &self.engine.hosts(), &mut self.names)
        {
            Ok(compiled) => compiled,
            Err(diag) => return Entry::Error(diag),
        };
        self.text = full;
        let interp = match &mut self.interp {
            Some(interp) => {
                interp.source = self.last.clone();
                interp.protos = compiled.protos.clone();
                interp.modules = compiled.modules.clone();
                interp
            }
            None => self.interp.insert(self.engine.interp(
                &self.last,
                &compiled,
                crate::views::record::Made::Script,
            )),
        };
        // Each entry has the whole step budget: one runaway loop must not
        // leave the entries after it none.
        interp.steps_left = self.engine.step_budget();
        let result = interp.run_entry(&compiled.script, self.engine.script_args());
        if !interp.procs.is_root() {
            // A process forked during the entry: its part ends here.
            interp.end_process(result.map(|_| ()));
            os::exit_now(0);
        }
        interp.procs.await_birth_lines();
        self.settle(result)
    }

    /// What the session does after an entry, in the process that made it.
    fn settle(&mut self, result: R<Option<Value>>) -> Entry {
        let interp = self.interp.as_mut().expect("an entry ran");
        let stop = match result {
            Ok(value) => return Entry::Done(value.filter(|v| !matches!(v, Value::Nil))),
            Err(unwind) => unwind.into_stop(),
        };
        let interrupted = os::pending_stop() == Err(os::Signal::SIGINT);
        match stop {
            Stop::Error(_) | Stop::Signal(_) if interrupted => {
                interp.procs.stop_children();
                for pool in interp.procs.live_pools() {
                    pool.cancel_unfinished();
                }
                os::clear_pending_signal();
                Entry::Interrupted
            }
            Stop::Error(diag) => Entry::Error(diag),
            stop => {
                self.ended = true;
                match self.engine.finish(interp, Err(Unwind::from_stop(stop))) {
                    Outcome::Failed(diag) => Entry::Error(diag),
                    outcome => Entry::Exit(outcome.exit_code()),
                }
            }
        }
    }

    /// Ends the session as a script ends: waits for the children it did not
    /// join and closes its pools (after a SIGTERM or SIGINT, stops them
    /// instead). Returns the exit code.
    ///
    /// ```
    /// let engine = procscript::Engine::new();
    /// let mut session = engine.session();
    /// session.run("let h = spawn sleep(0.1)");
    /// assert_eq!(session.end(), 0); // after the child has ended
    /// ```
    pub fn end(mut self) -> i32 {
        let code = self.end_inner();
        // A Ctrl-C while the session waited for its children ends it with the
        // signal's code, whichever noticed it first: the wait or the children's end.
        match os::pending_stop() {
            Err(sig) => os::exit_code_for(sig),
            Ok(()) => code,
        }
    }

    /// The pids of the session's children still running (pool workers
    /// included): what [`Session::end`] will wait for.
    pub fn running_children(&mut self) -> Vec<i32> {
        let Some(interp) = self.interp.as_mut() else {
            return Vec::new();
        };
        match interp.procs.live_children() {
            Value::List(pids) => pids
                .borrow()
                .iter()
                .filter_map(|v| match v {
                    Value::Int(pid) => Some(*pid as i32),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn end_inner(&mut self) -> i32 {
        let Some(interp) = self.interp.as_mut() else {
            return 0;
        };
        let _redirect = self.engine.redirect_print();
        if self.ended {
            interp.release();
            return 0;
        }
        self.ended = true;
        let how = os::pending_stop().map_err(Unwind::from);
        let outcome = self.engine.finish(interp, how);
        if let Outcome::Failed(diag) = &outcome {
            eprint!("{}", diag.render(&self.last, false));
        }
        let code = outcome.exit_code();
        interp.release();
        code
    }
}

/// Blank text as long (in bytes) as `text`, with its newlines kept, so that
/// line numbers and byte offsets of what follows are the same as in `text`.
fn blank_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            out.push('\n');
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out
}
