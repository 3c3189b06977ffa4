//! Runs arbitrary input as entries of one prompt session (split at blank lines),
//! with a small step budget per entry and at most 4 processes.
#![no_main]

mod skipped;

use libfuzzer_sys::fuzz_target;
use procscript::{Engine, Entry, Session};

fuzz_target!(|data: &[u8]| {
    let Some(text) = skipped::runnable(data) else { return };
    let engine = Engine::new().max_procs(4).max_steps(Some(20_000));
    let mut session = engine.session();
    for entry in text.split("\n\n") {
        let _ = Session::is_incomplete(entry);
        match session.run(entry) {
            Entry::Error(diag) => {
                let _ = diag.render(&session.source(), false);
            }
            Entry::Exit(_) => break,
            Entry::Done(value) => {
                let _ = value.map(|v| v.to_repr());
            }
            Entry::Interrupted => {}
        }
    }
    session.end();
});
