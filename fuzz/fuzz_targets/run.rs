//! Parses and runs arbitrary input with a small step budget and at most 4 processes.
#![no_main]

mod skipped;

use libfuzzer_sys::fuzz_target;
use procscript::{Engine, Outcome, Source};

fuzz_target!(|data: &[u8]| {
    let Some(text) = skipped::runnable(data) else { return };
    let source = Source::new("fuzz.proc", text);
    let outcome = Engine::new().max_procs(4).max_steps(Some(20_000)).run(&source);
    if let Outcome::Invalid(diag) | Outcome::Failed(diag) = outcome {
        let _ = diag.render(&source, false);
    }
});
