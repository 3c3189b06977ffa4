//! Pipes between processes (`pipe()`): two connected ends, made of two queues in shared memory, one for each direction.
//!
//! Why queues and not a socketpair: every process that inherits a pipe holds
//! the descriptors of both ends, so the kernel never reports the other end
//! closed while the receiver itself is alive; a queue's holder table does
//! tell when no other process is left that could send. Queues also keep
//! messages whole under any number of senders at any size up to 16 MiB (a
//! SOCK_SEQPACKET message is limited by the socket buffer), cost no system
//! call when nobody sleeps, and are already in deadlock detection.

use crate::process::queue::Queue;
use crate::values::Value;
use std::rc::Rc;

/// One end of a pipe: it sends on one queue and receives from the other.
#[derive(Debug)]
pub struct PipeEnd {
    pub send: Rc<Queue>,
    pub recv: Rc<Queue>,
}

impl PipeEnd {
    /// Two connected ends: what one sends, the other receives.
    pub fn pair() -> Result<(PipeEnd, PipeEnd), String> {
        let there = Rc::new(Queue::create(0)?);
        let back = Rc::new(Queue::create(0)?);
        let first = PipeEnd {
            send: there.clone(),
            recv: back.clone(),
        };
        let second = PipeEnd {
            send: back,
            recv: there,
        };
        Ok((first, second))
    }

    /// The end made of two queues a pool task carried (as values).
    pub fn joined(send: Value, recv: Value) -> Result<PipeEnd, String> {
        match (send, recv) {
            (Value::Queue(send), Value::Queue(recv)) => Ok(PipeEnd { send, recv }),
            _ => Err("a task names a pipe it does not carry".into()),
        }
    }

    /// The same for this end in every process that holds it.
    pub fn id(&self) -> u64 {
        self.recv.id()
    }

    /// Messages sent to this end and not yet received.
    pub fn waiting(&self) -> u64 {
        self.recv.size()
    }
}
