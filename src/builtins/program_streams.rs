//! The descriptors a program's options ask for, opened before it starts (an error names the path that failed), and the launch description over them.

use super::args::CallSite;
use super::program_options::{ProgramOptions, StderrTo, StdinFrom};
use crate::error::{ErrorKind, Unwind, R};
use crate::os::{self, ErrorsTo, GroupOf, Launch, Redirect};
use std::os::fd::{AsFd, OwnedFd};

/// The streams of one program (or of a pipeline's ends), opened.
pub(super) struct Streams {
    /// The program's stdin (None: this process's).
    pub stdin: Option<OwnedFd>,
    /// The program's stdout (None: where `print` writes).
    pub stdout: Option<OwnedFd>,
    /// The program's stderr when it goes to a descriptor.
    pub stderr: Option<OwnedFd>,
    /// What the program writes to stdout, for this process to read (capture).
    pub out_read: Option<OwnedFd>,
    /// What it writes to stderr, for this process to read (`"stderr": "capture"`).
    pub err_read: Option<OwnedFd>,
    stderr_to_stdout: bool,
}

/// "cannot run `sort`: stdin_file \"in.txt\": no such file or folder", at the options.
fn cannot_open(
    prog: &str,
    option: &str,
    path: &str,
    reason: &os::OsError,
    at: &ProgramOptions,
) -> Unwind {
    // An open a stop request interrupted (a FIFO nobody opens) ends by the signal.
    if let (os::OsError::File(os::Errno::EINTR), Err(sig)) = (reason, os::pending_stop()) {
        return sig.into();
    }
    ErrorKind::ProgramStart
        .at(
            at.span,
            format!("cannot run `{prog}`: {option} {path:?}: {reason}"),
            format!("the {option} named here"),
        )
        .with_help(
            "paths of cwd, stdin_file, stdout and stderr are relative to this process's folder, \
             not to the program's cwd",
        )
        .into()
}

/// A pipe for this process to read a program's output from.
fn output_pipe(site: &CallSite) -> R<(OwnedFd, OwnedFd)> {
    os::pipe().map_err(|reason| {
        ErrorKind::Os
            .at(site.span, format!("cannot make a pipe: {reason}"), "here")
            .into()
    })
}

impl Streams {
    /// Opens what the options ask for: the stdin file or text, the stdout and
    /// stderr files, and the pipes a capture reads (`capture_out`: the
    /// program's stdout). Checks that `cwd` is a folder. Nothing has run yet.
    pub(super) fn open(
        prog: &str,
        options: &ProgramOptions,
        capture_out: bool,
        site: &CallSite,
    ) -> R<Streams> {
        let fail = |option: &str, path: &str, reason: os::OsError| {
            cannot_open(prog, option, path, &reason, options)
        };
        if let Some(cwd) = &options.cwd {
            os::check_folder(cwd).map_err(|reason| fail("cwd", cwd, reason))?;
        }
        let stdin = match &options.stdin {
            StdinFrom::Inherit => None,
            StdinFrom::Text(text) => {
                Some(os::text_as_stdin(text.as_bytes()).map_err(|reason| {
                    Unwind::from(ErrorKind::Os.at(
                        options.span,
                        format!("cannot hand the stdin text to `{prog}`: {reason}"),
                        "here",
                    ))
                })?)
            }
            StdinFrom::File(path) => Some(
                os::open_for_program(path, Redirect::Read)
                    .map_err(|reason| fail("stdin_file", path, reason))?,
            ),
        };
        let how = if options.append {
            Redirect::Append
        } else {
            Redirect::Truncate
        };
        let mut out_read = None;
        let stdout = match &options.stdout {
            Some(path) => Some(
                os::open_for_program(path, how).map_err(|reason| fail("stdout", path, reason))?,
            ),
            None if capture_out => {
                let (read, write) = output_pipe(site)?;
                out_read = Some(read);
                Some(write)
            }
            None => None,
        };
        let mut err_read = None;
        let stderr = match &options.stderr {
            StderrTo::Inherit | StderrTo::Stdout => None,
            StderrTo::Null => {
                Some(os::null_output().map_err(|reason| fail("stderr", "/dev/null", reason))?)
            }
            StderrTo::File(path) => Some(
                os::open_for_program(path, Redirect::Truncate)
                    .map_err(|reason| fail("stderr", path, reason))?,
            ),
            StderrTo::Capture => {
                let (read, write) = output_pipe(site)?;
                err_read = Some(read);
                Some(write)
            }
        };
        Ok(Streams {
            stdin,
            stdout,
            stderr,
            out_read,
            err_read,
            stderr_to_stdout: options.stderr == StderrTo::Stdout,
        })
    }

    /// The launch of one program with these streams and the options' folder,
    /// environment and group.
    pub(super) fn launch<'a>(
        &'a self,
        prog: &'a str,
        args: &'a [String],
        options: &'a ProgramOptions,
    ) -> Launch<'a> {
        Launch {
            prog,
            args,
            cwd: options.cwd.as_deref(),
            env: &options.env,
            clear_env: options.clear_env,
            stdin: self.stdin.as_ref().map(AsFd::as_fd),
            stdout: self.stdout.as_ref().map(AsFd::as_fd),
            stderr: match (&self.stderr, self.stderr_to_stdout) {
                (Some(fd), _) => ErrorsTo::Fd(fd.as_fd()),
                (None, true) => ErrorsTo::Stdout,
                (None, false) => ErrorsTo::Inherit,
            },
            group: if options.own_group() {
                GroupOf::Own
            } else {
                GroupOf::Inherit
            },
        }
    }

    /// Once the programs have started: closes this process's copies of their
    /// ends, so that a reader sees the end of the output when they end.
    pub(super) fn close_program_ends(&mut self) {
        self.stdin = None;
        self.stdout = None;
        self.stderr = None;
    }

    /// The pipes this process reads (capture), by inode: at a timeout, the
    /// processes still writing to them are found by it (`stop_captured`).
    pub(super) fn read_pipes(&self) -> Vec<u64> {
        [&self.out_read, &self.err_read]
            .into_iter()
            .flatten()
            .filter_map(os::pipe_inode)
            .collect()
    }
}
