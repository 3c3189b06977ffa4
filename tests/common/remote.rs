//! The remote pool tests' way to the cluster: the driver run with the cluster's variables and
//! a mark in the remote procscript's environment, and the check that no marked process is left.
//!
//! Every test skips with a printed reason when PROCSCRIPT_CLUSTER_DIR is unset (a machine
//! without `tools/cluster.sh up`); `.ci/run` sets it. Remote processes are found by a mark:
//! each test runs the remote procscript as `env PROCSCRIPT_TEST_MARK=<unique> BIN`, and the
//! mark is in the environment of every process it starts there (all hosts share this
//! machine's /proc), so tests running at once never see each other's processes.

use super::{procscript, run, Run, BIN};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cluster's state folder and the variables of its env file (`SLURM_CONF`...).
pub struct Cluster {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
}

pub fn cluster(test: &str) -> Option<Cluster> {
    let Some(dir) = std::env::var_os("PROCSCRIPT_CLUSTER_DIR") else {
        eprintln!("skipped {test}: PROCSCRIPT_CLUSTER_DIR is unset (run `tools/cluster.sh up`)");
        return None;
    };
    let dir = PathBuf::from(dir);
    let text = std::fs::read_to_string(dir.join("env"))
        .unwrap_or_else(|e| panic!("PROCSCRIPT_CLUSTER_DIR is set but its env file: {e}"));
    let env = text
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().strip_prefix("export ")?.split_once('=')?;
            Some((name.to_string(), value.trim_matches('"').to_string()))
        })
        .collect();
    Some(Cluster { dir, env })
}

/// A mark no other run carries.
pub fn new_mark(test: &str) -> String {
    format!(
        "{test}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    )
}

/// The remote procscript with the mark in its environment.
pub fn marked_command(mark: &str) -> String {
    format!("env PROCSCRIPT_TEST_MARK={mark} {BIN}")
}

/// The pids whose environment carries the mark.
pub fn marked(mark: &str) -> Vec<i32> {
    let needle = format!("PROCSCRIPT_TEST_MARK={mark}\0");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .filter(|pid| !is_zombie(*pid))
        .collect()
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

/// Fails unless no process of the mark is left within `within`.
pub fn assert_marked_gone(mark: &str, within: Duration, what: &str) {
    let started = Instant::now();
    loop {
        let left = marked(mark);
        if left.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{what}: still running after {within:?}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The pool options a script reads from its args: `local`, `ssh` or `slurm`, then the remote
/// command, then the ssh config.
pub const OPTIONS: &str = r#"
fn pool_on(n) {
  if args[0] == "local" { return pool(n) }
  let opts = {"on": args[0], "command": args[1]}
  if args[0] == "ssh" {
    opts["hosts"] = ["h1", "h2", "h3"]
    opts["ssh"] = ["ssh", "-F", args[2]]
  }
  return pool(n, opts)
}
"#;

impl Cluster {
    /// `procscript SCRIPT ENGINE COMMAND SSH_CONFIG`, from a fresh folder, with the cluster's variables.
    pub fn driver(&self, test: &str, script: &str, engine: &str, command: &str) -> Command {
        self.driver_with(&[], test, script, engine, command)
    }

    /// The same with procscript's `options` (`--timeout 3`) before the script.
    pub fn driver_with(
        &self,
        options: &[&str],
        test: &str,
        script: &str,
        engine: &str,
        command: &str,
    ) -> Command {
        let dir = std::env::temp_dir().join(format!(
            "remote-pools-{test}-{engine}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("a test folder");
        let path = dir.join("work.proc");
        std::fs::write(&path, format!("{OPTIONS}{script}")).expect("the script is written");
        let config = self.dir.join("ssh_config");
        let mut args = options.to_vec();
        args.extend([
            path.to_str().unwrap(),
            engine,
            command,
            config.to_str().unwrap(),
        ]);
        let mut cmd = procscript(&args);
        cmd.current_dir(&dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env_remove("SLURM_JOB_ID");
        cmd
    }

    /// Runs `script` on ssh and on Slurm: each ends with 0 and prints `local`'s stdout.
    pub fn assert_same_remotely(&self, test: &str, script: &str, local: &Run) {
        for engine in ["ssh", "slurm"] {
            let remote = self.run(test, script, engine);
            assert_eq!(remote.code, 0, "{engine}: {}", remote.stderr);
            assert_eq!(remote.stdout, local.stdout, "{engine}: {}", remote.stderr);
        }
    }

    pub fn run(&self, test: &str, script: &str, engine: &str) -> Run {
        let mark = new_mark(test);
        let result = run(self.driver(test, script, engine, &marked_command(&mark)));
        assert_marked_gone(
            &mark,
            Duration::from_secs(10),
            &format!("{test} on {engine}"),
        );
        result
    }
}

/// Starts the driver; returns it once it has printed "ready".
/// Ctrl-C at a terminal (SIGINT to the driver's whole process group): the driver ends with 130
/// and no process of `mark` is left on any host within 3 s.
pub fn ctrl_c_leaves_nothing(child: Child, mark: &str, engine: &str) {
    let group = child.id() as i32;
    let _ = Command::new("kill")
        .args(["-INT", "--", &format!("-{group}")])
        .status();
    let result = super::to_run(child.wait_with_output().expect("the driver ends"));
    assert_eq!(result.code, 130, "{engine}: {}", result.stderr);
    assert_marked_gone(mark, Duration::from_secs(3), &format!("Ctrl-C on {engine}"));
    super::assert_no_leftovers(group);
}

pub fn start_ready(cluster: &Cluster, test: &str, script: &str, engine: &str, mark: &str) -> Child {
    let mut child = cluster
        .driver(test, script, engine, &marked_command(mark))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procscript starts");
    let mut stdout = child.stdout.take().expect("piped");
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"ready\n") {
        match std::io::Read::read(&mut stdout, &mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => panic!(
                "the driver ended before it was ready: {}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
    child.stdout = Some(stdout);
    child
}

/// A process's parent (0 when it is gone).
pub fn parent_of(pid: i32) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Whether a process is a `procscript --worker` (a worker host, or a pool worker it forked).
pub fn is_worker(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.windows(8).any(|w| w == b"--worker"))
}
