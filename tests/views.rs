//! The views of a run: --explain's pids relate as the OS calls do; the trace is a valid
//! Chrome trace with a track per process, closed spans and paired flows; the timeline is
//! well-formed SVG with one lane per process.

mod common;

use common::{procscript, run};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

fn out_file(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("views-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// fork, spawn, join, kill and a queue: four processes besides the root's own.
const SCRIPT: &str = "let q = queue()\n\
    fn producer(q) { q.put(1)\n q.put(2) }\n\
    fn sleeper() { sleep(10) }\n\
    let a = spawn producer(q) as \"producer\"\n\
    let b = spawn sleeper()\n\
    let p = fork\n\
    if p == 0 { exit(0) }\n\
    print(q.get() + q.get())\n\
    join a\n\
    kill(b, \"KILL\")\n\
    try { join b } catch e { }\n\
    join p";

#[test]
fn explain_narrates_calls_whose_pids_match() {
    let out = run(procscript(&[
        "--explain",
        "-e",
        "let p = fork\nif p == 0 { exit(3) }\njoin p",
    ]));
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stderr);
    let pid_of = |line: &str| line[1..line.find(']').unwrap()].to_string();
    let parent = pid_of(lines[0]);
    let child = lines[0]
        .split("fork() -> ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        lines[0],
        format!("[{parent}] fork() -> {child} (in the child it returns 0)")
    );
    assert_eq!(lines[1], format!("[{child}] exit(3)"));
    assert_eq!(lines[2], format!("[{parent}] waitpid({child}) -> exited 3"));
    assert_eq!(lines[3], format!("[{parent}] exit(0)"));
}

#[test]
fn the_trace_has_a_track_per_process_closed_spans_and_paired_flows() {
    let path = out_file("run.json");
    let out = run(procscript(&[
        &format!("--trace={}", path.display()),
        "-e",
        SCRIPT,
    ]));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "3\n"),
        "{}",
        out.stderr
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();

    let named: HashSet<i64> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .map(|e| e["pid"].as_i64().unwrap())
        .collect();
    assert_eq!(named.len(), 4, "root, producer, sleeper and the fork child");
    // Every process has a life span; every span is closed (a complete event with a duration).
    let lives: Vec<&Value> = events.iter().filter(|e| e["cat"] == "life").collect();
    assert_eq!(lives.len(), 4);
    for e in events.iter().filter(|e| e["ph"] == "X") {
        assert!(e["dur"].as_f64().unwrap() >= 0.0, "{e}");
        assert!(
            named.contains(&e["pid"].as_i64().unwrap()),
            "span on a track with no name: {e}"
        );
    }
    // Parents precede children in the track order.
    let rank: HashMap<i64, i64> = events
        .iter()
        .filter(|e| e["name"] == "process_sort_index")
        .map(|e| {
            (
                e["pid"].as_i64().unwrap(),
                e["args"]["sort_index"].as_i64().unwrap(),
            )
        })
        .collect();
    let root = *rank.iter().find(|(_, r)| **r == 0).unwrap().0;
    // Flows pair up: each start has exactly one finish, from a parent to its child or back.
    let mut starts: HashMap<i64, &Value> = HashMap::new();
    let mut finishes: HashMap<i64, &Value> = HashMap::new();
    for e in events {
        match e["ph"].as_str() {
            Some("s") => assert!(starts.insert(e["id"].as_i64().unwrap(), e).is_none()),
            Some("f") => assert!(finishes.insert(e["id"].as_i64().unwrap(), e).is_none()),
            _ => {}
        }
    }
    assert_eq!(starts.len(), finishes.len());
    assert!(starts.len() >= 6, "3 creations and at least 3 reaps");
    for (id, s) in &starts {
        let f = finishes.get(id).expect("every flow finishes");
        let (from, to) = (s["pid"].as_i64().unwrap(), f["pid"].as_i64().unwrap());
        assert!(
            from == root || to == root,
            "flows link the root and its children here"
        );
        if s["name"] == "created" {
            assert_eq!(from, root);
            assert!(rank[&from] < rank[&to], "parent before child");
        }
    }
    // The kill and the queue appear as instants.
    let instants: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "i")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        instants
            .iter()
            .any(|n| n.starts_with("kill ") && n.ends_with("SIGKILL")),
        "{instants:?}"
    );
    assert_eq!(instants.iter().filter(|n| **n == "put").count(), 2);
    assert_eq!(instants.iter().filter(|n| **n == "get").count(), 2);
    let outcomes: Vec<&str> = lives
        .iter()
        .map(|e| e["args"]["outcome"].as_str().unwrap())
        .collect();
    assert!(outcomes.contains(&"killed by SIGKILL"), "{outcomes:?}");
}

