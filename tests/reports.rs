//! A spawned child's report (its result or its error) on its way to a joining parent, under signals and stops.

mod common;

use common::run_code;

#[test]
fn a_child_terminated_while_its_long_result_waits_in_the_pipe_ends_by_the_signal() {
    // A result longer than the pipe waits in the child's write until the
    // parent joins. A SIGTERM then ends the child by the signal (143), as it
    // would anywhere else: the child neither writes on (the parent got the
    // whole result, exit code 0, from a child it had terminated) nor, its
    // write cut short by a second signal, exits 0 (the parent took the cut
    // report for a function that returned nil).
    let out = run_code(
        "let big = \"x\" * 10000000\n\
         fn give() { return big }\n\
         for signals in [1, 2] {\n\
             let h = spawn give()\n\
             let until = time() + 30\n\
             while state(h) != \"sleeping\" and time() < until { sleep(0.01) }\n\
             for i in 0..signals {\n\
                 kill(h)\n\
                 sleep(0.05)\n\
             }\n\
             try {\n\
                 let r = join h\n\
                 print(\"returned\", type(r))\n\
             } catch err {\n\
                 print(\"failed:\", contains(err, \"was killed by SIGTERM\"))\n\
             }\n\
             print(h.exitcode)\n\
         }",
    );
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout, "failed: true\n143\n".repeat(2));
    assert_eq!(out.code, 0);
}

#[test]
fn a_join_watches_a_report_begun_before_it_even_while_its_child_is_stopped() {
    // A result longer than the pipe: its child sends its parent one SIGCHLD,
    // after the first 4 KiB, and nothing more until it ends. Here the child
    // is stopped after a timed join took what the pipe held, and a program
    // continues it while the parent is in `join`: the parent must be woken
    // by what then comes into the pipe, so every wait of that join watches
    // the pipe (a join that watched only for signals, as for a report not
    // begun, slept on to its next tick: 0.1 s more, at every such join).
    let code = "let big = \"x\" * 1000000\n\
                fn give() { return big }\n\
                let h = spawn give()\n\
                let until = time() + 30\n\
                while state(h) != \"sleeping\" and time() < until { sleep(0.01) }\n\
                kill(h, \"STOP\")\n\
                join(h, 0.05)\n\
                let waker = start(\"sh\", \"-c\", \"sleep 0.3; kill -CONT \" + str(h.pid) + \"; exec sleep 0.2\")\n\
                print(len(join h))";
    let filter = ["-e", "trace=poll,ppoll,kill", "-e", "signal=none"];
    let Some(calls) = common::traced_calls(code, &filter) else {
        eprintln!("strace cannot trace here: skipped");
        return;
    };
    let stop = calls.iter().position(|c| c.contains("SIGSTOP"));
    let cont = calls.iter().position(|c| c.contains("SIGCONT"));
    let (Some(stop), Some(cont)) = (stop, cont) else {
        panic!("no SIGSTOP then SIGCONT: {calls:?}");
    };
    let parent = calls[stop].split_whitespace().next().unwrap_or_default();
    // The waits of `join h` (those of 0.1 s; the timed join's are of 0.05 s).
    let waits: Vec<&String> = calls[stop..cont]
        .iter()
        .filter(|c| c.split_whitespace().next() == Some(parent))
        .filter(|c| c.contains("poll(") && (c.contains(", 100)") || c.contains(", 100 <")))
        .collect();
    assert!(!waits.is_empty(), "{calls:?}");
    for wait in waits {
        assert!(
            wait.contains("], 2, 100"),
            "a wait not watching the pipe: {wait}"
        );
    }
}

#[test]
fn alive_done_and_wait_any_read_a_long_result_as_it_comes() {
    // A child whose result is longer than the pipe holds ends only once its
    // result is read: a loop of `alive(h)` or `done(h)`, or a `wait_any([h])`,
    // waited for it for ever (the bound below ended them with 124).
    let out = run_bounded(
        "fn long(n) { return \"x\" * n }\n\
         let h = spawn long(200000)\n\
         while alive(h) { sleep(0.01) }\n\
         print(len(join h))\n\
         let h = spawn long(300000)\n\
         while not done(h) { }\n\
         print(len(join h))\n\
         let h = spawn long(400000)\n\
         print(wait_any([h]) == [h], len(join h))",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "200000\n300000\ntrue 400000\n");
}

#[test]
fn children_reads_long_results_as_they_come() {
    // As `alive(h)` does: a child whose result is longer than the pipe holds
    // ends only once it is read, so a loop of `children()` until none is left
    // waited for it for ever (the bound below ended it with 124).
    let out = run_bounded(
        "fn long(n) { return \"x\" * n }\n\
         let hs = [spawn long(200000), spawn long(300000)]\n\
         while len(children()) > 0 { sleep(0.01) }\n\
         print(len(join hs[0]), len(join hs[1]))",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "200000 300000\n");
}

#[test]
fn an_exitcode_turns_up_once_its_child_has_ended_without_a_join() {
    // `h.exitcode` stayed nil until something collected the child (a join,
    // `alive(h)`, `wait()`), so a loop waiting for it never ended (124 under
    // the bound); Python's `p.exitcode` turns up by itself. A long result is
    // read as it comes, as `alive(h)` reads it, and the join still gets it.
    let out = run_bounded(
        "fn short() { return 1 }\n\
         fn long(n) { return \"x\" * n }\n\
         fn nap() { sleep(30) }\n\
         let h = spawn short()\n\
         while h.exitcode == nil { sleep(0.01) }\n\
         print(h.exitcode, join h)\n\
         let h = spawn long(200000)\n\
         while h.exitcode == nil { sleep(0.01) }\n\
         print(h.exitcode, len(join h))\n\
         let h = spawn nap()\n\
         print(h.exitcode)\n\
         kill(h)\n\
         while h.exitcode == nil { sleep(0.01) }\n\
         print(h.exitcode, state(h))\n\
         try { join h } catch err { print(contains(err, \"killed by SIGTERM\")) }",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "0 1\n0 200000\nnil\n143 exited\ntrue\n");
}

/// Runs the code under a timeout, so that a hang fails the test (with 124)
/// instead of blocking it.
fn run_bounded(code: &str) -> common::Run {
    common::run(common::procscript(&["--timeout", "20", "-e", code]))
}
