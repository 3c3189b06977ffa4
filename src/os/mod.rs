//! Every OS call procscript makes, through nix: the one layer that talks to the kernel.
//!
//! One file per subsystem: `signals` (handlers, the pending stop, the wake
//! pipe), `processes` (fork, wait, kill, exit, /proc), `descriptors` (the
//! standard streams, pipes, waiting on descriptors), `sockets` (frames that
//! carry descriptors), `shared_memory` (memfd, mmap, futex), `programs`
//! (exec and starting programs), `files`, `time` and `terminal`. Callers use
//! the flat `crate::os::name` paths re-exported here.

mod descriptors;
mod files;
mod processes;
mod programs;
mod shared_memory;
mod signals;
mod sockets;
mod terminal;
mod time;

pub use descriptors::{
    pipe, read_fd, wait_event, write_all, write_fd, Event, PrintRedirect, ReadResult, StdFd,
    WriteError,
};
pub use files::{
    copy_file, file_size, is_dir, list_dir, make_dir, path_exists, read_file, remove_file,
    write_file,
};
pub use nix::sys::signal::Signal;
pub use processes::{
    become_subreaper, child_pids_from_proc, current_pid, die_by_signal, die_with_parent, exit_now,
    fork, getpid, getppid, process_alive, process_state, send_signal, wait_child, ExitStatus,
    Forked, Waited,
};
pub use programs::{exec_program, start_program};
pub use shared_memory::{
    futex_wait, futex_wake, memory_file, read_memory_file, SharedCounter, SharedRegion,
};
pub use signals::{
    alarm_after, clear_pending_signal, ends_a_process, exit_code_for, install_signal_handlers,
    pending_stop, signal_by_name, signal_name, signal_names, while_reading_input,
};
pub use sockets::{recv_frame, send_frame, socket_pair, Frame, MAX_FRAME_FDS};
pub use terminal::{stderr_is_terminal, stderr_terminal_width};
pub use time::{monotonic_seconds, ms_ceil, pause_for_children, sleep, sleep_interruptible};
