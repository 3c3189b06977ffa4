//! The formatter behind `procscript fmt`: a script's text to the same script in the one canonical style.
//!
//! [`format_source`] is a plain function of the text (the command and the
//! language server both call it). The style and the decisions behind it are
//! in docs/fmt.md; in short:
//!
//! - **Tokens, not trees.** The script is parsed (a script that does not
//!   parse is refused with the parser's own diagnostic), then read as one
//!   flat list of tokens: the grammar's leaves plus the punctuation and
//!   comments between them (`tokens.rs`). The printer (`printer.rs`) only
//!   chooses the whitespace between those tokens, so it cannot drop, add or
//!   reorder one: the formatted script is the same tokens in the same order.
//!   The one change is that a `;` between statements becomes a line break.
//! - **Comments.** The grammar's `COMMENT` is silent, so comments are not in
//!   the parse tree; they are found in the text between the tree's leaves
//!   (where a `#` can only start a comment) and are tokens like any other.
//!   A comment that ended a line still ends that line (after two spaces); a
//!   comment on its own line stays on its own line, indented as the line
//!   after it would be (as the statements of its block, or as a continued
//!   line inside a statement). Its text is kept, less trailing whitespace.
//! - **Layout.** One statement a line; blocks indented by 4 spaces, `{` on
//!   the line of its statement, `}` on a line of its own, `} else {` and
//!   `} catch e {` on one line, `{}` for an empty block. Inside a statement a
//!   line break stays where the source had one (after an operator or comma,
//!   inside brackets) and none is added: long lines are not wrapped.
//!   Continued lines are indented one level deeper than the line that opened
//!   the bracket they are in. Blank lines are kept, at most one in a row,
//!   none at the start or end of a block or file.
//! - **Spaces.** One around binary operators, `=` and `+=`-style
//!   assignments; none around `..` (as in `0..n`), after a prefix `-`, inside
//!   brackets, before `,` and `:`, around `.`, or before the `(` of a call
//!   or `fn(`; one after `,` and `:`. Strings are written as they are,
//!   interpolations included. Parentheses and trailing commas are kept as
//!   written.
//! - **The header.** procscript reads the `#!` lines at the very top of a
//!   file as its `#! options:` (and the kernel reads a first `#!` line).
//!   Taking leading blank lines or indentation away could make a `#!`
//!   comment that was not in that run part of it, so when the formatted text
//!   would have more such lines than the source, a blank line keeps them
//!   apart (`keep_header`).

mod printer;
mod tokens;

use crate::error::{self, diagnostic::Diag};
use crate::front::parser::{parse_program, Grammar, Rule};
use crate::front::syntax_error;
use crate::limits;
use pest::Parser as _;

/// The script `text` in the canonical style, or the syntax error that stops
/// it from parsing (the same diagnostic `procscript --check` gives).
pub fn format_source(text: &str) -> Result<String, Diag> {
    parse_program(text).map_err(error::syntax)?;
    // The grammar is recursive: the same room as the parser takes.
    stacker::grow(limits::PARSE_STACK_BYTES, || {
        let mut pairs = Grammar::parse(Rule::program, text)
            .map_err(|err| error::syntax(syntax_error::from_pest(err, text)))?;
        Ok(match pairs.next() {
            Some(program) => keep_header(text, printer::print(&tokens::tokens(text, program))),
            None => String::new(),
        })
    })
}

/// How many lines at the top of `text` start with `#!` (what procscript reads
/// as `#! options:` lines, and the kernel as the interpreter line).
fn header_lines(text: &str) -> usize {
    text.lines()
        .take_while(|line| line.starts_with("#!"))
        .count()
}

/// `formatted`, with a blank line put after the source's header lines when
/// formatting would make the header longer (by taking away the blank line or
/// indentation that kept a `#!` comment out of it), so that the script's
/// options stay what they were.
fn keep_header(source: &str, formatted: String) -> String {
    let header = header_lines(source);
    if header_lines(&formatted) == header {
        return formatted;
    }
    let mut lines: Vec<&str> = formatted.split_inclusive('\n').collect();
    lines.insert(header, "\n");
    lines.concat()
}
