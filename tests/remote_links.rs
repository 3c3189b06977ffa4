//! One connection per remote host: a pool of 6 workers on 3 ssh hosts or 3 Slurm nodes opens 3
//! connections (ssh sessions, srun steps), each serving 2 workers, and a host that dies takes
//! its workers with it while their tasks fail over to the other hosts. Real engines
//! (`tools/cluster.sh`); these tests kill hosts, so they run one at a time, in a binary of their own.

mod common;

use common::cluster::Cluster as Engines;
use common::remote::{
    assert_marked_gone, cluster, is_worker, marked, new_mark, parent_of, start_ready,
};
use std::process::Child;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A pool of 6 on the three hosts (ssh) or nodes (Slurm); "ready" once it is made, then the
/// map starts when the file `go` exists.
const SIX_ON_THREE: &str = r#"
let opts = {"on": args[0], "command": args[1]}
if args[0] == "ssh" {
  opts["hosts"] = ["h1", "h2", "h3"]
  opts["ssh"] = ["ssh", "-F", args[2]]
} else {
  opts["nodes"] = 3
}
fn slow(x) {
  sleep(0.5)
  return x * x
}
let p = pool(6, opts)
print("ready")
while not exists("go") { sleep(0.02) }
let r = p.map(slow, range(36))
let want = []
for i in range(36) { push(want, i * i) }
print(r == want, len(r))
p.close()
"#;

/// Starts the driver on `engine`; returns it once the pool is made, and the folder it runs in.
fn start(test: &str, engine: &str, mark: &str) -> (Child, std::path::PathBuf) {
    let cluster = cluster(test).expect("checked by the caller");
    let child = start_ready(&cluster, test, SIX_ON_THREE, engine, mark);
    // The folder `Cluster::driver` runs the script in.
    let dir = std::env::temp_dir().join(format!(
        "remote-pools-{test}-{engine}-{}",
        std::process::id()
    ));
    (child, dir)
}

/// The mark's worker hosts (`procscript --worker` not forked by one) and pool workers (forked by one).
fn hosts_and_workers(mark: &str) -> (Vec<i32>, Vec<i32>) {
    marked(mark)
        .into_iter()
        .filter(|&pid| is_worker(pid))
        .partition(|&pid| !is_worker(parent_of(pid)))
}

/// Every process under `pid` in the driver's tree, by its command name.
fn descendants_named(pid: i32, name: &str) -> Vec<i32> {
    let mut found = Vec::new();
    let mut stack = common::children_of(pid);
    while let Some(p) = stack.pop() {
        let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        if comm.trim() == name {
            found.push(p);
            // srun's own helpers are not connections.
            continue;
        }
        stack.extend(common::children_of(p));
    }
    found
}

/// Waits (60 s at most) until `check` holds.
fn eventually(check: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while !check() {
        if started.elapsed() > Duration::from_secs(60) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn finish(child: Child, dir: &std::path::Path, engine: &str, mark: &str) {
    std::fs::write(dir.join("go"), "").expect("the go file");
    let result = common::to_run(child.wait_with_output().expect("the driver ends"));
    assert_eq!(result.code, 0, "{engine}: {}", result.stderr);
    assert_eq!(result.stdout, "true 36\n", "{engine}: {}", result.stderr);
    assert_marked_gone(mark, Duration::from_secs(10), engine);
}

#[test]
fn a_pool_of_six_on_three_hosts_opens_one_connection_a_host() {
    if cluster("one_connection_a_host").is_none() {
        return;
    }
    let _one = one_at_a_time();
    for (engine, launcher) in [("ssh", "ssh"), ("slurm", "srun")] {
        let mark = new_mark("links");
        let (child, dir) = start("links", engine, &mark);
        let counts = || {
            let (hosts, workers) = hosts_and_workers(&mark);
            (hosts.len(), workers.len())
        };
        eventually(|| counts() == (3, 6));
        assert_eq!(counts(), (3, 6), "{engine}: worker hosts and pool workers");
        let launchers = descendants_named(child.id() as i32, launcher);
        assert_eq!(launchers.len(), 3, "{engine}: {launchers:?}");
        finish(child, &dir, engine, &mark);
    }
}

#[test]
fn a_killed_host_fails_its_workers_tasks_over_and_the_other_hosts_go_on() {
    let Some(engines) = Engines::from_env("killed_host") else {
        return;
    };
    let _one = one_at_a_time();
    for engine in ["ssh", "slurm"] {
        let mark = new_mark("hostkill");
        let (child, dir) = start("hostkill", engine, &mark);
        assert!(eventually(|| hosts_and_workers(&mark).1.len() == 6));
        // The host (or node) of one worker host dies, with everything on it.
        let host = hosts_and_workers(&mark).0[0];
        let name = match engine {
            "ssh" => env_of(host, "PROCSCRIPT_CLUSTER_HOST"),
            _ => env_of(host, "SLURMD_NODENAME"),
        };
        std::fs::write(dir.join("go"), "").expect("the go file");
        std::thread::sleep(Duration::from_millis(300));
        engines.tool(&["kill", &name]);
        finish(child, &dir, engine, &mark);
        engines.tool(&["up"]);
    }
}

#[test]
fn an_ssh_host_that_stops_answering_is_given_up_and_its_tasks_fail_over() {
    // A frozen machine or a cut network keeps the TCP connection open: with
    // nothing sent back, the map waited for that host's answers for good.
    // ssh's keepalive (which procscript asks for) gives the host up.
    if cluster("frozen_host").is_none() {
        return;
    }
    let _one = one_at_a_time();
    let mark = new_mark("frozen");
    let (mut child, dir) = start("frozen", "ssh", &mark);
    assert!(eventually(|| hosts_and_workers(&mark).1.len() == 6));
    // The host's sshd session, which answers ssh's probes, stops.
    let session = parent_of(hosts_and_workers(&mark).0[0]);
    let comm = std::fs::read_to_string(format!("/proc/{session}/comm")).unwrap_or_default();
    assert_eq!(comm.trim(), "sshd", "the worker host's parent");
    let session = nix::unistd::Pid::from_raw(session);
    std::fs::write(dir.join("go"), "").expect("the go file");
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(session, nix::sys::signal::Signal::SIGSTOP).expect("SIGSTOP");
    let started = Instant::now();
    let ended = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(90) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Woken, the session finds its connection gone and ends with its worker host.
    let _ = nix::sys::signal::kill(session, nix::sys::signal::Signal::SIGCONT);
    if ended.is_none() {
        let _ = child.kill();
    }
    let result = common::to_run(child.wait_with_output().expect("the driver ends"));
    assert!(
        ended.is_some(),
        "the map still waited after 90 s: {}",
        result.stderr
    );
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert_eq!(result.stdout, "true 36\n", "{}", result.stderr);
    assert_marked_gone(&mark, Duration::from_secs(10), "ssh");
}

/// A variable of a process's environment.
fn env_of(pid: i32, name: &str) -> String {
    let env = std::fs::read(format!("/proc/{pid}/environ")).expect("its environment");
    let prefix = format!("{name}=");
    env.split(|&b| b == 0)
        .map(String::from_utf8_lossy)
        .find_map(|v| v.strip_prefix(&prefix).map(str::to_string))
        .unwrap_or_else(|| panic!("{pid} has no {name}"))
}
