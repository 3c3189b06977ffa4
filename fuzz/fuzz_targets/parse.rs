//! Parses (and resolves names of) arbitrary input: must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use procscript::{Engine, Source};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let source = Source::new("fuzz.proc", text);
        if let Err(diag) = Engine::new().check(&source) {
            // Rendering is part of what must not panic.
            let _ = diag.render(&source, false);
        }
    }
});
