//! Pools whose workers run on other machines: the `"on"` options read into a launcher (ssh or srun), the check that a task can leave this machine, and the parts on each side (see docs/many_machines.md).
//!
//! Each remote host is one connection: a local link process (`link`) starts
//! the launcher with its stdin and stdout on pipes, and `procscript --worker`
//! on the other end compiles the same script and forks one local pool worker
//! for each worker the link opens. Each remote worker has a local relay
//! process (forked as a pool worker, so the pool treats it as one) that talks
//! to its host's link. Queues, locks... a task carries stay on this machine:
//! the relay makes each call a remote task makes on them (`relayed`, `relay_table`).

pub mod launcher;
mod link;
mod outbox;
pub(super) mod pool_side;
pub mod protocol;
mod relay_table;
pub mod relayed;
pub mod worker_host;

use crate::error::{ErrorKind, Unwind, R};
use crate::front::ast::Span;
use crate::process::wire::{TaskWire, Wire};
use crate::values::Value;

/// The options a remote pool takes, with what each takes (for errors).
pub const OPTIONS: &[(&str, &str)] = &[
    ("on", "\"ssh\" or \"slurm\": where the workers run"),
    (
        "hosts",
        "a list of host names (ssh): the workers spread over them, one connection a host",
    ),
    (
        "ssh",
        "a list of words: the ssh command (default [\"ssh\"])",
    ),
    (
        "command",
        "a string: the remote procscript, words split on spaces (default \"procscript\")",
    ),
    (
        "nodes",
        "an int (slurm): how many nodes to spread the workers over",
    ),
    ("srun", "a list of words (slurm): extra arguments for srun"),
];

/// How a remote pool starts its workers.
#[derive(Debug, Clone, PartialEq)]
pub enum Engine {
    Ssh {
        ssh: Vec<String>,
        hosts: Vec<String>,
    },
    Slurm {
        nodes: Option<i64>,
        srun: Vec<String>,
    },
}

/// A remote pool's launcher: the engine, and the remote procscript's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Launcher {
    pub engine: Engine,
    pub command: Vec<String>,
    /// The pool's `init`, encoded as a task (see `with_init`).
    pub init: Option<InitTask>,
}

/// A remote pool's `init` as each relay sends it: a task with no arguments,
/// and the descriptors of the queues, locks... it carries (open in the driver
/// and so in each relay, forked from it, while the pool holds `init`).
#[derive(Debug, Clone, PartialEq)]
pub struct InitTask {
    pub bytes: Vec<u8>,
    pub fds: Vec<std::os::fd::RawFd>,
}

impl Launcher {
    /// Reads the remote keys of the options map of `pool(n, {...})` (the
    /// caller refused unknown keys): `None` when it has no `"on"` (a local pool).
    pub fn from_options(options: &Value, span: Span) -> R<Option<Launcher>> {
        let Value::Map(map) = options else {
            return Ok(None);
        };
        let map = map.borrow();
        let get = |key: &str| {
            map.iter()
                .find(|(k, _)| &***k == key)
                .map(|(_, v)| v.clone())
        };
        let Some(on) = get("on") else {
            let remote_key = map
                .iter()
                .map(|(k, _)| k.to_string())
                .find(|k| OPTIONS.iter().any(|(known, _)| known == k));
            return match remote_key {
                Some(key) => Err(bad(
                    span,
                    format!("\"{key}\" needs \"on\": \"ssh\" or \"slurm\""),
                )),
                None => Ok(None),
            };
        };
        let words = |key: &str, default: &[&str]| -> R<Vec<String>> {
            match get(key) {
                None => Ok(default.iter().map(|w| w.to_string()).collect()),
                Some(value) => string_list(&value).ok_or_else(|| {
                    bad(
                        span,
                        format!("\"{key}\" is a list of strings, not {}", not_words(&value)),
                    )
                }),
            }
        };
        let command = command_words(get("command"), span)?;
        let on = match &on {
            Value::Str(s) => format!("\"{s}\""),
            other => other.to_repr(),
        };
        refuse_other_engines_keys(&map, &on, span)?;
        let engine = match on.trim_matches('"') {
            "ssh" => {
                let hosts = words("hosts", &[])?;
                if hosts.is_empty() {
                    return Err(bad(
                        span,
                        "\"on\": \"ssh\" needs \"hosts\": a list of host names".into(),
                    ));
                }
                let ssh = words("ssh", &["ssh"])?;
                if ssh.is_empty() {
                    return Err(bad(
                        span,
                        "\"ssh\" needs at least the command's name".into(),
                    ));
                }
                Engine::Ssh { ssh, hosts }
            }
            "slurm" => {
                let nodes = match get("nodes") {
                    None => None,
                    Some(Value::Int(n)) if n >= 1 => Some(n),
                    Some(other) => {
                        return Err(bad(
                            span,
                            format!("\"nodes\" is an int of 1 or more, not {}", other.to_repr()),
                        ))
                    }
                };
                Engine::Slurm {
                    nodes,
                    srun: words("srun", &[])?,
                }
            }
            _ => {
                return Err(bad(
                    span,
                    format!("\"on\" is \"ssh\" or \"slurm\", not {on}"),
                ))
            }
        };
        Ok(Some(Launcher {
            engine,
            command,
            init: None,
        }))
    }

