//! Deadlocks are errors: a cycle of waits (join, wait(), queue get/put, idle pool workers)
//! ends in an error naming the cycle, soon; waits that can still end are left alone.

mod common;

use common::run_code;
use std::time::{Duration, Instant};

/// Runs the code, which must end well and soon, and checks its stdout with
/// main's pid written as M.
fn assert_ends_soon_with(code: &str, expected: &str) {
    let start = Instant::now();
    let out = run_code(code);
    let took = start.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let stdout = out
        .stdout
        .replace(&format!("pid {}", pid_of_main(&out.stdout)), "pid M");
    assert_eq!(stdout, expected);
    assert!(took < SOON, "took {took:?}");
}

/// A deadlock is reported within a second on an idle machine; the bound is
/// generous so that a loaded test machine does not fail it.
const SOON: Duration = Duration::from_secs(10);

#[test]
fn joining_a_reader_that_waits_on_get_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let q = queue()\n\
         fn reader(q) { print(\"got\", q.get()) }\n\
         let r = spawn reader(q) as \"reader\"\n\
         try { join r } catch err { print(replace(err, str(r.pid), \"R\")) }\n\
         q.put(\"now\")\n\
         join r",
        "deadlock: main (pid M) joins reader (pid R), which waits to get from an empty queue that only main (pid M) could put to\ngot now\n"
    );
}

#[test]
fn joining_a_producer_before_draining_its_queue_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let q = queue(3)\n\
         fn producer(q) { for i in 0..10 { q.put(i) } }\n\
         let p = spawn producer(q) as \"producer\"\n\
         try { join p } catch err { print(replace(err, str(p.pid), \"P\")) }\n\
         let got = []\n\
         while len(got) < 10 { push(got, q.get()) }\n\
         print(got)",
        "deadlock: main (pid M) joins producer (pid P), which waits to put on a full queue that only main (pid M) could read from\n[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
    );
}

#[test]
fn an_uncaught_deadlock_ends_the_script_with_its_error() {
    let out = run_code(
        "let q = queue()\n\
         let p = pool(2)\n\
         print(q.get())",
    );
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("procscript::process::deadlock"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("deadlock: main (pid"), "{}", out.stderr);
}

#[test]
fn wait_for_any_child_in_a_cycle_is_a_deadlock_error() {
    let out = run_code(
        "let q = queue()\n\
         fn g(q) { q.get() }\n\
         let b = spawn g(q)\n\
         try { wait() } catch err { print(starts_with(err, \"deadlock: main (pid\"), contains(err, \"waits for any of its children\")) }",
    );
    assert_eq!(out.stdout, "true true\n", "{}", out.stderr);
}

#[test]
fn waits_that_can_still_end_are_not_deadlocks() {
    // A child that sleeps before it puts, a timed get, a pool task that puts
    // late, and a stopped child continued later: all end normally.
    let out = run_code(
        "let q = queue()\n\
         fn late(q) { sleep(0.8) \n q.put(\"late\") }\n\
         let h = spawn late(q)\n\
         print(q.get())\n\
         join h\n\
         try { q.get(0.5) } catch { print(\"timed out\") }\n\
         let p = pool(1)\n\
         let t = p.submit(late, [q])\n\
         print(q.get())\n\
         join t\n\
         p.close()\n\
         fn waiter(q) { return q.get() }\n\
         let w = spawn waiter(q)\n\
         kill(w, \"STOP\")\n\
         sleep(0.6)\n\
         q.put(\"to the stopped one\")\n\
         kill(w, \"CONT\")\n\
         print(join w)",
    );
    assert_eq!(
        out.stdout, "late\ntimed out\nlate\nto the stopped one\n",
        "{}",
        out.stderr
    );
}

/// The first pid in "main (pid N)".
fn pid_of_main(text: &str) -> String {
    let start = text.find("main (pid ").map(|i| i + "main (pid ".len());
    start
        .and_then(|s| text[s..].split(')').next())
        .unwrap_or("")
        .to_string()
}

/// The stdout of a bounded run that must end well, with main's pid written as M.
fn bounded_stdout(code: &str) -> String {
    let out = run_bounded(code);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
        .replace(&format!("pid {}", pid_of_main(&out.stdout)), "pid M")
}

/// Runs the code under a timeout, so that a hang fails the test instead of blocking it.
fn run_bounded(code: &str) -> common::Run {
    common::run(common::procscript(&["--timeout", "30", "-e", code]))
}

