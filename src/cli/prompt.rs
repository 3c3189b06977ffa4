//! The interactive prompt of the `procscript` command: rustyline in front of a `Session`.

use procscript::{Engine, Entry, Session};
use rustyline::error::ReadlineError;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Completer, Editor, Helper, Highlighter, Hinter};
use std::path::PathBuf;

/// Asks for more lines while a block, call or string is left open.
#[derive(Completer, Helper, Highlighter, Hinter)]
struct Entries;

impl Validator for Entries {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if Session::is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

/// Where history is kept between runs: `$PROCSCRIPT_HISTORY`, else `~/.procscript_history`.
fn history_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PROCSCRIPT_HISTORY") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".procscript_history"))
}

/// Reads entries and runs them until Ctrl-D or `exit()`; returns the exit code.
pub fn run(engine: &Engine, color: bool) -> i32 {
    let mut editor = match Editor::<Entries, _>::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("procscript: cannot start the prompt: {e}");
            return 2;
        }
    };
    editor.set_helper(Some(Entries));
    let history = history_file();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "procscript {}: type statements to run them; Ctrl-D or exit() leaves",
        env!("CARGO_PKG_VERSION")
    );
    let mut session = engine.session();
    let code = loop {
        let line = match session.read_input(|| editor.readline(">>> ")) {
            _ if session.terminated() => break session.end(),
            Ok(line) => line,
            // Ctrl-C at the prompt drops the line being typed, as in Python.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break session.end(),
            Err(e) => {
                eprintln!("procscript: cannot read the prompt: {e}");
                break session.end();
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        if let Some(path) = &history {
            let _ = editor.append_history(path);
        }
        match session.run(&line) {
            Entry::Done(None) => {}
            Entry::Done(Some(value)) => println!("{}", value.to_repr()),
            Entry::Error(diag) => eprint!("{}", diag.render(&session.source(), color)),
            Entry::Interrupted => {
                eprintln!("interrupted: the entry and its processes were stopped")
            }
            Entry::Exit(code) => break code,
        }
    };
    code
}
