//! A queue, lock... of the driver as a remote task holds it: a proxy whose every method call goes, as a request, through the worker host to the driver's relay, which makes the call on the real object and answers.
//!
//! The channel is a socket pair between the worker host and the pool worker
//! it forks, apart from the task socket (tasks sent ahead must not be read
//! as answers). Only the process that got the task may use a proxy: a child
//! it forks would share the channel and could read another's answer.

use crate::error::diagnostic::Diag;
use crate::front::ast::Span;
use crate::os;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::os::fd::OwnedFd;

/// The types a proxy may stand for, by their code in `Wire::Relayed`.
const TYPE_NAMES: [&str; 7] = [
    "queue",
    "pipe end",
    "lock",
    "event",
    "semaphore",
    "barrier",
    "value",
];

/// Bits of a `Wire::Relayed` number that hold the type's code.
const TYPE_BITS: u32 = 3;

/// One of the driver's shared objects, as a remote task holds it.
#[derive(Debug)]
pub struct Proxy {
    /// Its index in the relay's table (the same object is the same index).
    pub index: u32,
    type_code: u32,
}

impl Proxy {
    /// The proxy a `Wire::Relayed` number names; None for a code out of range.
    pub fn from_wire(number: u32) -> Option<Proxy> {
        let type_code = number & ((1 << TYPE_BITS) - 1);
        TYPE_NAMES.get(type_code as usize)?;
        Some(Proxy {
            index: number >> TYPE_BITS,
            type_code,
        })
    }

    /// The number a `Wire::Relayed` carries for the object at `index` of type `type_name`.
    pub fn wire_number(index: u32, type_name: &str) -> u32 {
        let code = TYPE_NAMES.iter().position(|t| *t == type_name).unwrap_or(0);
        index << TYPE_BITS | code as u32
    }

    /// The name `type()` gives it: the object's own.
    pub fn type_name(&self) -> &'static str {
        TYPE_NAMES[self.type_code as usize]
    }
}

/// A method call sent to the driver: the object, the method's id, the
/// arguments as messages, and where the call is (the script is the same there).
#[derive(Serialize, Deserialize, Debug)]
pub struct Request {
    pub object: u32,
    pub method: u16,
    pub args: Vec<Vec<u8>>,
    pub span: Span,
    pub arg_spans: Vec<Span>,
}

/// The driver's answer.
#[derive(Serialize, Deserialize, Debug)]
pub enum Reply {
    /// The call's result, as a message.
    Returned(Vec<u8>),
    /// The call's error, as the driver's side raised it.
    Failed(Diag),
}

thread_local! {
    /// The channel to the worker host, and the process that may use it.
    static CHANNEL: RefCell<Option<(OwnedFd, i32)>> = const { RefCell::new(None) };
}

/// In the pool worker a worker host forked: its end of the request channel.
pub fn set_channel(socket: OwnedFd) {
    CHANNEL.with(|c| *c.borrow_mut() = Some((socket, os::getpid())));
}

/// Why a call could not be made (the caller words it as an error).
pub enum CallFailed {
    /// Not the process the task went to, or not on a remote worker at all.
    NotHere,
    /// The channel ended: the worker host is going.
    Lost,
    /// A stop signal came while waiting.
    Stopped(os::Signal),
}

/// Sends `request` and waits for its reply.
pub fn call(request: &Request) -> Result<Reply, CallFailed> {
    CHANNEL.with(|channel| {
        let channel = channel.borrow();
        let Some((socket, _)) = channel.as_ref().filter(|(_, o)| *o == os::getpid()) else {
            return Err(CallFailed::NotHere);
        };
        let bytes = postcard::to_allocvec(request).map_err(|_| CallFailed::Lost)?;
        os::send_frame(socket, &bytes, &[]).map_err(|_| CallFailed::Lost)?;
        loop {
            match os::wait_event(&[socket], None) {
                os::Event::Readable(_) => break,
                _ => os::pending_stop().map_err(CallFailed::Stopped)?,
            }
        }
        match os::recv_frame(socket) {
            Ok(Some((bytes, _))) => postcard::from_bytes(&bytes).map_err(|_| CallFailed::Lost),
            _ => Err(CallFailed::Lost),
        }
    })
}
