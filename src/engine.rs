//! The embedding API: check or run a script and get its outcome, without the command line.

use crate::compile::{self, Compiled};
use crate::diagnostic::{Diag, Source};
use crate::interp::{Interp, Stop};
use crate::parser;
use crate::process::Procs;
use crate::record::{Kind, Recorder};
use crate::views::{self, Run};
use std::path::PathBuf;
use std::rc::Rc;

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
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Exited(code) => *code,
            Outcome::Invalid(_) => 2,
            Outcome::Failed(_) => 1,
            Outcome::Signaled(sig) => 128 + sig,
            // As timeout(1) does.
            Outcome::TimedOut => 124,
        }
    }
}

/// The default bound on the live processes of one script's tree.
pub const DEFAULT_MAX_PROCS: usize = 512;

/// Which views of the run to produce.
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
}

/// Runs procscript source text.
#[derive(Debug)]
pub struct Engine {
    args: Vec<String>,
    max_procs: usize,
    color: bool,
    views: Views,
    timeout: Option<u32>,
    max_steps: Option<u64>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            args: Vec::new(),
            max_procs: DEFAULT_MAX_PROCS,
            color: false,
            views: Views::default(),
            timeout: None,
            max_steps: None,
        }
    }
}

impl Engine {
    pub fn new() -> Self {
        Engine::default()
    }

    /// Bounds the live processes of the script's whole tree.
    pub fn max_procs(mut self, max: usize) -> Self {
        self.max_procs = max;
        self
    }

    /// Whether child processes render their error reports in colour.
    pub fn color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }

    /// Sets `args`, the list of command-line arguments the script sees.
    pub fn args(mut self, args: Vec<String>) -> Self {
        self.args = args;
        self
    }

    /// Stops the whole tree after this many seconds (the run ends as `Outcome::TimedOut`).
    pub fn timeout(mut self, seconds: Option<u32>) -> Self {
        self.timeout = seconds;
        self
    }

    /// Stops each process of the script after this many loop iterations and
    /// calls (a runtime error), so that any input finishes (used for fuzzing).
    pub fn max_steps(mut self, steps: Option<u64>) -> Self {
        self.max_steps = steps;
        self
    }

    /// Records the run for these views (nothing is recorded when none is asked for).
    pub fn views(mut self, views: Views) -> Self {
        self.views = views;
        self
    }

    /// Parses and resolves names; nothing runs.
    pub fn check(&self, source: &Source) -> Result<(), Diag> {
        prepare(source).map(|_| ())
    }

    /// Checks, then runs the script to its end. Only the process that called
    /// `run` returns from it: processes the script forks end inside it.
    /// By then every child of the script has been joined or stopped.
    pub fn run(&self, source: &Source) -> Outcome {
        let compiled = match prepare(source) {
            Ok(compiled) => compiled,
            Err(diag) => return Outcome::Invalid(diag),
        };
        let procs = Procs::new_root(self.max_procs);
        let mut interp = Interp::new(source.clone(), procs, self.color, compiled.protos);
        if let Some(steps) = self.max_steps {
            interp.steps_left = steps.max(1);
        }
        if self.views.record() || self.views.explain {
            match Recorder::new(self.views.record(), self.views.explain) {
                Ok(recorder) => interp.recorder = Some(Rc::new(recorder)),
                Err(reason) => eprintln!("procscript: cannot record the run: {reason}"),
            }
        }
        let me = crate::os::current_pid();
        interp.note(|| Kind::Began {
            child: me,
            how: "script".into(),
            name: source.name.to_string(),
            line: 0,
        });
        if let Some(seconds) = self.timeout {
            crate::os::alarm_after(seconds);
        }
        let result = interp.run_script(&compiled.script, self.args.clone());
        let outcome = match interp.end_process(result) {
            Stop::Exit(code) => Outcome::Exited(code),
            Stop::Error(diag) => Outcome::Failed(diag),
            Stop::Signal(sig) if sig == crate::os::SIGALRM => Outcome::TimedOut,
            Stop::Signal(sig) => Outcome::Signaled(sig),
        };
        if let Some(recorder) = &interp.recorder {
            self.write_views(recorder);
        }
        interp.release();
        outcome
    }

    /// Draws the views asked for from what every process recorded.
    fn write_views(&self, recorder: &Recorder) {
        if !self.views.record() {
            return;
        }
        let (events, lost) = recorder.events();
        let run = Run::from_events(&events, lost);
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
        for (path, render) in outputs {
            if let Some(path) = path {
                if let Err(e) = std::fs::write(path, render(&run)) {
                    eprintln!("procscript: cannot write {}: {e}", path.display());
                }
            }
        }
    }
}

fn prepare(source: &Source) -> Result<Compiled, Diag> {
    let program = parser::parse_program(&source.text)?;
    compile::compile_program(&program)
}
