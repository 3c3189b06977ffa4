//! The terminal: whether stderr is one, and how wide.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this process left a progress bar's line unfinished on stderr.
static PROGRESS_LINE_OPEN: AtomicBool = AtomicBool::new(false);

/// Notes whether the bar just drawn left its line open (redrawn in place).
pub fn set_progress_line_open(open: bool) {
    PROGRESS_LINE_OPEN.store(open, Ordering::Relaxed);
}

/// Ends an open progress bar's line, so that what is written next starts a
/// line of its own instead of continuing the bar's; the next bar starts anew.
pub fn end_progress_line() {
    if PROGRESS_LINE_OPEN.swap(false, Ordering::Relaxed) {
        let _ = super::write_all(super::StdFd::Err, b"\n");
    }
}

/// The width of the terminal on stderr, if stderr is one.
pub fn stderr_terminal_width() -> Option<usize> {
    let mut size = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we pass; fd 2 is
    // stderr, and a non-terminal simply makes the call fail.
    let ok = unsafe { nix::libc::ioctl(2, nix::libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col as usize)
}

/// Is stderr a terminal (for progress lines)?
pub fn stderr_is_terminal() -> bool {
    nix::unistd::isatty(std::io::stderr().as_fd()).unwrap_or(false)
}