    /// The launcher whose workers call `init` when they start: it goes to each
    /// with the hello, as a task with no arguments (its queues, locks... are
    /// relayed as a task's are). Refused when it carries a host function.
    pub fn with_init(mut self, init: &Value, span: Span) -> R<Launcher> {
        let encoded = crate::process::wire::encode_task(init, &[], None);
        let why = match &encoded {
            Err(not_sendable) => Some(not_sendable.message()),
            Ok(task) => refusal(&task.bytes).map(str::to_string),
        };
        if let Some(what) = why {
            return Err(bad(
                span,
                format!("a remote pool's `init` cannot carry {what}: it runs on the other machine"),
            ));
        }
        self.init = encoded.ok().map(|task| InitTask {
            fds: task.carried.fds().to_vec(),
            bytes: task.bytes,
        });
        Ok(self)
    }

    /// How many hosts (connections) a pool of `size` workers spreads over:
    /// each ssh host; on Slurm `"nodes"` or the allocation's nodes, else one
    /// job a worker, as each worker was before hosts were shared.
    pub fn links(&self, size: usize) -> usize {
        let links = match &self.engine {
            Engine::Ssh { hosts, .. } => hosts.len(),
            Engine::Slurm { nodes, .. } => {
                let allocated = std::env::var_os("SLURM_JOB_ID")
                    .and_then(|_| std::env::var("SLURM_JOB_NUM_NODES").ok())
                    .and_then(|n| n.parse::<i64>().ok());
                nodes.or(allocated).map_or(size, |n| n.max(1) as usize)
            }
        };
        links.clamp(1, size.max(1))
    }

    /// The host (its index among `links`) of the pool's `slot`th worker.
    pub fn link_of(&self, slot: usize, size: usize) -> usize {
        slot % self.links(size)
    }

    /// The words that start the worker host of the pool's `host`th host.
    pub fn argv(&self, slot: usize) -> Vec<String> {
        let mut argv = match &self.engine {
            Engine::Ssh { ssh, hosts } => {
                let mut argv = ssh.clone();
                argv.extend(keepalive(ssh));
                argv.push(hosts[slot % hosts.len()].clone());
                argv
            }
            Engine::Slurm { nodes, srun } => {
                let mut argv: Vec<String> =
                    ["srun", "--nodes=1", "--ntasks=1", "--unbuffered", "--quiet"]
                        .map(String::from)
                        .to_vec();
                // Inside an allocation, host k goes to its node k mod n.
                let in_allocation = std::env::var_os("SLURM_JOB_ID").is_some();
                let allocated = std::env::var("SLURM_JOB_NUM_NODES")
                    .ok()
                    .and_then(|n| n.parse::<i64>().ok());
                if let (true, Some(n)) = (in_allocation, nodes.or(allocated)) {
                    argv.push(format!("--relative={}", slot as i64 % n.max(1)));
                }
                if in_allocation {
                    // Workers share the allocation's CPUs: the n-th step must not wait for one.
                    argv.push("--overlap".to_string());
                }
                argv.extend(srun.iter().cloned());
                argv
            }
        };
        argv.extend(self.command.iter().cloned());
        argv.push("--worker".to_string());
        argv
    }

