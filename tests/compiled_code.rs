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
