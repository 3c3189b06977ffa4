//! The language server (`procscript lsp`): diagnostics, definitions, hover, completion and formatting for editors, over stdio.
//!
//! One thread reads the client's messages from stdin and answers on stdout
//! in order (`framing` reads the messages, `lsp-server` and `lsp-types` type
//! them); the server only parses and checks documents, it never runs a script.

pub mod completion;
pub mod cursor;
pub mod definition;
pub mod diagnostics;
pub mod documents;
pub mod formatting;
pub mod framing;
pub mod hover;
pub mod modules;
pub mod positions;
pub mod server;
pub mod symbols;
pub mod uris;

pub use server::serve;
