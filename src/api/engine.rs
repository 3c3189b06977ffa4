//! The embedding API: check or run a script and get its outcome, without the command line.

use crate::api::guard::RunGuard;
use crate::api::session::Session;
use crate::error::diagnostic::{Diag, Source};
use crate::error::{Stop, R};
use crate::eval::Interp;
use crate::front::ast::Span;
use crate::front::modules::ModuleSet;
use crate::front::parser;
use crate::front::resolve::{self, Compiled};
use crate::front::spec::HostTable;
use crate::limits;
use crate::os::PrintRedirect;
use crate::process::Procs;
use crate::values::host::{HostFn, HostFunction, HostResult};
use crate::values::Value;
use crate::views::record::{Made, Note, Recorder};
use crate::views::{self, Run};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The script ran to its end (code 0) or called `exit(code)`.
    Exited(i32),
    /// The script did not parse or compile; nothing ran.
    Invalid(Diag),
    /// An uncaught runtime error.
    Failed(Diag),
    /// SIGINT or SIGTERM stopped the script (and its whole tree).
    Signaled(i32),
    /// The --timeout passed; the whole tree was stopped.
    TimedOut,
}

impl Outcome {
    /// The process exit code the command line uses for this outcome.
    ///
    /// ```
    /// use procscript::{Engine, Source};
    ///
    /// let code = |text| Engine::new().run(&Source::new("x.proc", text)).exit_code();
    /// assert_eq!(code("print(1)"), 0);
    /// assert_eq!(code("exit(9)"), 9);
    /// assert_eq!(code("error(\"no\")"), 1);
    /// assert_eq!(code("print("), 2);
    /// ```
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Exited(code) => *code,
            Outcome::Invalid(_) => 2,
            Outcome::Failed(_) => 1,
            Outcome::Signaled(sig) => 128 + sig,
            Outcome::TimedOut => crate::process::ending::TIMEOUT_EXIT,
        }
    }
}

/// The default bound on the live processes of one script's tree
/// (see [`Engine::max_procs`]): `assert_eq!(procscript::DEFAULT_MAX_PROCS, 512)`.
pub const DEFAULT_MAX_PROCS: usize = 512;

/// Which views of the run to produce.
///
/// ```
/// use procscript::{Engine, Source, Views};
///
/// let trace = std::env::temp_dir().join(format!("views-doc-{}.json", std::process::id()));
/// let views = Views { trace: Some(trace.clone()), ..Views::default() };
/// Engine::new().views(views).run(&Source::new("x.proc", "join spawn print(1)"));
/// let json = std::fs::read_to_string(&trace).unwrap();
/// assert!(json.contains("traceEvents"));
/// # std::fs::remove_file(&trace).unwrap();
/// ```
#[derive(Debug, Default, Clone)]
pub struct Views {
    /// Draw the process tree on stderr after the run.
    pub tree: bool,
    /// Write a Chrome trace (Perfetto) here.
    pub trace: Option<PathBuf>,
    /// Write an SVG timeline here.
    pub timeline: Option<PathBuf>,
    /// Narrate each OS call on stderr as it happens.
    pub explain: bool,
}

impl Views {
    fn record(&self) -> bool {
        self.tree || self.trace.is_some() || self.timeline.is_some()
    }

    /// The files the views write, each with the option that names it.
    fn files(&self) -> impl Iterator<Item = (&'static str, &PathBuf)> {
        let trace = self.trace.iter().map(|path| ("--trace", path));
        trace.chain(self.timeline.iter().map(|path| ("--timeline", path)))
    }

