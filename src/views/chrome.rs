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
    for (rank, &i) in run.tree_order().iter().enumerate() {
        let p = &run.procs[i];
        let label = if p.name.is_empty() {
            format!("{} {}", p.pid, p.describe())
        } else {
            format!("{} {}", p.pid, p.name)
        };
        events.push(json!({"name": "process_name", "ph": "M", "pid": p.pid, "tid": p.pid, "args": {"name": label}}));
        events.push(json!({"name": "process_sort_index", "ph": "M", "pid": p.pid, "tid": p.pid, "args": {"sort_index": rank}}));
        events.push(json!({"name": "thread_name", "ph": "M", "pid": p.pid, "tid": p.pid, "args": {"name": p.describe()}}));
        events.push(json!({
            "name": p.describe(), "cat": "life", "ph": "X", "pid": p.pid, "tid": p.pid,
            "ts": us(run, p.start), "dur": us(run, p.end) - us(run, p.start),
            "args": {"outcome": p.outcome.to_string()},
        }));
        for (from, to, what) in &p.waits {
            events.push(json!({
                "name": format!("waiting: {what}"), "cat": "wait", "ph": "X", "pid": p.pid, "tid": p.pid,
                "ts": us(run, *from), "dur": us(run, *to) - us(run, *from),
            }));
        }
        if let Some(reaped) = p.reaped {
            if reaped > p.end {
                events.push(json!({
                    "name": "zombie (ended, not yet reaped)", "cat": "zombie", "ph": "X", "pid": p.pid, "tid": p.pid,
                    "ts": us(run, p.end), "dur": us(run, reaped) - us(run, p.end),
                }));
            }
        }
        for (t, what) in &p.marks {
            events.push(json!({"name": what, "cat": "os", "ph": "i", "s": "t", "pid": p.pid, "tid": p.pid, "ts": us(run, *t)}));
        }
        // An arrow from the parent's fork to the child's start, and from the
        // child's end to where the parent collected it.
        if let Some(parent) = p.parent {
            let parent_pid = run.procs[parent].pid;
            flow_id += 1;
            events.push(json!({"name": "created", "cat": "flow", "ph": "s", "id": flow_id, "pid": parent_pid, "tid": parent_pid, "ts": us(run, p.start)}));
            events.push(json!({"name": "created", "cat": "flow", "ph": "f", "bp": "e", "id": flow_id, "pid": p.pid, "tid": p.pid, "ts": us(run, p.start)}));
            if let Some(reaped) = p.reaped {
                flow_id += 1;
                events.push(json!({"name": "reaped", "cat": "flow", "ph": "s", "id": flow_id, "pid": p.pid, "tid": p.pid, "ts": us(run, p.end)}));
                events.push(json!({"name": "reaped", "cat": "flow", "ph": "f", "bp": "e", "id": flow_id, "pid": parent_pid, "tid": parent_pid, "ts": us(run, reaped)}));
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
