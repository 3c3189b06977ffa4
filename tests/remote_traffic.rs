//! Heavy traffic over one connection per host: several workers of a host moving big tasks and
//! answers at once must not stall the connection (real engines of `tools/cluster.sh`).

mod common;

use common::remote::{assert_marked_gone, cluster, marked_command, new_mark};
use common::run;
use std::time::Duration;

/// Two workers a host, each task and each answer 4 MB: the driver's link writes tasks to the host
/// while the host writes answers back, both far beyond what a pipe or an ssh channel holds.
const BIG_BOTH_WAYS: &str = r#"
fn grow(s) { return s + "y" }
let p = pool_on(6)
let big = "x" * (4 * 1024 * 1024)
let items = []
for i in range(18) { push(items, big) }
let r = p.map(grow, items)
let ok = true
for s in r { if len(s) != 4 * 1024 * 1024 + 1 { ok = false } }
print(ok, len(r))
p.close()
"#;

#[test]
fn big_tasks_and_answers_of_several_workers_of_a_host_do_not_stall_the_connection() {
    let Some(cluster) = cluster("big_both_ways") else {
        return;
    };
    for engine in ["local", "ssh", "slurm"] {
        let mark = new_mark("big");
        // A stalled connection ends by the timeout (exit 124) instead of hanging the suite.
        let cmd = cluster.driver_with(
            &["--timeout", "60"],
            "big",
            BIG_BOTH_WAYS,
            engine,
            &marked_command(&mark),
        );
        let result = run(cmd);
        assert_eq!(result.code, 0, "{engine}: {}", result.stderr);
        assert_eq!(result.stdout, "true 18\n", "{engine}: {}", result.stderr);
        assert_marked_gone(&mark, Duration::from_secs(10), engine);
    }
}

/// A refusal by one of several ssh hosts that share a machine names the host as the pool does:
/// the machine's own name (the same for all three here) does not say which one refused.
#[test]
fn a_host_that_refuses_is_named_as_the_pool_names_it() {
    let Some(cluster) = cluster("refusing_host") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("remote-refusing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let wrapper = dir.join("worker.sh");
    // Only the second host runs a worker of another version (its sshd names it in the session).
    let text = format!(
        "case \"$PROCSCRIPT_CLUSTER_HOST\" in *h2) export PROCSCRIPT_WORKER_CLAIMS_VERSION=9.9.9 ;; esac\n\
         exec {} \"$@\"\n",
        common::BIN
    );
    std::fs::write(&wrapper, text).expect("the wrapper");
    let mark = new_mark("refusing");
    let command = format!("env PROCSCRIPT_TEST_MARK={mark} sh {}", wrapper.display());
    let script = "let p = pool_on(3)\nprint(\"not reached\")\n";
    let result = run(cluster.driver("refusing", script, "ssh", &command));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("ssh host h2: the worker on"),
        "{}",
        result.stderr
    );
    assert_marked_gone(&mark, Duration::from_secs(10), "refusing");
}
