//! The embedding API: an `Engine` runs a script, a `Session` runs entries one after another.

pub mod engine;
mod guard;
pub mod session;
pub mod worker;
