//! procscript: a small scripting language whose statements are real OS process calls.
//!
//! The API is what the crate root re-exports: [`Engine`] runs scripts (with
//! host functions, limits and `print` redirected), [`Session`] runs them one
//! entry at a time as the prompt does; see `docs/embedding.md`. The parts
//! below are public for the project's own tests and tools; they are not a
//! stable API.
//!
//! # The parts, from the bottom up
//!
//! | part | role |
//! |---|---|
//! | [`os`] | every OS call, through nix, one file per subsystem |
//! | [`limits`] | the documented limits that make every input finish |
//! | [`front`] | source to resolved tree: grammar glue, parser, AST, syntax errors, resolver, IR, the built-in spec |
//! | [`error`] | typed error kinds with stable codes, the `Diag` a user sees, how evaluation unwinds |
//! | [`values`] | runtime values, and the functions a host program registers |
//! | [`views`] | the shared event record, and the tree, trace and timeline drawn from it |
//! | [`process`] | real processes: the child table, the one fork ceremony, endings, pools, queues, locks and the other coordination objects, the wire format |
//! | [`eval`] | the tree-walking evaluator, split by construct, the register VM it hands hot functions and loops to, and what a child process runs |
//! | [`builtins`] | built-in functions and methods, in topic files |
//! | [`api`] | the embedding API: `Engine` and `Session` |
//! | [`fmt`] | the formatter of `procscript fmt`: source text to the canonical style |
//! | [`lsp`] | the language server of `procscript lsp`: diagnostics, definitions, hover, completion |
//!
//! A script flows `front::parser` → `front::resolve` → `eval`; the evaluator
//! asks `process` for children, and `process` asks `os` for every call.
//! The command (`src/cli/`) uses only the crate root.

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod api;
pub mod builtins;
pub mod error;
pub mod eval;
pub mod fmt;
pub mod front;
pub mod limits;
pub mod lsp;
pub mod os;
pub mod process;
pub mod values;
pub mod views;

pub use api::engine::{Engine, Outcome, Views, DEFAULT_MAX_PROCS};
pub use api::session::{Entry, Session};
pub use error::diagnostic::{stderr_wants_color, Diag, ScriptError, Source};
pub use error::ErrorKind;
pub use values::host::{HostFunction, HostResult};
pub use values::Value;

/// The examples of docs/embedding.md, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/embedding.md")]
pub struct EmbeddingDocs;
