//! The interactive prompt of the `procscript` command: rustyline in front of a `Session`.

use procscript::{Engine, Entry, Session};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::Editor;
use std::path::PathBuf;

type LineEditor = Editor<(), DefaultHistory>;

/// Where history is kept between runs: `$PROCSCRIPT_HISTORY`, else `~/.procscript_history`.
fn history_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PROCSCRIPT_HISTORY") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".procscript_history"))
}

/// What reading one entry gave.
enum Read {
    Entry(String),
    /// Ctrl-C while typing: the entry is dropped.
    Dropped,
    Leave,
}

/// Reads one entry: a line after `>>> `, and while a block, call, list or
/// string is left open, more lines after `... ` (as Python's prompt shows).
fn read_entry(editor: &mut LineEditor, session: &Session) -> Read {
    let mut entry = String::new();
    let mut prompt = ">>> ";
    loop {
        let line = match session.read_input(|| editor.readline(prompt)) {
            _ if session.terminated() => return Read::Leave,
            Ok(line) => line,
            // Ctrl-C drops the entry being typed, as in Python.
            Err(ReadlineError::Interrupted) => return Read::Dropped,
            // Ctrl-D in the middle of an entry runs what was typed (its
            // error says what is left open); at `>>> ` it leaves.
            Err(ReadlineError::Eof) if !entry.is_empty() => return Read::Entry(entry),
            Err(ReadlineError::Eof) => return Read::Leave,
            Err(e) => {
                eprintln!("procscript: cannot read the prompt: {e}");
                return Read::Leave;
            }
        };
        if !entry.is_empty() {
            entry.push('\n');
        }
        entry.push_str(&line);
        if !Session::is_incomplete(&entry) {
            return Read::Entry(entry);
        }
        prompt = "... ";
    }
}

/// Says what leaving waits for, so that a prompt that seems stuck is not.
fn tell_waiting(session: &mut Session) {
    let pids = session.running_children();
    let shown: Vec<String> = pids.iter().map(i32::to_string).collect();
    match pids.len() {
        0 => {}
        1 => eprintln!("waiting for 1 child (pid {}); Ctrl-C stops it", shown[0]),
        n => eprintln!(
            "waiting for {n} children (pids {}); Ctrl-C stops them",
            shown.join(", ")
        ),
    }
}

/// Reads entries and runs them until Ctrl-D or `exit()`; returns the exit code.
pub fn run(engine: &Engine, color: bool) -> i32 {
    let mut editor = match LineEditor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("procscript: cannot start the prompt: {e}");
            return 2;
        }
    };
    let history = history_file();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "procscript {}: type statements to run them; Ctrl-D or exit() leaves",
        env!("CARGO_PKG_VERSION")
    );
    let mut session = engine.session();
    loop {
        let line = match read_entry(&mut editor, &session) {
            Read::Entry(line) => line,
            Read::Dropped => continue,
            Read::Leave => {
                if !session.terminated() {
                    tell_waiting(&mut session);
                }
                return session.end();
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
            Entry::Exit(code) => return code,
        }
    }
}
