//! The open documents: their text as the editor has it, kept up to date by whole and incremental changes.

use crate::lsp::positions::offset_of;
use lsp_types::{TextDocumentContentChangeEvent, Uri};
use std::collections::HashMap;

/// The documents the editor has open, by URI.
#[derive(Default)]
pub struct Documents {
    open: HashMap<Uri, String>,
}

impl Documents {
    pub fn open(&mut self, uri: Uri, text: String) {
        self.open.insert(uri, text);
    }

    /// Applies the editor's changes in order (each range is in the text as
    /// the changes before it left it); the new text, or None for a document
    /// that is not open.
    pub fn change(
        &mut self,
        uri: &Uri,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> Option<&str> {
        let text = self.open.get_mut(uri)?;
        for change in changes {
            apply(text, change);
        }
        Some(text)
    }

    pub fn close(&mut self, uri: &Uri) {
        self.open.remove(uri);
    }

    pub fn text(&self, uri: &Uri) -> Option<&str> {
        self.open.get(uri).map(String::as_str)
    }
}

/// One change: a range replaced, or (without a range) the whole text.
fn apply(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        Some(range) => {
            let start = offset_of(text, range.start);
            let end = offset_of(text, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
        None => *text = change.text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    fn edit(range: Option<((u32, u32), (u32, u32))>, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range.map(|(a, b)| Range::new(Position::new(a.0, a.1), Position::new(b.0, b.1))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn changes_apply_in_order_on_utf16_ranges() {
        let uri: Uri = "file:///x.proc".parse().unwrap();
        let mut documents = Documents::default();
        documents.open(uri.clone(), "print(\"é😀\", nope)\n".to_string());
        let changes = vec![
            // "nope" starts at UTF-16 column 13 (byte 16).
            edit(Some(((0, 13), (0, 17))), "1"),
            edit(Some(((1, 0), (1, 0))), "let x = 2\n"),
        ];
        assert_eq!(
            documents.change(&uri, changes),
            Some("print(\"é😀\", 1)\nlet x = 2\n")
        );
        assert_eq!(documents.change(&uri, vec![edit(None, "new")]), Some("new"));
        documents.close(&uri);
        assert_eq!(documents.text(&uri), None);
    }
}