#[test]
fn joining_a_pool_task_that_waits_on_get_is_a_deadlock_error() {
    // join of a task, apply and map wait for the worker running the task: a
    // worker blocked in q.get() that only its waiting owner could answer.
    let out = run_bounded(
        "let q = queue()\n\
         let p = pool(1)\n\
         let t = p.submit(fn(q) { return q.get() }, [q])\n\
         try { join t } catch err { print(starts_with(err, \"deadlock: main (pid\"), contains(err, \"waits to get from an empty queue\")) }\n\
         q.put(\"now\")\n\
         print(join t)\n\
         try { p.map(fn(q) { return q.get() }, [q, q]) } catch err { print(starts_with(err, \"deadlock: main\")) }\n\
         q.put(1)\n\
         q.put(2)\n\
         try { p.apply(fn(q) { return q.get() }, [q]) } catch err { print(starts_with(err, \"deadlock: main\")) }\n\
         q.put(3)\n\
         p.close()",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "true true\nnow\ntrue\ntrue\n", "{}", out.stderr);
}

#[test]
fn a_child_waiting_on_its_own_pool_in_a_cycle_is_a_deadlock_error() {
    let out = run_bounded(
        "let q = queue()\n\
         fn child(q) { let p = pool(1)\n return p.apply(fn(q) { return q.get() }, [q]) }\n\
         let c = spawn child(q)\n\
         try { join c } catch err { print(contains(err, \"which joins pool worker (pid\")) }\n\
         q.put(5)\n\
         print(join c)",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "true\n5\n", "{}", out.stderr);
}

#[test]
fn a_pool_task_waiting_while_another_task_finishes_is_not_a_deadlock() {
    // Task 1 waits for a message main puts only after task 2's result.
    let out = run_bounded(
        "let q = queue()\n\
         let p = pool(2)\n\
         let waiter = p.submit(fn(q) { return q.get() }, [q])\n\
         let slow = p.submit(fn() { sleep(1)\n return \"slow\" }, [])\n\
         print(join slow)\n\
         q.put(\"got\")\n\
         print(join waiter)\n\
         p.close()",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "slow\ngot\n", "{}", out.stderr);
}

#[test]
fn a_barrier_with_too_few_live_parties_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let b = barrier(3)\n\
         let h = spawn fn() { try { b.wait() } catch err { return \"broken\" } }() as \"party\"\n\
         try { b.wait() } catch err { print(replace(err, str(h.pid), \"H\")) }\n\
         print(join h)",
        "deadlock: main (pid M) waits at a barrier (2 of 3 arrived) that only party (pid H) could reach, which waits at a barrier (2 of 3 arrived) that only main (pid M) could reach\nbroken\n",
    );
}

#[test]
fn joining_a_child_that_waits_for_an_event_nobody_sets_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let e = event()\n\
         let h = spawn fn() { return e.wait() }() as \"waiter\"\n\
         try { join h } catch err { print(replace(err, str(h.pid), \"W\")) }\n\
         e.set()\n\
         print(join h)",
        "deadlock: main (pid M) joins waiter (pid W), which waits for an event that only main (pid M) could set\ntrue\n",
    );
}

#[test]
fn a_lock_cycle_between_two_processes_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let a = lock()\nlet b = lock()\nlet ready = event()\n\
         a.acquire()\n\
         let h = spawn fn() { b.acquire(); ready.set(); a.acquire(); a.release(); b.release() }() as \"other\"\n\
         ready.wait()\n\
         try { b.acquire() } catch err { print(replace(err, str(h.pid), \"O\")) }\n\
         a.release()\n\
         join h\n\
         print(b.acquire(1))",
        "deadlock: main (pid M) waits for a lock that other (pid O) holds, which waits for a lock that main (pid M) holds\ntrue\n",
    );
}

#[test]
fn joining_a_queue_whose_only_getter_waits_for_me_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let q = queue()\n\
         let go = queue()\n\
         let h = spawn fn() { q.get()\n go.get()\n q.task_done() }() as \"worker\"\n\
         q.put(1)\n\
         try { q.join() } catch err { print(replace(err, str(h.pid), \"W\")) }\n\
         go.put(1)\n\
         join h\n\
         print(q.join())",
        "deadlock: main (pid M) joins a queue (1 not done) that only worker (pid W) could mark done, which waits to get from an empty queue that only main (pid M) could put to\ntrue\n",
    );
}

