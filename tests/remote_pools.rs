//! Pools on other machines against the real engines of `tools/cluster.sh`: three sshd hosts and
//! a three-node Slurm (tests/common/remote.rs: how they are reached, and the marks that find
//! every remote process).

mod common;

use common::remote::{
    assert_marked_gone, cluster, ctrl_c_leaves_nothing, is_worker, marked, marked_command,
    new_mark, parent_of, start_ready,
};
use common::{run, BIN};
use std::process::Command;
use std::time::{Duration, Instant};

/// The same script with everything a local pool does; its output must not depend on where the
/// workers run.
const SAME_EVERYWHERE: &str = r#"
let factor = 3
let table = {"a": [1, 2], "b": "text"}
fn scale(x) { return x * factor }
fn shout(word) {
  print("task says", word)
  return upper(word) + "!"
}
let p = pool_on(6)
print(p.map(scale, range(12)))
print(p.map(fn(x) { return [x, table["b"], len(table["a"])] }, [7, 8]))
print(p.apply(fn(a, b) { return a * b + factor }, [6, 7]))
print(p.apply(shout, ["hello"]))
let t = p.submit(scale, [100])
print(join t)
try {
  p.map(fn(x) { return 10 / x }, [5, 0, 2])
} catch e {
  print("failed:", contains(e, "the task for item 1 failed"), contains(e, "division by zero"))
}
print(p.map(fn(n) { return capture("sh", "-c", "echo $0", n) }, ["x", "y"]))
p.close()
print("done")
"#;

#[test]
fn a_pool_script_prints_the_same_locally_over_ssh_and_on_slurm() {
    let Some(cluster) = cluster("same_output") else {
        return;
    };
    let local = cluster.run("same", SAME_EVERYWHERE, "local");
    assert_eq!(local.code, 0, "{}", local.stderr);
    assert!(
        local.stdout.contains("task says hello\nHELLO!\n"),
        "{}",
        local.stdout
    );
    assert!(
        local.stdout.contains("failed: true true\n"),
        "{}",
        local.stdout
    );
    cluster.assert_same_remotely("same", SAME_EVERYWHERE, &local);
}

#[test]
fn a_remote_task_error_names_the_host_the_pid_and_its_own_diagnostic() {
    let Some(cluster) = cluster("error_names_host") else {
        return;
    };
    let script = "let p = pool_on(3)\nprint(p.map(fn(x) { return 10 / x }, [1, 0, 5]))\n";
    let result = cluster.run("error", script, "ssh");
    assert_eq!(result.code, 1, "{}", result.stderr);
    let re = fancy_regex::Regex::new(
        r"the task for item 1 failed on h[123] \(pid \d+\): division by zero",
    )
    .unwrap();
    assert!(re.is_match(&result.stderr).unwrap(), "{}", result.stderr);
    // The task's own diagnostic, at its place in the script.
    assert!(result.stderr.contains("work.proc:12:"), "{}", result.stderr);
    assert!(
        result.stderr.contains("the right side is zero"),
        "{}",
        result.stderr
    );
}

/// The remote worker hosts of a mark (`procscript --worker` whose parent is not one).
fn worker_hosts(mark: &str) -> Vec<i32> {
    marked(mark)
        .into_iter()
        .filter(|&pid| is_worker(pid) && !is_worker(parent_of(pid)))
        .collect()
}

const SLOW_MAP: &str = r#"
fn slow(x) {
  sleep(0.3)
  return x * x
}
let p = pool_on(3)
print("ready")
let r = p.map(slow, range(24))
let want = []
for i in range(24) { push(want, i * i) }
print(r == want, len(r))
"#;

