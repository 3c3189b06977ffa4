//! Waiting for children (`join`, `wait()`), published for deadlock detection, and the check.

use super::{Procs, LOST_EXIT_CODE};
use crate::error::{ErrorKind, R};
use crate::front::ast::Span;
use crate::os::{self, Deadline, ExitStatus, Waited};
use crate::process::waits::{Detector, Known, Waiting};
use crate::values::Value;

impl Procs {
    /// Waits for child `i` to end (or the deadline). Ok(false) on timeout.
    /// An untimed wait is published for deadlock detection while it lasts.
    pub(super) fn wait_for(&mut self, i: usize, deadline: Deadline, span: Span) -> R<bool> {
        let published = deadline.is_never() && self.children[i].status.is_none();
        if published {
            let name = self.wait_name();
            self.waits
                .publish(Waiting::Join(self.children[i].pid), &name);
        }
        let mut detector = Detector::new();
        let result = self.wait_for_end(i, deadline, span, published.then_some(&mut detector));
        if published {
            self.waits.clear();
        }
        result
    }

    /// Sleeps until child `i` has ended, then reads what is left in its pipe
    /// (`record_exit`): a spawned child's report, which fits in the pipe,
    /// costs one wake-up. A longer one is read as it comes: its child wakes
    /// this process once its first bytes are in the pipe (`os::write_report`),
    /// and from the first bytes seen (by this wait or one before) the wait
    /// watches the pipe too. Untimed (a `detector` given), it looks for a
    /// deadlock on every tick.
    fn wait_for_end(
        &mut self,
        i: usize,
        deadline: Deadline,
        span: Span,
        mut detector: Option<&mut Detector>,
    ) -> R<bool> {
        let pid = self.children[i].pid;
        let mut reading = self.report_begun(i);
        while self.children[i].status.is_none() {
            // Before asking about the exit: a child that ends after the
            // question wakes the sleep below with its SIGCHLD.
            reading |= self.read_ready_report(i)?;
            match os::wait_child(Some(pid), false) {
                Waited::Ended(pid, status) => self.record_exit(pid, status),
                Waited::Interrupted => os::pending_stop()?,
                Waited::NoChildren => {
                    // Only when something else reaped it; never wait forever,
                    // and never call it a success (`join` reports it lost).
                    self.children[i].status = Some(ExitStatus::Exited(LOST_EXIT_CODE));
                    self.children[i].lost = true;
                }
                Waited::Running => {
                    // Wake on SIGCHLD, at the deadline, or to look for a deadlock.
                    if deadline.passed() {
                        return Ok(false);
                    }
                    let watched = if reading { self.report_pipe(i) } else { None };
                    os::pause_for_child_or(watched, deadline.left().unwrap_or(0.1).min(0.1));
                    os::pending_stop()?;
                    if let Some(detector) = detector.as_deref_mut() {
                        self.fail_if_deadlocked(detector, span)?;
                    }
                }
            }
        }
        Ok(true)
    }

    /// How this process is named in a deadlock's description.
    pub(crate) fn wait_name(&self) -> String {
        match &self.name {
            _ if self.is_root() => "main".to_string(),
            Some(name) => name.to_string(),
            None => "a forked child".to_string(),
        }
    }

    /// The deadlock error, when the detector finds this process in a cycle.
    pub(crate) fn fail_if_deadlocked(&mut self, detector: &mut Detector, span: Span) -> R<()> {
        // Most calls come between looks: a join of each of many children made
        // one after another walked all of them, each time (spawn + join x20000:
        // 15% of the parent's time).
        if !detector.due() {
            return Ok(());
        }
        let queues = self.held.queues();
        let syncs = self.held.syncs();
        let children = self.live_pids();
        let me = self.me;
        let busy_workers: Vec<i32> = self
            .live_pools()
            .iter()
            .filter(|pool| pool.owner == me)
            .flat_map(|pool| pool.busy_worker_pids())
            .collect();
        let known = Known {
            me,
            queues: &queues,
            syncs: &syncs,
            children: &children,
            busy_workers: &busy_workers,
        };
        let Some(words) = detector.check(&self.waits, &known) else {
            return Ok(());
        };
        // A wait with no place in the script is the join every process makes
        // of its children as it ends.
        let (label, when) = if span == Span::default() {
            (
                "a deadlock as the process ends (it joins its children)",
                "as it ends, ",
            )
        } else {
            ("this wait can never end", "")
        };
        let diag = ErrorKind::Deadlock
            .at(span, words, label)
            .with_help(format!(
                "{when}every process that could end this wait is itself waiting, directly or not, \
             on this one; a wait with a timeout is never a deadlock"
            ));
        Err(diag.into())
    }

    /// Waits for a child that was told to end (a pool worker whose socket
    /// closed): not a wait for deadlock detection, since the child is ending
    /// and may still show its last wait on the board for a moment.
    pub(crate) fn wait_ending_child(&mut self, pid: i32) -> R<()> {
        if let Some(i) = self.find(pid) {
            // A deadline that never comes: waited for as long as it takes, unpublished.
            self.wait_for(i, Deadline::after(Some(f64::INFINITY)), Span::default())?;
            self.children[i].waited = true;
        }
        Ok(())
    }

    /// `wait()`: waits for any child; `[pid, exitcode]`, or nil when there is
    /// none. The caller marks the wait for the timeline.
    pub(crate) fn wait_any_unmarked(&mut self) -> R<Value> {
        let name = self.wait_name();
        self.waits.publish(Waiting::AnyChild, &name);
        let result = self.wait_any_published();
        self.waits.clear();
        result
    }

    fn wait_any_published(&mut self) -> R<Value> {
        let mut detector = Detector::new();
        loop {
            if let Some(ended) = self.wait_any_now() {
                return Ok(ended);
            }
            // Wakes on SIGCHLD; the timeout only bounds how long a pipe may stay full.
            os::pause_for_children(0.01);
            os::pending_stop()?;
            self.fail_if_deadlocked(&mut detector, Span::default())?;
        }
    }

    /// `wait()` without waiting: `[pid, exitcode]` of an ended child, nil when
    /// there is none to wait for, None while they all still run.
    pub(crate) fn wait_any_now(&mut self) -> Option<Value> {
        self.collect_ended();
        if let Some(child) = self
            .children
            .iter_mut()
            .find(|c| c.status.is_some() && !c.waited && c.is_the_scripts())
        {
            child.waited = true;
            let code = child.status.map(ExitStatus::code).unwrap_or(0);
            return Some(Value::list(vec![
                Value::Int(child.pid as i64),
                Value::Int(code as i64),
            ]));
        }
        if !self
            .children
            .iter()
            .any(|c| !c.waited && c.is_the_scripts())
        {
            return Some(Value::Nil);
        }
        // Keep reading results so a child writing a large one never blocks forever.
        self.drain_ready_pipes();
        None
    }
}
