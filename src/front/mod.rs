//! The front end: source text to the resolved tree the evaluator runs, and every error found before running.

pub mod ast;
pub mod format_spec;
pub mod ir;
pub mod modules;
pub mod parser;
pub mod python_hints;
pub mod resolve;
pub mod spec;
pub mod syntax_error;
