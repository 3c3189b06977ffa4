//! Other programs: replacing this process by one (exec), or starting one as a child.

use super::descriptors::{pipe, program_stdout_follows_print};
use super::processes::{current_pid, die_with_parent, exit_now, fork, Forked};
use super::OsError;
use nix::errno::Errno;
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;
use std::os::fd::OwnedFd;

fn c_strings(prog: &str, args: &[String]) -> Result<Vec<std::ffi::CString>, OsError> {
    std::iter::once(prog)
        .chain(args.iter().map(String::as_str))
        .map(|a| std::ffi::CString::new(a).map_err(|_| OsError::NulInArgument(a.to_string())))
        .collect()
}

/// Prepares this process to become another program: default SIGPIPE (Rust
/// ignores it) and no blocked signals, as a freshly started program expects.
fn reset_for_exec() {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: installing the default action has no handler to be unsafe.
    let _ = unsafe { signal::sigaction(Signal::SIGPIPE, &default) };
    let _ = signal::sigprocmask(
        signal::SigmaskHow::SIG_SETMASK,
        Some(&SigSet::empty()),
        None,
    );
}

/// execvp(3): replaces this process; returns only the reason it failed.
/// The environment variable naming the running `procscript` binary, which
/// the command sets for every program its scripts run (`run`, `capture`,
/// `exec`, a shell): a script can run its own interpreter without it being
/// on the PATH, as `cargo run` leaves it.
pub const INTERPRETER_VARIABLE: &str = "PROCSCRIPT";

/// Sets [`INTERPRETER_VARIABLE`] to this executable's path. Called by the
/// command at its start, while it has one thread (the environment is not
/// safe to change with others running).
pub fn export_interpreter_path() {
    if let Ok(path) = std::env::current_exe() {
        std::env::set_var(INTERPRETER_VARIABLE, path);
    }
}

pub fn exec_program(prog: &str, args: &[String]) -> OsError {
    let argv = match c_strings(prog, args) {
        Ok(argv) => argv,
        Err(reason) => return reason,
    };
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // The new program's stdout is where `print` wrote; put it back if exec fails.
    let saved_stdout = nix::unistd::dup(std::io::stdout()).ok();
    program_stdout_follows_print();
    reset_for_exec();
    let reason = match nix::unistd::execvp(&argv[0], &argv) {
        Err(e) => OsError::Program(e),
        Ok(never) => match never {},
    };
    if let Some(saved) = saved_stdout {
        let _ = nix::unistd::dup2_stdout(&saved);
    }
    reason
}

/// The words for an exec's errno, as people think of programs.
pub(super) fn describe(errno: Errno) -> &'static str {
    match errno {
        Errno::ENOENT => "no such program",
        Errno::EACCES => "permission denied",
        errno => errno.desc(),
    }
}

/// Starts a program in a child process. With `capture`, its stdout goes to
/// the returned pipe. An exec failure comes back as an error, not a child.
pub fn start_program(
    prog: &str,
    args: &[String],
    capture: bool,
) -> Result<(i32, Option<OwnedFd>), OsError> {
    let argv = c_strings(prog, args)?;
    // The child reports an exec failure (its errno) through this pipe; on
    // success exec closes it (O_CLOEXEC) and the parent reads nothing.
    let (err_read, err_write) = pipe()?;
    let out = if capture { Some(pipe()?) } else { None };
    let parent = current_pid();
    match fork()? {
        Forked::Child => {
            drop(err_read);
            // The program dies with procscript too (the setting survives exec).
            if !die_with_parent(parent) {
                exit_now(127);
            }
            match out {
                Some((out_read, out_write)) => {
                    drop(out_read);
                    let _ = nix::unistd::dup2_stdout(&out_write);
                }
                None => program_stdout_follows_print(),
            }
            reset_for_exec();
            let errno = match nix::unistd::execvp(&argv[0], &argv) {
                Err(e) => e as i32,
                Ok(never) => match never {},
            };
            let _ = nix::unistd::write(&err_write, &errno.to_le_bytes());
            exit_now(127)
        }
        Forked::Parent(pid) => {
            drop(err_write);
            let out_read = out.map(|(read_end, write_end)| {
                drop(write_end);
                read_end
            });
            let mut errno = [0u8; 4];
            let mut got = 0;
            while got < 4 {
                match nix::unistd::read(&err_read, &mut errno[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
            }
            if got == 4 {
                // exec failed: the child exits at once; reap it here.
                let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
                let errno = Errno::from_raw(i32::from_le_bytes(errno));
                return Err(OsError::Program(errno));
            }
            Ok((pid, out_read))
        }
    }
}
