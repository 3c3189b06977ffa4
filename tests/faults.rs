//! Faults: children killed by common signals while the parent waits in join, get or map;
//! SIGKILL to procscript at random moments; a full disk; a producer killed mid-message.
//! Nothing may hang, print garbage, or be left behind.

mod common;

use common::{procscript, run, run_code};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Not PIPE: procscript ignores SIGPIPE and ends on the EPIPE error instead.
/// Not SEGV: Rust's runtime handler (for stack overflows) swallows the first
/// one sent from outside; procscript never faults by itself.
const SIGNALS: &[&str] = &[
    "HUP", "INT", "QUIT", "ABRT", "KILL", "USR1", "USR2", "ALRM", "TERM",
];

/// A helper child that sends `sig` to `pid` after a moment, through the real kill(1).
fn killer(sig: &str) -> String {
    format!("fn send(target) {{ sleep(0.2)\n run(\"kill\", \"-{sig}\", str(target)) }}\n")
}

#[test]
fn a_child_killed_by_any_common_signal_while_the_parent_joins() {
    for sig in SIGNALS {
        let started = Instant::now();
        let out = run_code(&format!(
            "{}fn nap() {{ sleep(30) }}\n\
             let h = spawn nap()\n\
             let k = spawn send(h.pid)\n\
             try {{ join h }} catch e {{ print(contains(e, \"was killed by SIG{sig}\")) }}\n\
             join k",
            killer(sig)
        ));
        assert_eq!(out.stdout, "true\n", "SIG{sig}: {}", out.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "SIG{sig} took too long"
        );
    }
}

#[test]
fn a_producer_killed_by_any_common_signal_while_the_parent_gets() {
    for sig in SIGNALS {
        let out = run_code(&format!(
            "{}let q = queue()\n\
             fn hold(q) {{ sleep(30) }}\n\
             let h = spawn hold(q)\n\
             let k = spawn send(h.pid)\n\
             join k\n\
             try {{ q.get() }} catch e {{ print(contains(e, \"would wait forever\")) }}\n\
             try {{ join h }} catch e {{ print(contains(e, \"SIG{sig}\")) }}",
            killer(sig)
        ));
        assert_eq!(out.stdout, "true\ntrue\n", "SIG{sig}: {}", out.stderr);
    }
}

#[test]
fn a_pool_worker_killed_by_any_common_signal_while_the_parent_maps() {
    for sig in SIGNALS {
        let out = run_code(&format!(
            "{}let p = pool(2)\n\
             let q = queue()\n\
             fn slow(q, x) {{ if x == 0 {{ q.put(pid)\n sleep(30) }}\n return x }}\n\
             fn watch(q) {{ send(q.get()) }}\n\
             let k = spawn watch(q)\n\
             try {{ p.map(fn(x) {{ return slow(q, x) }}, [0, 1, 2]) }} catch e {{ print(contains(e, \"killed by SIG{sig}\")) }}\n\
             join k\n\
             print(p.map(fn(x) {{ return x * 2 }}, [1, 2]))",
            killer(sig)
        ));
        assert_eq!(out.stdout, "true\n[2, 4]\n", "SIG{sig}: {}", out.stderr);
    }
}

#[test]
fn sigkill_to_procscript_at_random_moments_leaves_nothing() {
    let script = "let q = queue(4)\n\
        let p = pool(3)\n\
        fn produce(q) { for i in 0..100000 { q.put(\"x\" * (i % 1000)) } }\n\
        let hs = [spawn produce(q), spawn produce(q)]\n\
        let tasks = []\n\
        for i in 0..50 { push(tasks, p.submit(fn(n) { sleep(0.01)\n return n }, [i])) }\n\
        print(\"started\")\n\
        while true { q.get() }";
    for delay_ms in [0u64, 30, 90, 170, 260] {
        let mut cmd = procscript(&["-e", script]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let group = child.id() as i32;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
        child.wait().unwrap();
        // Children die with their parent (PDEATHSIG) within moments.
        common::assert_group_dies(
            group,
            Duration::from_secs(3),
            &format!("after {delay_ms} ms"),
        );
        common::assert_no_leftovers(group);
    }
}

#[test]
fn a_full_disk_is_a_clear_error() {
    let mut cmd = procscript(&["-e", "print(\"hello\")"]);
    cmd.stdout(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    );
    cmd.stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let group = child.id() as i32;
    let out = common::to_run(child.wait_with_output().unwrap());
    common::assert_no_leftovers(group);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cannot write to stdout: No space left on device"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_producer_killed_mid_message_leaves_no_garbage() {
    let started = Instant::now();
    let out = run_code(
        "let q = queue()\n\
         fn produce(q) { let i = 0\n while true { q.put([i, \"y\" * 3000000])\n i += 1 } }\n\
         let h = spawn produce(q)\n\
         sleep(0.15)\n\
         kill(h, \"KILL\")\n\
         try { join h } catch e { }\n\
         let good = 0\n\
         let m = q.try_get()\n\
         while m != nil {\n\
             if len(m[1]) != 3000000 or m[1] != \"y\" * 3000000 or m[0] != good { error(\"damaged message\") }\n\
             good += 1\n\
             m = q.try_get()\n\
         }\n\
         try { q.get() } catch e { print(\"then:\", e) }\n\
         print(good > 0)",
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        out.stdout,
        "then: q.get() would wait forever: the queue is empty and no other process that holds it is still running\ntrue\n",
        "{}",
        out.stderr
    );
}

#[test]
fn edge_values_give_clear_errors() {
    for (code, expected) in [
        (
            "sleep(float(\"nan\"))",
            "the time to sleep must be a number of seconds, 0 or more, not nan",
        ),
        (
            "sleep(-1)",
            "the time to sleep must be a number of seconds, 0 or more, not -1",
        ),
        ("exit(-1)", "exit code -1 is out of range"),
        ("exit(256)", "exit code 256 is out of range"),
        (
            "let m = -9223372036854775807 - 1\nprint(m / -1)",
            "integer overflow in `/`",
        ),
        (
            "let m = -9223372036854775807 - 1\nprint(m % -1)",
            "integer overflow in `%`",
        ),
        ("print(9223372036854775808)", "integer literal too large"),
        ("print(int(1e300))", "cannot convert 1e+300 to an int"),
    ] {
        let out = run(procscript(&["-e", code]));
        assert!(matches!(out.code, 1 | 2), "{code}: exit {}", out.code);
        assert!(out.stderr.contains(expected), "{code}:\n{}", out.stderr);
    }
}
