//! Real processes: the table of a process's children, the one fork ceremony, how a process ends, pools, queues, deadlock detection, and the wire format between them.

pub mod ending;
mod failure;
pub mod fork;
mod held;
pub mod pool;
mod pool_answer;
pub mod queue;
mod report_size;
mod table;
pub mod waits;
pub mod wire;

pub use failure::{Failure, BROKEN_PIPE_EXIT};
pub use table::*;