#[test]
fn a_handled_signal_is_an_instant_of_the_trace() {
    let path = out_file("signal.json");
    let code = "on_signal(\"USR2\", fn(sig) { })\nkill(pid, \"USR2\")\nkill(pid, \"USR2\")";
    let out = run(procscript(&[
        &format!("--trace={}", path.display()),
        "-e",
        code,
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let instants: Vec<&str> = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "i")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // Each kill of itself is followed by its handler, as an instant of its own.
    let kinds: Vec<&str> = instants
        .iter()
        .filter(|n| n.contains("USR2"))
        .map(|n| if n.starts_with("kill ") { "kill" } else { n })
        .collect();
    assert_eq!(
        kinds,
        ["kill", "USR2 handled", "kill", "USR2 handled"],
        "{instants:?}"
    );
}

#[test]
fn the_timeline_is_well_formed_svg_with_a_lane_per_process() {
    let path = out_file("run.svg");
    let out = run(procscript(&[
        &format!("--timeline={}", path.display()),
        "-e",
        SCRIPT,
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let lanes = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
        .count();
    assert_eq!(lanes, 4);
    let arrows = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("spawn"))
        .count();
    assert_eq!(arrows, 3, "one creation arrow per child");
    assert!(
        text.contains("zombie") && text.contains("waiting in get"),
        "states are drawn"
    );
}

#[test]
fn a_hundred_processes_make_a_hundred_lanes() {
    let path = out_file("many.svg");
    let out = run(procscript(&[
        &format!("--timeline={}", path.display()),
        "-e",
        "fn f(n) { return n }\nlet hs = []\nfor i in 0..99 { push(hs, spawn f(i)) }\njoin hs",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let lanes = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("lane"))
        .count();
    assert_eq!(lanes, 100);
}

#[test]
fn nothing_is_recorded_without_a_view() {
    // No view: no trace file appears, and stderr stays empty.
    let out = run(procscript(&[
        "-e",
        "let p = fork\nif p == 0 { exit(0) }\njoin p",
    ]));
    assert_eq!(out.transcript(), "exit: 0\n--- stdout\n--- stderr\n");
}

#[test]
fn after_a_timeout_the_views_say_124_as_procscript_exits() {
    let out = run(procscript(&[
        "--timeout",
        "1",
        "--tree",
        "-e",
        "spawn sleep(30)\nsleep(30)",
    ]));
    assert_eq!(out.code, 124, "{}", out.stderr);
    let root = out
        .stderr
        .lines()
        .find(|l| l.contains(" script -e, "))
        .unwrap_or_else(|| panic!("no root line:\n{}", out.stderr));
    assert!(root.contains("exited 124,"), "{}", out.stderr);
}

#[test]
fn no_process_has_events_before_its_birth() {
    // The parent records a child's birth once fork returns; the child may
    // have run (forked, exited) before that. The birth is dated before the fork.
    let script = "fork\nfork\nfork\nfork\nfork\nprint(pid)";
    for attempt in 0..5 {
        let path = out_file(&format!("births{attempt}.json"));
        let out = run(procscript(&[
            &format!("--trace={}", path.display()),
            "-e",
            script,
        ]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let events = doc["traceEvents"].as_array().unwrap();
        let born: HashMap<i64, f64> = events
            .iter()
            .filter(|e| e["cat"] == "life")
            .map(|e| (e["pid"].as_i64().unwrap(), e["ts"].as_f64().unwrap()))
            .collect();
        assert_eq!(born.len(), 32);
        for e in events.iter().filter(|e| e["ts"].is_number()) {
            let pid = e["pid"].as_i64().unwrap();
            let ts = e["ts"].as_f64().unwrap();
            assert!(ts >= born[&pid], "an event before its process's birth: {e}");
        }
    }
}

/// A script sending `n` messages through a queue from a child and printing
/// their sum: a wait begins and ends around each put and get, so about 4n
/// events are recorded.
fn messages_through_a_queue(n: u32) -> String {
    format!(
        "let q = queue()\n\
         fn produce(q, n) {{ for i in 0..n {{ q.put(i) }} }}\n\
         let h = spawn produce(q, {n})\n\
         let total = 0\n\
         for i in 0..{n} {{ total += q.get() }}\n\
         join h\n\
         print(total)"
    )
}

/// The largest resident size any child of this test process reached, in KiB.
fn children_peak_kib() -> i64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage")
        .max_rss()
}

#[test]
fn a_trace_of_400_000_events_is_written_without_holding_them_all_as_json() {
    // 100,000 messages through a queue: a wait begins and ends around each
    // put and get, about 400,000 events. The trace used to be built as JSON
    // values before being written: about 950 MB at its peak for this run.
    let path = out_file("big.json");
    let trace = format!("--trace={}", path.display());
    let code = messages_through_a_queue(100000);
    let out = run(procscript(&[&trace, "-e", &code]));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "4999950000\n"),
        "{}",
        out.stderr
    );
    let peak_mib = children_peak_kib() / 1024;
    assert!(peak_mib < 400, "the run peaked at {peak_mib} MiB");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let events = doc["traceEvents"].as_array().expect("an event list").len();
    assert!(events > 400_000, "{events} events");
    assert_eq!(doc["otherData"]["lost_events"], 0);
}

#[test]
fn a_timeout_that_comes_while_the_views_are_drawn_ends_the_run_with_124() {
    // The body takes about a second in a debug build and the drawing several:
    // wherever the alarm falls, the run ends as a timeout (it was told as
    // signal 14, exit 142, when it fell in the drawing).
    let path = out_file("timed_out.json");
    let _ = std::fs::remove_file(&path);
    let trace = format!("--trace={}", path.display());
    let code = messages_through_a_queue(150000);
    let out = run(procscript(&[&trace, "--timeout", "2.5", "-e", &code]));
    assert_eq!(out.code, 124, "{}", out.stderr);
    assert!(
        out.stderr.contains("stopped after --timeout 2.5 seconds"),
        "{}",
        out.stderr
    );
    // A view is whole or absent: drawn when the alarm ended the body, not
    // written when it stopped the drawing.
    if path.exists() {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            serde_json::from_str::<Value>(&text).is_ok(),
            "a whole trace"
        );
    }
}

#[test]
fn ctrl_c_while_a_large_trace_is_drawn_ends_the_run_at_once_with_130() {
    use std::io::BufRead;
    let path = out_file("stopped.json");
    let _ = std::fs::remove_file(&path);
    let trace = format!("--trace={}", path.display());
    // About 600,000 events: drawing them takes seconds in a debug build.
    let code = messages_through_a_queue(150000);
    let mut child = procscript(&[&trace, "-e", &code])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("procscript starts");
    let group = child.id() as i32;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "11249925000\n");
    // The script's body is done: the views are being drawn now.
    let sent = std::time::Instant::now();
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(group),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    common::assert_no_leftovers(group);
    assert_eq!(status.code(), Some(130));
    // The code and the absent file already show the drawing was stopped (it
    // takes seconds whole); the bound is loose for a loaded machine.
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    assert!(!path.exists(), "no view is written after Ctrl-C");
}

#[test]
fn lock_event_and_barrier_waits_are_spans_that_name_the_lock_holder() {
    let path = out_file("sync.json");
    // The child holds the lock until main, whose timed acquire must wait,
    // lets it go; nobody sets `never`; the free lock never waits; main
    // reaches the barrier first (the last to arrive does not wait).
    let code = "let l = lock()\nlet b = barrier(2)\nlet up = event()\nlet go = event()\nlet never = event()\n\
        let h = spawn fn() { l.acquire()\n up.set()\n go.wait()\n l.release()\n\
        while str(b) != \"<barrier 1 of 2 waiting>\" { sleep(0.01) }\n b.wait() }()\n\
        up.wait()\nlet took = l.acquire(0.1)\ngo.set()\nlet free = lock()\nfree.acquire()\nfree.release()\n\
        never.wait(0.05)\nb.wait()\njoin h\nprint(h.pid, took)";
    let out = run(procscript(&[
        &format!("--trace={}", path.display()),
        "-e",
        code,
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (child, took) = out.stdout.trim().split_once(' ').unwrap();
    assert_eq!(took, "false");
    let child: i64 = child.parse().unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let waits: Vec<(i64, &str)> = doc["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cat"] == "wait")
        .map(|e| (e["pid"].as_i64().unwrap(), e["name"].as_str().unwrap()))
        .collect();
    let root = waits.iter().find(|(pid, _)| *pid != child).unwrap().0;
    let mut mine: Vec<&str> = waits
        .iter()
        .filter(|(p, _)| *p == root)
        .map(|w| w.1)
        .collect();
    // `up.wait()` records a span only if `up` was not set yet when it looked.
    if mine.len() == 5 {
        assert_eq!(mine.remove(0), "waiting: wait for event");
    }
    assert_eq!(
        mine,
        [
            format!("waiting: acquire lock held by process {child}"),
            "waiting: wait for event".to_string(),
            "waiting: wait at barrier of 2".to_string(),
            "waiting: join".to_string(),
        ]
    );
}
