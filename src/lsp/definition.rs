//! Go to definition: where the name under the cursor was declared (a function, a `let`, a parameter, a loop or catch variable, an import's module and its fields).

use crate::front::ast::Span;
use crate::lsp::cursor::word_at;
use crate::lsp::modules::Module;
use crate::lsp::positions::{offset_of, range_of};
use crate::lsp::symbols::{self, BindingKind};
use lsp_types::{Location, Position, Range, Uri};

/// The declaration of the name at `position`, if the script or a module it
/// imports declares it (built-ins and methods have no place in either). An
/// import's alias goes to the module file; `alias.f` to `f` in the module.
pub fn definition(uri: &Uri, text: &str, position: Position) -> Option<Location> {
    let word = word_at(text, offset_of(text, position));
    if word.text.is_empty() {
        return None;
    }
    let names = symbols::of_text(text, Some(position.line as usize))?;
    if let Some(receiver) = &word.receiver {
        let module = Module::of_receiver(uri, &names, receiver)?;
        let field = module.field(word.text)?;
        let span = Span::new(field.at.0 as usize, field.at.1 as usize);
        return Some(Location::new(module.uri()?, range_of(&module.text, span)));
    }
    let binding = names.resolve(word.text, word.start as u32)?;
    if binding.kind == BindingKind::Import {
        let module = Module::imported(uri, binding)?;
        return Some(Location::new(module.uri()?, Range::default()));
    }
    let span = Span::new(binding.at.0 as usize, binding.at.1 as usize);
    Some(Location::new(uri.clone(), range_of(text, span)))
}
