//! Programs as a shell runs them, checked from outside: timeouts leave nothing behind, pipelines
//! match bash's, program output never tears a print line, and stopping the root stops them.
//! Scripts run in a session of their own, so that programs in their own process groups are
//! still seen (and must be gone) when the test ends.

mod common;

use common::{session_members, to_run, Run};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A script running in a session of its own, read line by line.
struct InSession {
    child: Child,
    lines: BufReader<std::process::ChildStdout>,
}

impl InSession {
    fn start(options: &[&str], code: &str) -> InSession {
        let mut cmd = Command::new(common::BIN);
        cmd.args(options)
            .args(["-e", code])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: setsid(2) is async-signal-safe, and nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                Ok(())
            })
        };
        let mut child = cmd.spawn().expect("procscript starts");
        let lines = BufReader::new(child.stdout.take().expect("piped stdout"));
        InSession { child, lines }
    }

    fn session(&self) -> i32 {
        self.child.id() as i32
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.lines.read_line(&mut line).expect("read a line");
        line.trim_end().to_string()
    }

    /// Every live process of the session but procscript itself.
    fn others(&self) -> Vec<(i32, String)> {
        session_members(self.session())
            .into_iter()
            .filter(|(pid, _)| *pid != self.session())
            .collect()
    }

    /// Waits for the end (at most `limit`); fails if any process of the session is left.
    fn finish(mut self, limit: Duration) -> (Run, Duration) {
        let started = Instant::now();
        while self.child.try_wait().expect("try_wait").is_none() {
            if started.elapsed() > limit {
                let _ = killpg(Pid::from_raw(self.session()), Signal::SIGKILL);
                panic!("procscript did not end within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let took = started.elapsed();
        let session = self.session();
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.lines, &mut rest);
        let mut output = self.child.wait_with_output().expect("output");
        output.stdout = rest.into_bytes();
        assert_session_empties(session, Duration::from_secs(3));
        (to_run(output), took)
    }

    /// Waits for the end, which must come within 5 s with exit `code`; the output.
    fn ends_soon_with(self, code: i32) -> Run {
        let (out, took) = self.finish(Duration::from_secs(10));
        assert_eq!(out.code, code, "{}", out.stderr);
        assert!(took < Duration::from_secs(5), "took {took:?}");
        out
    }

    /// After its "ready" line and a moment to get blocked, sends `signal` to the
    /// root (`to_group`: to its whole group, as Ctrl-C does from a terminal);
    /// the run must end soon with exit `code`.
    fn signal_when_ready(mut self, signal: Signal, to_group: bool, code: i32) -> Run {
        assert_eq!(self.line(), "ready");
        std::thread::sleep(Duration::from_millis(200));
        let root = Pid::from_raw(self.session());
        let sent = if to_group {
            killpg(root, signal)
        } else {
            kill(root, signal)
        };
        sent.expect("signal the root");
        self.ends_soon_with(code)
    }

    /// Ends a run that sleeps once it has shown what it was run for: SIGTERM to the root.
    fn stop(self) {
        let _ = kill(Pid::from_raw(self.session()), Signal::SIGTERM);
        let (out, _) = self.finish(Duration::from_secs(10));
        assert_eq!(out.code, 143, "{}", out.stderr);
    }
}

/// Fails unless every process of the session has ended within `within`.
fn assert_session_empties(session: i32, within: Duration) {
    let started = Instant::now();
    loop {
        let live = session_members(session);
        if live.is_empty() {
            return;
        }
        if started.elapsed() > within {
            for (pid, _) in &live {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
            panic!("left behind in the session: {live:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(options: &[&str], code: &str) -> InSession {
    InSession::start(options, code)
}

#[test]
fn a_timed_out_program_ignoring_term_with_children_leaves_nothing_within_two_seconds() {
    let mut run = start(
        &[],
        "let began = time()\n\
         let code = run(\"sh\", \"-c\", \"trap '' TERM; sleep 100 & sleep 100 & wait\", {\"timeout\": 0.5})\n\
         print(code, time() - began)\n\
         print(\"after\")\n\
         sleep(30)",
    );
    let line = run.line();
    let (code, took) = line.split_once(' ').expect("code and seconds");
    assert_eq!(code, "124");
    let took: f64 = took.parse().expect("seconds");
    assert!(
        (0.5..2.5).contains(&took),
        "run returned {took} s after it began, its timeout was 0.5 s"
    );
    assert_eq!(run.line(), "after");
    // At the moment `run` returned, the program and its children were gone.
    assert_eq!(run.others(), vec![]);
    run.stop();
}

#[test]
fn ctrl_c_on_a_program_ignoring_term_with_children_takes_one_grace_period() {
    // The program was killed after the grace period, but not its children
    // (they ignore SIGTERM too, as `trap` leaves them): orphaned, they came to
    // procscript and waited out a second one, 2 s in all. Here two levels of
    // spawned children run it; the whole tree is gone one grace period after.
    let mut run = start(
        &[],
        "fn c() { run(\"sh\", \"-c\", \"trap '' TERM; sleep 100 & sleep 100 & wait\") }\n\
         fn b() { join spawn c() }\n\
         let h = spawn b()\n\
         print(\"ready\")\n\
         join h",
    );
    assert_eq!(run.line(), "ready");
    std::thread::sleep(Duration::from_millis(500));
    kill(Pid::from_raw(run.session()), Signal::SIGINT).expect("signal the root");
    let (out, took) = run.finish(Duration::from_secs(10));
    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(
        took < Duration::from_millis(1800),
        "took {took:?}: more than one grace period (1 s)"
    );
}

#[test]
fn a_timed_out_capture_stops_what_the_program_left_holding_its_output() {
    // `sh` ends at once, and the `sleep` it left in the background keeps the
    // output open, so the capture times out; the sleep, no longer below `sh`,
    // was not stopped: it ran on to the script's end, and the error said
    // that `sh` timed out.
    let mut run = start(
        &[],
        "try { capture(\"sh\", \"-c\", \"sleep 100 & echo hi\", {\"timeout\": 0.5}) } catch err { print(err) }\n\
         print(\"after\")\n\
         sleep(30)",
    );
    assert_eq!(
        run.line(),
        "`sh` ended, but its output stayed open past the timeout (0.5 seconds): a process it left running held it"
    );
    assert_eq!(run.line(), "after");
    assert_eq!(run.others(), vec![]);
    run.stop();
}

#[test]
fn a_timed_out_capture_stops_a_writer_that_holds_its_output_open_for_reading_too() {
    // A process in a session of its own (out of reach of the program's
    // group) that holds the captured pipe opened read-write: only write-only
    // holders were taken for writers, so it ran on, though the error said
    // that it had been stopped.
    let mut run = start(
        &[],
        "try { capture(\"sh\", \"-c\", \"setsid sh -c 'exec sleep 79.5' 3<>/proc/self/fd/1 >/dev/null & echo hi\", {\"timeout\": 0.5}) } catch err { print(err) }\n\
         print(capture(\"sh\", \"-c\", \"ps -eo args | grep -cx 'sleep 79.5'\", {\"check\": false}))\n\
         sleep(30)",
    );
    assert_eq!(
        run.line(),
        "`sh` ended, but its output stayed open past the timeout (0.5 seconds): a process it left running held it"
    );
    assert_eq!(run.line(), r#"{"code": 1, "out": "0\n", "err": nil}"#);
    run.stop();
}

#[test]
fn a_timed_out_pipeline_leaves_nothing_behind() {
    let mut run = start(
        &[],
        "print(pipeline([[\"sh\", \"-c\", \"trap '' TERM; sleep 100 & wait\"], [\"sh\", \"-c\", \"trap '' TERM; cat\"]], {\"timeout\": 0.3}))\n\
         print(\"after\")\n\
         sleep(30)",
    );
    assert_eq!(run.line(), "[124, 124]");
    assert_eq!(run.line(), "after");
    assert_eq!(run.others(), vec![]);
    run.stop();
}

/// The same pipeline in bash and procscript, on the same input: the same
/// output and the same exit codes (bash's PIPESTATUS).
fn same_as_bash(stages: &[&[&str]]) {
    let folder = std::env::temp_dir().join(format!("pipes-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let input = folder.join("log.txt");
    let mut text = String::new();
    for i in 0..500 {
        let kind = ["error", "ok", "warning", "ok", "error disk"][i % 5];
        text.push_str(&format!("{kind} {}\n", (i * 7919) % 101));
    }
    std::fs::write(&input, text).unwrap();
    // The redirection belongs to the first program, as `stdin_file` does.
    let mut shell: Vec<String> = stages.iter().map(|words| words.join(" ")).collect();
    shell[0].push_str(" < log.txt");
    let bash = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{}; echo \"${{PIPESTATUS[@]}}\"",
            shell.join(" | ")
        ))
        .current_dir(&folder)
        .output()
        .expect("bash runs");
    let lists: Vec<String> = stages
        .iter()
        .map(|words| {
            let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
            format!("[{}]", quoted.join(", "))
        })
        .collect();
    let code = format!(
        "let r = capture_pipeline([{}], {{\"stdin_file\": \"log.txt\", \"check\": false}})\n\
         print(r[\"out\"] + join_str(r[\"codes\"], \" \"))",
        lists.join(", ")
    );
    let mut cmd = common::procscript(&["-e", &code]);
    cmd.current_dir(&folder);
    let ours = common::run(cmd);
    let _ = std::fs::remove_dir_all(&folder);
    assert_eq!(ours.stderr, "");
    assert_eq!(
        ours.stdout,
        String::from_utf8_lossy(&bash.stdout),
        "{shell:?}"
    );
}

#[test]
fn pipelines_of_standard_tools_match_bash() {
    // A `head` that ends before its writer has written is a race in bash too
    // (the writer's code is 0 or 141 by timing): these take the first lines
    // with `sed`, which reads everything. `yes | head` below has no race.
    same_as_bash(&[&["cat"], &["grep", "error"], &["wc", "-l"]]);
    same_as_bash(&[
        &["sort"],
        &["uniq", "-c"],
        &["sort", "-rn"],
        &["sed", "-n", "1,3p"],
    ]);
    same_as_bash(&[
        &["grep", "-v", "ok"],
        &["sort", "-k2", "-n"],
        &["sed", "-n", "1,5p"],
    ]);
    same_as_bash(&[&["cat"], &["grep", "no-such-text"], &["wc", "-l"]]);
    same_as_bash(&[&["head", "-1"]]);
}

#[test]
fn yes_into_head_ends_with_sigpipe_in_the_writer_as_in_bash() {
    let bash = Command::new("bash")
        .args(["-c", "yes | head -1; echo \"${PIPESTATUS[@]}\""])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&bash.stdout), "y\n141 0\n");
    let ours =
        common::run_code("print(join_str(pipeline([[\"yes\"], [\"head\", \"-1\"]]), \" \"))");
    assert_eq!(ours.stdout, "y\n141 0\n", "{}", ours.stderr);
}

#[test]
fn program_output_never_tears_a_print_line() {
    let program_line = "p".repeat(300);
    let print_line = "s".repeat(300);
    let code = format!(
        "let h = start(\"sh\", \"-c\", \"i=0; while [ $i -lt 3000 ]; do echo {program_line}; i=$((i+1)); done\")\n\
         for i in 0..3000 {{ print(\"{print_line}\") }}\n\
         print(join h)"
    );
    let out = common::run_code(&code);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 6001, "every line whole, on a line of its own");
    assert_eq!(lines.iter().filter(|l| **l == program_line).count(), 3000);
    assert_eq!(lines.iter().filter(|l| **l == print_line).count(), 3000);
    assert_eq!(lines[6000], "0");
}

#[test]
fn ctrl_c_stops_running_programs_in_their_own_groups_too() {
    let run = start(
        &[],
        "let h = start(\"sleep\", 100, {\"group\": true})\n\
         let k = start(\"sh\", \"-c\", \"trap '' INT; sleep 100\")\n\
         print(\"ready\")\n\
         pipeline([[\"sleep\", 100], [\"cat\"]], {\"group\": true})",
    );
    // Ctrl-C reaches the terminal's foreground group: procscript's own.
    run.signal_when_ready(Signal::SIGINT, true, 130);
}

#[test]
fn sigterm_of_the_root_stops_a_running_capture() {
    let run = start(
        &[],
        "print(\"ready\")\n\
         capture(\"sh\", \"-c\", \"sleep 100 & sleep 100\", {\"timeout\": 100})",
    );
    run.signal_when_ready(Signal::SIGTERM, false, 143);
}

#[test]
fn the_roots_timeout_stops_running_programs() {
    let run = start(
        &["--timeout", "0.5"],
        "start(\"sleep\", 100, {\"group\": true})\n\
         run(\"sh\", \"-c\", \"sleep 100 & sleep 100\", {\"group\": true})",
    );
    run.ends_soon_with(124);
}

#[test]
fn sigkill_of_the_root_ends_programs_in_their_own_groups() {
    let run = start(
        &[],
        "start(\"sleep\", 100, {\"group\": true})\n\
         start(\"sh\", \"-c\", \"trap '' TERM; exec sleep 100\", {\"group\": true})\n\
         print(\"ready\")\n\
         pipeline([[\"sleep\", 100], [\"cat\"]], {\"timeout\": 100})",
    );
    run.signal_when_ready(Signal::SIGKILL, false, 137);
}

#[test]
fn an_error_of_the_root_stops_programs_in_their_own_groups_with_their_children() {
    let run = start(
        &[],
        "start(\"sh\", \"-c\", \"trap '' TERM; sleep 100 & sleep 100\", {\"group\": true})\n\
         sleep(0.3)\n\
         print(1 / 0)",
    );
    let out = run.ends_soon_with(1);
    assert!(out.stderr.contains("division by zero"), "{}", out.stderr);
}

/// The kill(2) calls of a run, as strace shows them, or None where strace
/// cannot trace (not installed, or ptrace not allowed here).
fn kill_calls(code: &str) -> Option<Vec<String>> {
    common::traced_calls(code, &["-e", "trace=kill", "-e", "signal=none"])
}

#[test]
fn a_pipeline_that_cannot_start_whole_signals_no_program_already_collected() {
    // `true` ends and is collected while the later programs start; when the
    // last cannot start, the others are killed, but not the pid `true` had,
    // which may belong to an unrelated process by then.
    let dir = std::env::temp_dir().join(format!("procscript-badinterp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let script = dir.join("bad");
    std::fs::write(&script, "#!/no/such/interpreter\n").expect("write");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let code = format!(
        "try {{ pipeline([[\"true\"], [\"sleep\", \"0.5\"], [\"sleep\", \"0.5\"], [\"{}\"]]) }} catch e {{ print(e) }}",
        script.display()
    );
    let Some(calls) = kill_calls(&code) else {
        eprintln!("strace cannot trace here: skipped");
        return;
    };
    let _ = std::fs::remove_dir_all(&dir);
    let stale: Vec<&String> = calls.iter().filter(|c| c.contains("ESRCH")).collect();
    assert!(
        stale.is_empty(),
        "signals sent to no process: {stale:?}\nall: {calls:?}"
    );
    assert!(
        calls.iter().filter(|c| c.contains("SIGKILL")).count() >= 2,
        "the started sleeps are killed: {calls:?}"
    );
}

#[test]
fn a_call_whose_wait_a_handler_ends_stops_its_programs() {
    // As Python's subprocess.run kills its child on an exception: a program
    // must not run on, past its timeout, after its call has failed.
    let code = r#"
on_signal("USR1", fn(sig) { error("raised in the handler") })
fn poke() {
    sleep(0.3)
    kill(ppid, "USR1")
}
for call in ["run", "capture", "pipeline", "capture_pipeline"] {
    let k = spawn poke()
    try {
        if call == "run" { run("sleep", "30", {"timeout": 20}) }
        if call == "capture" { capture("sleep", "30") }
        if call == "pipeline" { pipeline([["sleep", "30"], ["sleep", "30"]]) }
        if call == "capture_pipeline" { capture_pipeline([["sleep", "30"], ["cat"]]) }
    } catch e {
        print(call, "caught:", e)
    }
    join k
    print(call, "leaves", len(children()), "children")
}
"#;
    let started = Instant::now();
    let run = common::run_code(code);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            0,
            "run caught: raised in the handler\nrun leaves 0 children\n\
             capture caught: raised in the handler\ncapture leaves 0 children\n\
             pipeline caught: raised in the handler\npipeline leaves 0 children\n\
             capture_pipeline caught: raised in the handler\ncapture_pipeline leaves 0 children\n",
            ""
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the programs ran on"
    );
}

#[test]
fn a_capture_stopped_for_too_much_output_leaves_no_child_of_its_program() {
    // The program's own background `sleep` goes with it, as a timeout would
    // stop it, instead of running on until the script ends.
    let mut run = start(
        &[],
        "try { capture(\"sh\", \"-c\", \"sleep 30 & yes; wait\") } catch e { print(\"caught\") }\n\
         print(\"after\")\n\
         sleep(30)",
    );
    assert_eq!(run.line(), "caught");
    assert_eq!(run.line(), "after");
    assert_eq!(run.others(), vec![]);
    run.stop();
}

#[test]
fn hup_quit_usr1_and_usr2_to_the_root_leave_no_child_of_a_program() {
    // A hangup (the terminal closed, ssh dropped) ends the script as SIGTERM
    // does, by its own code (128 + the signal), and the programs' own
    // children end with it, as PR_SET_PDEATHSIG cannot reach them.
    for (sig, code) in [
        (Signal::SIGHUP, 129),
        (Signal::SIGQUIT, 131),
        (Signal::SIGUSR1, 138),
        (Signal::SIGUSR2, 140),
    ] {
        let mut run = start(
            &[],
            "print(\"ready\")\nrun(\"sh\", \"-c\", \"sleep 60 & sleep 60\", {\"timeout\": 50, \"stdout\": \"/dev/null\", \"stderr\": \"null\"})",
        );
        assert_eq!(run.line(), "ready");
        let started = Instant::now();
        while run.others().len() < 3 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the program never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        kill(Pid::from_raw(run.session()), sig).expect("signal the root");
        let (out, _) = run.finish(Duration::from_secs(10));
        assert_eq!(out.code, code, "{sig}: {}", out.stderr);
    }
}
