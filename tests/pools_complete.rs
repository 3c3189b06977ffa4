//! Complete pools through the binary: task streams stopped by SIGTERM, Ctrl-C and
//! --timeout, on_signal handlers during a stream's wait, deadlocks of a stream,
//! terminate with a task's program running, max_tasks with pinned values, and streaming
//! (items given as workers have room). Nothing may be left running.

mod common;

use common::{exit_of_run_timed_out, procscript, run, run_code, signal_once_ready};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant};

/// A stream whose tasks run a program for a minute; "ready" once the first task started.
const STREAM_WAIT: &str = "let started = event()\n\
     fn work(x) { started.set(); run(\"sleep\", 60); return x }\n\
     let p = pool(2)\n\
     spawn fn() { started.wait(); print(\"ready\") }()\n\
     for r in p.imap_unordered(work, [1, 2, 3, 4]) { print(r) }";

/// Starts `STREAM_WAIT`, waits for "ready" (a task runs, the loop waits), sends `sig`.
fn signal_once_waiting(sig: Signal) -> i32 {
    signal_once_ready(STREAM_WAIT, sig, 0, "a stream's wait")
}

#[test]
fn sigterm_ctrl_c_and_timeout_end_a_task_streams_wait_and_its_workers_programs() {
    assert_eq!(signal_once_waiting(Signal::SIGTERM), 143);
    assert_eq!(signal_once_waiting(Signal::SIGINT), 130);
    assert_eq!(exit_of_run_timed_out(STREAM_WAIT, "--timeout"), 124);
}

#[test]
fn a_handler_runs_during_a_streams_wait_and_the_loop_goes_on() {
    // The task can only end once the handler has run: it waits for the event it sets.
    let out = run_code(
        "let go = event()\n\
         on_signal(\"USR1\", fn(sig) { print(\"handler\", sig); go.set() })\n\
         fn work(x) { go.wait(); return x * 2 }\n\
         let p = pool(1)\n\
         fn poke() { kill(ppid(), \"USR1\") }\n\
         let h = spawn poke()\n\
         for r in p.imap(work, [1, 2]) { print(r) }\n\
         join h",
    );
    assert_eq!(out.stdout, "handler USR1\n2\n4\n", "{}", out.stderr);
    assert_eq!(out.code, 0);
}

#[test]
fn a_stream_whose_tasks_all_wait_for_the_loop_is_a_deadlock_not_a_hang() {
    let out = run_code(
        "let q = queue()\n\
         fn need(x) { return q.get() }\n\
         let p = pool(3)\n\
         for r in p.imap_unordered(need, [1, 2, 3]) { print(r) }",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("procscript::process::deadlock"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("deadlock: main"), "{}", out.stderr);
}

#[test]
fn terminate_stops_a_task_running_a_program_at_once() {
    let started = Instant::now();
    let out = run_code(
        "let begun = event()\n\
         let p = pool(2)\n\
         let t = p.submit(fn() { begun.set(); run(\"sleep\", 60); return 1 })\n\
         let queued = [p.submit(fn() { return 2 }), p.submit(fn() { return 3 })]\n\
         begun.wait()\n\
         p.terminate()\n\
         try { join t } catch err { print(err) }\n\
         print(state(t))",
    );
    assert_eq!(
        out.stdout, "the task failed: pool terminated\nfailed\n",
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 0);
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn workers_replaced_by_max_tasks_still_get_the_pinned_values() {
    let out = run_code(
        "let big = range(200000)\n\
         let p = pool(2, {\"max_tasks\": 3})\n\
         let sizes = p.map(fn(i) { return len(big) + i * 0 }, range(12))\n\
         let pids = p.map(fn(i) { return pid() }, range(12))\n\
         let seen = {}\n\
         for q in pids { seen[str(q)] = true }\n\
         print(sizes == [200000] * 12, len(keys(seen)) >= 4)",
    );
    assert_eq!(out.stdout, "true true\n", "{}", out.stderr);
}

#[test]
fn a_stream_gives_items_as_workers_have_room_not_all_at_once() {
    // When the first result comes, at most two items per worker were given out.
    let out = run_code(
        "let given = value(0)\n\
         fn work(x) { given.add(1); return x }\n\
         let p = pool(2)\n\
         let first = nil\n\
         for r in p.imap(work, range(200)) { if first == nil { first = given.get() } }\n\
         print(first <= 4, given.get())",
    );
    assert_eq!(out.stdout, "true 200\n", "{}", out.stderr);
}

#[test]
fn a_task_taken_back_does_not_count_toward_max_tasks() {
    // The worker was sent two tasks and ran one: the next task still goes to it.
    let out = run(procscript(&[
        "--timeout",
        "20",
        "-e",
        "let go = event()\n\
         let p = pool(1, {\"max_tasks\": 2})\n\
         let first = p.submit(fn() { go.wait(); return pid() })\n\
         let second = p.submit(fn() { return pid() })\n\
         print(second.cancel())\n\
         go.set()\n\
         let third = p.submit(fn() { return pid() })\n\
         let a = join first\n\
         let b = join third\n\
         print(a == b, join p.submit(fn() { return pid() }) != a)",
    ]));
    assert_eq!(out.stdout, "true\ntrue true\n", "{}", out.stderr);
    assert_eq!(out.code, 0);
}

#[test]
fn a_signal_handler_runs_during_a_map_or_apply_wait_not_after_it() {
    // Each task waits for an event that only the handler sets: run after the
    // call, the handler came too late and the tasks gave up (false).
    let out = run(procscript(&[
        "--timeout",
        "30",
        "-e",
        "let go = event()\n\
         on_signal(\"USR1\", fn(name) { print(\"handler\", name); go.set() })\n\
         fn poke(target) { sleep(0.3); run(\"kill\", \"-USR1\", str(target)) }\n\
         let p = pool(2)\n\
         let k = spawn poke(pid())\n\
         print(p.map(fn(x) { return go.wait(8) }, [1, 2]))\n\
         join k\n\
         go.clear()\n\
         k = spawn poke(pid())\n\
         print(p.apply(fn() { return go.wait(8) }))\n\
         join k\n\
         go.clear()\n\
         k = spawn poke(pid())\n\
         print(p.starmap(fn(a, b) { return go.wait(8) }, [[1, 2]]))\n\
         join k",
    ]));
    assert_eq!(
        out.stdout, "handler USR1\n[true, true]\nhandler USR1\ntrue\nhandler USR1\n[true]\n",
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 0);
}
