//! Loops and functions the register VM runs stop on SIGINT, SIGTERM and `--timeout` as the tree-walker's do.

mod common;

use common::{exit_of_run_timed_out, signal_once_ready};
use nix::sys::signal::Signal;

/// Tight loops that compile, and one blocked in a wait (each prints "ready"
/// first, from code that does not); a child left behind fails the test.
const SPINNING: [(&str, &str); 5] = [
    (
        "a top-level while loop",
        "print(\"ready\")\nlet i = 0\nwhile true {\n  i += 1\n}",
    ),
    (
        "a top-level for loop",
        "print(\"ready\")\nlet s = 0\nfor i in 0..9000000000000000000 {\n  s += i % 2\n}",
    ),
    (
        "a compiled function's loop",
        "fn spin() {\n  let i = 0\n  while i >= 0 {\n    i = i % 1000 + 1\n  }\n}\nprint(\"ready\")\nspin()",
    ),
    (
        "compiled calls from a compiled loop",
        "fn f(n) {\n  let r = n\n  if n >= 2 { r = f(n - 1) + f(n - 2) }\n  return r\n}\n\
         print(\"ready\")\nlet t = 0\nwhile true {\n  t += f(15) % 2\n}",
    ),
    (
        "a compiled loop blocked in l.acquire() (a child holds the lock)",
        "let l = lock()\nlet held = event()\nlet h = spawn fn() {\n  l.acquire()\n  held.set()\n  \
         sleep(1000)\n}()\nheld.wait()\nprint(\"ready\")\nfor i in 0..3 {\n  l.acquire()\n  l.release()\n}",
    ),
];

#[test]
fn sigint_and_sigterm_stop_compiled_loops() {
    for (what, code) in SPINNING {
        assert_eq!(
            signal_once_ready(code, Signal::SIGINT, 200, what),
            130,
            "{what}"
        );
        assert_eq!(
            signal_once_ready(code, Signal::SIGTERM, 200, what),
            143,
            "{what}"
        );
    }
}

#[test]
fn timeout_stops_compiled_loops() {
    for (what, code) in SPINNING {
        assert_eq!(exit_of_run_timed_out(code, what), 124, "{what}");
    }
}

/// Programs whose functions compile with `PAD` read as `0  `, and are
/// tree-walked with it read as `[0]` (a list is outside the VM's subset);
/// the line it is on is far from every label, so both transcripts must be
/// the same to the byte: values, errors, spans and call stacks.
const TWINS: [(&str, &str); 4] = [
    (
        "an error at the bottom of fib-shaped recursion",
        "fn down(n) {\n  if n == -1 { return PAD }\n\n\n  if n == 0 { return 1 + \"x\" }\n  \
         return down(n - 1) + 1\n}\nprint(down(3) + 0)",
    ),
    (
        "an arity error three calls deep",
        "fn two(a, b) {\n  return a + b\n}\nlet callee = two\nfn down(n) {\n  \
         if n == -1 { return PAD }\n\n\n  if n == 0 { return callee(n) }\n  return down(n - 1)\n}\n\
         print(down(3))",
    ),
    (
        "the depth limit in fib-shaped recursion",
        "fn down(n) {\n  if n == -1 { return PAD }\n\n\n  return down(n + 1)\n}\ndown(0)",
    ),
    (
        "values through deep recursion and a loop",
        "fn sum(n) {\n  let pad = PAD\n\n\n  let s = 0\n  for i in 0..n { s += i }\n  \
         if n == 0 { return 0.5 }\n  return sum(n - 1) + s\n}\nprint(sum(300))\n\
         fn fib(n) {\n  if n == -1 { return PAD }\n\n\n  if n < 2 { return n }\n  \
         return fib(n - 1) + fib(n - 2)\n}\nprint(fib(20))",
    ),
];

#[test]
fn compiled_calls_read_as_the_tree_walkers() {
    for (what, template) in TWINS {
        let compiled = common::run_code(&template.replace("PAD", "0  "));
        let walked = common::run_code(&template.replace("PAD", "[0]"));
        assert_eq!(compiled.transcript(), walked.transcript(), "{what}");
        assert!(
            !compiled.stdout.is_empty() || !compiled.stderr.is_empty(),
            "{what}"
        );
    }
}
