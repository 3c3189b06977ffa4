//! Go to definition: where the name under the cursor was declared (a function, a `let`, a parameter, a loop or catch variable).

use crate::front::ast::Span;
use crate::lsp::cursor::word_at;
use crate::lsp::positions::{offset_of, range_of};
use crate::lsp::symbols;
use lsp_types::{Location, Position, Uri};

/// The declaration of the name at `position`, if the script declares it
/// (built-ins and methods have no place in it).
pub fn definition(uri: &Uri, text: &str, position: Position) -> Option<Location> {
    let word = word_at(text, offset_of(text, position));
    if word.text.is_empty() || word.receiver.is_some() {
        return None;
    }
    let names = symbols::of_text(text, Some(position.line as usize))?;
    let binding = names.resolve(word.text, word.start as u32)?;
    let span = Span::new(binding.at.0 as usize, binding.at.1 as usize);
    Some(Location::new(uri.clone(), range_of(text, span)))
}