    /// Checks, before anything runs, that each view file could be written:
    /// not a script (a name ending in `.proc`), not a folder, in a folder
    /// that exists and may be written. [`Engine::run`] checks this itself;
    /// the command line calls it first so that a mistake is a usage error.
    ///
    /// ```
    /// use procscript::Views;
    ///
    /// let views = Views { trace: Some("/no/such/folder/t.json".into()), ..Views::default() };
    /// let error = views.check_files().unwrap_err();
    /// assert_eq!(error, "cannot write --trace /no/such/folder/t.json: no such folder /no/such/folder");
    /// ```
    pub fn check_files(&self) -> Result<(), String> {
        if let (Some(trace), Some(timeline)) = (&self.trace, &self.timeline) {
            // One would silently overwrite the other.
            if trace == timeline {
                return Err(format!(
                    "--trace and --timeline both name {}; give each view its own file",
                    trace.display()
                ));
            }
        }
        for (option, path) in self.files() {
            let shown = path.display();
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("proc"))
            {
                return Err(format!(
                    "{option} {shown} would write over a script (a name ending in .proc); \
                     give the view its own file, such as {option}=run.{}",
                    if option == "--trace" { "json" } else { "svg" }
                ));
            }
            if crate::os::is_dir(&path.to_string_lossy()) {
                return Err(format!("cannot write {option} {shown}: it is a folder"));
            }
            let folder = match path.parent() {
                Some(folder) if !folder.as_os_str().is_empty() => folder,
                _ => Path::new("."),
            };
            if let Err(why) = crate::os::folder_accepts_files(folder) {
                return Err(format!(
                    "cannot write {option} {shown}: {why} {}",
                    folder.display()
                ));
            }
        }
        Ok(())
    }
}

/// Runs procscript source text: the embedding API, and all the command line uses.
///
/// An `Engine` is a configuration built by chaining; [`Engine::run`] and
/// [`Engine::check`] may be called any number of times.
///
/// ```
/// use procscript::{Engine, Outcome, Source};
///
/// let source = Source::new("hello.proc", "print(\"hello\", args[0])");
/// let (outcome, printed) = Engine::new().args(vec!["world".into()]).run_captured(&source);
/// assert!(matches!(outcome, Outcome::Exited(0)));
/// assert_eq!(printed, "hello world\n");
/// ```
#[derive(Debug)]
pub struct Engine {
    args: Vec<String>,
    max_procs: usize,
    max_depth: usize,
    color: bool,
    views: Views,
    timeout: Option<Duration>,
    max_steps: Option<u64>,
    hosts: Vec<Rc<HostFunction>>,
    print_to: Option<OwnedFd>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            args: Vec::new(),
            max_procs: DEFAULT_MAX_PROCS,
            max_depth: limits::MAX_CALL_DEPTH,
            color: false,
            views: Views::default(),
            timeout: None,
            max_steps: None,
            hosts: Vec::new(),
            print_to: None,
        }
    }
}

impl Engine {
    /// An engine with the command line's defaults: no arguments, at most 512
    /// live processes, calls 10,000 deep, `print` to stdout.
    ///
    /// ```
    /// let engine = procscript::Engine::new();
    /// # let _ = engine;
    /// ```
    pub fn new() -> Self {
        Engine::default()
    }

    /// Bounds the live processes of the script's whole tree (at least 1): a
    /// `fork` or `spawn` past it is a catchable error.
    ///
    /// ```
    /// use procscript::{Engine, Outcome, Source};
    ///
    /// let source = Source::new("x.proc", "try { fork } catch e { print(\"refused\") }");
    /// let (outcome, printed) = Engine::new().max_procs(1).run_captured(&source);
    /// assert!(matches!(outcome, Outcome::Exited(0)));
    /// assert_eq!(printed, "refused\n");
    /// ```
    pub fn max_procs(mut self, max: usize) -> Self {
        self.max_procs = max.max(1);
        self
    }

