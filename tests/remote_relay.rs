//! Queues, locks, events, semaphores, barriers, values and pipe ends given to remote tasks, relayed
//! through the driver, against the real sshd hosts and Slurm nodes of `tools/cluster.sh` (see
//! tests/common/remote.rs for the marks that find every remote process).

mod common;

use common::remote::{
    assert_marked_gone, cluster, ctrl_c_leaves_nothing, marked_command, new_mark, start_ready,
};
use common::{procscript, run};
use std::time::Duration;

/// Remote tasks use the driver's queue, lock, value, event, barrier, semaphore and pipe end; the
/// driver itself waits on them meanwhile (its relays make the calls, not the driver).
const RELAYED: &str = r#"
let q = queue()
let back = queue()
let l = lock()
let total = value(0)
let e = event()
let s = semaphore(2)
let b = barrier(2)
let ends = pipe()
let p = pool_on(3)
fn produce(q, k) {
  for i in 0..4 { q.put([k, i]) }
  return k
}
let ts = []
for k in 0..3 { push(ts, p.submit(produce, [q, k])) }
let got = []
for i in 0..12 { push(got, q.get()) }
print(sort(got))
for t in ts { join t }
let c = p.submit(fn(back) {
  let sum = 0
  for i in 0..5 { sum += back.get() }
  return sum
}, [back])
for i in 1..6 { back.put(i) }
print("consumed", join c)
let counted = p.map(fn(n) {
  for i in 0..25 { l.with(fn() { total.set(total.get() + 1) }) }
  return n
}, range(6))
print(counted, total.get())
let w = p.submit(fn() {
  e.wait()
  return total.add(1)
}, [])
e.set()
print("after the event", join w)
let t = p.submit(fn(end) {
  end.send("ping")
  return end.recv()
}, [ends[1]])
print(ends[0].recv())
ends[0].send("pong")
print(join t)
let bt = p.submit(fn() { return b.wait() }, [])
let mine = b.wait()
print("barrier", sort([mine, join bt]))
print(p.apply(fn() {
  s.acquire()
  let v = s.value()
  s.release()
  return [v, type(s), type(q), l.locked(), e.is_set()]
}, []))
try { p.apply(fn() { return q.get(0.2) }, []) } catch err {
  print(contains(err, "q.get timed out after 0.2 seconds: the queue stayed empty"))
}
p.close()
print("done")
"#;

#[test]
fn queues_locks_and_pipe_ends_given_to_remote_tasks_are_relayed_through_the_driver() {
    let Some(cluster) = cluster("relayed") else {
        return;
    };
    let local = cluster.run("relayed", RELAYED, "local");
    assert_eq!(
        local.stdout,
        "[[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1], [1, 2], [1, 3], [2, 0], [2, 1], [2, 2], [2, 3]]\n\
         consumed 15\n[0, 1, 2, 3, 4, 5] 150\nafter the event 151\nping\npong\nbarrier [0, 1]\n\
         [1, \"semaphore\", \"queue\", false, true]\ntrue\ndone\n",
        "{}",
        local.stderr
    );
    cluster.assert_same_remotely("relayed", RELAYED, &local);
}

