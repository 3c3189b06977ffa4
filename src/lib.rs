//! procscript: a small scripting language whose statements are real OS process calls.
//!
//! The pipeline is `parser` (pest grammar to `ast`), `compile` (names to slots,
//! `ir`), then `interp` (evaluation). Every OS call lives in `os`.

pub mod ast;
pub mod builtins;
pub mod compile;
pub mod diagnostic;
pub mod engine;
pub mod host;
pub mod interp;
pub mod ir;
pub mod limits;
pub mod methods;
pub mod ops;
pub mod os;
pub mod parser;
pub mod pool;
pub mod process;
pub mod queue;
pub mod record;
pub mod session;
mod syntax_error;
pub mod value;
pub mod views;
pub mod wire;

pub use diagnostic::{Diag, ScriptError, Source};
pub use engine::{Engine, Outcome, Views};
pub use host::{HostFunction, HostResult};
pub use session::{Entry, Session};
pub use value::Value;