    /// Bounds how deep calls may nest (at least 1; the default is 10,000):
    /// deeper recursion is a runtime error, never a crash.
    ///
    /// ```
    /// use procscript::{Engine, Outcome, Source};
    ///
    /// let source = Source::new("deep.proc", "fn down(n) { return down(n + 1) }\ndown(0)");
    /// let outcome = Engine::new().max_call_depth(50).run(&source);
    /// let Outcome::Failed(error) = outcome else { panic!("{outcome:?}") };
    /// assert_eq!(error.message, "recursion deeper than 50 calls");
    /// ```
    pub fn max_call_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth.max(1);
        self
    }

    /// Whether child processes render their error reports in colour
    /// (the command line turns it on when stderr is a terminal without `NO_COLOR`).
    ///
    /// ```
    /// let engine = procscript::Engine::new().color(false);
    /// # let _ = engine;
    /// ```
    pub fn color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }

    /// Sets `args`, the list of command-line arguments the script sees.
    ///
    /// ```
    /// use procscript::{Engine, Source};
    ///
    /// let source = Source::new("args.proc", "print(len(args), args)");
    /// let (_, printed) = Engine::new().args(vec!["a".into(), "b".into()]).run_captured(&source);
    /// assert_eq!(printed, "2 [\"a\", \"b\"]\n");
    /// ```
    pub fn args(mut self, args: Vec<String>) -> Self {
        self.args = args;
        self
    }

    /// Stops the whole tree after this many whole seconds (at least 1; the
    /// run ends as `Outcome::TimedOut`). [`Engine::timeout_after`] takes
    /// fractions of a second.
    ///
    /// ```
    /// use procscript::{Engine, Outcome, Source};
    ///
    /// let source = Source::new("slow.proc", "join spawn sleep(30)");
    /// let outcome = Engine::new().timeout(Some(1)).run(&source);
    /// assert!(matches!(outcome, Outcome::TimedOut));
    /// assert_eq!(outcome.exit_code(), 124);
    /// ```
    pub fn timeout(self, seconds: Option<u32>) -> Self {
        self.timeout_after(seconds.map(|s| Duration::from_secs(s.max(1).into())))
    }

    /// Stops the whole tree once this much time has passed, to the
    /// microsecond (the run ends as `Outcome::TimedOut`); `None` sets no limit.
    ///
    /// ```
    /// use procscript::{Engine, Outcome, Source};
    /// use std::time::Duration;
    ///
    /// let engine = Engine::new().timeout_after(Some(Duration::from_millis(200)));
    /// let outcome = engine.run(&Source::new("quick.proc", "print(1)"));
    /// assert!(matches!(outcome, Outcome::Exited(0)));
    /// // A run that ended before its limit leaves no alarm behind for the next.
    /// let later = Engine::new().run(&Source::new("later.proc", "sleep(0.4)"));
    /// assert!(matches!(later, Outcome::Exited(0)), "{later:?}");
    ///
    /// let outcome = engine.run(&Source::new("slow.proc", "join spawn sleep(30)"));
    /// assert!(matches!(outcome, Outcome::TimedOut));
    /// ```
    pub fn timeout_after(mut self, limit: Option<Duration>) -> Self {
        self.timeout = limit;
        self
    }

    /// Stops each process of the script after this many loop iterations and
    /// calls (a runtime error), so that any input finishes (used for fuzzing).
    /// In a [`Session`], each entry starts with the whole budget.
    ///
    /// ```
    /// use procscript::{Engine, Outcome, Source};
    ///
    /// let source = Source::new("spin.proc", "while true { }");
    /// let outcome = Engine::new().max_steps(Some(1000)).run(&source);
    /// assert!(matches!(outcome, Outcome::Failed(_)));
    /// ```
    pub fn max_steps(mut self, steps: Option<u64>) -> Self {
        self.max_steps = steps;
        self
    }

    /// Records the run for these views (nothing is recorded when none is
    /// asked for); see [`Views`].
    pub fn views(mut self, views: Views) -> Self {
        self.views = views;
        self
    }

    /// Sends what `print` writes (in every process of the script, and the
    /// output of programs that `run` starts) to this file, pipe or socket
    /// instead of stdout. `eprint` and error reports still go to stderr.
    ///
    /// A descriptor, not a Rust buffer, because the script's children are
    /// separate processes: they all write to the same open file.
    ///
    /// ```
    /// use procscript::{Engine, Source};
    ///
    /// let path = std::env::temp_dir().join(format!("procscript-doc-{}.txt", std::process::id()));
    /// let file = std::fs::File::create(&path).unwrap();
    /// let source = Source::new("x.proc", "join spawn print(\"from a child\")");
    /// Engine::new().print_to(file).run(&source);
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), "from a child\n");
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn print_to(mut self, fd: impl Into<OwnedFd>) -> Self {
        self.print_to = Some(fd.into());
        self
    }

    /// Registers a Rust function that scripts call by `name` with exactly
    /// `params` arguments. It returns a value, or an error message that
    /// becomes a runtime error at the call (catchable with `try`).
    ///
    /// The function runs in the process that calls it: from a `spawn`ed
    /// child or a pool worker it runs there, on that process's copy of the
    /// host's memory (so it may read what the host set up before the run,
    /// but what it changes stays in that process).
    ///
    /// # Panics
    ///
    /// If `name` is not a valid name, is a keyword or a built-in's name, or
    /// is registered twice: a mistake in the host program, not in a script.
    ///
    /// ```
    /// use procscript::{Engine, Source, Value};
    ///
    /// let engine = Engine::new().register("double", 1, |args: &[Value]| match &args[0] {
    ///     Value::Int(n) => Ok(Value::Int(n * 2)),
    ///     other => Err(format!("double takes an int, not {}", other.type_name())),
    /// });
    /// let source = Source::new("x.proc", "print(double(21))\ntry { double(\"x\") } catch e { print(e) }");
    /// let (_, printed) = engine.run_captured(&source);
    /// assert_eq!(printed, "42\ndouble takes an int, not string\n");
    /// ```
    pub fn register(
        self,
        name: &str,
        params: usize,
        f: impl Fn(&[Value]) -> HostResult + 'static,
    ) -> Self {
        self.add_host(name, params, params, Box::new(f))
    }

    /// Registers a Rust function that takes `min_params` or more arguments;
    /// otherwise as [`Engine::register`].
    ///
    /// ```
    /// use procscript::{Engine, Source, Value};
    ///
    /// let engine = Engine::new().register_variadic("count", 0, |args: &[Value]| {
    ///     Ok(Value::Int(args.len() as i64))
    /// });
    /// let (_, printed) = engine.run_captured(&Source::new("x.proc", "print(count(), count(1, 2, 3))"));
    /// assert_eq!(printed, "0 3\n");
    /// ```
    pub fn register_variadic(
        self,
        name: &str,
        min_params: usize,
        f: impl Fn(&[Value]) -> HostResult + 'static,
    ) -> Self {
        self.add_host(name, min_params, usize::MAX, Box::new(f))
    }

    fn add_host(mut self, name: &str, min: usize, max: usize, f: HostFn) -> Self {
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        assert!(valid, "procscript: `{name}` is not a valid function name");
        assert!(
            !parser::is_keyword(name),
            "procscript: `{name}` is a keyword and cannot name a host function"
        );
        assert!(
            crate::front::spec::lookup(name).is_none(),
            "procscript: `{name}` is a built-in function already"
        );
        assert!(
            self.hosts.index_of(name).is_none(),
            "procscript: a host function `{name}` is registered already"
        );
        let index = self.hosts.len() as u32;
        self.hosts
            .push(Rc::new(HostFunction::new(name, min, max, index, f)));
        self
    }

    /// Parses and resolves names; nothing runs.
    ///
    /// ```
    /// use procscript::{Engine, Source};
    ///
    /// let error = Engine::new().check(&Source::new("x.proc", "print(nmae)")).unwrap_err();
    /// assert_eq!(error.message, "undefined variable `nmae`");
    /// ```
    pub fn check(&self, source: &Source) -> Result<(), Diag> {
        self.prepare(source).map(|_| ())
    }

    /// Checks, then runs the script to its end. Only the process that called
    /// `run` returns from it: processes the script forks end inside it.
    /// By then every child of the script has been joined or stopped.
    ///
    /// An error comes back as a [`Diag`]; `diag.render(&source, color)` is
    /// the text the command line prints, and `diag.report(&source)` a
    /// `miette::Diagnostic`.
    ///
    /// ```
    /// use procscript::{Engine, Outcome, Source};
    ///
    /// let source = Source::new("fail.proc", "let xs = [1, 2]\nprint(xs[5])");
    /// let Outcome::Failed(error) = Engine::new().run(&source) else { panic!() };
    /// assert!(error.render(&source, false).contains("fail.proc:2:"));
    /// let report = miette::Report::new(error.report(&source));
    /// assert!(report.to_string().contains("index 5"));
    /// ```
    pub fn run(&self, source: &Source) -> Outcome {
        let _redirect = self.redirect_print();
        self.run_inner(source)
    }

    /// While the result lives, `print` goes where `print_to` said.
    pub(crate) fn redirect_print(&self) -> Option<PrintRedirect> {
        self.print_to
            .as_ref()
            .map(|fd| PrintRedirect::new(fd.as_fd()))
    }

    fn run_inner(&self, source: &Source) -> Outcome {
        let _running = match RunGuard::enter() {
            Ok(guard) => guard,
            Err(diag) => return Outcome::Invalid(diag),
        };
        let compiled = match self.prepare(source) {
            Ok(compiled) => compiled,
            Err(diag) => return Outcome::Invalid(diag),
        };
        if let Err(message) = self.views.check_files() {
            return Outcome::Invalid(Diag::new(message, Span::default(), ""));
        }
        let mut interp = self.interp(source, &compiled, Made::Script);
        if let Some(limit) = self.timeout {
            crate::os::alarm_after(limit);
        }
        let result = interp.run_script(&compiled.script, self.args.clone());
        let outcome = self.finish(&mut interp, result);
        if self.timeout.is_some() {
            crate::os::cancel_alarm();
        }
        // The signal that ended this run is told in its outcome; left
        // pending, it would stop the host's next run at once.
        crate::os::clear_pending_signal();
        // A script's handlers (on_signal) are the script's: the host's next
        // run starts with procscript's defaults.
        crate::os::reset_dispositions();
        interp.release();
        outcome
    }

    /// Ends the first process of a run (a script's, or a session's): its
    /// children are joined or stopped, the views are written, and the way it
    /// ended is given.
    pub(crate) fn finish(&self, interp: &mut Interp, result: R<()>) -> Outcome {
        let outcome = match interp.end_process(result) {
            Stop::Exit(code) => Outcome::Exited(code),
            Stop::Error(diag) => Outcome::Failed(diag),
            Stop::Signal(crate::os::Signal::SIGALRM) => Outcome::TimedOut,
            Stop::Signal(sig) => Outcome::Signaled(sig as i32),
        };
        // A bar left unfinished would have the shell's prompt (or the
        // report below) continue its line.
        crate::os::end_progress_line();
        let Some(recorder) = &interp.procs.recorder else {
            return outcome;
        };
        // The signal that ended the run (if one did) is answered: the views
        // of such a run are still drawn. Only a new one stops the drawing. A
        // run that ended by itself answered no signal: one pending now came
        // after its end (Ctrl-C as the drawing began) and must stop it.
        if matches!(outcome, Outcome::Signaled(_) | Outcome::TimedOut) {
            crate::os::clear_pending_signal();
        }
        match (self.write_views(recorder), outcome) {
            // Ctrl-C (or SIGTERM, or the timeout) while the views were drawn:
            // the run ends as the signal says, at once, and writes no view.
            (
                Err(ViewsEnd::Stopped(crate::os::Signal::SIGALRM)),
                Outcome::Exited(_) | Outcome::Failed(_),
            ) => Outcome::TimedOut,
            (Err(ViewsEnd::Stopped(sig)), Outcome::Exited(_) | Outcome::Failed(_)) => {
                Outcome::Signaled(sig as i32)
            }
            (Err(ViewsEnd::Stopped(_)), outcome) => outcome,
            // A run that went well but lost its views did not do what was asked.
            (Err(ViewsEnd::Failed(message)), Outcome::Exited(0)) => {
                Outcome::Failed(Diag::new(message, Span::default(), ""))
            }
            (Err(ViewsEnd::Failed(message)), outcome) => {
                eprintln!("procscript: {message}");
                outcome
            }
            (Ok(()), outcome) => outcome,
        }
    }

    /// Runs the script with `print` going into a string (from every process
    /// of the script), and returns how it ended and what it printed.
    ///
    /// ```
    /// use procscript::{Engine, Source};
    ///
    /// let source = Source::new("x.proc", "fn hi() { print(\"child\") }\njoin spawn hi()\nprint(\"parent\")");
    /// let (_, printed) = Engine::new().run_captured(&source);
    /// assert_eq!(printed, "child\nparent\n");
    /// ```
    pub fn run_captured(&self, source: &Source) -> (Outcome, String) {
        let file = match crate::os::memory_file("procscript-print") {
            Ok(file) => file,
            Err(reason) => {
                let diag = crate::error::ErrorKind::Io.at(
                    Span::default(),
                    format!("cannot capture print: {reason}"),
                    "",
                );
                return (Outcome::Failed(diag), String::new());
            }
        };
        let outcome = {
            let _redirect = PrintRedirect::new(file.as_fd());
            self.run_inner(source)
        };
        let printed = crate::os::read_memory_file(&file).unwrap_or_default();
        (outcome, String::from_utf8_lossy(&printed).into_owned())
    }

    /// An interactive session: entries run one after another in one process,
    /// keeping their variables (what the prompt uses); see [`Session`].
    ///
    /// ```
    /// use procscript::{Engine, Entry};
    ///
    /// let engine = Engine::new();
    /// let mut session = engine.session();
    /// session.run("let x = 2");
    /// assert!(matches!(session.run("x * 21"), Entry::Done(Some(v)) if v.to_repr() == "42"));
    /// ```
    pub fn session(&self) -> Session<'_> {
        Session::new(self)
    }

    /// A fresh interpreter for this engine's settings.
    /// A fresh interpreter for this engine's settings, its start recorded
    /// for the views as made by `how` (the views show "script NAME").
    pub(crate) fn interp(&self, source: &Source, compiled: &Compiled, how: Made) -> Interp {
        let procs = Procs::new_root(self.max_procs);
        let protos = compiled.protos.clone();
        let mut interp = Interp::new(source.clone(), procs, self.color, protos);
        interp.modules = compiled.modules.clone();
        interp.hosts = self.hosts.clone().into();
        interp.max_depth = self.max_depth;
        interp.steps_left = self.step_budget();
        if self.views.record() || self.views.explain {
            match Recorder::new(self.views.record(), self.views.explain) {
                Ok(recorder) => interp.procs.recorder = Some(Rc::new(recorder)),
                Err(reason) => eprintln!("procscript: cannot record the run: {reason}"),
            }
        }
        let me = crate::os::current_pid();
        interp.note(|| Note::Began {
            child: me,
            how,
            name: source.name.to_string(),
            at: Default::default(),
        });
        interp
    }

    /// The step budget a process (or a session entry) starts with.
    pub(crate) fn step_budget(&self) -> u64 {
        self.max_steps.map_or(u64::MAX, |steps| steps.max(1))
    }

    pub(crate) fn script_args(&self) -> &[String] {
        &self.args
    }

    pub(crate) fn hosts(&self) -> &[Rc<HostFunction>] {
        &self.hosts
    }

    /// Draws the views asked for from what every process recorded; each
    /// file is replaced whole or left as it was.
    fn write_views(&self, recorder: &Recorder) -> Result<(), ViewsEnd> {
        if !self.views.record() {
            return Ok(());
        }
        let stop = || crate::os::pending_stop().map_err(ViewsEnd::Stopped);
        let (events, lost) = recorder.events();
        stop()?;
        let run = Run::from_events(&events, lost);
        stop()?;
        if self.views.tree {
            let _ =
                crate::os::write_all(crate::os::StdFd::Err, views::tree::render(&run).as_bytes());
        }
        let outputs = [
            (
                &self.views.trace,
                views::chrome::render as fn(&Run) -> String,
            ),
            (&self.views.timeline, views::timeline::render),
        ];
        let mut failed = Vec::new();
        for (path, render) in outputs {
            if let Some(path) = path {
                let text = render(&run);
                stop()?;
                if let Err(e) = crate::os::write_file_atomically(path, text.as_bytes()) {
                    failed.push(format!("cannot write {}: {e}", path.display()));
                }
            }
        }
        match failed.is_empty() {
            true => Ok(()),
            false => Err(ViewsEnd::Failed(failed.join("\n"))),
        }
    }
}

