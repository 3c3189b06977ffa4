//! Programs in the table: the groups they lead, `start`'s handles, waits with a timeout, and stopping a program whose timeout fired.

use super::Procs;
use crate::error::R;
use crate::front::ast::Span;
use crate::os::{self, Deadline, ExitStatus, OsError, Signal};
use crate::values::Value;
use crate::views::record::Note;

/// How long a program whose timeout fired gets between SIGTERM and SIGKILL.
pub const TIMEOUT_GRACE_SECONDS: f64 = 1.0;

/// How a program a script waited for ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramEnd {
    /// It ended: exited with a code, or killed by a signal.
    Ended(ExitStatus),
    /// Its timeout fired first (it is still running: see `Procs::stop_timed_out`).
    TimedOut,
}

/// A process the timeout stops, told from a later one that got its pid.
struct Stray {
    pid: i32,
    started: Option<u64>,
}

impl Stray {
    fn of(pid: i32) -> Stray {
        Stray {
            pid,
            started: os::process_start_time(pid),
        }
    }

    fn alive(&self) -> bool {
        os::process_alive(self.pid) && os::process_start_time(self.pid) == self.started
    }
}

impl Procs {
    /// Records that a program just started leads its own process group:
    /// `kill(h, sig)` and the tree's stop then signal the whole group.
    pub(crate) fn leads_group(&mut self, pid: i32) {
        if let Some(i) = self.find(pid) {
            self.children[i].group = true;
        }
    }

    /// Sends child `i` a signal: to its group when it leads one.
    pub(super) fn send_to_child(&self, i: usize, sig: Signal) -> Result<bool, OsError> {
        let child = &self.children[i];
        if child.group {
            os::signal_group(child.pid, sig)
        } else {
            os::send_signal(child.pid, sig)
        }
    }

    /// Sends a signal to a pid: to its group when it is a live child that
    /// leads one; nothing to a child already collected, whose pid may belong
    /// to an unrelated process by now.
    pub(super) fn signal_pid(&self, pid: i32, sig: Signal) -> Result<bool, OsError> {
        match self.find(pid) {
            Some(i) if self.children[i].status.is_none() => self.send_to_child(i, sig),
            Some(_) => Ok(false),
            None => os::send_signal(pid, sig),
        }
    }

    /// `start`'s handle of a program this process just started.
    pub(crate) fn program_handle(&mut self, pid: i32) -> Option<Value> {
        let slot = self.find(pid)?;
        // The script waits for it now (join, wait()), not `start`.
        self.children[slot].no_longer_awaited();
        Some(Value::Process(self.handle_of(slot)))
    }

    /// Waits for a program until `deadline` (an untimed wait takes part in
    /// deadlock detection, as a join does).
    pub(crate) fn wait_program(&mut self, pid: i32, deadline: Deadline) -> R<ProgramEnd> {
        let Some(i) = self.find(pid) else {
            return Ok(ProgramEnd::Ended(ExitStatus::Exited(0)));
        };
        if !self.wait_for(i, deadline, Span::default())? {
            return Ok(ProgramEnd::TimedOut);
        }
        self.children[i].waited = true;
        self.children[i].no_longer_awaited();
        Ok(ProgramEnd::Ended(
            self.children[i].status.unwrap_or(ExitStatus::Exited(0)),
        ))
    }

    /// Kills programs at once (the groups they lead and their own children
    /// too) and collects them: for output too large to hold, or a pipeline
    /// that could not start whole.
    pub(crate) fn kill_programs(&mut self, pids: &[i32]) -> R<()> {
        // Found before the programs die: then they are re-parented to this
        // process (a subreaper), and no longer descend from the programs.
        let strays: Vec<Stray> = pids
            .iter()
            .flat_map(|&pid| os::descendant_pids(pid))
            .map(Stray::of)
            .collect();
        for &pid in pids {
            let _ = self.signal_pid(pid, Signal::SIGKILL);
        }
        for stray in strays.iter().filter(|s| s.alive()) {
            let _ = os::send_signal(stray.pid, Signal::SIGKILL);
        }
        for &pid in pids {
            self.wait_program(pid, Deadline::NEVER)?;
        }
        self.collect_strays(&strays);
        Ok(())
    }

    /// Collects the orphans of stopped programs as they die (they come to
    /// this process, a subreaper), for at most a grace period.
    fn collect_strays(&mut self, strays: &[Stray]) {
        let last = Deadline::after(Some(TIMEOUT_GRACE_SECONDS));
        while strays.iter().any(Stray::alive) && !last.passed() {
            self.collect_ended();
            os::pause_for_children(0.01);
        }
        self.collect_ended();
    }

    /// Stops a program whose timeout fired, with all its own children.
    pub(crate) fn stop_timed_out(&mut self, pid: i32) -> R<()> {
        self.stop_timed_out_all(&[pid])
    }

    /// Stops programs whose timeout fired (one, or a pipeline's), with all
    /// their own children: SIGTERM (and SIGCONT) to the groups they lead, to
    /// each of them and to every descendant (one may have left the group),
    /// then SIGKILL to what is left after the grace period; then waits until
    /// all are gone (orphans come to this process, a subreaper, to be
    /// reaped). So a program that ignores SIGTERM is gone a grace period later.
    pub(crate) fn stop_timed_out_all(&mut self, pids: &[i32]) -> R<()> {
        let leaders: Vec<i32> = pids
            .iter()
            .copied()
            .filter(|&pid| self.find(pid).is_some_and(|i| self.children[i].group))
            .collect();
        let strays: Vec<Stray> = pids
            .iter()
            .flat_map(|&pid| std::iter::once(pid).chain(os::descendant_pids(pid)))
            .map(Stray::of)
            .collect();
        let all_gone = |strays: &[Stray]| {
            !leaders.iter().any(|&g| os::group_exists(g)) && !strays.iter().any(Stray::alive)
        };
        for sig in [Signal::SIGTERM, Signal::SIGCONT, Signal::SIGKILL] {
            if sig == Signal::SIGKILL {
                let grace = Deadline::after(Some(TIMEOUT_GRACE_SECONDS));
                while !all_gone(&strays) && !grace.passed() {
                    self.collect_ended();
                    os::pause_for_children(0.01);
                    os::pending_stop()?;
                }
                if all_gone(&strays) {
                    break;
                }
            }
            let live: Vec<&Stray> = strays.iter().filter(|s| s.alive()).collect();
            for stray in live.iter().filter(|s| pids.contains(&s.pid)) {
                if sig != Signal::SIGCONT {
                    self.note(|| Note::Killed {
                        target: stray.pid,
                        signal: sig,
                    });
                }
            }
            for &leader in &leaders {
                let _ = os::signal_group(leader, sig);
            }
            for stray in live {
                let _ = os::send_signal(stray.pid, sig);
            }
        }
        for &pid in pids {
            self.wait_program(pid, Deadline::NEVER)?;
        }
        let last = Deadline::after(Some(TIMEOUT_GRACE_SECONDS));
        while !all_gone(&strays) && !last.passed() {
            self.collect_ended();
            os::pause_for_children(0.01);
        }
        self.collect_ended();
        Ok(())
    }
}
