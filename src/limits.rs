//! Documented limits that make every input finish safely (see docs/language.md, "Limits").

/// Largest script accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 32 * 1024 * 1024;

/// Longest line accepted, in bytes (a 1 MB string literal fits; a 10 MB
/// line is refused before parsing, which it would otherwise slow for seconds).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Deepest nesting of brackets, blocks and prefix operators in the source.
pub const MAX_NESTING: usize = 200;

/// Most binary operators in one expression (each nests the tree one level
/// deeper, and evaluating it takes native stack per level: this keeps the
/// deepest expression within `STACK_RED_ZONE` in debug builds too).
pub const MAX_OPERATORS: usize = 1_000;

/// Deepest expression tree, in levels: every operator, call, index, field
/// and method adds one, through brackets too (a 1,000-operator chain fits).
pub const MAX_EXPR_DEPTH: usize = 1_100;

/// Longest chain of imports (a script importing a module importing a
/// module...): each level compiles, and later runs, inside the one above.
pub const MAX_IMPORT_DEPTH: usize = 64;

/// Deepest chain of nested function calls at run time.
pub const MAX_CALL_DEPTH: usize = 10_000;

/// Stack given to the parser, so that the nesting limit is reached long
/// before the stack's end: the deepest sources the limits allow need under
/// 8 MiB in a debug build. Kept small, since it is reserved (mapped) whole:
/// a process limited to 250 MB of address space must still run a script.
pub const PARSE_STACK_BYTES: usize = 32 * 1024 * 1024;

/// When less than this much native stack is left, a call moves to a fresh
/// segment: enough for the deepest expression the limits allow (1,000
/// operators within 200 levels of brackets), even with debug-build frames.
pub const STACK_RED_ZONE: usize = 4 * 1024 * 1024;

/// Size of each fresh stack segment for deep script recursion.
pub const STACK_SEGMENT: usize = 16 * 1024 * 1024;

/// Largest string a script may build, in bytes: by `*`, `+`, interpolation,
/// `join_str` or `replace`.
pub const MAX_VALUE_LEN: usize = 256 * 1024 * 1024;

/// Largest list a script may build, in items (each takes 24 bytes): by `*`,
/// `+`, `..`, `range` or `push`.
pub const MAX_LIST_LEN: usize = 16 * 1024 * 1024;

/// How deep `==`, printing and comparison descend into nested lists and maps.
pub const MAX_VALUE_DEPTH: usize = 1_000;

/// Largest message the language server reads from its client, in bytes: room
/// for the largest script (`MAX_SOURCE_BYTES`) with JSON's escapes. A larger
/// one is read and dropped, never held, so no `Content-Length` header can
/// make the server allocate without bound.
pub const MAX_LSP_MESSAGE_BYTES: usize = 4 * MAX_SOURCE_BYTES;

/// Longest header line of a language server message that is read as one.
pub const MAX_LSP_HEADER_BYTES: usize = 1024;
