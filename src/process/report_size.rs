//! Keeps a child's error report small enough to fit in its pipe's buffer, so a failed child
//! ends at once instead of blocking in write(2) until its parent joins it.

use crate::error::diagnostic::Diag;

/// The most bytes a child's encoded report takes: half of Linux's 64 KiB pipe
/// buffer, so the write never waits for the parent to read.
pub const MAX_REPORT_BYTES: usize = 32 * 1024;

/// How much of each diagnostic is kept, from generous to tight: the first
/// that encodes under [`MAX_REPORT_BYTES`] is sent.
const STEPS: [(usize, usize); 4] = [(2048, 24), (512, 12), (128, 6), (32, 2)];

/// Encodes `diag` with `encode`, trimming it (long call stacks lose their
/// middle, long texts their end, deep cause chains their middle) until the
/// bytes fit in [`MAX_REPORT_BYTES`].
pub fn encode_bounded(diag: &Diag, encode: impl Fn(&Diag) -> Vec<u8>) -> Vec<u8> {
    let whole = encode(diag);
    if whole.len() <= MAX_REPORT_BYTES {
        return whole;
    }
    let mut trimmed = diag.clone();
    for (text_cap, frames) in STEPS {
        trim_chain(&mut trimmed, text_cap, frames);
        let bytes = encode(&trimmed);
        if bytes.len() <= MAX_REPORT_BYTES {
            return bytes;
        }
    }
    // Still too big: only the outermost error and its innermost cause remain.
    let innermost = trimmed.innermost().clone();
    if trimmed.cause.is_some() {
        trimmed.cause = Some(innermost);
    }
    encode(&trimmed)
}

/// Trims every diagnostic of the cause chain.
fn trim_chain(diag: &mut Diag, text_cap: usize, frames: usize) {
    let mut level = Some(diag);
    while let Some(diag) = level {
        trim_one(diag, text_cap, frames);
        level = diag.cause.as_mut();
    }
}

/// Keeps the innermost and outermost calls of a long call stack (the middle
/// is counted in `calls_elided`), and cuts each text to `text_cap` bytes.
fn trim_one(diag: &mut Diag, text_cap: usize, frames: usize) {
    if diag.trace.len() > frames {
        let inner = frames - frames / 3;
        let outer = frames / 3;
        let already = diag.calls_elided.map_or(0, |(_, n)| n);
        let dropped = diag.trace.len() - inner - outer;
        diag.trace.drain(inner..inner + dropped);
        diag.calls_elided = Some((inner, already + dropped));
    }
    cut(&mut diag.message, text_cap);
    cut(&mut diag.label, text_cap);
    if let Some(help) = &mut diag.help {
        cut(help, text_cap);
    }
    if let Some(context) = &mut diag.context {
        cut(context, text_cap);
    }
    diag.notes.truncate(frames);
    for (_, note) in &mut diag.notes {
        cut(note, text_cap);
    }
    for frame in &mut diag.trace {
        cut(&mut frame.function, text_cap);
    }
}

/// Cuts `text` to at most `cap` bytes (at a character boundary), marking the cut.
fn cut(text: &mut String, cap: usize) {
    if text.len() <= cap {
        return;
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("...");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::diagnostic::Frame;
    use crate::front::ast::Span;

    fn huge(level: usize) -> Diag {
        let mut diag = Diag::new("m".repeat(100_000), Span::new(1, 2), "l".repeat(50_000));
        diag.trace = (0..10_000)
            .map(|i| Frame {
                function: format!("`f{i}`"),
                call_site: Span::new(i, i + 1),
            })
            .collect();
        if level > 0 {
            diag.cause = Some(huge(level - 1));
        }
        diag
    }

    #[test]
    fn a_huge_report_fits_in_the_bound_and_keeps_both_ends_of_its_stack() {
        use crate::process::wire::{decode_report, encode_failed, Report};
        let bytes = encode_failed(&huge(32));
        assert!(bytes.len() <= MAX_REPORT_BYTES, "{} bytes", bytes.len());
        let Report::Failed(diag) = decode_report(&bytes) else {
            panic!("the report decodes")
        };
        assert_eq!(diag.innermost().trace.len(), diag.trace.len());
        assert_eq!(diag.trace.first().unwrap().function, "`f0`");
        assert_eq!(diag.trace.last().unwrap().function, "`f9999`");
        let (_, elided) = diag.calls_elided.unwrap();
        assert_eq!(elided + diag.trace.len(), 10_000);
    }

    #[test]
    fn a_small_report_is_sent_whole() {
        let diag = Diag::new("boom", Span::new(1, 2), "here");
        let encode = |d: &Diag| postcard::to_allocvec(d).unwrap();
        let bytes = encode_bounded(&diag, encode);
        assert_eq!(postcard::from_bytes::<Diag>(&bytes).unwrap(), diag);
    }
}
