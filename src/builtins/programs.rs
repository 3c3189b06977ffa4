//! External programs: exec, run and capture.

use super::args::CallSite;
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os;
use crate::process::{Forked, NewChild};
use crate::values::Value;
use crate::views::record::Note;

/// A program and its arguments as strings (numbers are written out).
fn program_args(name: &str, args: &[Value], site: &CallSite) -> R<(String, Vec<String>)> {
    let strings = args
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Str(s) => Ok(s.to_string()),
            Value::Int(_) | Value::Float(_) => Ok(v.to_display()),
            other => {
                Err(site.wrong_type(name, i, "strings (the program and its arguments)", other))
            }
        })
        .collect::<R<Vec<String>>>()?;
    let (prog, rest) = strings.split_first().expect("arity checked");
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
        .with_help("the program is looked up in the folders of PATH, like a shell does");
    diag.into()
}

pub(super) fn exec(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (prog, rest) = program_args("exec", args, site)?;
    interp.note(|| Note::Exec {
        program: std::iter::once(prog.as_str())
            .chain(rest.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    });
    if os::alarm_pending() {
        return exec_under_timeout(interp, &prog, &rest, site);
    }
    let reason = os::exec_program(&prog, &rest);
    Err(cannot_run(&prog, &reason, site))
}

/// `exec` while --timeout runs: the program would inherit the timer and die
/// of SIGALRM (142), or outlive the timeout if it ignores SIGALRM. So it runs
/// as a child instead, which the timeout stops like any other, and this
/// process ends as the program ends (its exit code, or 128 + its signal).
fn exec_under_timeout(
    interp: &mut Interp,
    prog: &str,
    rest: &[String],
    site: &CallSite,
) -> R<Value> {
    let (pid, _) = interp.start_program(prog, rest, false, site)?;
    let status = interp.procs.wait_child_status(pid)?;
    Err(Unwind::exit(status.map_or(0, |s| s.code())))
}

pub(super) fn run(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (prog, rest) = program_args("run", args, site)?;
    let (pid, _) = interp.start_program(&prog, &rest, false, site)?;
    let status = interp.procs.wait_child_status(pid)?;
    Ok(Value::Int(status.map_or(0, |s| s.code()) as i64))
}

pub(super) fn capture(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (prog, rest) = program_args("capture", args, site)?;
    let (pid, out) = interp.start_program(&prog, &rest, true, site)?;
    let mut text = Vec::new();
    if let Some(out) = out {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match os::read_fd(&out, &mut buf, os::Deadline::NEVER) {
                os::ReadResult::Data(n) => text.extend_from_slice(&buf[..n]),
                os::ReadResult::Eof | os::ReadResult::Timeout => break,
                os::ReadResult::Interrupted => interp.check_signal()?,
            }
            if text.len() > crate::limits::MAX_VALUE_LEN {
                return Err(too_much_output(interp, pid, &prog, site));
            }
        }
    }
    match interp.procs.wait_child_status(pid)? {
        Some(os::ExitStatus::Exited(0)) | None => Ok(Value::Str(
            String::from_utf8_lossy(&text).into_owned().into(),
        )),
        Some(status) => {
            let diag = ErrorKind::ProgramFailed
                .at(
                    site.span,
                    format!("`{prog}` failed with exit code {}", status.code()),
                    "this program failed",
                )
                .with_help("use run(...) to get the exit code of a program that may fail");
            Err(diag.into())
        }
    }
}

/// `capture` of a program that writes more than a string holds (`yes`): the
/// program is killed and collected, and the script gets a catchable error.
fn too_much_output(interp: &mut Interp, pid: i32, prog: &str, site: &CallSite) -> Unwind {
    let _ = os::send_signal(pid, os::Signal::SIGKILL);
    if let Err(stop) = interp.procs.wait_child_status(pid) {
        return stop;
    }
    ErrorKind::TooLarge
        .at(
            site.span,
            format!(
                "`{prog}` wrote more than a string may hold ({} bytes)",
                crate::limits::MAX_VALUE_LEN
            ),
            "its output is too large",
        )
        .with_help("send the output to a file with run(\"sh\", \"-c\", \"... > file\") and read it in parts")
        .into()
}

impl Interp {
    /// Starts an external program as a child of this process (counted and reaped like any).
    fn start_program(
        &mut self,
        prog: &str,
        args: &[String],
        capture: bool,
        site: &CallSite,
    ) -> R<(i32, Option<std::os::fd::OwnedFd>)> {
        let line = self.line_of(site.span);
        let new = NewChild::Program {
            prog,
            args,
            capture,
            at: site.arg(0),
        };
        match self.procs.fork_child(new, site.span, line)? {
            Forked::Parent(pid, out) => Ok((pid, out)),
            // A program's child execs (or ends) inside os::start_program and
            // never gets here; were it to, it must not run its parent's code.
            Forked::Child(_) => os::exit_now(127),
        }
    }
}
