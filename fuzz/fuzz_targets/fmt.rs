//! Formats arbitrary input: must never panic; what parses must format to the
//! same tokens (no `;` aside), parse again, and format to itself (idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use procscript::fmt::format_source;

/// The text without whitespace and `;`: what formatting may not change
/// (a rough check; tests/fmt.rs compares real tokens).
fn ink(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != ';')
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(once) = format_source(text) else {
        return;
    };
    let twice = format_source(&once).expect("formatted text parses");
    assert_eq!(once, twice, "formatting is idempotent");
    // Whitespace inside strings and comments is kept, so this comparison holds too.
    assert_eq!(ink(text), ink(&once), "no token is dropped");
});
