//! One run at a time in a process: a host function that starts another run is refused.

use crate::error::diagnostic::Diag;
use crate::error::ErrorKind;
use crate::front::ast::Span;
use std::cell::Cell;

thread_local! {
    /// Whether a run (or a session's entry) is under way in this process.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
}

/// Held while a run is under way; the next run may start once it is dropped.
pub(crate) struct RunGuard(());

impl RunGuard {
    /// Refuses a run nested in another (from a host function): its waits
    /// would reap the outer run's children, whose results would be lost.
    pub(crate) fn enter() -> Result<RunGuard, Diag> {
        // The host ran before this run: it may have started threads.
        crate::process::fork::host_code_ran();
        if RUNNING.replace(true) {
            return Err(ErrorKind::Host
                .at(
                    Span::default(),
                    "a procscript run is already under way in this process: a host function cannot start another",
                    "",
                )
                .with_help(
                    "run the inner script in a child process (std::process::Command with the procscript binary), or after the outer run returns",
                ));
        }
        Ok(RunGuard(()))
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        RUNNING.set(false);
    }
}