#[test]
fn the_folder_copier_copies_the_same_on_ssh_and_on_slurm_as_with_a_local_pool() {
    let Some(cluster) = cluster("copy_folder") else {
        return;
    };
    let root = std::env::temp_dir().join(format!("remote-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let src = root.join("src");
    std::fs::create_dir_all(src.join("a/b")).expect("a source tree");
    for i in 0..24 {
        std::fs::write(src.join(format!("f{i}")), format!("{i}\n").repeat(i * 500)).unwrap();
    }
    std::fs::write(src.join("a/b/deep"), "deep\n").unwrap();
    std::os::unix::fs::symlink("f1", src.join("link")).unwrap();
    let original = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/copy_folder.proc"),
    )
    .expect("the folder copier");
    let ssh_config = cluster.dir.join("ssh_config");
    let mut outputs = Vec::new();
    for engine in ["local", "ssh", "slurm"] {
        let mark = new_mark("copy");
        let options = match engine {
            "local" => "4".to_string(),
            "ssh" => format!(
                "6, {{\"on\": \"ssh\", \"hosts\": [\"h1\", \"h2\", \"h3\"], \"ssh\": [\"ssh\", \"-F\", \"{}\"], \"command\": \"{}\"}}",
                ssh_config.display(),
                marked_command(&mark)
            ),
            _ => format!(
                "6, {{\"on\": \"slurm\", \"command\": \"{}\"}}",
                marked_command(&mark)
            ),
        };
        let script = root.join(format!("copy_{engine}.proc"));
        std::fs::write(
            &script,
            original.replace("pool(4)", &format!("pool({options})")),
        )
        .unwrap();
        let dst = root.join(format!("dst_{engine}"));
        let mut cmd = procscript(&[
            script.to_str().unwrap(),
            src.to_str().unwrap(),
            dst.to_str().unwrap(),
        ]);
        cmd.current_dir(&root)
            .envs(cluster.env.iter().map(|(k, v)| (k, v)))
            .env_remove("SLURM_JOB_ID");
        let result = run(cmd);
        assert_eq!(result.code, 0, "{engine}: {}", result.stderr);
        assert_marked_gone(&mark, Duration::from_secs(10), engine);
        outputs.push(result.stdout);
    }
    assert_eq!(
        outputs[0],
        "copied 26 files in 2 folders, 391505 bytes; 0 differ\n"
    );
    assert_eq!(outputs[1], outputs[0]);
    assert_eq!(outputs[2], outputs[0]);
    let _ = std::fs::remove_dir_all(&root);
}

/// Remote tasks that wait on the driver's queue and lock, which never come.
const BLOCKED: &str = r#"
let q = queue()
let l = lock()
let waiting = value(0)
l.acquire()
let p = pool_on(2)
let t = p.submit(fn() {
  waiting.add(1)
  return q.get()
}, [])
let u = p.submit(fn() {
  waiting.add(1)
  return l.acquire()
}, [])
while waiting.get() < 2 { sleep(0.05) }
print("ready")
sleep(60)
"#;

#[test]
fn relayed_waits_end_on_ctrl_c_and_timeout_leaving_no_process_on_any_host() {
    let Some(cluster) = cluster("relayed_stop") else {
        return;
    };
    for engine in ["ssh", "slurm"] {
        let mark = new_mark("relayedstop");
        let child = start_ready(&cluster, "relayedstop", BLOCKED, engine, &mark);
        ctrl_c_leaves_nothing(child, &mark, engine);
    }
    let mark = new_mark("relayedtimeout");
    let command = marked_command(&mark);
    let options = ["--timeout", "3"];
    let cmd = cluster.driver_with(&options, "relayedtimeout", BLOCKED, "ssh", &command);
    let result = run(cmd);
    assert_eq!(result.code, 124, "{}", result.stderr);
    assert_eq!(result.stdout, "ready\n");
    assert_marked_gone(&mark, Duration::from_secs(3), "--timeout");
}

#[test]
fn a_relayed_wait_nobody_can_end_is_a_deadlock_as_in_a_local_pool() {
    let Some(cluster) = cluster("relayed_deadlock") else {
        return;
    };
    let script = r#"
let q = queue()
let p = pool_on(2)
try { p.apply(fn() { return q.get() }, []) } catch err {
  print(contains(err, "which waits to get from an empty queue that only main"))
}
"#;
    for engine in ["local", "ssh"] {
        let result = cluster.run(
            "relayed_deadlock",
            &script.replace("\n}\n", "\n}\np.terminate()\n"),
            engine,
        );
        assert_eq!(result.stdout, "true\n", "{engine}: {}", result.stderr);
        assert_eq!(result.code, 0, "{engine}: {}", result.stderr);
    }
}

#[test]
fn only_the_remote_task_itself_may_use_the_drivers_queue() {
    let Some(cluster) = cluster("relayed_child") else {
        return;
    };
    let script = r#"
let q = queue()
fn put_one(q) { q.put(1) }
let p = pool_on(1)
try { p.apply(fn(q) { join spawn put_one(q) }, [q]) } catch err { print(err) }
p.apply(fn(q) { q.put(2) }, [q])
print(q.get())
"#;
    let result = cluster.run("relayed_child", script, "ssh");
    assert_eq!(result.code, 0, "{}", result.stderr);
    let re = fancy_regex::Regex::new(
        r"^the task failed on h1 \(pid \d+\): .*this queue belongs to the driver, and only the remote task it was given to can use it\n2\n$",
    )
    .unwrap();
    assert!(re.is_match(&result.stdout).unwrap(), "{}", result.stdout);
}