    /// Where the `slot`th host is, before it has said so itself.
    pub fn place(&self, slot: usize) -> String {
        self.host_alias(slot)
            .unwrap_or_else(|| "a Slurm node".to_string())
    }

    /// The name the driver gives the `slot`th host (ssh), if it gives one.
    pub fn host_alias(&self, slot: usize) -> Option<String> {
        match &self.engine {
            Engine::Ssh { hosts, .. } => Some(hosts[slot % hosts.len()].clone()),
            Engine::Slurm { .. } => None,
        }
    }
}

/// The bit of a task frame's slot that tells a remote worker's relay to hold
/// the task until its worker has no other task out: a task a handle may take
/// back (`t.cancel()`, a `break` out of `imap`) is claimed when it goes to the
/// other machine, so it must not go before its worker is free to start it.
const HELD_BIT: u32 = 1 << 31;

/// The slot to put in a task's frame (see `HELD_BIT`).
pub fn held_slot(slot: u32, held: bool) -> u32 {
    match held {
        true => slot | HELD_BIT,
        false => slot,
    }
}

/// A frame's slot as the pool's slots know it, and whether it is held.
fn split_slot(slot: u32) -> (u32, bool) {
    (slot & !HELD_BIT, slot & HELD_BIT != 0)
}

/// Most bytes of frames taken from a socket for one write.
const BATCH_BYTES: usize = 256 * 1024;

