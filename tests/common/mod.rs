//! Shared test helpers: run the real binary in its own process group, then check nothing is left.

#![allow(dead_code)]

pub mod cluster;
pub mod remote;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_procscript");

/// The result of one run: exit code (or 128+signal), stdout and stderr as text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The whole transcript, as golden files store it.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A command for the binary, without colour, with stdin closed, in a new process group.
pub fn procscript(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .process_group(0);
    cmd
}

/// Runs the command to its end and checks that no process of its group is left.
pub fn run(mut cmd: Command) -> Run {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the procscript binary starts");
    let group = child.id() as i32;
    let output = child.wait_with_output().expect("wait for procscript");
    assert_no_leftovers(group);
    to_run(output)
}

/// Runs the command with `input` on its stdin, to its end, and checks that
/// no process of its group is left.
pub fn run_with_stdin(mut cmd: Command, input: &str) -> Run {
    use std::io::Write as _;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the procscript binary starts");
    let group = child.id() as i32;
    let mut stdin = child.stdin.take().expect("a piped stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let output = child.wait_with_output().expect("wait for procscript");
    assert_no_leftovers(group);
    to_run(output)
}

pub fn to_run(output: Output) -> Run {
    use std::os::unix::process::ExitStatusExt;
    let code = output
        .status
        .code()
        .unwrap_or_else(|| 128 + output.status.signal().unwrap_or(0));
    Run {
        code,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `procscript OPTIONS FILE ARGS...` from the file's folder.
pub fn run_file(path: &Path, options: &[String], args: &[String]) -> Run {
    let dir = path.parent().expect("a file has a folder");
    let name = path
        .file_name()
        .expect("a file name")
        .to_str()
        .expect("UTF-8 name");
    let mut all: Vec<&str> = options.iter().map(String::as_str).collect();
    all.push(name);
    all.extend(args.iter().map(String::as_str));
    let mut cmd = procscript(&all);
    cmd.current_dir(dir);
    run(cmd)
}

/// Runs inline code with `-e`.
pub fn run_code(code: &str) -> Run {
    run(procscript(&["-e", code]))
}

/// Every process: pid, state letter, parent pid, process group and session (read from /proc).
fn processes() -> Vec<(i32, String, i32, i32, i32)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the command name, which is in parentheses and may hold spaces.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ppid = fields[1].parse::<i32>().unwrap_or(0);
        let pgrp = fields[2].parse::<i32>().unwrap_or(0);
        let session = fields[3].parse::<i32>().unwrap_or(0);
        found.push((pid, fields[0].to_string(), ppid, pgrp, session));
    }
    found
}

/// The pids of live processes in a process group.
pub fn group_members(group: i32) -> Vec<(i32, String)> {
    processes()
        .into_iter()
        // A zombie handed to init is dead; reaping it is init's job, which some
        // sandboxes' init does slowly. It is not a process the test left running.
        .filter(|(_, state, ppid, pgrp, _)| *pgrp == group && !(state == "Z" && *ppid == 1))
        .map(|(pid, state, ..)| (pid, state))
        .collect()
}

/// The live processes (zombies are dead) of a session: pid and state letter.
pub fn session_members(session: i32) -> Vec<(i32, String)> {
    processes()
        .into_iter()
        .filter(|(_, state, _, _, sid)| *sid == session && state != "Z")
        .map(|(pid, state, ..)| (pid, state))
        .collect()
}

/// The children of a process (zombies too: a child not yet waited for is left behind).
pub fn children_of(parent: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|(_, _, ppid, ..)| *ppid == parent)
        .map(|(pid, ..)| pid)
        .collect()
}

/// Fails unless every process of the group has stopped running (zombies handed
/// to init are dead) within `within`: used after the group's root was killed.
pub fn assert_group_dies(group: i32, within: Duration, what: &str) {
    let started = Instant::now();
    loop {
        let live: Vec<_> = group_members(group)
            .into_iter()
            .filter(|(_, state)| state != "Z")
            .collect();
        if live.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{what}: still running: {live:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fails the test if any process of the group is still there after a short grace period.
pub fn assert_no_leftovers(group: i32) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let members = group_members(group);
        if members.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            for (pid, _) in &members {
                // Clean up so one failure does not poison the machine, then fail.
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            panic!("processes left behind by the test (pid, state): {members:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The system calls of a run of `code` (and its children) that strace shows with
/// `filter` (strace's options), or None where strace cannot trace (not installed,
/// or ptrace not allowed here) or the run failed. Checks that nothing is left behind.
pub fn traced_calls(code: &str, filter: &[&str]) -> Option<Vec<String>> {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let log = std::env::temp_dir().join(format!("procscript-strace-{}-{n}", std::process::id()));
    let mut tracer = Command::new("strace")
        .args(["-f", "-qq"])
        .args(filter)
        .arg("-o")
        .arg(&log)
        .args([BIN, "-e", code])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()?;
    let group = tracer.id() as i32;
    let status = tracer.wait().ok()?;
    assert_no_leftovers(group);
    let text = std::fs::read_to_string(&log).ok();
    let _ = std::fs::remove_file(&log);
    (status.code() == Some(0)).then_some(())?;
    Some(text?.lines().map(str::to_string).collect())
}

/// Starts `code`, waits for its "ready" line and then `settle_ms` (time to
/// get blocked), sends `sig`, and gives the exit code (see `end_within`).
pub fn signal_once_ready(
    code: &str,
    sig: nix::sys::signal::Signal,
    settle_ms: u64,
    what: &str,
) -> i32 {
    let mut child = procscript(&["-e", code])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("procscript starts");
    let mut ready = [0u8; 6];
    let mut out = child.stdout.take().expect("piped stdout");
    std::io::Read::read_exact(&mut out, &mut ready).expect("the script starts");
    std::thread::sleep(Duration::from_millis(settle_ms));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).expect("signal");
    end_within(child, Duration::from_secs(15), what)
}

/// Runs `code` under `--timeout 1` with its output thrown away and gives its
/// exit code, once it ended (15 s at most; nothing may be left behind).
pub fn exit_of_run_timed_out(code: &str, what: &str) -> i32 {
    let child = procscript(&["--timeout", "1", "-e", code])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("procscript starts");
    end_within(child, Duration::from_secs(15), what)
}

/// Waits for the run to end, at most `limit`; a run still there is killed
/// (its whole group) and the test fails. Returns the exit code (or 128+signal).
pub fn end_within(mut child: std::process::Child, limit: Duration, what: &str) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    let group = child.id() as i32;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            assert_no_leftovers(group);
            return status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        }
        if started.elapsed() > limit {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(group),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
