//! A script that makes many children one after another: what it keeps of them stays
//! bounded, and the handles it still holds stay right when the rest are dropped.

mod common;

use common::run_code;

/// The peak resident memory of `code`, in KiB, as the script reads it last
/// from /proc (its own mapping's high-water mark: wait4's figure would
/// include the test binary's, which the child was a copy of until it ran
/// procscript).
fn peak_kib_of(code: &str) -> i64 {
    let run = run_code(&format!(
        "{code}\n\
         print(capture(\"grep\", \"VmHWM\", \"/proc/\" + str(pid()) + \"/status\"))"
    ));
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let kib = run
        .stdout
        .split("VmHWM:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    kib.unwrap_or_else(|| panic!("a VmHWM line, not {:?}", run.stdout))
}

/// The peak resident memory of a run of `step` N times, in KiB.
fn peak_kib(step: &str, n: u32) -> i64 {
    peak_kib_of(&format!(
        "fn nothing() {{ return nil }}\nfor i in 0..{n} {{ {step} }}"
    ))
}

/// Fails when `step` done `many` times peaks more than 600 KiB above
/// doing it `few` times.
fn assert_memory_flat(step: &str, few: u32, many: u32) {
    let (low, high) = (peak_kib(step, few), peak_kib(step, many));
    assert!(
        high - low < 600,
        "`{step}` x{many} peaked at {high} KiB, x{few} at {low} KiB: the records are kept"
    );
}

/// A loop of `join spawn` kept a record of every child it had (200 bytes
/// each, and a fork copies the page table of them all): 10,000 children
/// took 1.9 MB more than 500 did, and each spawn got slower. A joined
/// child whose handle is gone is forgotten now.
#[test]
fn a_loop_of_join_spawn_keeps_its_memory_flat() {
    assert_memory_flat("join spawn nothing()", 500, 10_000);
}

/// So did a loop of `run` (250 bytes a program): 5,000 runs took 1.2 MB
/// more than 300 did.
#[test]
fn a_loop_of_run_keeps_its_memory_flat() {
    assert_memory_flat("run(\"/bin/true\")", 300, 5_000);
}

/// A pool whose workers retire after each task (`max_tasks`) kept the
/// record of every worker it replaced: 5,000 tasks took 1.8 MB more than
/// with workers that stay. The pool reaps them; nothing else names them.
#[test]
fn a_pool_replacing_its_workers_keeps_its_memory_flat() {
    let map = |options: &str| {
        peak_kib_of(&format!(
            "fn sq(x) {{ return x * x }}\nlet p = pool(2{options})\n\
             print(len(p.map(sq, range(5000))))\np.close()"
        ))
    };
    let (staying, replaced) = (map(""), map(", {\"max_tasks\": 1}"));
    // Up to 1,024 records wait for a compaction (200-600 KiB more here).
    assert!(
        replaced - staying < 900,
        "5,000 tasks peaked at {replaced} KiB with a worker for each, {staying} KiB with two"
    );
}

/// Handles held across the table's compactions (the first comes at 1,024
/// records) still name their own children: results, exit codes, states and
/// a second join; and so do a program's handle and a forked child's pid.
#[test]
fn handles_kept_while_thousands_of_children_come_and_go() {
    let run = run_code(
        r#"
fn twice(x) { return x * 2 }
fn fail() { return 1 / 0 }
fn nothing() { return nil }
let kept = []
for i in 0..5 { push(kept, spawn twice(i)) }
let joined = spawn twice(50)
print("joined first:", join joined)
let failing = spawn fail()
let prog = start("sh", "-c", "exit 7")
let done = start("sh", "-c", "exit 9")
print("done first:", join done)
let forked = fork
if forked == 0 { exit(3) }
for i in 0..3000 { join spawn nothing() }
for h in kept { print(join h, h.exitcode, alive(h), state(h), h.name) }
print("joined again:", join joined, joined.exitcode)
try { join failing } catch err { print("failing: caught,", failing.exitcode) }
print("program:", join prog, alive(prog))
print("done again:", join done, done.exitcode, state(done))
print("forked:", join(forked))
"#,
    );
    assert_eq!(
        run.stdout,
        "joined first: 100\n\
         done first: 9\n\
         0 0 false exited Process-1\n\
         2 0 false exited Process-2\n\
         4 0 false exited Process-3\n\
         6 0 false exited Process-4\n\
         8 0 false exited Process-5\n\
         joined again: 100 0\n\
         failing: caught, 1\n\
         program: 7 false\n\
         done again: 9 9 exited\n\
         forked: 3\n",
        "stderr: {}",
        run.stderr
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
}

/// The dropped records are only those nothing can name: a forked child,
/// joined by its pid (a number the script may keep), is still a child
/// after thousands of others came and went.
#[test]
fn a_pid_kept_as_a_number_still_names_its_child() {
    let out = run_code(
        r#"
fn nothing() { return nil }
let child = fork
if child == 0 { exit(5) }
print(join(child))
for i in 0..2500 { join spawn nothing() }
print(join(child))
"#,
    );
    assert_eq!(out.stdout, "5\n5\n", "stderr: {}", out.stderr);
    assert_eq!(out.code, 0);
}

/// A loop that collects its spawned children with `wait()` instead of
/// `join` kept every record (a child nobody joined might have a failure to
/// tell at the end): 5,000 spawns took 1.9 MB more than 500 did. Only a
/// record with a failure to tell is kept now.
#[test]
fn a_loop_of_spawn_and_wait_keeps_its_memory_flat() {
    assert_memory_flat("spawn nothing()\n wait()", 500, 5_000);
}

/// The failures of children collected by `wait()` and never joined are
/// still told as the process ends, after thousands of records were dropped.
#[test]
fn failures_collected_by_wait_are_told_after_compactions() {
    let run = run_code(
        r#"
fn fail(i) { return [][i] }
fn nothing() { return nil }
for i in 0..2 { spawn fail(i) }
for i in 0..2 { print(wait()[1]) }
for i in 0..2500 { spawn nothing()
 wait() }
print("end")
"#,
    );
    assert_eq!(run.stdout, "1\n1\nend\n", "stderr: {}", run.stderr);
    let told: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("×"))
        .map(|line| line.split(": ").nth(1).unwrap_or(line))
        .collect();
    assert_eq!(
        told,
        [
            "index 0 is out of range for a list of length 0",
            "index 1 is out of range for a list of length 0"
        ],
        "stderr: {}",
        run.stderr
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
}

/// A program that `run` or a pipeline still waits for keeps its record even
/// when a signal handler collected it with `wait()` meanwhile and made a
/// thousand more: the pipeline reported `[0, 0]` (its first program, dropped,
/// counted as a success) instead of `[3, 0]`.
#[test]
fn a_program_collected_by_wait_in_a_handler_keeps_its_code_for_its_pipeline() {
    let run = run_code(
        r#"
on_signal("USR1", fn(s) {
  print("handler:", wait()[1])
  for i in 0..1100 { run("/bin/true") }
})
print(pipeline([["sh", "-c", "kill -USR1 $PPID; sleep 0.3; exit 3"], ["sh", "-c", "sleep 2"]]))
on_signal("USR1", fn(s) {
  print("handler:", wait()[1])
  for i in 0..2200 { run("/bin/true") }
})
print(run("sh", "-c", "kill -USR1 $PPID; sleep 0.3; exit 4"))
"#,
    );
    assert_eq!(
        run.stdout, "handler: 3\n[3, 0]\nhandler: 4\n4\n",
        "stderr: {}",
        run.stderr
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
}
