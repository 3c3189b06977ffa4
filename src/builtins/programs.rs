//! External programs: exec, run, capture and start, each with its options.

use super::args::CallSite;
use super::program_options::{split_options, Caller, ProgramOptions, StderrTo};
use super::program_output::{read_outputs, Captured, Reading};
use super::program_streams::Streams;
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os::{self, Deadline, ExitStatus};
use crate::process::{Forked, NewChild, ProgramEnd};
use crate::values::Value;
use crate::views::record::Note;

/// The exit code `run` (and `exec`) gives for a program its timeout
/// stopped, as the `timeout` command does.
pub(super) const TIMED_OUT_CODE: i32 = 124;

/// A program and its arguments as strings (numbers are written out).
pub(super) fn program_words(
    name: &str,
    args: &[Value],
    site: &CallSite,
) -> R<(String, Vec<String>)> {
    let strings = args
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Str(s) => Ok(s.to_string()),
            Value::Int(_) | Value::Float(_) => Ok(v.to_display()),
            other => Err(site.wrong_type(
                name,
                i,
                "strings (the program and its arguments), then an options map",
                other,
            )),
        })
        .collect::<R<Vec<String>>>()?;
    let Some((prog, rest)) = strings.split_first() else {
        let diag = ErrorKind::Arity.at(
            site.span,
            format!("`{name}` needs a program to run"),
            "no program given",
        );
        return Err(diag.into());
    };
    // The program writes to the same terminal: it starts on a line of its
    // own, not at the end of a progress bar's.
    os::end_progress_line();
    Ok((prog.clone(), rest.to_vec()))
}

fn cannot_run(prog: &str, reason: &os::OsError, site: &CallSite) -> Unwind {
    let diag = ErrorKind::ProgramStart
        .at(
            site.arg(0),
            format!("cannot run `{prog}`: {reason}"),
            "this program",
        )
        .with_help(reason.program_start_help());
    diag.into()
}

/// "60 seconds", "1 second", "0.5 seconds".
pub(super) fn seconds_words(seconds: f64) -> String {
    let unit = if seconds == 1.0 { "second" } else { "seconds" };
    format!("{seconds} {unit}")
}

/// "`make` timed out after 60 seconds", at the call.
pub(super) fn timed_out(what: &str, seconds: f64, site: &CallSite) -> Unwind {
    ErrorKind::ProgramTimeout
        .at(
            site.span,
            format!("{what} timed out after {}", seconds_words(seconds)),
            "stopped by its timeout",
        )
        .with_help(
            "the program and its own children got SIGTERM, then SIGKILL a second later; \
             give a longer \"timeout\", or catch the error",
        )
        .into()
}

/// A capture's timeout: `timed_out`, or, when the programs had ended and
/// only a process they left running kept their output open, that.
pub(super) fn timed_out_capture(
    what: &str,
    ended: bool,
    seconds: Option<f64>,
    site: &CallSite,
) -> Unwind {
    let seconds = seconds.unwrap_or(0.0);
    if !ended {
        return timed_out(what, seconds, site);
    }
    ErrorKind::ProgramTimeout
        .at(
            site.span,
            format!(
                "{what} ended, but its output stayed open past the timeout ({}): a process it left running held it",
                seconds_words(seconds)
            ),
            "stopped by its timeout",
        )
        .with_help(
            "that process got SIGTERM, then SIGKILL a second later; send its output elsewhere \
             (`sleep 100 > /dev/null &`), or give a longer \"timeout\"",
        )
        .into()
}

