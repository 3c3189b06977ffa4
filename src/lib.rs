//! procscript: a small scripting language whose statements are real OS process calls.
//!
//! The API is what the crate root re-exports: [`Engine`] runs scripts (with
//! host functions, limits and `print` redirected), [`Session`] runs them one
//! entry at a time as the prompt does; see `docs/embedding.md`. The modules
//! are public for the project's own tests and tools, and hidden from the docs:
//! they are not a stable API.
//!
//! The pipeline is `parser` (pest grammar to `ast`), `compile` (names to slots,
//! `ir`), then `eval` (evaluation). Every OS call lives in `os`.

#![deny(clippy::undocumented_unsafe_blocks)]

#[doc(hidden)]
pub mod ast;
#[doc(hidden)]
pub mod builtins;
mod child_work;
#[doc(hidden)]
pub mod compile;
#[doc(hidden)]
pub mod diagnostic;
mod ending;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod eval;
mod fork;
#[doc(hidden)]
pub mod host;
#[doc(hidden)]
pub mod ir;
#[doc(hidden)]
pub mod limits;
#[doc(hidden)]
pub mod methods;
#[doc(hidden)]
pub mod os;
#[doc(hidden)]
pub mod parser;
#[doc(hidden)]
pub mod pool;
#[doc(hidden)]
pub mod process;
#[doc(hidden)]
pub mod queue;
#[doc(hidden)]
pub mod record;
#[doc(hidden)]
pub mod session;
mod syntax_error;
#[doc(hidden)]
pub mod value;
#[doc(hidden)]
pub mod views;
#[doc(hidden)]
pub mod wire;

pub use diagnostic::{stderr_wants_color, Diag, ScriptError, Source};
pub use engine::{Engine, Outcome, Views, DEFAULT_MAX_PROCS};
pub use error::ErrorKind;
pub use host::{HostFunction, HostResult};
pub use session::{Entry, Session};
pub use value::Value;

/// The examples of docs/embedding.md, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/embedding.md")]
pub struct EmbeddingDocs;
