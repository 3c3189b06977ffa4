//! Parses and runs arbitrary input with a small step budget and at most 4 processes.
//! Inputs that would block on time or touch the outside world are skipped: the point is
//! the interpreter and the process lifecycle, not sleeping or deleting files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use procscript::{Engine, Outcome, Source};

const SKIPPED: &[&str] = &[
    "sleep", "wait", "get", "put", "join", "exec", "run", "capture", "file", "dir", "remove",
    "copy", "exists", "progress", "env", "pool", "eprint",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if SKIPPED.iter().any(|word| text.contains(word)) || text.len() > 4096 {
        return;
    }
    let source = Source::new("fuzz.proc", text);
    let outcome = Engine::new().max_procs(4).max_steps(Some(20_000)).run(&source);
    if let Outcome::Invalid(diag) | Outcome::Failed(diag) = outcome {
        let _ = diag.render(&source, false);
    }
});
