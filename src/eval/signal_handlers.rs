//! Script signal handlers: the table `on_signal` fills, running due handlers at safe points, and waits that go on after them.

use super::Interp;
use crate::error::R;
use crate::front::ast::Span;
use crate::os;
use crate::values::Value;
use crate::views::record::Note;

impl Interp {
    /// Makes `handler` (a function of one argument) run for `sig` in this
    /// process, or ignores `sig`, or gives it procscript's default back.
    pub(crate) fn set_signal_handler(&mut self, sig: os::Signal, handler: Option<Value>) {
        self.signal_handlers.retain(|(known, _)| *known != sig);
        if let Some(handler) = handler {
            self.signal_handlers.push((sig, handler));
        }
    }

    /// A safe point: the handlers of the signals that arrived since the last
    /// one run here, in signal number order. An error in a handler is an
    /// error at this point. A handler's own safe points run no handler (a
    /// signal arriving meanwhile is due after it returns), as a C signal
    /// handler masks its own signal.
    #[cold]
    pub(crate) fn run_due_handlers(&mut self, span: Span) -> R<()> {
        if self.in_handler {
            return Ok(());
        }
        for sig in os::take_due_handlers() {
            let Some(handler) = self
                .signal_handlers
                .iter()
                .find(|(known, _)| *known == sig)
                .map(|(_, handler)| handler.clone())
            else {
                // Set back to "default" or "ignore" after it arrived.
                continue;
            };
            self.in_handler = true;
            let name = Value::str(os::signal_name(sig).trim_start_matches("SIG"));
            let result = self.call_value(&handler, &[name], span);
            self.in_handler = false;
            // Told after the handler (even one that raised): "handler ran".
            self.note(|| Note::SignalHandled { signal: sig });
            result?;
        }
        Ok(())
    }

    /// A wait that a signal with a script handler interrupts: the handler runs
    /// and the wait starts again, until it ends by itself (or a handler
    /// raises). `wait` must be able to start again with nothing lost: it keeps
    /// its deadline from outside, and takes nothing before it stops waiting.
    pub(crate) fn wait_running_handlers<T>(
        &mut self,
        what: &str,
        span: Span,
        mut wait: impl FnMut(&mut Self) -> R<T>,
    ) -> R<T> {
        self.waiting(what, |this| loop {
            // Inside a handler, handlers wait for it to end: its waits are plain.
            let result = if this.in_handler {
                wait(this)
            } else {
                os::ending_waits_for_handlers(|| wait(this))
            };
            match result {
                Err(unwind) if unwind.signal().is_some_and(os::runs_script_handler) => {
                    this.run_due_handlers(span)?
                }
                other => return other,
            }
        })
    }
}
