//! What the running fuzz targets skip: inputs that would block on time or
//! touch the outside world (the point is the interpreter and the process
//! lifecycle, not sleeping or deleting files), and long ones.

const SKIPPED: &[&str] = &[
    "sleep", "wait", "get", "put", "join", "exec", "run", "capture", "file", "dir", "remove",
    "copy", "exists", "progress", "env", "pool", "eprint",
];

/// The input as text, unless it is to be skipped.
pub fn runnable(data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(data).ok()?;
    (!SKIPPED.iter().any(|word| text.contains(word)) && text.len() <= 4096).then_some(text)
}