/// Why the views were not all written.
enum ViewsEnd {
    /// A stop signal came while they were drawn.
    Stopped(crate::os::Signal),
    /// A file could not be written; the words say which and why.
    Failed(String),
}

impl Engine {
    /// A stand-in, on a remote worker, for a host function of the driver: it
    /// compiles as the driver's does, and a call of it is an error. A name
    /// that could not be registered (a forged hello) is left out.
    pub(crate) fn host_stub(self, name: &str, min: usize, max: usize) -> Self {
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !parser::is_keyword(name)
            && crate::front::spec::lookup(name).is_none()
            && self.hosts.index_of(name).is_none();
        if !valid {
            return self;
        }
        let owned = name.to_string();
        let refuse = move |_: &[Value]| -> HostResult {
            Err(format!(
                "the host function `{owned}` exists only in the driver's process; a remote worker cannot call it"
            ))
        };
        self.add_host(name, min, max, Box::new(refuse))
    }

    /// Parses and resolves, as a run does first (a remote worker compiles so).
    pub(crate) fn compile(&self, source: &Source) -> Result<Compiled, Diag> {
        self.prepare(source)
    }

    /// Parses and resolves the script and every module it imports (read
    /// again: a source run twice sees its modules as they are now).
    fn prepare(&self, source: &Source) -> Result<Compiled, Diag> {
        source.modules.forget_loaded();
        let program = parser::parse_program(&source.text).map_err(crate::error::syntax)?;
        let modules = ModuleSet::new(source.modules.clone(), &source.name);
        resolve::compile_script(&program, &self.hosts, modules)
    }
}
