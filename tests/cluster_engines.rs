//! The engines the cluster tests stand on: three real SSH hosts and a real three-node Slurm (`tools/cluster.sh`).
//!
//! These check the engines, not procscript: each host runs commands in its own sshd's tree, `srun
//! -N3` puts one task on each node, and nothing is left on any host after a session or step ends,
//! also when its client is killed. They skip with a printed reason only when
//! PROCSCRIPT_CLUSTER_DIR is unset; `.ci/run` sets it.

mod common;

use common::cluster::{Cluster, HOSTS, NODES};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The tests check that every host is clean, so they must not overlap.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The cluster, held for this test alone; `None` (the reason printed) when there is none.
fn cluster(test: &str) -> Option<(Cluster, MutexGuard<'static, ()>)> {
    let cluster = Cluster::from_env(test)?;
    Some((
        cluster,
        ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner()),
    ))
}

/// Generous: the machine is a loaded 2-core one.
const CLEAN_WITHIN: Duration = Duration::from_secs(60);

/// The first `n` lines of the child's stdout; kills the child and fails if they take over 60 s.
fn first_lines(child: &mut Child, n: usize) -> Vec<String> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().take(n) {
            let _ = send.send(line.unwrap_or_default());
        }
    });
    let mut lines = Vec::new();
    while lines.len() < n {
        match receive.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("expected {n} lines within 60 s, got {lines:?}");
            }
        }
    }
    lines
}

