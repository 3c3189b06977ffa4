//! The real SSH hosts and Slurm nodes that `tools/cluster.sh up` started, as the cluster tests reach them.
//!
//! `up` writes `$PROCSCRIPT_CLUSTER_DIR/env` (`export NAME=value` lines): the tests read it and
//! give every command they start those variables (`SLURM_CONF` for `srun`). SSH hosts h1..h3 are
//! reached with `ssh -F $PROCSCRIPT_CLUSTER_DIR/ssh_config hN`; Slurm nodes are n1..n3. The
//! hosts have no `procscript` on PATH: a pool names the binary with `"command": BIN`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The SSH hosts `tools/cluster.sh` starts.
pub const HOSTS: [&str; 3] = ["h1", "h2", "h3"];
/// The Slurm nodes `tools/cluster.sh` starts.
pub const NODES: [&str; 3] = ["n1", "n2", "n3"];

/// A running cluster: its state folder and the variables its `env` file exports.
pub struct Cluster {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Cluster {
    /// The cluster named by `PROCSCRIPT_CLUSTER_DIR`, or `None` (with the reason printed) when
    /// that is unset: a developer's machine without `tools/cluster.sh up`. Set but not up is a
    /// failure, so CI, which sets it, never skips.
    pub fn from_env(test: &str) -> Option<Cluster> {
        let Some(dir) = std::env::var_os("PROCSCRIPT_CLUSTER_DIR") else {
            eprintln!(
                "skipped {test}: PROCSCRIPT_CLUSTER_DIR is unset \
                 (run `tools/cluster.sh up` as root, then `. /tmp/procscript-cluster/env`)"
            );
            return None;
        };
        let dir = PathBuf::from(dir);
        let env_file = dir.join("env");
        let text = std::fs::read_to_string(&env_file).unwrap_or_else(|e| {
            panic!(
                "PROCSCRIPT_CLUSTER_DIR is set but {} cannot be read ({e}): is the cluster up?",
                env_file.display()
            )
        });
        Some(Cluster {
            dir,
            env: parse_env(&text),
        })
    }

    /// The generated client config that names h1..h3.
    pub fn ssh_config(&self) -> PathBuf {
        self.dir.join("ssh_config")
    }

    /// A command with the cluster's variables set and stdin closed.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// `ssh -F <state>/ssh_config HOST SCRIPT`.
    pub fn ssh(&self, host: &str, script: &str) -> Command {
        let mut cmd = self.command("ssh");
        cmd.arg("-F").arg(self.ssh_config()).args([host, script]);
        cmd
    }

    /// `srun ARGS...` against the cluster's slurm.conf.
    pub fn srun(&self, args: &[&str]) -> Command {
        let mut cmd = self.command("srun");
        cmd.args(args);
        cmd
    }

    /// The processes of a host or node (its sshd or slurmd aside), as `tools/cluster.sh ps`
    /// lists them: "pid ppid args" lines.
    pub fn processes(&self, name: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.tool(&["ps", name]))
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The pids among a host's or node's processes.
    pub fn pids(&self, name: &str) -> Vec<i32> {
        self.processes(name)
            .iter()
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect()
    }

    /// Fails unless every host and node has no process left within `within`.
    pub fn assert_all_clean(&self, within: Duration, what: &str) {
        let started = Instant::now();
        loop {
            let left: Vec<String> = HOSTS
                .iter()
                .chain(NODES.iter())
                .flat_map(|name| {
                    self.processes(name)
                        .into_iter()
                        .map(move |p| format!("{name}: {p}"))
                })
                .collect();
            if left.is_empty() {
                return;
            }
            assert!(
                started.elapsed() < within,
                "{what}: still running after {within:?}:\n{}",
                left.join("\n")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// `export NAME=value` (or `NAME="value"`) lines, as `tools/cluster.sh` writes them.
fn parse_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim().strip_prefix("export ")?;
            let (name, value) = line.split_once('=')?;
            Some((name.to_string(), value.trim_matches('"').to_string()))
        })
        .collect()
}

impl Cluster {
    /// `tools/cluster.sh VERB [NAME]`, which must succeed: `kill NAME` (the host or node dies)
    /// and `up` (everything that is not running starts again).
    pub fn tool(&self, args: &[&str]) -> Vec<u8> {
        let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/cluster.sh");
        let out = self
            .command("bash")
            .arg(tool)
            .args(args)
            .output()
            .expect("tools/cluster.sh runs");
        assert!(
            out.status.success(),
            "tools/cluster.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}
