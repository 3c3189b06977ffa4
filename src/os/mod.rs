//! Every OS call procscript makes, through nix: the one layer that talks to the kernel.
//!
//! One file per subsystem: `signals` (handlers, the pending stop, the wake
//! pipe), `processes` (fork, wait, kill, exit, /proc), `descriptors` (the
//! standard streams, pipes, waiting on descriptors), `sockets` (frames that
//! carry descriptors), `shared_memory` (memfd, mmap, futex), `programs`
//! (exec and starting programs), `program_io`
//! (their redirection files, stdin text, PATH lookup), `files`, `time` and `terminal`. Callers use
//! the flat `crate::os::name` paths re-exported here.

pub use nix::errno::Errno;

mod descriptors;
mod files;
mod memory;
mod output_lock;
mod processes;
mod program_io;
mod programs;
mod shared_memory;
mod signals;
mod sockets;
mod streams;
mod terminal;
mod time;

/// Why an OS call failed. The errno stays a kind, not text, until a caller
/// builds a message with it; `Display` gives the words messages use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OsError {
    /// A system call failed.
    #[error("{}", .0.desc())]
    Call(Errno),
    /// A file or folder call failed: worded as people think of files.
    #[error("{}", files::describe(*.0))]
    File(Errno),
    /// Running a program failed: worded as people think of programs.
    #[error("{}", programs::describe(*.0))]
    Program(Errno),
    /// The program's file exists, but what runs it does not: the
    /// interpreter its `#!` line names (Some), or its loader (None).
    #[error("{}", match .0 {
        Some(interpreter) => format!("its interpreter `{interpreter}` (named on its `#!` line) does not exist"),
        None => "the file exists, but the loader or interpreter it needs does not".to_string(),
    })]
    MissingInterpreter(Option<String>),
    /// A file that had to be a regular file is a FIFO, device or socket.
    #[error("not a regular file (a FIFO, device or socket)")]
    NotARegularFile,
    /// A program's argument holds a NUL byte, which no C string can carry.
    #[error("argument {0:?} holds a NUL byte")]
    NulInArgument(String),
    /// The other end of a socket closed in the middle of a message.
    #[error("the other end closed in the middle of a message")]
    ClosedMidMessage,
    /// A shared region of no bytes cannot be mapped.
    #[error("empty region")]
    EmptyRegion,
    /// A failure the standard library reports without an errno, in its words.
    #[error("{0}")]
    NoErrno(String),
}

impl OsError {
    /// The help line for a program that could not start for this reason.
    pub fn program_start_help(&self) -> &'static str {
        match self {
            OsError::MissingInterpreter(_) => {
                "install what its `#!` line names, or change that line to name one that exists"
            }
            OsError::Program(Errno::EISDIR) => {
                "name a program file in it, or run one with {\"cwd\": ..} to start it in that folder"
            }
            _ => "the program is looked up in the folders of PATH, like a shell does",
        }
    }

    /// fork(2) said EAGAIN: the system's limit on processes was reached.
    pub fn is_process_limit(&self) -> bool {
        *self == OsError::Call(Errno::EAGAIN)
    }
}

pub use descriptors::{
    output_is_gone, pipe, pipe_inode, read_fd, read_ready, report_waits_whole, wait_event,
    wait_event_or_writable, write_all, write_fd, write_report, Event, PrintRedirect, ReadResult,
    StdFd, WriteError,
};
pub use files::{
    copy_file, file_size, folder_accepts_files, is_dir, is_file, is_link, list_dir, make_dir,
    path_exists, read_file, read_file_at_most, read_link, read_regular_file_at_most,
    read_stdin_at_most, remove_file, write_file, write_file_atomically, CopyFailure,
};
pub use memory::{keep_freed_memory, ExitOnOutOfMemory};
pub use nix::sys::signal::Signal;
pub use output_lock::{create_output_lock, with_output_lock, PIPE_BUF};
pub use processes::{
    become_subreaper, current_pid, descendant_pids, die_by_signal, die_with_parent, exit_now, fork,
    getpid, getppid, group_exists, own_start_time, process_alive, process_alive_since,
    process_start_time, process_state, send_signal, signal_group, thread_count, wait_child,
    wait_until_stopped, writing_to_pipes, ExitStatus, Forked, Waited,
};
pub use program_io::{
    check_folder, find_program, null_output, open_for_program, text_as_stdin, Redirect,
};
pub use programs::{
    exec_program, export_interpreter_path, start_program, ErrorsTo, GroupOf, Launch,
    INTERPRETER_VARIABLE,
};
pub use shared_memory::{
    futex_wait, futex_wake, memory_file, read_memory_file, several_processors, SharedCounter,
    SharedRegion,
};
pub use signals::{
    alarm_after, alarm_pending, any_script_handler, cancel_alarm, clear_pending_signal,
    ending_waits_for_handlers, ends_a_process, exit_code_for, handleable_signal,
    handleable_signal_names, handlers_due, install_signal_handlers, nothing_due, pending_stop,
    reset_dispositions, runs_script_handler, set_disposition, signal_by_name, signal_name,
    signal_names, stops_a_process, take_due_handlers, while_reading_input, Disposition,
    Unhandleable,
};
pub use sockets::{recv_frame, send_frame, socket_pair, Frame, MAX_FRAME_FDS};
pub use streams::{
    copy_of, copy_of_raw, frames_as_one, host_name, move_onto_std, read_available,
    read_stream_frame, set_nonblocking, std_streams, write_some, write_stream, write_stream_frame,
    FrameReader, MAX_STREAM_FRAME,
};
pub use terminal::{
    end_progress_line, set_progress_line_open, stderr_is_terminal, stderr_terminal_width,
};
pub use time::{
    monotonic_ms, monotonic_ns, monotonic_seconds, pause_for_child_or, pause_for_children, sleep,
    sleep_interruptible, sleep_until, Deadline,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_the_words_messages_used() {
        assert_eq!(
            OsError::File(Errno::ENOENT).to_string(),
            "no such file or folder"
        );
        assert_eq!(OsError::File(Errno::EPERM).to_string(), "permission denied");
        assert_eq!(
            OsError::Program(Errno::ENOENT).to_string(),
            "no such program"
        );
        assert_eq!(OsError::Call(Errno::EPIPE).to_string(), "Broken pipe");
    }

    #[test]
    fn signals_by_the_names_scripts_write() {
        assert_eq!(signal_by_name("TERM"), Some(Signal::SIGTERM));
        assert_eq!(signal_by_name("SIGSTOP"), Some(Signal::SIGSTOP));
        assert_eq!(signal_by_name("WINCH"), None);
        assert_eq!(
            signal_names().join(" "),
            "HUP INT QUIT ABRT KILL USR1 SEGV USR2 PIPE ALRM TERM CONT STOP TSTP"
        );
        assert_eq!(exit_code_for(Signal::SIGTERM), 143);
    }
}
