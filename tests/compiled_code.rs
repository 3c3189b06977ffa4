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
const TWINS: [(&str, &str); 9] = [
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
    (
        "a compiled handler failing in compiled calls during compiled recursion",
        "let c = value(0)\nfn hd(n) {\n  let pad = PAD\n\n\n  if n == 0 { return 1 / n }\n  c.add(1)\n  \
         return hd(n - 1)\n}\nfn handler(sig) {\n  let pad = PAD\n\n\n  c.add(100)\n  return hd(3)\n}\n\
         fn k(n, me, signal) {\n  let pad = PAD\n\n\n  if n == 0 { return 0 }\n  \
         if n == 5 { signal(me, \"USR1\") }\n  return k(n - 1, me, signal) + 1\n}\n\
         on_signal(\"USR1\", handler)\ntry { print(k(10, pid(), kill)) } catch e { print(e) }\n\
         print(c.get(), k(4, pid(), kill))\nk(6, pid(), kill)",
    ),
    (
        "method statements on variables that change type mid-loop",
        "fn t(f) {\n  try { print(f()) } catch e { print(e) }\n}\nlet cap = value(0)\n\
         t(fn() {\n  let x = lock()\n  for i in 0..4 {\n    let pad = PAD\n\n\n    x.acquire()\n    \
         x.release()\n    if i == 1 { x = value(5) }\n  }\n})\n\
         t(fn() {\n  let x = value(0)\n  let a = 1\n  for i in 0..4 {\n    let pad = PAD\n\n\n    \
         x.add(a)\n    if i == 1 { a = 2.5 }\n  }\n})\n\
         t(fn() {\n  for i in 0..4 {\n    let pad = PAD\n\n\n    cap.add(i)\n    \
         if i == 2 { cap = semaphore(1) }\n  }\n})\n\
         t(fn() {\n  let x = value(0)\n  for i in 0..4 {\n    let pad = PAD\n\n\n    x.add(10 / (1 - i))\n  }\n})\n\
         t(fn() {\n  let l = lock()\n  for i in 0..2 {\n    let pad = PAD\n\n\n    l.release(1)\n  }\n})\n\
         print(cap.value())",
    ),
    (
        "mutual recursion of a compiled and a tree-walked function past the depth limit",
        "fn even(n) {\n  let pad = PAD\n\n\n  if n == 0 { return true }\n  return odd(n - 1)\n}\n\
         fn odd(n) {\n  let walked = [n]\n  if n == 0 { return false }\n  return even(n - 1)\n}\n\
         print(even(100), odd(7))\nprint(even(20001))",
    ),
    (
        "closures with captured variables of their own calling one another, a tree-walked one between",
        "fn make(k) {\n  fn add(n) {\n    if n == -1 { return PAD }\n\n\n    if n < 1 { return k }\n    \
         return add(n - 1) + 1\n  }\n  return add\n}\nlet a = make(100)\nlet b = make(1000)\n\
         fn walked(n) {\n  let w = [n]\n  return b(n) + a(n)\n}\nfn both(n) {\n  \
         if n == -1 { return PAD }\n\n\n  return a(n) + b(n) + a(n) + walked(n) + a(n)\n}\n\
         print(both(5), both(0))",
    ),
    (
        "errors unwinding through closures with captured variables of their own, then more calls, \
         from a compiled loop in a tree-walked closure",
        "fn make(k) {\n  fn add(n) {\n    if n == -1 { return PAD }\n\n\n    if n < 1 { return k }\n    \
         if n == 7 { return k + \"x\" }\n    return add(n - 1) + 1\n  }\n  return add\n}\n\
         let a = make(100)\nlet b = make(1000)\nfn outer(q) {\n  let z = q * 2\n  fn walked(n) {\n    \
         let w = [n]\n    let acc = 0\n    let i = 0\n    while i < n {\n      \
         acc = acc + a(i) + z + b(i) + q\n      i += 1\n    }\n    return acc\n  }\n  return walked\n}\n\
         let w1 = outer(3)\nfn both(n) {\n  if n == -1 { return PAD }\n\n\n  \
         return a(n) + b(n) + w1(n) + a(n)\n}\ntry { print(both(9)) } catch e { print(\"caught:\", e) }\n\
         print(both(5), w1(4), a(0), b(0))\nlet t = 0\nfor i in 0..6 {\n  t += both(i) + a(i)\n}\n\
         print(t)\nprint(both(9))",
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