/// The frames waiting in `socket` now (at least one read, which may wait),
/// up to `BATCH_BYTES`, each with the descriptors that came with it; and
/// whether the socket ended (or broke).
fn take_frames(socket: &std::os::fd::OwnedFd) -> (Vec<crate::os::Frame>, bool) {
    let mut frames = Vec::new();
    let mut bytes = 0;
    loop {
        match crate::os::recv_frame(socket) {
            Ok(Some(frame)) => {
                bytes += frame.0.len();
                frames.push(frame);
            }
            _ => return (frames, true),
        }
        let more = crate::os::wait_event(&[socket], Some(0)) == crate::os::Event::Readable(0);
        if bytes > BATCH_BYTES || !more {
            return (frames, false);
        }
    }
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    let Value::List(items) = value else {
        return None;
    };
    items
        .borrow()
        .iter()
        .map(|item| match item {
            Value::Str(s) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

/// The remote procscript's words, from `"command"`.
fn command_words(command: Option<Value>, span: Span) -> R<Vec<String>> {
    match command {
        None => Ok(vec!["procscript".to_string()]),
        Some(Value::Str(s)) if !s.trim().is_empty() => {
            Ok(s.split_whitespace().map(str::to_string).collect())
        }
        Some(other) => {
            let what = match other {
                Value::Str(_) => "an empty one".to_string(),
                other => other.type_name().to_string(),
            };
            Err(bad(
                span,
                format!("\"command\" is a non-empty string, not {what}"),
            ))
        }
    }
}

/// A key of the other engine (`"hosts"` with Slurm) would be ignored: the
/// user meant something by it, so it is an error. `on` is quoted.
fn refuse_other_engines_keys(map: &crate::values::MapItems, on: &str, span: Span) -> R<()> {
    if on != "\"ssh\"" && on != "\"slurm\"" {
        return Ok(());
    }
    for (key, _) in map.iter() {
        let wanted = match &**key {
            "hosts" | "ssh" => "\"ssh\"",
            "nodes" | "srun" => "\"slurm\"",
            _ => continue,
        };
        if wanted != on {
            return Err(bad(
                span,
                format!("\"{key}\" is an option of \"on\": {wanted}, not of {on}"),
            ));
        }
    }
    Ok(())
}

/// What a value that is not a list of strings is, in words.
fn not_words(value: &Value) -> String {
    match value {
        Value::List(items) => match items.borrow().iter().find(|i| !matches!(i, Value::Str(_))) {
            Some(item) => format!(
                "a list holding {} {}",
                article(item.type_name()),
                item.type_name()
            ),
            None => value.type_name().to_string(),
        },
        other => other.type_name().to_string(),
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn bad(span: Span, message: String) -> Unwind {
    let known: Vec<String> = OPTIONS
        .iter()
        .map(|(key, what)| format!("\"{key}\": {what}"))
        .collect();
    ErrorKind::PoolOption
        .at(span, message, "in these options")
        .with_help(format!("a remote pool's options are {}", known.join("; ")))
        .into()
}

/// Why a task cannot go to a remote worker: the host functions it carries
/// exist only in the driver (its queues, locks... are relayed). None when it can.
pub fn refusal(task: &[u8]) -> Option<&'static str> {
    let task: TaskWire = postcard::from_bytes(task).ok()?;
    let values = task
        .closures
        .iter()
        .flat_map(|(_, captures)| captures.iter())
        .chain([&task.callee])
        .chain(task.args.iter());
    let mut found = None;
    for value in values {
        found = found.or_else(|| local_only(value));
    }
    found
}

/// The first value in `wire` that exists only in the driver, by what it is.
/// A task's encoding nests no deeper than `limits::MAX_VALUE_DEPTH`.
fn local_only(wire: &Wire) -> Option<&'static str> {
    match wire {
        Wire::Host(_) => Some("a host function"),
        Wire::List(items) => items.iter().find_map(local_only),
        Wire::Map(entries) => entries.iter().find_map(|(_, v)| local_only(v)),
        _ => None,
    }
}

/// ssh's own keepalive, unless the "ssh" words set one or are not OpenSSH's
/// `ssh`: a host that stops answering (a network cut, a frozen machine) keeps
/// a TCP connection open for as long as nothing is sent; with these, ssh
/// gives it up after 3 unanswered probes 5 s apart, the link sees its
/// connection end, and the host's tasks fail over. Answered by sshd itself,
/// so a worker host that is busy never counts as gone.
fn keepalive(ssh: &[String]) -> Vec<String> {
    let openssh = ssh
        .first()
        .is_some_and(|command| command.rsplit('/').next() == Some("ssh"));
    let set = ssh.iter().any(|word| word.contains("ServerAlive"));
    match openssh && !set {
        true => ["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
            .map(String::from)
            .to_vec(),
        false => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_and_slurm_argv() {
        let ssh = Launcher {
            engine: Engine::Ssh {
                ssh: vec!["ssh".into(), "-F".into(), "cfg".into()],
                hosts: vec!["h1".into(), "h2".into()],
            },
            command: vec!["/opt/procscript".into()],
            init: None,
        };
        assert_eq!(
            ssh.argv(3).join(" "),
            "ssh -F cfg -o ServerAliveInterval=5 -o ServerAliveCountMax=3 h2 /opt/procscript --worker"
        );
        // The user's own keepalive, or another command than ssh, is left as it is.
        for words in [&["ssh", "-o", "ServerAliveInterval=60"][..], &["mysh"][..]] {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            assert!(keepalive(&words).is_empty(), "{words:?}");
        }
        let slurm = Launcher {
            engine: Engine::Slurm {
                nodes: None,
                srun: vec!["--partition=debug".into()],
            },
            command: vec!["procscript".into()],
            init: None,
        };
        let argv = slurm.argv(0).join(" ");
        assert!(argv.starts_with("srun --nodes=1 --ntasks=1"), "{argv}");
        assert!(
            argv.ends_with("--partition=debug procscript --worker"),
            "{argv}"
        );
    }
}
