//! Formatting: the whole document through `procscript fmt`'s formatter, as one edit.

use crate::fmt::format_source;
use crate::lsp::positions::position_of;
use lsp_types::{Position, Range, TextEdit};

/// The edits that format `text`: none when it is formatted already, one
/// that replaces the whole text otherwise, and None when it does not parse
/// (the diagnostics show why; the document is left as it is).
pub fn format(text: &str) -> Option<Vec<TextEdit>> {
    let formatted = format_source(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let whole = Range::new(Position::new(0, 0), position_of(text, text.len()));
    Some(vec![TextEdit::new(whole, formatted)])
}