pub(super) fn exec(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (args, options) = split_options(Caller::Exec, args, site)?;
    let (prog, rest) = program_words("exec", args, site)?;
    interp.note(|| Note::Exec {
        program: std::iter::once(prog.as_str())
            .chain(rest.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    });
    let streams = Streams::open(&prog, &options, false, site)?;
    if os::alarm_pending() || options.timeout.is_some() {
        return exec_as_child(interp, streams, &prog, &rest, &options, site);
    }
    let reason = os::exec_program(&streams.launch(&prog, &rest, &options));
    Err(cannot_run(&prog, &reason, site))
}

/// `exec` with a timeout (its own, or --timeout's): the program would
/// inherit the timer and die of SIGALRM (142), or outlive the timeout if it
/// ignores SIGALRM. So it runs as a child instead, which the timeout stops
/// like any other, and this process ends as the program ends (its exit
/// code, 128 + its signal, or 124 when its own timeout stopped it).
fn exec_as_child(
    interp: &mut Interp,
    mut streams: Streams,
    prog: &str,
    rest: &[String],
    options: &ProgramOptions,
    site: &CallSite,
) -> R<Value> {
    let pid = interp.start_program(&streams.launch(prog, rest, options), site)?;
    streams.close_program_ends();
    let end = interp.finish_program(pid, options, site);
    let code = match interp.stop_programs_on_error(&[pid], end)? {
        ProgramEnd::Ended(status) => status.code(),
        ProgramEnd::TimedOut => TIMED_OUT_CODE,
    };
    Err(Unwind::exit(code))
}

pub(super) fn run(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (args, options) = split_options(Caller::Run, args, site)?;
    let (prog, rest) = program_words("run", args, site)?;
    let mut streams = Streams::open(&prog, &options, false, site)?;
    let pid = interp.start_program(&streams.launch(&prog, &rest, &options), site)?;
    streams.close_program_ends();
    let end = interp.finish_program(pid, &options, site);
    Ok(Value::Int(
        match interp.stop_programs_on_error(&[pid], end)? {
            ProgramEnd::Ended(status) => status.code() as i64,
            ProgramEnd::TimedOut => TIMED_OUT_CODE as i64,
        },
    ))
}

/// `start`: the program runs on; its handle, which join, alive, state,
/// kill and wait() take as they take a spawned child's.
pub(super) fn start(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (args, options) = split_options(Caller::Start, args, site)?;
    let (prog, rest) = program_words("start", args, site)?;
    let mut streams = Streams::open(&prog, &options, false, site)?;
    let pid = interp.start_program(&streams.launch(&prog, &rest, &options), site)?;
    streams.close_program_ends();
    Ok(interp
        .procs
        .program_handle(pid)
        .unwrap_or(Value::Int(pid as i64)))
}

pub(super) fn capture(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (args, options) = split_options(Caller::Capture, args, site)?;
    let (prog, rest) = program_words("capture", args, site)?;
    let mut streams = Streams::open(&prog, &options, true, site)?;
    let pid = interp.start_program(&streams.launch(&prog, &rest, &options), site)?;
    streams.close_program_ends();
    let pipes = streams.read_pipes();
    let deadline = Deadline::after(options.timeout);
    let captured = read_outputs(interp, &mut streams, deadline, site.span);
    let captured = interp.stop_programs_on_error(&[pid], captured)?;
    let what = format!("`{prog}`");
    let end = match captured.ended {
        Reading::TooLarge => {
            interp.procs.kill_programs(&[pid])?;
            return Err(too_much_output(&what, site));
        }
        Reading::TimedOut => ProgramEnd::TimedOut,
        Reading::Done => {
            let end = interp.wait_program(pid, deadline, site);
            interp.stop_programs_on_error(&[pid], end)?
        }
    };
    let status = match end {
        ProgramEnd::Ended(status) => status,
        ProgramEnd::TimedOut => {
            let ended = interp.stop_captured(&[pid], &pipes)?;
            return Err(timed_out_capture(&what, ended, options.timeout, site));
        }
    };
    captured_result(&what, status, captured, &options, site)
}

/// What `capture` (and `capture_pipeline`) returns: the output as a
/// string; or, with `"check": false` or `"stderr": "capture"`, the map
/// `{"code": .., "out": .., "err": ..}` (`err` is nil when not captured).
/// With `check` (the default) a non-zero code is an error.
pub(super) fn captured_result(
    what: &str,
    status: ExitStatus,
    captured: Captured,
    options: &ProgramOptions,
    site: &CallSite,
) -> R<Value> {
    let err_captured = options.stderr == StderrTo::Capture;
    let code = status.code();
    if options.check && code != 0 {
        let how = how_it_ended(status, "failed with");
        let mut diag = ErrorKind::ProgramFailed
            .at(site.span, format!("{what} {how}"), "this program failed")
            .with_help(
                "pass {\"check\": false} to get the exit code and output instead of an error",
            );
        let said = Captured::text(&captured.err);
        if err_captured && !said.trim().is_empty() {
            diag = diag.with_note(site.span, format!("its stderr: {}", said.trim_end()));
        }
        return Err(diag.into());
    }
    Ok(captured.result(options, "code", Value::Int(code as i64)))
}

/// "failed with exit code 3" (`exited` is the verb), or "was killed by
/// SIGKILL (exit code 137)": a signal is named, not left to be read from
/// the shell's 128 + its number.
pub(super) fn how_it_ended(status: ExitStatus, exited: &str) -> String {
    match status {
        ExitStatus::Exited(code) => format!("{exited} exit code {code}"),
        ExitStatus::Signaled(sig) => format!(
            "was killed by {} (exit code {})",
            os::signal_name(sig),
            status.code()
        ),
    }
}

/// `capture` of a program that writes more than a string holds (`yes`): the
/// program was stopped, and the script gets a catchable error.
pub(super) fn too_much_output(what: &str, site: &CallSite) -> Unwind {
    ErrorKind::TooLarge
        .at(
            site.span,
            format!(
                "{what} wrote more than a string may hold ({} bytes)",
                crate::limits::MAX_VALUE_LEN
            ),
            "its output is too large",
        )
        .with_help("send the output to a file with {\"stdout\": \"out.txt\"} and read it in parts")
        .into()
}

impl Interp {
    /// Stops programs whose capture timed out, with every process of this
    /// one's tree that still writes to the output it reads (`pipes`): a
    /// program may have ended and left one running in the background (`sh -c
    /// "sleep 100 & echo hi"`), which kept the output open past the timeout
    /// and, no longer a descendant of the program, ran on to the script's end.
    /// Whether the programs had all ended before.
    pub(super) fn stop_captured(&mut self, pids: &[i32], pipes: &[u64]) -> R<bool> {
        let now = Deadline::after(Some(0.0));
        let mut ended = true;
        for &pid in pids {
            ended &= matches!(self.procs.wait_program(pid, now)?, ProgramEnd::Ended(_));
        }
        let mut stopped = pids.to_vec();
        let writers = os::writing_to_pipes(&os::descendant_pids(os::current_pid()), pipes);
        stopped.extend(writers.into_iter().filter(|pid| !pids.contains(pid)));
        self.procs.stop_timed_out_all(&stopped)?;
        Ok(ended)
    }

    /// Starts an external program as a child of this process (counted and
    /// reaped like any, recorded as the program it is).
    pub(super) fn start_program(&mut self, launch: &os::Launch, site: &CallSite) -> R<i32> {
        let at = self.made_at(site.span);
        let new = NewChild::Program {
            launch,
            at: site.arg(0),
        };
        let pid = match self.procs.fork_child(new, site.span, at)? {
            Forked::Parent(pid, _) => pid,
            // A program's child execs (or ends) inside os::start_program and
            // never gets here; were it to, it must not run its parent's code.
            Forked::Child(_) => os::exit_now(127),
        };
        if launch.group == os::GroupOf::Own {
            self.procs.leads_group(pid);
        }
        Ok(pid)
    }

    /// What a wait for programs gave; when it failed (a signal handler
    /// raised, a stop request came), the programs are stopped first, as a
    /// timeout stops them: a call that fails leaves no program of its own
    /// running (as Python's `subprocess.run` kills its child on an exception).
    pub(super) fn stop_programs_on_error<T>(&mut self, pids: &[i32], waited: R<T>) -> R<T> {
        if waited.is_err() {
            // A stop request ends this early: the tree's stop then ends them.
            let _ = self.procs.stop_timed_out_all(pids);
        }
        waited
    }

    /// Waits for a program to end, or for its timeout: then stops it (and its
    /// own children) and says so.
    pub(super) fn finish_program(
        &mut self,
        pid: i32,
        options: &ProgramOptions,
        site: &CallSite,
    ) -> R<ProgramEnd> {
        let end = self.wait_program(pid, Deadline::after(options.timeout), site)?;
        if end == ProgramEnd::TimedOut {
            self.procs.stop_timed_out(pid)?;
        }
        Ok(end)
    }

    /// Waits for a program until the deadline; a signal with a script
    /// handler runs it meanwhile, and the wait goes on.
    pub(super) fn wait_program(
        &mut self,
        pid: i32,
        deadline: Deadline,
        site: &CallSite,
    ) -> R<ProgramEnd> {
        self.wait_running_handlers("program", site.span, |this| {
            this.procs.wait_program(pid, deadline)
        })
    }
}
