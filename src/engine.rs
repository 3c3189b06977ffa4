//! The embedding API: check or run a script and get its outcome, without the command line.

use crate::compile;
use crate::diagnostic::{Diag, Source};
use crate::interp::{Interp, Stop};
use crate::ir::FnProto;
use crate::parser;
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
}

impl Outcome {
    /// The process exit code the command line uses for this outcome.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Exited(code) => *code,
            Outcome::Invalid(_) => 2,
            Outcome::Failed(_) => 1,
        }
    }
}

/// Runs procscript source text.
#[derive(Debug, Default)]
pub struct Engine {
    args: Vec<String>,
}

impl Engine {
    pub fn new() -> Self {
        Engine::default()
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

    /// Checks, then runs the script to its end.
    pub fn run(&self, source: &Source) -> Outcome {
        let script = match prepare(source) {
            Ok(script) => script,
            Err(diag) => return Outcome::Invalid(diag),
        };
        let mut interp = Interp::new(source.clone());
        match interp.run_script(&script, self.args.clone()) {
            Ok(()) => Outcome::Exited(0),
            Err(unwind) => match unwind.into_stop() {
                Stop::Exit(code) => Outcome::Exited(code),
                Stop::Error(diag) => Outcome::Failed(diag),
            },
        }
    }
}

fn prepare(source: &Source) -> Result<Rc<FnProto>, Diag> {
    let program = parser::parse_program(&source.text)?;
    compile::compile_program(&program)
}