#[test]
fn joining_a_child_that_waits_to_receive_from_me_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let ends = pipe()\n\
         let h = spawn fn() { return ends[1].recv() }() as \"receiver\"\n\
         try { join h } catch err { print(replace(err, str(h.pid), \"R\")) }\n\
         ends[0].send(\"now\")\n\
         print(join h)",
        "deadlock: main (pid M) joins receiver (pid R), which waits to receive on a pipe that only main (pid M) could send to\nnow\n",
    );
}

#[test]
fn joining_a_child_in_wait_any_on_my_pipe_is_a_deadlock_error() {
    assert_ends_soon_with(
        "let ends = pipe()\n\
         let h = spawn fn() { return len(wait_any([ends[1]])) }() as \"waiter\"\n\
         try { join h } catch err { print(replace(err, str(h.pid), \"W\")) }\n\
         ends[0].send(\"now\")\n\
         print(join h)",
        "deadlock: main (pid M) joins waiter (pid W), which waits to receive on a pipe that only main (pid M) could send to\n1\n",
    );
}

#[test]
fn a_wait_that_a_signal_handler_can_end_is_not_a_deadlock() {
    // The lock's holder waits for it again, but its USR1 handler releases it;
    // a child's event, made after its signalling child, is set by its own
    // handler; a queue is put to by main's
    // handler while main is its only holder (the child that signals
    // was made before the queue). Each is sent a signal later, so
    // none is a deadlock.
    let out = run_bounded(
        "let l = lock()\n\
         on_signal(\"USR1\", fn(sig) { l.release() })\n\
         l.acquire()\n\
         let h = spawn fn() { sleep(0.8) \n kill(ppid(), \"USR1\") }()\n\
         print(\"lock\", l.acquire())\n\
         join h\n\
         let w = spawn fn() {\n\
           let k = spawn fn() { sleep(0.8) \n kill(ppid(), \"USR2\") }()\n\
           let e = event()\n\
           on_signal(\"USR2\", fn(sig) { e.set() })\n\
           let set = e.wait()\n\
           join k\n\
           return set\n\
         }()\n\
         print(\"event\", join w)\n\
         let s = spawn fn() { sleep(0.8) \n kill(ppid(), \"HUP\") }()\n\
         let q = queue()\n\
         on_signal(\"HUP\", fn(sig) { q.put(\"put by the handler\") })\n\
         print(q.get())\n\
         join s",
    );
    assert_eq!(
        out.stdout, "lock true\nevent true\nput by the handler\n",
        "{}",
        out.stderr
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn joining_a_producer_blocked_on_a_queue_full_of_bytes_is_a_deadlock_error() {
    // No count limit: the 16 MiB of the queue fill up with 500 kB messages,
    // and the next one does not fit though some bytes are still free.
    let start = Instant::now();
    let out = run_bounded(
        "let q = queue()\n\
         let big = \"z\" * 500000\n\
         fn producer(q) { for i in 0..40 { q.put(big) } }\n\
         let p = spawn producer(q) as \"producer\"\n\
         try { join p } catch err { print(replace(err, str(p.pid), \"P\")) }\n\
         let got = 0\n\
         while got < 40 { q.get() \n got = got + 1 }\n\
         join p\n\
         print(got)",
    );
    let stdout = out
        .stdout
        .replace(&format!("pid {}", pid_of_main(&out.stdout)), "pid M");
    assert_eq!(
        stdout,
        "deadlock: main (pid M) joins producer (pid P), which waits to put on a full queue that only main (pid M) could read from\n40\n",
        "{}",
        out.stderr
    );
    assert!(start.elapsed() < SOON, "took {:?}", start.elapsed());
}

#[test]
fn a_cycle_through_wait_any_of_several_items_is_a_deadlock_error() {
    // The waiter's items could each be answered by a process that is itself
    // blocked: reported through the board (it waits for any one of them), not a hang.
    let stdout = bounded_stdout(
        "let ends = pipe()\n\
         let e = event()\n\
         let h = spawn fn() { return len(wait_any([ends[1], e])) }() as \"waiter\"\n\
         try { join h } catch err { print(replace(err, str(h.pid), \"W\")) }\n\
         e.set()\n\
         print(join h)\n\
         let q = queue()\n\
         let q2 = queue()\n\
         let c = spawn fn() { q2.get() }() as \"getter\"\n\
         e.clear()\n\
         try { wait_any([q, e]) } catch err { print(replace(err, str(c.pid), \"C\")) }\n\
         q2.put(1)\n\
         join c",
    );
    assert_eq!(
        stdout,
        "deadlock: main (pid M) joins waiter (pid W), which waits in wait_any for one of: \
         to receive on a pipe that only main (pid M) could send to; \
         for an event that only main (pid M) could set\n\
         1\n\
         deadlock: main (pid M) waits in wait_any for one of: \
         to get from an empty queue that only getter (pid C) could put to; \
         for an event that only getter (pid C) could set, \
         which waits to get from an empty queue that only main (pid M) could put to\n"
    );
}

#[test]
fn a_get_that_only_a_child_waiting_for_its_long_result_to_be_read_could_answer_is_a_deadlock_error()
{
    // The child's result is longer than the pipe holds: it waits for main's
    // join, and main waits for a message only that child could put.
    let stdout = bounded_stdout(
        "let q = queue()\n\
         fn long(q) { return \"x\" * 200000 }\n\
         let h = spawn long(q) as \"long\"\n\
         try { print(q.get()) } catch err { print(replace(err, str(h.pid), \"H\")) }\n\
         print(len(join h))",
    );
    assert_eq!(
        stdout,
        "deadlock: main (pid M) waits to get from an empty queue that only long (pid H) could put to, \
         which waits for main (pid M) to join it and read its result (longer than a pipe holds)\n200000\n"
    );
}

#[test]
fn a_pool_owner_waiting_for_any_worker_does_not_read_a_long_result() {
    // imap_unordered waits for any of several workers; it published the wait
    // of `wait()`, which reads every child's pipe, so the child waiting for
    // its long result to be read counted as going on: the workers' q.get()
    // that only it could answer hung until --timeout (124).
    let stdout = bounded_stdout(
        "let q = queue()\n\
         fn long() { return \"x\" * 200000 }\n\
         let h = spawn long() as \"long\"\n\
         let p = pool(2)\n\
         try {\n\
             for r in p.imap_unordered(fn(q) { return q.get() }, [q, q]) { print(r) }\n\
         } catch err {\n\
             print(starts_with(err, \"deadlock: main (pid\"), contains(err, \"waits for any of its pool's workers\"), contains(err, \"to join it and read its result\"))\n\
         }\n\
         print(len(join h))\n\
         q.put(1)\n\
         q.put(2)",
    );
    assert_eq!(stdout, "true true true\n200000\n");
}

#[test]
fn a_results_queue_whose_last_putter_ends_right_after_is_not_called_hopeless() {
    // Each worker puts its result and ends. The parent's untimed get, after a
    // quiet tick, looked at the queue and then for a live holder: the last
    // worker could put and end in between, and the get said that nobody was
    // left to put, a message waiting (about 1 run in 4 of this, before).
    let code = "let q = queue()\n\
                let r = queue()\n\
                fn worker(q, r) { r.put(q.get() * 2) }\n\
                let hs = []\n\
                for i in 0..100 { push(hs, spawn worker(q, r)) }\n\
                for i in 0..100 { q.put(i) }\n\
                let s = 0\n\
                for i in 0..100 { s += r.get() }\n\
                for h in hs { join h }\n\
                print(s)";
    for run in 0..10 {
        let out = run_code(code);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, "9900\n"),
            "run {run}: {}",
            out.stderr
        );
    }
}

#[test]
fn a_cycle_through_a_childs_wait_for_any_child_is_reported_by_that_child() {
    // Main holds a lock and joins a child; the child forks a grandchild that
    // waits for the lock, then waits in wait(). Every other process counts
    // a wait() as able to end (only its process knows its children), and the
    // one that saw the cycle left it to the oldest: it hung with no report.
    let out = run_bounded(
        "let l = lock()\n\
         fn child() {\n\
             if fork() == 0 {\n\
                 l.acquire()\n\
                 print(\"never\")\n\
                 exit(0)\n\
             }\n\
             wait()\n\
         }\n\
         l.acquire()\n\
         let h = spawn child() as \"child\"\n\
         try { join h } catch err { print(replace(replace(err, str(h.pid), \"C\"), str(pid), \"M\")) }\n\
         l.release()",
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            "`child` (pid C) failed with exit code 1: deadlock: child (pid C) waits for any of its children, \
             which waits for a lock that main (pid M) holds, which joins child (pid C)\n"
        ),
        "{}",
        out.stderr
    );
}
