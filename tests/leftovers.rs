//! Nothing left behind, checked at the moment procscript exits (no grace period):
//! fork bombs, programs that ignore SIGTERM, orphans of programs, SIGKILL of the root.

mod common;

use common::{assert_group_dies, assert_no_leftovers, group_members, procscript, to_run, Run};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs the code to its end; fails if any process of its group is still
/// running at the moment procscript has exited.
fn run_and_check_at_exit(code: &str, options: &[&str]) -> Run {
    let mut args = options.to_vec();
    args.extend(["-e", code]);
    let child = procscript(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procscript starts");
    let group = child.id() as i32;
    let output = child.wait_with_output().expect("wait for procscript");
    let running: Vec<_> = group_members(group)
        .into_iter()
        .filter(|(_, state)| state != "Z")
        .collect();
    assert_no_leftovers(group);
    assert!(
        running.is_empty(),
        "still running when procscript exited: {running:?}"
    );
    to_run(output)
}

#[test]
fn a_fork_bomb_at_the_default_limit_leaves_nothing_running() {
    for _ in 0..3 {
        let run = run_and_check_at_exit("while true { fork }", &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(run.stderr.contains("cannot fork"), "{}", run.stderr);
    }
}

#[test]
fn a_program_ignoring_sigterm_in_a_child_is_gone_when_the_root_fails() {
    let code = "fn f() { run(\"sh\", \"-c\", \"trap '' TERM; sleep 30\") }\n\
                let h = spawn f()\n\
                sleep(0.3)\n\
                print(1 / 0)";
    for _ in 0..4 {
        let started = Instant::now();
        let run = run_and_check_at_exit(code, &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

#[test]
fn orphans_of_a_program_give_back_no_place_in_the_process_count() {
    // Five children live, and twelve orphans of `sh` are reaped by the root:
    // the limit of 10 still allows exactly 9 children (the root is the tenth).
    let code = "fn nap() { sleep(3) }\n\
                let hs = []\n\
                for i in 0..5 { push(hs, spawn nap()) }\n\
                run(\"sh\", \"-c\", \"for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 0.1 & done\")\n\
                sleep(0.6)\n\
                try { for i in 0..20 { push(hs, spawn nap()) } } catch { }\n\
                print(len(hs))\n\
                for h in hs { kill(h) }";
    let run = run_and_check_at_exit(code, &["--max-procs", "10"]);
    assert_eq!(run.stdout, "9\n", "{}", run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn sigkill_of_the_root_ends_programs_ignoring_sigterm_and_stopped_children() {
    // In a session of its own, as under a service manager: no terminal, so
    // the kernel sends no SIGHUP and SIGCONT to the orphaned group.
    let code = "fn nap() { sleep(100) }\n\
                let h = spawn nap()\n\
                sleep(0.3)\n\
                kill(h, \"STOP\")\n\
                run(\"sh\", \"-c\", \"trap '' TERM HUP; echo ready; exec sleep 100\")";
    let mut cmd = std::process::Command::new(common::BIN);
    cmd.args(["-e", code]).stdin(Stdio::null());
    // SAFETY: setsid(2) is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        })
    };
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("procscript starts");
    let group = child.id() as i32;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut ready = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut ready).expect("the program starts");
    assert_eq!(&ready, b"ready\n");
    child.kill().expect("SIGKILL to procscript");
    let _ = child.wait();
    assert_group_dies(group, Duration::from_secs(5), "after SIGKILL of the root");
    assert_no_leftovers(group);
}

#[test]
fn wait_sees_only_the_scripts_children_while_a_pool_is_open() {
    let code = "let p = pool(2)\n\
                let child = fork\n\
                if child == 0 { exit(3) }\n\
                let got = wait()\n\
                print(got[0] == child, got[1])\n\
                print(wait())\n\
                p.close()";
    let run = run_and_check_at_exit(code, &["--timeout", "20"]);
    assert_eq!(run.stdout, "true 3\nnil\n", "{}", run.stderr);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn sigterm_with_an_idle_pool_ends_without_waiting_out_the_grace() {
    // The workers end by SIGTERM themselves; none is SIGKILLed after the grace.
    let trace = std::env::temp_dir().join(format!("idle-pool-{}.json", std::process::id()));
    let trace_option = format!("--trace={}", trace.display());
    let mut child = procscript(&[
        &trace_option,
        "-e",
        "let p = pool(4)\nprint(\"ready\")\nsleep(100)",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("procscript starts");
    let group = child.id() as i32;
    let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    while !line.starts_with("ready") {
        line.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut line).expect("read a line");
        assert!(n > 0, "the script printed no ready line");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(group),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM to procscript");
    let status = child.wait().expect("procscript ends");
    assert_no_leftovers(group);
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), None);
    assert_eq!(status.code(), Some(143));
    let recorded = std::fs::read_to_string(&trace).expect("the trace is written");
    let _ = std::fs::remove_file(&trace);
    assert!(recorded.contains("SIGTERM"), "{recorded}");
    assert!(
        !recorded.contains("SIGKILL"),
        "a worker was SIGKILLed:\n{recorded}"
    );
}

#[test]
fn a_joined_result_lives_as_long_as_its_handle() {
    // 300 results of 1 MB each, joined and dropped: the memory stays flat.
    let code = "fn rss() {\n\
                    for line in split(read_file(\"/proc/self/status\"), \"\\n\") {\n\
                        if starts_with(line, \"VmRSS:\") {\n\
                            let parts = split(replace(line, \" \", \"\\t\"), \"\\t\")\n\
                            return int(parts[len(parts) - 2])\n\
                        }\n\
                    }\n\
                }\n\
                fn big(i) { return \"x\" * 1000000 }\n\
                for i in 0..50 { join spawn big(i) }\n\
                let before = rss()\n\
                for i in 0..300 { join spawn big(i) }\n\
                print(rss() - before)";
    let run = run_and_check_at_exit(code, &[]);
    let grown_kb: i64 = run.stdout.trim().parse().expect(&run.stderr);
    assert!(grown_kb < 60_000, "memory grew by {grown_kb} KB");
}
