//! Always stoppable: SIGTERM, Ctrl-C and --timeout end a run that is blocked in any
//! call (a full pipe, a FIFO, a stopped lock holder, exec), and leave nothing behind.

mod common;

use common::{assert_no_leftovers, procscript};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Waits for the run to end, at most `limit`; a run still there is killed
/// (its whole group) and the test fails. Returns the exit code (or 128+signal).
fn end_within(mut child: Child, limit: Duration, what: &str) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    let group = child.id() as i32;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            assert_no_leftovers(group);
            return status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        }
        if started.elapsed() > limit {
            let _ = nix::sys::signal::killpg(Pid::from_raw(group), Signal::SIGKILL);
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A unique path in the temporary folder.
fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("procscript-{}-{name}", std::process::id()))
}

#[test]
fn timeout_ends_a_print_blocked_on_a_full_pipe() {
    // stdout is a pipe this test never reads: print blocks once it is full.
    let child = procscript(&["--timeout", "1", "-e", "while true { print(\"x\" * 1000) }"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("procscript starts");
    assert_eq!(end_within(child, Duration::from_secs(15), "print"), 124);
}

#[test]
fn sigterm_and_timeout_end_a_read_of_a_fifo_nobody_writes() {
    let fifo = temp_path("fifo");
    let _ = std::fs::remove_file(&fifo);
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let code = format!("print(read_file(\"{}\"))", fifo.display());
    let child = procscript(&["--timeout", "1", "-e", &code])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("procscript starts");
    assert_eq!(end_within(child, Duration::from_secs(15), "read_file"), 124);
    let child = procscript(&["-e", &code])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("procscript starts");
    std::thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    assert_eq!(end_within(child, Duration::from_secs(15), "read_file"), 143);
    let _ = std::fs::remove_file(&fifo);
}
