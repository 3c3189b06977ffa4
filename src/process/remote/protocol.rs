//! The remote worker protocol: frames between a driver's relay and `procscript --worker`, each a kind byte then a postcard body, and the versions both sides must share.

use serde::{Deserialize, Serialize};

/// The protocol's own number: a change of the frames below changes it
/// (2: the hello carries the script's modules; 3: a remote task's calls on
/// the driver's queues, locks... are relayed, and the hello carries `init`;
/// 4: one connection serves several workers, every frame after the hello
/// tagged with its worker's number).
pub const PROTOCOL: u32 = 4;

/// Set on the worker's side, the version a worker claims instead of its own
/// (a test hook for the version check; see docs/many_machines.md).
pub const CLAIM_VERSION_VARIABLE: &str = "PROCSCRIPT_WORKER_CLAIMS_VERSION";

/// This procscript's version, as the hello names it.
pub fn own_version() -> String {
    match std::env::var(CLAIM_VERSION_VARIABLE) {
        Ok(claimed) if !claimed.is_empty() => claimed,
        _ => env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The first frame, driver to worker: who speaks, then the program to compile.
/// `protocol` and `version` come first so that any later change of the
/// fields still lets the two versions be read and named.
#[derive(Serialize, Deserialize, Debug)]
pub struct Hello {
    pub protocol: u32,
    pub version: String,
    /// The script's name (for error reports) and its text.
    pub name: String,
    pub text: String,
    /// Every module the script imports: (the path as the driver resolved
    /// it, its text). The worker compiles these, not files of its host.
    pub modules: Vec<(String, String)>,
    pub args: Vec<String>,
    /// The driver's host functions (name, least and most arguments): the
    /// worker compiles against the same names, and refuses to call them.
    pub hosts: Vec<(String, usize, usize)>,
    /// The pool's `init`, as a task with no arguments: each worker calls it first.
    pub init: Option<Vec<u8>>,
}

/// The part of a hello every version can read.
#[derive(Deserialize)]
pub struct HelloHead {
    pub protocol: u32,
    pub version: String,
}

/// The worker host's answer to the hello (and, in an `OPENED` frame, to the
/// opening of one worker).
#[derive(Serialize, Deserialize, Debug)]
pub enum Greeting {
    /// Compiled and serving: the host's name and the worker host's pid there
    /// (in an `OPENED` frame: the pool worker's).
    Ready { host: String, pid: i32 },
    /// Why it will not serve (another version, a script it cannot compile).
    Refused(String),
    /// Said by the driver's relay, never by a worker: the launcher ended before
    /// the worker answered (a connection that failed, a node that went down):
    /// another try may work.
    Lost(String),
}

/// The kind byte of each frame after the hello. On the connection each is
/// followed by the worker's number (4 bytes, little-endian), then the body;
/// between a driver's relay and its host's link there is no number.
pub mod kind {
    /// Driver to worker: a task, as a local pool sends it.
    pub const TASK: u8 = 1;
    /// Worker to driver: the answer to the oldest task.
    pub const ANSWER: u8 = 2;
    /// Worker to driver: whole lines the task printed on stdout.
    pub const STDOUT: u8 = 3;
    /// Worker to driver: whole lines written on stderr.
    pub const STDERR: u8 = 4;
    /// Worker to driver: a method call on a queue, lock... of the driver
    /// (a `relayed::Request`); the worker waits for its reply.
    pub const REQUEST: u8 = 5;
    /// Driver to worker: the `relayed::Reply` to the last request.
    pub const REPLY: u8 = 6;
    /// Driver to worker host: fork a pool worker with this number.
    pub const OPEN: u8 = 7;
    /// Worker host to driver: the `Greeting` of the worker opened (or why not).
    pub const OPENED: u8 = 8;
    /// Driver to worker host: the pool let this worker go; end it.
    pub const CLOSE: u8 = 9;
    /// Worker host to driver: this worker ended by itself (it was lost).
    pub const CLOSED: u8 = 10;
}

/// A frame on the connection: its kind byte, the worker's number, its bytes.
pub fn tagged(kind: u8, worker: u32, body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(5 + body.len());
    bytes.push(kind);
    bytes.extend_from_slice(&worker.to_le_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// A frame from the connection as its kind, worker number and body.
pub fn untag(frame: &[u8]) -> Option<(u8, u32, &[u8])> {
    let (&kind, rest) = frame.split_first()?;
    let number = rest.get(..4)?;
    let worker = u32::from_le_bytes([number[0], number[1], number[2], number[3]]);
    Some((kind, worker, &rest[4..]))
}

/// A frame: its kind byte, then its bytes.
pub fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + body.len());
    bytes.push(kind);
    bytes.extend_from_slice(body);
    bytes
}

/// Reads the hello's head, whatever version wrote it.
pub fn read_head(bytes: &[u8]) -> Option<HelloHead> {
    postcard::take_from_bytes::<HelloHead>(bytes)
        .ok()
        .map(|(head, _)| head)
}

/// Why a hello from the driver is refused (another protocol or version), in words naming both.
pub fn mismatch(head: &HelloHead, host: &str) -> Option<String> {
    let mine = own_version();
    if head.protocol == PROTOCOL && head.version == mine {
        return None;
    }
    Some(format!(
        "the worker on {host} is procscript {mine} (protocol {PROTOCOL}), \
         the driver is procscript {} (protocol {}); install the same version on both",
        head.version, head.protocol
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_head_reads_from_a_whole_hello() {
        let hello = Hello {
            protocol: PROTOCOL,
            version: "9.9.9".into(),
            name: "x.proc".into(),
            text: "print(1)".into(),
            modules: vec![("lib/a.proc".into(), "let a = 1".into())],
            args: vec!["a".into()],
            hosts: vec![],
            init: None,
        };
        let bytes = postcard::to_allocvec(&hello).unwrap();
        let head = read_head(&bytes).unwrap();
        assert_eq!((head.protocol, head.version.as_str()), (PROTOCOL, "9.9.9"));
        let why = mismatch(&head, "h1").unwrap();
        assert!(
            why.contains("procscript 9.9.9") && why.contains("on h1"),
            "{why}"
        );
    }
}
