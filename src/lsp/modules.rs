//! Imported modules as the server sees them: the file `import "path" as name` names, and the top-level names it gives `name.`.

use crate::lsp::cursor::Receiver;
use crate::lsp::symbols::{self, Binding, BindingKind, Names};
use crate::lsp::uris;
use crate::{limits, os};
use lsp_types::Uri;
use std::path::PathBuf;

/// A module file, read from disk as it is saved now.
pub struct Module {
    pub path: PathBuf,
    pub text: String,
    pub names: Names,
}

impl Module {
    /// The module an import binding names, relative to the importing
    /// document's folder; None when the document is not a file or the
    /// module does not read or parse.
    pub fn imported(document: &Uri, import: &Binding) -> Option<Module> {
        let written = import.module.as_deref()?;
        let path = uris::to_path(document)?.parent()?.join(written);
        // As `import` reads it: at most a script's size (never all of /dev/zero).
        let max = limits::MAX_SOURCE_BYTES;
        let bytes = os::read_regular_file_at_most(path.to_str()?, max).ok()?;
        let text = String::from_utf8(bytes).ok().filter(|t| t.len() <= max)?;
        let names = symbols::of_text(&text, None)?;
        Some(Module { path, text, names })
    }

    /// The module `alias.` stands for, when the receiver is an import's alias.
    pub fn of_receiver(document: &Uri, names: &Names, receiver: &Receiver) -> Option<Module> {
        Module::imported(document, Module::import_named(names, receiver)?)
    }

    /// The import that `receiver` names (`m` in `m.`), readable or not.
    pub fn import_named<'n>(names: &'n Names, receiver: &Receiver) -> Option<&'n Binding> {
        let Receiver::Name(alias, at) = *receiver else {
            return None;
        };
        let import = names.resolve(alias, at as u32)?;
        (import.kind == BindingKind::Import).then_some(import)
    }

    /// The module's fields: its top-level functions and `let`s (and imports), each once.
    pub fn fields(&self) -> Vec<&Binding> {
        let whole = (0, self.text.len() as u32);
        let mut fields: Vec<&Binding> = Vec::new();
        for binding in self.names.bindings.iter().filter(|b| b.scope == whole) {
            if !fields.iter().any(|f| f.name == binding.name) {
                fields.push(binding);
            }
        }
        fields
    }

    pub fn field(&self, name: &str) -> Option<&Binding> {
        self.fields().into_iter().find(|f| &*f.name == name)
    }

    pub fn uri(&self) -> Option<Uri> {
        uris::from_path(&self.path)
    }
}
