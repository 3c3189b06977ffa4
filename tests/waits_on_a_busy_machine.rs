//! Waits between processes while busy loops take every processor: a hand-off must not wait behind them.

mod common;

/// Busy loops beside the waits: two per processor (at most 16), spawned by
/// the script itself so they are in its group and killed at its end.
fn busy_loops() -> usize {
    let processors = std::thread::available_parallelism().map_or(2, |n| n.get());
    (2 * processors).min(16)
}

#[test]
fn a_queue_ping_pong_beside_busy_loops_does_not_wait_behind_them() {
    // A wait gave its processor away (sched_yield) 8 times before it slept:
    // with busy loops beside, each turn waited a whole time slice behind them,
    // and 1,000 round trips took 9-14 s instead of about 0.1 s (a sleeper's
    // wake-up is scheduled at once). The bound is generous: 30 times that.
    let code = format!(
        "let busy = []\n\
         for k in 0..{} {{ push(busy, spawn fn() {{ while true {{ }} }}()) }}\n\
         sleep(0.2)\n\
         let a = queue()\n\
         let b = queue()\n\
         let h = spawn fn() {{ for i in 0..1000 {{ b.put(a.get() + 1) }} }}()\n\
         let t0 = time()\n\
         let v = 0\n\
         for i in 0..1000 {{ a.put(v); v = b.get() }}\n\
         let took = time() - t0\n\
         join h\n\
         for x in busy {{ kill(x, \"KILL\") }}\n\
         for x in busy {{ try {{ join x }} catch e {{ }} }}\n\
         if took < 3.0 {{ print(v, \"quick\") }} else {{ print(v, took) }}",
        busy_loops()
    );
    let out = common::run_code(&code);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "1000 quick\n", "")
    );
}

#[test]
fn a_crowd_of_waiters_on_one_event_does_not_take_the_machine() {
    // Every blocked waiter looked for a deadlock every 0.1 s by reading /proc
    // for every other waiter and every holder of the event: 250 waiters made
    // tens of millions of reads a second and the parent, spawning them, did
    // not finish in 40 s (150 took 6.7 s). Now a waiter that can tell from
    // the board alone that it can go on looks no further, and less often.
    let code = "let e = event()\n\
         let ready = value(0)\n\
         let hs = []\n\
         for k in 0..250 { push(hs, spawn fn() { ready.add(1); return e.wait() }()) }\n\
         while ready.get() < 250 { sleep(0.01) }\n\
         sleep(0.3)\n\
         e.set()\n\
         let ok = 0\n\
         for h in hs { if join h { ok += 1 } }\n\
         print(ok)";
    prints_within_30_s_of_many_processes(code, "250\n");
}

#[test]
fn a_deep_recursion_of_join_spawn_does_not_take_the_machine() {
    // Each process of a chain `return join spawn f(n + 1)` joins the next,
    // so only the deepest runs. Every joiner's look walked the chain, reading
    // /proc for each link once per pass of its fixpoint: 100 deep took 0.2 s,
    // 150 took 35 s and 200 did not end in 120 s. Now a joiner follows the
    // chain of joins on the board alone, to the running deepest process.
    let code = "fn deeper(n) {\n\
             if n == 300 { return n }\n\
             return join spawn deeper(n + 1)\n\
         }\n\
         print(deeper(0))";
    prints_within_30_s_of_many_processes(code, "300\n");
}

/// Runs the code with up to 400 processes (and a --timeout of 60 s, so a
/// regression fails rather than hangs) and checks it prints `expected`, quietly
/// and well within that.
fn prints_within_30_s_of_many_processes(code: &str, expected: &str) {
    let started = std::time::Instant::now();
    let out = common::run(common::procscript(&[
        "--timeout",
        "60",
        "--max-procs",
        "400",
        "-e",
        code,
    ]));
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, expected, "")
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_deep_chain_of_forks_each_in_wait_does_not_take_the_machine() {
    // A fork in a loop whose parent waits for it and ends: 300 processes in a
    // chain, each in `wait()` for the next, while the deepest sleeps. Each
    // waiter's look read /proc for every other waiter, every tenth of a
    // second: with 200, a sleep of 3 s lasted 14 s. Now a waiter sees at a
    // glance that its child, itself in `wait()`, counts as going on.
    let code = "let depth = 0\n\
         for i in 0..300 {\n\
             if fork() != 0 {\n\
                 wait()\n\
                 exit(0)\n\
             }\n\
             depth += 1\n\
         }\n\
         sleep(4)\n\
         print(depth)";
    prints_within_30_s_of_many_processes(code, "300\n");
}
