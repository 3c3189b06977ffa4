//! Real processes: the table of a process's children, the one fork ceremony, how a process ends, pools, queues, pipes, locks (events, semaphores, barriers, shared values), deadlock detection, and the wire format between them.

pub mod ending;
mod failure;
pub mod fork;
mod held;
mod holders;
pub mod pipe;
pub mod pool;
mod pool_answer;
mod pool_slots;
pub mod pool_stream;
pub mod pool_tasks;
mod pool_worker;
pub mod queue;
pub mod remote;
mod report_size;
mod sleepers;
pub mod sync;
mod table;
pub mod waits;
pub mod wire;

pub use failure::{Failure, BROKEN_PIPE_EXIT};
pub use table::*;