#[test]
fn sigkill_of_a_remote_worker_host_mid_map_keeps_the_results_exact() {
    let Some(cluster) = cluster("host_killed") else {
        return;
    };
    for engine in ["ssh", "slurm"] {
        let mark = new_mark("killed");
        let child = start_ready(&cluster, "killed", SLOW_MAP, engine, &mark);
        let started = Instant::now();
        let hosts = loop {
            let hosts = worker_hosts(&mark);
            if hosts.len() == 3 || started.elapsed() > Duration::from_secs(30) {
                break hosts;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(hosts.len(), 3, "{engine}: worker hosts {hosts:?}");
        // SAFETY-free: kill(2) of a pid this test started (through the engine).
        let _ = Command::new("kill")
            .args(["-KILL", &hosts[0].to_string()])
            .status();
        let result = common::to_run(child.wait_with_output().expect("the driver ends"));
        assert_eq!(result.code, 0, "{engine}: {}", result.stderr);
        assert_eq!(result.stdout, "true 24\n", "{engine}: {}", result.stderr);
        assert_marked_gone(&mark, Duration::from_secs(10), engine);
    }
}

const SLEEPY_MAP: &str = r#"
let p = pool_on(3)
print("ready")
fn sleepy(x) {
  sleep(60)
  return x
}
print(p.map(sleepy, range(6)))
"#;

#[test]
fn ctrl_c_of_the_driver_leaves_no_process_on_any_host_within_3_s() {
    let Some(cluster) = cluster("ctrl_c") else {
        return;
    };
    for engine in ["ssh", "slurm"] {
        let mark = new_mark("ctrlc");
        let child = start_ready(&cluster, "ctrlc", SLEEPY_MAP, engine, &mark);
        let started = Instant::now();
        while worker_hosts(&mark).len() < 3 && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(worker_hosts(&mark).len(), 3, "{engine}");
        ctrl_c_leaves_nothing(child, &mark, engine);
    }
}

#[test]
fn sigkill_of_the_driver_leaves_no_process_on_any_host() {
    let Some(cluster) = cluster("driver_killed") else {
        return;
    };
    for engine in ["ssh", "slurm"] {
        let mark = new_mark("driverkill");
        let mut child = start_ready(&cluster, "driverkill", SLEEPY_MAP, engine, &mark);
        let _ = child.kill();
        let _ = child.wait();
        assert_marked_gone(
            &mark,
            Duration::from_secs(10),
            &format!("SIGKILL on {engine}"),
        );
    }
}

#[test]
fn a_worker_of_another_version_is_refused_naming_both_versions() {
    let Some(cluster) = cluster("version") else {
        return;
    };
    // The test hook: the worker claims this version instead of its own.
    let command = format!("env PROCSCRIPT_WORKER_CLAIMS_VERSION=9.9.9 {BIN}");
    let script = "let p = pool_on(2)\nprint(\"not reached\")\n";
    for engine in ["ssh", "slurm"] {
        let result = run(cluster.driver("version", script, engine, &command));
        assert_eq!(result.code, 1, "{}", result.stderr);
        assert_eq!(result.stdout, "");
        let version = env!("CARGO_PKG_VERSION");
        assert!(
            result.stderr.contains(&format!(
                "is procscript 9.9.9 (protocol 4), the driver is procscript {version} (protocol 4)"
            )),
            "{engine}: {}",
            result.stderr
        );
        assert!(
            result.stderr.contains("procscript::pool::remote"),
            "{}",
            result.stderr
        );
    }
}

#[test]
fn a_host_without_procscript_is_a_clear_error() {
    let Some(cluster) = cluster("missing") else {
        return;
    };
    let script = "let p = pool_on(2)\nprint(\"not reached\")\n";
    let result = run(cluster.driver("missing", script, "ssh", "/no/such/procscript"));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains("no worker started on h1 with `ssh -F"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("code 127 (command not found"),
        "{}",
        result.stderr
    );
    // On Slurm, slurmstepd ends a task it cannot exec with the errno (ENOENT: 2): the same
    // clear error, and not tried again (one srun message per worker, not three).
    let slurm = run(cluster.driver("missing", script, "slurm", "/no/such/procscript"));
    assert_eq!(slurm.code, 1, "{}", slurm.stderr);
    assert!(
        slurm.stderr.contains("code 2 (command not found"),
        "{}",
        slurm.stderr
    );
    let tries = slurm.stderr.matches("execve()").count();
    assert!((1..=2).contains(&tries), "{tries} tries: {}", slurm.stderr);
}

/// Options of the other engine are an error, not silently ignored (a user who writes `"hosts"`
/// with Slurm expects those hosts); a wrong type names what was given.
#[test]
fn options_of_the_other_engine_and_wrong_types_are_clear_errors() {
    let cases = [
        (
            "pool(2, {\"on\": \"slurm\", \"hosts\": [\"h1\"]})",
            "\"hosts\" is an option of \"on\": \"ssh\", not of \"slurm\"",
        ),
        (
            "pool(2, {\"on\": \"slurm\", \"ssh\": [\"ssh\"]})",
            "\"ssh\" is an option of \"on\": \"ssh\", not of \"slurm\"",
        ),
        (
            "pool(2, {\"on\": \"ssh\", \"hosts\": [\"h1\"], \"nodes\": 2})",
            "\"nodes\" is an option of \"on\": \"slurm\", not of \"ssh\"",
        ),
        (
            "pool(2, {\"on\": \"ssh\", \"hosts\": [\"h1\"], \"srun\": []})",
            "\"srun\" is an option of \"on\": \"slurm\", not of \"ssh\"",
        ),
        (
            "pool(2, {\"on\": \"ssh\", \"hosts\": [1, 2]})",
            "\"hosts\" is a list of strings, not a list holding an int",
        ),
        (
            "pool(2, {\"on\": \"ssh\", \"hosts\": [\"h1\"], \"command\": \" \"})",
            "\"command\" is a non-empty string, not an empty one",
        ),
        (
            "pool(2, {\"on\": 5})",
            "\"on\" is \"ssh\" or \"slurm\", not 5",
        ),
    ];
    for (code, message) in cases {
        let result = common::run_code(code);
        assert_eq!(result.code, 1, "{code}: {}", result.stderr);
        assert!(result.stderr.contains(message), "{code}: {}", result.stderr);
    }
}

#[test]
fn an_unknown_pool_option_lists_the_known_ones() {
    let result = common::run_code("pool(2, {\"on\": \"ssh\", \"hostz\": [\"h1\"]})");
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("`pool` has no option `hostz`"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("init, max_tasks, on, hosts, ssh, command, nodes, srun"),
        "{}",
        result.stderr
    );
    let both =
        common::run_code("pool(2, {\"on\": \"ssh\", \"hosts\": [\"h1\"], \"max_tasks\": 3})");
    assert_eq!(both.code, 1);
    assert!(
        both.stderr
            .contains("`max_tasks` is not available with \"on\""),
        "{}",
        both.stderr
    );
    let lone = common::run_code("pool(2, {\"hosts\": [\"h1\"]})");
    assert!(
        lone.stderr
            .contains("\"hosts\" needs \"on\": \"ssh\" or \"slurm\""),
        "{}",
        lone.stderr
    );
}

#[test]
fn the_tree_shows_each_remote_worker_with_its_host_and_explain_names_the_launcher() {
    let Some(cluster) = cluster("views") else {
        return;
    };
    let script = "let p = pool_on(2)\nprint(p.map(fn(x) { return x + 1 }, [1, 2]))\np.close()\n";
    let mark = new_mark("views");
    let command = marked_command(&mark);
    for option in ["--tree", "--explain"] {
        let cmd = cluster.driver_with(&[option], "views", script, "ssh", &command);
        let result = run(cmd);
        assert_eq!(result.stdout, "[2, 3]\n", "{}", result.stderr);
        let wanted = match option {
            "--tree" => "pool worker at line 9 on h1 (pid ",
            _ => " answered over `ssh -F ",
        };
        assert!(
            result.stderr.contains(wanted),
            "{option}: {}",
            result.stderr
        );
        assert!(
            result.stderr.contains("h2 (pid "),
            "{option}: {}",
            result.stderr
        );
        // Each host's one connection: its link, with the launcher under it.
        let link = match option {
            "--tree" => "link at line 9 to h1 (pid ",
            _ => "the worker host on h1 (pid ",
        };
        assert!(result.stderr.contains(link), "{option}: {}", result.stderr);
    }
    assert_marked_gone(&mark, Duration::from_secs(10), "views");
}

#[test]
fn when_every_remote_worker_is_lost_the_waiting_map_fails_and_does_not_hang() {
    let Some(cluster) = cluster("all_lost") else {
        return;
    };
    // Real ssh until the flag file exists; then every new connection fails (exit 255), as
    // when the hosts went down.
    let dir = std::env::temp_dir().join(format!("remote-pools-all-lost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let flag = dir.join("hosts-down");
    let _ = std::fs::remove_file(&flag);
    let config = cluster.dir.join("ssh_config");
    let script = format!(
        r#"
fn slow(x) {{
  sleep(0.5)
  return x
}}
let ssh = ["sh", "-c", "test -e {flag} && exit 255; exec ssh -F {config} \"$@\"", "ssh"]
let p = pool(2, {{"on": "ssh", "hosts": ["h1", "h2"], "ssh": ssh, "command": args[1]}})
print("ready")
try {{
  print(p.map(slow, range(20)))
}} catch e {{
  print("map failed:", contains(e, "no worker is left") or contains(e, "was lost 3 times"))
}}
"#,
        flag = flag.display(),
        config = config.display()
    );
    let mark = new_mark("alllost");
    let child = start_ready(&cluster, "alllost", &script, "ssh", &mark);
    std::fs::write(&flag, "").unwrap();
    let started = Instant::now();
    while worker_hosts(&mark).len() < 2 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for host in worker_hosts(&mark) {
        let _ = Command::new("kill")
            .args(["-KILL", &host.to_string()])
            .status();
    }
    let result = common::to_run(child.wait_with_output().expect("the driver ends"));
    assert_eq!(result.stdout, "map failed: true\n", "{}", result.stderr);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_marked_gone(&mark, Duration::from_secs(10), "all lost");
}

#[test]
fn timeout_and_an_uncaught_error_stop_every_remote_worker() {
    let Some(cluster) = cluster("timeout") else {
        return;
    };
    for (option, code) in [("--timeout", 124), ("error", 1)] {
        let mark = new_mark("timeout");
        let script = match option {
            "--timeout" => SLEEPY_MAP.to_string(),
            _ => SLEEPY_MAP.replace(
                "print(p.map",
                "let t = p.submit(sleepy, [1])\nsleep(1)\nerror(\"stop\")\nprint(p.map",
            ),
        };
        let options: &[&str] = match option {
            "--timeout" => &["--timeout", "4"],
            _ => &[],
        };
        let command = marked_command(&mark);
        let cmd = cluster.driver_with(options, "timeout", &script, "slurm", &command);
        let result = run(cmd);
        assert_eq!(result.code, code, "{option}: {}", result.stderr);
        assert_marked_gone(&mark, Duration::from_secs(3), option);
    }
}

/// Tasks taken back before their worker starts them, by `t.cancel()` and by a `break` out of
/// `imap`, while the one worker runs a slow task; DIR is where each task that runs leaves a file.
const TAKEN_BACK: &str = r#"
let p = pool_on(1)
let first = p.submit(fn() {
  sleep(1)
  return "first"
}, [])
let ts = []
for k in 0..5 {
  push(ts, p.submit(fn(k) { write_file("DIR/cancelled_{k}", "ran") }, [k]))
}
let cancelled = 0
for t in ts {
  if t.cancel() { cancelled += 1 }
}
print(cancelled, join first, state(ts[0]))
for r in p.imap(fn(k) {
  write_file("DIR/imap_{k}", "ran")
  sleep(0.2)
  return k
}, range(20)) {
  print("first result", r)
  break
}
p.close()
let counts = {"cancelled": 0, "imap": 0}
for name in list_dir("DIR") {
  let kind = split(name, "_")[0]
  counts[kind] += 1
}
print(counts["cancelled"])
print(counts["imap"] <= 2)
"#;

#[test]
fn a_task_taken_back_before_it_starts_never_runs_on_a_remote_worker() {
    let Some(cluster) = cluster("taken_back") else {
        return;
    };
    for engine in ["local", "ssh", "slurm"] {
        let dir =
            std::env::temp_dir().join(format!("remote-taken-back-{engine}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a folder for the tasks' files");
        let script = TAKEN_BACK.replace("DIR", dir.to_str().unwrap());
        let result = cluster.run("taken_back", &script, engine);
        assert_eq!(
            result.stdout, "5 first cancelled\nfirst result 0\n0\ntrue\n",
            "{engine}: {}",
            result.stderr
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_trace_has_a_perfetto_process_per_host_and_the_timeline_a_band_per_host() {
    let Some(cluster) = cluster("host_views") else {
        return;
    };
    let script = "let p = pool_on(4)\nprint(p.map(fn(x) { return x + 1 }, [1, 2]))\np.close()\n";
    let mark = new_mark("hostviews");
    let command = marked_command(&mark);
    let options = ["--trace=t.json", "--timeline=t.svg"];
    let cmd = cluster.driver_with(&options, "host_views", script, "ssh", &command);
    let dir = cmd.get_current_dir().expect("a folder").to_path_buf();
    let result = run(cmd);
    assert_eq!(result.stdout, "[2, 3]\n", "{}", result.stderr);
    assert_marked_gone(&mark, Duration::from_secs(10), "views");
    let trace = std::fs::read_to_string(dir.join("t.json")).expect("the trace");
    let trace: serde_json::Value = serde_json::from_str(&trace).expect("JSON");
    let events = trace["traceEvents"].as_array().expect("events");
    let named = |what: &str| -> Vec<(i64, String)> {
        events
            .iter()
            .filter(|e| e["name"] == what)
            .map(|e| {
                (
                    e["pid"].as_i64().unwrap(),
                    e["args"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let hosts: Vec<String> = named("process_name")
        .into_iter()
        .filter(|(_, name)| name.starts_with("host "))
        .map(|(_, name)| name)
        .collect();
    assert_eq!(
        hosts,
        [
            "host h1 (remote pool workers)",
            "host h2 (remote pool workers)",
            "host h3 (remote pool workers)"
        ]
    );
    // h1 has two workers (slots 0 and 3), a relay each, and one connection, a link and its ssh:
    // four threads of one process.
    let h1_pid = named("process_name")
        .into_iter()
        .find(|(_, name)| name.starts_with("host h1"))
        .map(|(pid, _)| pid)
        .unwrap();
    let h1_threads = named("thread_name")
        .into_iter()
        .filter(|(pid, _)| *pid == h1_pid)
        .count();
    assert_eq!(h1_threads, 4, "{trace}");
    let svg = std::fs::read_to_string(dir.join("t.svg")).expect("the timeline");
    for host in ["h1", "h2", "h3"] {
        assert_eq!(
            svg.matches(&format!("class=\"host\" data-host=\"{host}\""))
                .count(),
            1,
            "{svg}"
        );
        assert!(
            svg.contains(&format!("pool worker on {host} (line ")),
            "{svg}"
        );
    }
}

/// A pool whose workers call `init` first; `init` fails when `args[3]` is "fail".
const WITH_INIT: &str = r#"
let started = value(0)
fn setup() {
  if args[3] == "fail" { error("no setup for this worker") }
  started.add(1)
}
let opts = {"init": setup}
if args[0] != "local" {
  opts["on"] = args[0]
  opts["command"] = args[1]
}
if args[0] == "ssh" {
  opts["hosts"] = ["h1", "h2", "h3"]
  opts["ssh"] = ["ssh", "-F", args[2]]
}
let p = pool(3, opts)
try { print(p.map(fn(x) { return x * 10 }, range(6))) } catch e { print(e) }
p.close()
print("workers started:", started.get())
"#;

#[test]
fn a_remote_pools_init_runs_in_each_worker_before_its_tasks() {
    let Some(cluster) = cluster("remote_init") else {
        return;
    };
    for engine in ["local", "ssh", "slurm"] {
        for (how, expected) in [
            ("works", "[0, 10, 20, 30, 40, 50]\nworkers started: 3\n"),
            ("fail", "no setup for this worker"),
        ] {
            let mark = new_mark("init");
            let mut cmd = cluster.driver("remote_init", WITH_INIT, engine, &marked_command(&mark));
            cmd.arg(how);
            let result = run(cmd);
            assert_eq!(result.code, 0, "{engine} {how}: {}", result.stderr);
            assert!(
                result.stdout.contains(expected),
                "{engine} {how}: {}",
                result.stdout
            );
            assert_marked_gone(&mark, Duration::from_secs(10), "init");
        }
    }
}