/// The child's exit code (None: killed by a signal); kills it and fails if it runs past `within`.
fn wait_within(child: &mut Child, within: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status.code();
        }
        if started.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {within:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Checks that `srun -N3 -n3 printenv SLURMD_NODENAME` succeeds with one task on each node.
fn assert_one_task_per_node(cluster: &Cluster, what: &str) {
    let out = cluster
        .srun(&["-N3", "-n3", "-t", "2", "printenv", "SLURMD_NODENAME"])
        .output()
        .expect("srun runs");
    let mut nodes: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    nodes.sort();
    assert_eq!(
        (out.status.code(), nodes),
        (Some(0), NODES.map(String::from).to_vec()),
        "srun -N3 {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `srun -N3 -n3 sh -c SCRIPT`, its stdout piped.
fn start_step(cluster: &Cluster, script: &str) -> Child {
    cluster
        .srun(&["-N3", "-n3", "-t", "2", "sh", "-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("srun starts")
}

/// Which of the names (hosts or nodes) list the pid among their processes.
fn holders(cluster: &Cluster, names: &[&str], pid: i32) -> Vec<String> {
    names
        .iter()
        .filter(|name| cluster.pids(name).contains(&pid))
        .map(|name| name.to_string())
        .collect()
}

#[test]
fn the_three_ssh_hosts_answer_on_their_own_addresses() {
    let Some((cluster, _one)) = cluster("the_three_ssh_hosts_answer_on_their_own_addresses") else {
        return;
    };
    for (i, host) in HOSTS.iter().enumerate() {
        // SSH_CONNECTION is "client-addr client-port server-addr server-port".
        let out = cluster
            .ssh(
                host,
                "echo $PROCSCRIPT_CLUSTER_HOST $(echo $SSH_CONNECTION | cut -d' ' -f3)",
            )
            .output()
            .expect("ssh runs");
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned()
            ),
            (
                Some(0),
                format!("{host} 127.0.0.1{}\n", i + 1),
                String::new()
            ),
            "ssh {host}"
        );
    }
    cluster.assert_all_clean(CLEAN_WITHIN, "after three ssh commands");
}

/// Starts `ssh HOST 'echo $$; exec cat'`: the remote pid, and the child whose stdin feeds cat.
fn remote_cat(cluster: &Cluster, host: &str) -> (Child, i32) {
    let mut child = cluster
        .ssh(host, "echo $$; exec cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ssh starts");
    let pid = first_lines(&mut child, 1)[0]
        .trim()
        .parse()
        .expect("the remote shell prints its pid");
    (child, pid)
}

#[test]
fn an_ssh_command_runs_in_its_hosts_tree_and_ends_with_its_input() {
    let Some((cluster, _one)) = cluster("an_ssh_command_runs_in_its_hosts_tree") else {
        return;
    };
    let (mut child, pid) = remote_cat(&cluster, "h2");
    assert_eq!(holders(&cluster, &HOSTS, pid), ["h2"]);
    let listed = cluster.processes("h2");
    assert!(
        listed
            .iter()
            .any(|l| l.starts_with(&format!("{pid} ")) && l.ends_with("cat")),
        "h2 lists the remote cat: {listed:?}"
    );
    // The end of the remote command's input: cat ends, then the session.
    drop(child.stdin.take());
    let status = child.wait().expect("ssh ends");
    assert_eq!(status.code(), Some(0));
    cluster.assert_all_clean(CLEAN_WITHIN, "after the ssh command's input ended");
}

#[test]
fn killing_the_ssh_client_ends_the_remote_command() {
    let Some((cluster, _one)) = cluster("killing_the_ssh_client_ends_the_remote_command") else {
        return;
    };
    let (mut child, pid) = remote_cat(&cluster, "h3");
    assert_eq!(holders(&cluster, &HOSTS, pid), ["h3"]);
    child.kill().expect("SIGKILL the ssh client");
    child.wait().expect("reap the ssh client");
    cluster.assert_all_clean(CLEAN_WITHIN, "after the ssh client was killed");
}

#[test]
fn srun_puts_one_task_on_each_node() {
    let Some((cluster, _one)) = cluster("srun_puts_one_task_on_each_node") else {
        return;
    };
    assert_one_task_per_node(&cluster, "on a fresh cluster");
    cluster.assert_all_clean(CLEAN_WITHIN, "after a step that ended");
}

#[test]
fn a_steps_tasks_are_on_their_nodes_and_gone_when_srun_is_killed() {
    let Some((cluster, _one)) = cluster("a_steps_tasks_are_on_their_nodes") else {
        return;
    };
    let mut child = start_step(&cluster, "echo $SLURMD_NODENAME $$; exec sleep 600");
    let mut seen = Vec::new();
    for line in first_lines(&mut child, 3) {
        let (node, pid) = line.split_once(' ').expect("'node pid'");
        let pid: i32 = pid.parse().expect("a pid");
        assert_eq!(holders(&cluster, &NODES, pid), [node], "task {pid}");
        seen.push(node.to_string());
    }
    seen.sort();
    assert_eq!(seen, NODES);
    child.kill().expect("SIGKILL srun");
    child.wait().expect("reap srun");
    cluster.assert_all_clean(CLEAN_WITHIN, "after srun was killed");
}

#[test]
fn a_killed_host_drops_its_sessions_and_up_revives_it() {
    let Some((cluster, _one)) = cluster("a_killed_host_drops_its_sessions") else {
        return;
    };
    let (mut child, pid) = remote_cat(&cluster, "h1");
    assert_eq!(holders(&cluster, &HOSTS, pid), ["h1"]);
    cluster.tool(&["kill", "h1"]);
    // ssh's own code for a connection that was lost.
    assert_eq!(wait_within(&mut child, Duration::from_secs(60)), Some(255));
    cluster.assert_all_clean(CLEAN_WITHIN, "after h1 was killed");
    cluster.tool(&["up"]);
    let out = cluster.ssh("h1", "echo back").output().expect("ssh runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "back\n");
}

#[test]
fn a_killed_node_fails_its_step_and_up_revives_it() {
    let Some((cluster, _one)) = cluster("a_killed_node_fails_its_step") else {
        return;
    };
    let mut child = start_step(&cluster, "echo $SLURMD_NODENAME; exec sleep 600");
    first_lines(&mut child, 3);
    cluster.tool(&["kill", "n2"]);
    // Slurm notices the lost node (SlurmdTimeout, about 25 s here) and cancels the step.
    assert_ne!(wait_within(&mut child, Duration::from_secs(120)), Some(0));
    cluster.assert_all_clean(CLEAN_WITHIN, "after n2 was killed");
    cluster.tool(&["up"]);
    assert_one_task_per_node(&cluster, "after up");
}
