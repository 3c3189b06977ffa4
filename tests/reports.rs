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
