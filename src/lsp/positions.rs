//! Where things are, both ways: byte offsets into a document and the LSP's positions (line, UTF-16 column).

use crate::front::ast::Span;
use lsp_types::{Position, Range};

/// The byte offset of an LSP position. A column past its line's end is the
/// line's end (before the `\n`), a line past the last is the text's end, and
/// a column inside a character's UTF-16 pair is the start of the next character.
pub fn offset_of(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= position.character {
            return line_start + i;
        }
        units += c.len_utf16() as u32;
    }
    line_end
}

/// The LSP position of a byte offset (an offset inside a character counts as its start).
pub fn position_of(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() as u32,
        character: before[line_start..].encode_utf16().count() as u32,
    }
}

/// The LSP range of a span of the text.
pub fn range_of(text: &str, span: Span) -> Range {
    Range {
        start: position_of(text, span.start as usize),
        end: position_of(text, span.end as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn columns_count_utf16_units_not_bytes() {
        // "😀" is 4 bytes and 2 UTF-16 units, "é" 2 bytes and 1 unit.
        let text = "x\nprint(\"😀 é\", nope)\n";
        let nope = text.find("nope").unwrap();
        assert_eq!(position_of(text, nope), at(1, 14));
        assert_eq!(offset_of(text, at(1, 14)), nope);
        assert_eq!(
            range_of(text, Span::new(nope, nope + 4)),
            Range::new(at(1, 14), at(1, 18))
        );
    }

    #[test]
    fn positions_out_of_the_text_are_clamped() {
        let text = "ab\ncd";
        assert_eq!(offset_of(text, at(0, 99)), 2);
        assert_eq!(offset_of(text, at(9, 0)), text.len());
        assert_eq!(position_of(text, 99), at(1, 2));
        // Inside the pair of "😀": the next character.
        assert_eq!(offset_of("😀x", at(0, 1)), 4);
    }
}
