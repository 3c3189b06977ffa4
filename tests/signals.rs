//! Signals in scripts, sent from outside to the real binary: handlers that wake a
//! blocked wait, replace the stop of Ctrl-C and SIGTERM, and leave nothing behind.

mod common;

use common::{assert_no_leftovers, procscript, to_run, Run};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Starts `code` with stdout piped and waits for its first line, "ready".
fn start_ready(code: &str) -> Child {
    let mut child = procscript(&["-e", code])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procscript starts");
    let mut ready = [0u8; 6];
    let out = child.stdout.as_mut().expect("piped stdout");
    out.read_exact(&mut ready).expect("the script starts");
    assert_eq!(&ready, b"ready\n");
    child
}

/// The state letter of a process in /proc (R, S, ...), or None once it is gone.
fn state_of(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    after_name.trim_start().chars().next()
}

/// Waits until the process sleeps in the kernel (blocked in a wait), twice
/// in a row 50 ms apart, so that a signal sent now finds it waiting.
fn until_blocked(pid: i32) {
    let started = Instant::now();
    let mut seen = 0;
    while seen < 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "never blocked");
        seen = if state_of(pid) == Some('S') {
            seen + 1
        } else {
            0
        };
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the run to end (at most 30 s) and checks nothing of its group is left.
fn finish(child: Child) -> Run {
    let group = child.id() as i32;
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        // Only reached by a hung run; the group is the test's own.
        let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
    });
    let output = child.wait_with_output().expect("wait for procscript");
    drop(watchdog);
    assert_no_leftovers(group);
    to_run(output)
}

/// Runs `code`, which prints "ready" and then blocks; once it is blocked,
/// `send` signals it (given its pid, which is also its group).
fn signalled_once_blocked(code: &str, send: impl FnOnce(Pid)) -> Run {
    let child = start_ready(code);
    until_blocked(child.id() as i32);
    send(Pid::from_raw(child.id() as i32));
    finish(child)
}

#[test]
fn a_handler_that_raises_ends_a_blocked_get_with_its_error() {
    let code = r#"
let q = queue()
on_signal("USR1", fn(sig) { error("raised in the handler for " + sig) })
print("ready")
try {
    q.get(60)
    print("not reached")
} catch e {
    print("caught:", e)
}
print("after")
"#;
    let run = signalled_once_blocked(code, |pid| kill(pid, Signal::SIGUSR1).expect("SIGUSR1"));
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "caught: raised in the handler for USR1\nafter\n", "")
    );
}

#[test]
fn a_term_handler_replaces_the_stop_and_the_wait_goes_on() {
    // The handler answers through the queue the script waits on.
    let code = r#"
let q = queue()
on_signal("TERM", fn(sig) { q.put(sig) })
print("ready")
print("got", q.get(60))
"#;
    let run = signalled_once_blocked(code, |pid| kill(pid, Signal::SIGTERM).expect("SIGTERM"));
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "got TERM\n"),
        "{run:?}"
    );
}

#[test]
fn an_untimed_get_that_a_handler_can_answer_is_no_deadlock() {
    // No other process holds the queue, but this one's handler puts into it:
    // waiting for a signal this way is no deadlock, however long it takes.
    let code = r#"
let q = queue()
on_signal("USR1", fn(sig) { q.put(sig) })
print("ready")
print("got", q.get())
"#;
    let run = signalled_once_blocked(code, |pid| {
        // Longer than deadlock detection takes to decide (0.3 s).
        std::thread::sleep(Duration::from_secs(1));
        let _ = kill(pid, Signal::SIGUSR1);
    });
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "got USR1\n", ""),
        "{run:?}"
    );
}

#[test]
fn an_int_handler_in_main_only_leaves_its_child_to_the_default_stop() {
    // Ctrl-C reaches the whole group: the child (made before the handler)
    // stops by SIGINT; main runs its handler and reports the child's end.
    let code = r#"
fn nap() { sleep(60) }
let h = spawn nap()
let handled = []
on_signal("INT", fn(sig) { push(handled, sig) })
print("ready")
try {
    join h
} catch e {
    print(handled, contains(e, "killed by SIGINT"))
}
"#;
    let run = signalled_once_blocked(code, |pid| {
        killpg(pid, Signal::SIGINT).expect("SIGINT to the group")
    });
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "[\"INT\"] true\n"),
        "{run:?}"
    );
}

#[test]
fn without_a_handler_usr1_ends_the_process_and_its_children_are_stopped() {
    // Without a handler, USR1 stops the process's children and ends it by
    // the signal, and nothing is left.
    let code = r#"
fn nap() { sleep(60) }
let h = spawn nap()
print("ready")
join h
"#;
    let run = signalled_once_blocked(code, |pid| kill(pid, Signal::SIGUSR1).expect("SIGUSR1"));
    assert_eq!((run.code, run.stdout.as_str()), (128 + 10, ""), "{run:?}");
}
