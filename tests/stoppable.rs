//! Always stoppable: SIGTERM, Ctrl-C and --timeout end a run that is blocked in any
//! call (a full pipe, a FIFO, a stopped lock holder, exec), and leave nothing behind.

mod common;

use common::{end_within, exit_of_run_timed_out, procscript, signal_once_ready};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::Stdio;
use std::time::Duration;

/// Starts the code, waits for its "ready" line and then `settle_ms` (time to
/// get blocked), sends SIGTERM, and gives the exit code (see `end_within`).
fn sigterm_once_blocked(code: &str, settle_ms: u64, what: &str) -> i32 {
    signal_once_ready(code, Signal::SIGTERM, settle_ms, what)
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
    assert_eq!(exit_of_run_timed_out(&code, "read_file"), 124);
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

#[test]
fn timeout_stops_an_exec_program_even_one_ignoring_sigalrm() {
    for program in ["sleep 30", "trap '' ALRM; sleep 30"] {
        let code = format!("exec(\"sh\", \"-c\", \"{program}\")");
        assert_eq!(exit_of_run_timed_out(&code, program), 124);
    }
}

#[test]
fn sigterm_ends_a_wait_for_a_queue_lock_held_by_a_stopped_process() {
    // The child holds the queue's lock most of the time (it copies 4 MB
    // messages under it); the root stops it again and again and takes from
    // the queue: soon it waits for a lock whose holder is stopped.
    let code = "let q = queue()\n\
                fn churn(q) { while true { q.put(\"x\" * 4000000)\n q.get() } }\n\
                let h = spawn churn(q)\n\
                sleep(0.2)\n\
                print(\"ready\")\n\
                while true {\n\
                    kill(h, \"STOP\")\n\
                    try { q.get(0.01) } catch { }\n\
                    kill(h, \"CONT\")\n\
                }";
    assert_eq!(sigterm_once_blocked(code, 1500, "queue lock"), 143);
}

#[test]
fn sigterm_ends_a_large_task_sent_to_a_stopped_pool_worker() {
    // 20 MB cannot fit in the worker's socket: the send blocks until it reads.
    let code = "let p = pool(1)\n\
                let q = queue()\n\
                fn me(q) { q.put(pid) }\n\
                join p.submit(me, [q])\n\
                let worker = q.get()\n\
                kill(worker, \"STOP\")\n\
                print(\"ready\")\n\
                let t = p.submit(fn(s) { return len(s) }, [\"x\" * 20000000])\n\
                print(\"sent\")\n\
                sleep(100)";
    assert_eq!(sigterm_once_blocked(code, 1000, "pool send"), 143);
}

/// Each wait of a lock, event, semaphore and barrier, blocked on a child that
/// sleeps (so it is no deadlock): `(name, the code up to the wait)`.
const SYNC_WAITS: &[(&str, &str)] = &[
    ("l.acquire()", "let l = lock()\nlet up = event()\nlet h = spawn fn() { l.acquire(); up.set(); sleep(60) }()\nup.wait()\nprint(\"ready\")\nl.acquire()"),
    ("e.wait()", "let e = event()\nlet h = spawn fn() { sleep(60) }()\nprint(\"ready\")\ne.wait()"),
    ("s.acquire()", "let s = semaphore(0)\nlet h = spawn fn() { sleep(60) }()\nprint(\"ready\")\ns.acquire()"),
    ("b.wait()", "let b = barrier(3)\nlet h = spawn fn() { sleep(60) }()\nprint(\"ready\")\nb.wait()"),
    ("e.recv()", "let ends = pipe()\nlet h = spawn fn() { sleep(60) }()\nprint(\"ready\")\nends[1].recv()"),
    ("e.poll(s)", "let ends = pipe()\nlet h = spawn fn() { sleep(60) }()\nprint(\"ready\")\nends[1].poll(100)"),
    ("q.join()", "let q = queue()\nq.put(1)\nlet h = spawn fn() { sleep(60) }()\nprint(\"ready\")\nq.join()"),
    ("wait_any()", "let q = queue()\nlet e = event()\nlet h = spawn fn() { sleep(60) }()\nprint(\"ready\")\nwait_any([q, e, h])"),
];

#[test]
fn sigterm_and_timeout_end_every_lock_event_semaphore_barrier_pipe_queue_join_and_wait_any_wait() {
    for (what, code) in SYNC_WAITS {
        assert_eq!(sigterm_once_blocked(code, 300, what), 143, "{what}");
        assert_eq!(exit_of_run_timed_out(code, what), 124, "{what}");
    }
}

#[test]
fn sigterm_and_timeout_end_a_program_redirection_to_a_fifo_nobody_opens() {
    // Opening a FIFO blocks until its other end is opened: for a program's
    // stdout (a reader) as for its stdin_file (a writer).
    let fifo = temp_path("program-fifo");
    let _ = std::fs::remove_file(&fifo);
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let path = fifo.display();
    for code in [
        format!("print(\"ready\")\nrun(\"echo\", \"x\", {{\"stdout\": \"{path}\"}})"),
        format!("print(\"ready\")\nrun(\"cat\", {{\"stdin_file\": \"{path}\"}})"),
        format!("print(\"ready\")\ncapture(\"true\", {{\"stderr\": \"{path}\"}})"),
    ] {
        assert_eq!(exit_of_run_timed_out(&code, &code), 124);
        assert_eq!(sigterm_once_blocked(&code, 300, &code), 143);
    }
    let _ = std::fs::remove_file(&fifo);
}
