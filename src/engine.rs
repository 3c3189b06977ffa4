//! The embedding API: check or run a script and get its outcome, without the command line.

use crate::compile::{self, Compiled};
use crate::diagnostic::{Diag, Source};
use crate::interp::{Interp, Stop};
use crate::parser;
use crate::process::Procs;

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
}

impl Outcome {
    /// The process exit code the command line uses for this outcome.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Exited(code) => *code,
            Outcome::Invalid(_) => 2,
            Outcome::Failed(_) => 1,
            Outcome::Signaled(sig) => 128 + sig,
        }
    }
}

/// The default bound on the live processes of one script's tree.
pub const DEFAULT_MAX_PROCS: usize = 512;

/// Runs procscript source text.
#[derive(Debug)]
pub struct Engine {
    args: Vec<String>,
    max_procs: usize,
    color: bool,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            args: Vec::new(),
            max_procs: DEFAULT_MAX_PROCS,
            color: false,
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
        let result = interp.run_script(&compiled.script, self.args.clone());
        match interp.end_process(result) {
            Stop::Exit(code) => Outcome::Exited(code),
            Stop::Error(diag) => Outcome::Failed(diag),
            Stop::Signal(sig) => Outcome::Signaled(sig),
        }
    }
}

fn prepare(source: &Source) -> Result<Compiled, Diag> {
    let program = parser::parse_program(&source.text)?;
    compile::compile_program(&program)
}
