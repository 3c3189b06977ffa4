//! `--trace OUT.json`: the run as Chrome trace events, for Perfetto and chrome://tracing:
//! a track per process, a span for its life, its waits, instants, and flow arrows.

use super::Run;
use serde_json::{json, Value};

fn us(run: &Run, t: f64) -> f64 {
    ((t - run.t0) * 1e6).max(0.0)
}

/// The events as they are made, each written out at once, one per line: a
/// trace of a million events never holds them all as JSON values (that took
/// gigabytes), only the text.
struct Events {
    text: Vec<u8>,
    count: usize,
    /// Ctrl-C, SIGTERM or the timeout came while drawing: the rest is not
    /// drawn (the caller sees the stop, and writes nothing).
    stopped: bool,
}

impl Events {
    fn push(&mut self, event: Value) {
        if self.stopped || (self.count % 4096 == 0 && crate::os::pending_stop().is_err()) {
            self.stopped = true;
            return;
        }
        if self.count > 0 {
            self.text.extend_from_slice(b",\n");
        }
        // Writing a json! value into memory cannot fail.
        let _ = serde_json::to_writer(&mut self.text, &event);
        self.count += 1;
    }
}

/// The trace as a JSON document (`{"traceEvents": [...]}`).
pub fn render(run: &Run) -> String {
    let mut events = Events {
        text: b"{\"traceEvents\": [\n".to_vec(),
        count: 0,
        stopped: false,
    };
    let mut flow_id = 0u64;
    let tracks = Tracks::of(run);
    for (rank, &i) in run.tree_order().iter().enumerate() {
        let p = &run.procs[i];
        let label = if p.name.is_empty() {
            format!("{} {}", p.pid, p.describe())
        } else {
            format!("{} {}", p.pid, p.name)
        };
        let (pid, tid) = tracks.of_proc(run, i);
        if let Some(host) = tracks.first_on_host(i) {
            events.push(json!({"name": "process_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": format!("host {host} (remote pool workers)")}}));
            events.push(json!({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": tid, "args": {"sort_index": rank}}));
        } else if pid == i64::from(p.pid) {
            events.push(json!({"name": "process_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": label}}));
            events.push(json!({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": tid, "args": {"sort_index": rank}}));
        }
        events.push(json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": format!("{} {}", p.pid, p.describe())}}));
        events.push(json!({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid, "args": {"sort_index": rank}}));
        events.push(json!({
            "name": p.describe(), "cat": "life", "ph": "X", "pid": pid, "tid": tid,
            "ts": us(run, p.start), "dur": us(run, p.end) - us(run, p.start),
            "args": {"outcome": p.outcome.to_string()},
        }));
        for (from, to, what) in &p.waits {
            events.push(json!({
                "name": format!("waiting: {what}"), "cat": "wait", "ph": "X", "pid": pid, "tid": tid,
                "ts": us(run, *from), "dur": us(run, *to) - us(run, *from),
            }));
        }
        if let Some(reaped) = p.reaped {
            if reaped > p.end {
                events.push(json!({
                    "name": "zombie (ended, not yet reaped)", "cat": "zombie", "ph": "X", "pid": pid, "tid": tid,
                    "ts": us(run, p.end), "dur": us(run, reaped) - us(run, p.end),
                }));
            }
        }
        for (t, what) in &p.marks {
            events.push(json!({"name": what, "cat": "os", "ph": "i", "s": "t", "pid": pid, "tid": tid, "ts": us(run, *t)}));
        }
        // An arrow from the parent's fork to the child's start, and from the
        // child's end to where the parent collected it.
        if let Some(parent) = p.parent {
            let (parent_pid, parent_tid) = tracks.of_proc(run, parent);
            flow_id += 1;
            events.push(json!({"name": "created", "cat": "flow", "ph": "s", "id": flow_id, "pid": parent_pid, "tid": parent_tid, "ts": us(run, p.start)}));
            events.push(json!({"name": "created", "cat": "flow", "ph": "f", "bp": "e", "id": flow_id, "pid": pid, "tid": tid, "ts": us(run, p.start)}));
            if let Some(reaped) = p.reaped {
                flow_id += 1;
                events.push(json!({"name": "reaped", "cat": "flow", "ph": "s", "id": flow_id, "pid": pid, "tid": tid, "ts": us(run, p.end)}));
                events.push(json!({"name": "reaped", "cat": "flow", "ph": "f", "bp": "e", "id": flow_id, "pid": parent_pid, "tid": parent_tid, "ts": us(run, reaped)}));
            }
        }
    }
    let mut text = events.text;
    let rest = json!({"lost_events": run.lost});
    text.extend_from_slice(b"\n],\n\"displayTimeUnit\": \"ms\",\n\"otherData\": ");
    let _ = serde_json::to_writer(&mut text, &rest);
    text.extend_from_slice(b"\n}\n");
    // Every byte came from serde_json or the ASCII above.
    String::from_utf8(text).unwrap_or_default()
}

/// Where each process's events go: its own track, or, for a remote pool
/// worker's relay and its launcher, a thread of one Perfetto process per host.
struct Tracks {
    /// Each host, in the order first met (its process is `HOST_PIDS +
    /// index`), with the first process met on it.
    hosts: Vec<(String, usize)>,
}

/// Above any real pid (Linux's most is 2^22): the hosts' made-up process ids.
const HOST_PIDS: i64 = 1 << 30;

impl Tracks {
    fn of(run: &Run) -> Tracks {
        let mut hosts: Vec<(String, usize)> = Vec::new();
        for i in run.tree_order() {
            if let Some(host) = run.host_of(i) {
                if !hosts.iter().any(|(h, _)| h == host) {
                    hosts.push((host.to_string(), i));
                }
            }
        }
        Tracks { hosts }
    }

    /// The (pid, tid) of process `i`'s track.
    fn of_proc(&self, run: &Run, i: usize) -> (i64, i64) {
        let pid = i64::from(run.procs[i].pid);
        match run
            .host_of(i)
            .and_then(|h| self.hosts.iter().position(|(k, _)| k == h))
        {
            Some(k) => (HOST_PIDS + k as i64, pid),
            None => (pid, pid),
        }
    }

    /// The host of process `i` when `i` is the first of its host in tree order.
    fn first_on_host(&self, i: usize) -> Option<&str> {
        self.hosts
            .iter()
            .find(|(_, first)| *first == i)
            .map(|(host, _)| host.as_str())
    }
}
