//! Output: print, eprint and the progress bar, each line written whole.

use super::args::{expect_int, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os;
use crate::values::Value;

/// The line `print` writes, within the string size limit (a list of large
/// strings would otherwise make gigabytes of text before the write).
fn line_of(args: &[Value], site: &CallSite) -> R<String> {
    let mut line = String::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        v.write_display(&mut line);
        crate::eval::ops::check_len(line.len(), "string").map_err(|e| e.at_plain(site.span))?;
    }
    line.push('\n');
    Ok(line)
}

/// Writes one whole line with a single write(2), so concurrent lines never mix.
fn write_line(fd: os::StdFd, args: &[Value], site: &CallSite) -> R<Value> {
    let line = line_of(args, site)?;
    os::end_progress_line();
    // A line longer than one atomic pipe write goes out under the tree's lock.
    match os::with_output_lock(line.len(), || os::write_all(fd, line.as_bytes())) {
        Ok(()) => Ok(Value::Nil),
        // The reader went away (`procscript x | head -1`): end quietly, like a
        // shell tool (the ending stops this process's children, see ending.rs).
        Err(os::WriteError::BrokenPipe) => Err(Unwind::exit(141)),
        Err(os::WriteError::Stopped(sig)) => Err(sig.into()),
        Err(os::WriteError::Other(reason)) => Err(ErrorKind::Io
            .at(
                site.span,
                format!("cannot write to {}: {reason}", fd.name()),
                "this write failed",
            )
            .into()),
    }
}

pub(super) fn print(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_line(os::StdFd::Out, args, site)
}

pub(super) fn eprint(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_line(os::StdFd::Err, args, site)
}

/// Draws `[#####.....] 50% label` on stderr, redrawn in place on a terminal;
/// elsewhere only the final line is written. Never touches stdout.
pub(super) fn progress(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let done = expect_int("progress", args, 0, site)?;
    let total = expect_int("progress", args, 1, site)?;
    // A tab or line break in the label would move the cursor where the
    // redraw cannot follow: each becomes a space.
    let label: String = args
        .get(2)
        .map(Value::to_display)
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let total_shown = total.max(1);
    let fraction = (done.clamp(0, total_shown) as f64) / total_shown as f64;
    const WIDTH: usize = 30;
    let filled = (fraction * WIDTH as f64).round() as usize;
    let bar = format!(
        "[{}{}] {:3}% {done}/{total} {label}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        (fraction * 100.0).round() as i64
    );
    let finished = done >= total;
    let text = if os::stderr_is_terminal() {
        // A line as wide as the terminal would wrap, and each redraw would
        // then stack a line: keep it one column short, cutting the label.
        let width = os::stderr_terminal_width().unwrap_or(80).saturating_sub(1);
        let bar = fit(&bar, width);
        os::set_progress_line_open(!finished);
        // \r returns to the line's start; \x1b[K clears what a longer line left.
        format!("\r{bar}\x1b[K{}", if finished { "\n" } else { "" })
    } else if finished {
        format!("{bar}\n")
    } else {
        return Ok(Value::Nil);
    };
    let _ = os::write_all(os::StdFd::Err, text.as_bytes());
    Ok(Value::Nil)
}

/// The text cut to `width` columns of the terminal (a wide character takes
/// two), its end marked `…` when cut.
fn fit(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    if unicode_width::UnicodeWidthStr::width(text) <= width {
        return text.to_string();
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        cut.push(c);
    }
    cut.push('…');
    cut
}
