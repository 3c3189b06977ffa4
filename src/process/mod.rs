//! Real processes: the table of a process's children, the one fork ceremony, how a process ends, pools, queues, and the wire format between them.

pub mod ending;
pub mod fork;
pub mod pool;
pub mod queue;
mod table;
pub mod wire;

pub use table::*;
