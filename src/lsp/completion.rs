//! Completion: the names in scope, built-ins and keywords, and after a `.` the methods of what stands before it.

use crate::front::parser::KEYWORDS;
use crate::front::spec;
use crate::lsp::cursor::word_at;
use crate::lsp::hover::describe;
use crate::lsp::modules::Module;
use crate::lsp::positions::offset_of;
use crate::lsp::symbols::{self, Binding, BindingKind};
use lsp_types::{CompletionItem, CompletionItemKind, Documentation, Position, Uri};

/// What may be written at `position`, starting with what was typed there.
pub fn complete(uri: &Uri, text: &str, position: Position) -> Vec<CompletionItem> {
    let offset = offset_of(text, position);
    let word = word_at(text, offset);
    let typed = &text[word.start..offset.max(word.start)];
    let names = symbols::of_text(text, Some(position.line as usize)).unwrap_or_default();
    if let Some(receiver) = &word.receiver {
        if let Some(module) = Module::of_receiver(uri, &names, receiver) {
            return declared(&module.fields(), typed);
        }
        // A module that cannot be read: its names are unknown, and a module
        // has no methods (every built-in one was offered).
        if Module::import_named(&names, receiver).is_some() {
            return Vec::new();
        }
        return methods(names.receiver_type(receiver), typed);
    }
    let names = names.in_scope(offset as u32);
    let mut items = declared(&names, typed);
    let shadowed = |name: &str| names.iter().any(|b| &*b.name == name);
    for builtin in spec::all() {
        if builtin.name.starts_with(typed) && !shadowed(builtin.name) {
            let (signature, about) = (builtin.signature, builtin.about);
            let kind = CompletionItemKind::FUNCTION;
            items.push(item(builtin.name, kind, signature.to_string(), Some(about)));
        }
    }
    for keyword in KEYWORDS.iter().filter(|k| k.starts_with(typed)) {
        items.push(item(
            keyword,
            CompletionItemKind::KEYWORD,
            String::new(),
            None,
        ));
    }
    items
}

/// Names the script (or a module) declares, with how each is declared.
fn declared(names: &[&Binding], typed: &str) -> Vec<CompletionItem> {
    let wanted = names.iter().filter(|b| b.name.starts_with(typed));
    let kind = |binding: &Binding| match binding.kind {
        BindingKind::Function => CompletionItemKind::FUNCTION,
        BindingKind::Import => CompletionItemKind::MODULE,
        _ => CompletionItemKind::VARIABLE,
    };
    wanted
        .map(|b| item(&b.name, kind(b), describe(b), None))
        .collect()
}

/// The methods of type `on` (every method when the type is not known), each name once.
fn methods(on: Option<&str>, typed: &str) -> Vec<CompletionItem> {
    let mut items: Vec<CompletionItem> = Vec::new();
    let wanted = spec::methods()
        .iter()
        .filter(|m| on.is_none_or(|on| m.on == on) && m.name.starts_with(typed));
    for method in wanted {
        match items.iter_mut().find(|i| i.label == method.name) {
            // The same name on several types (`acquire` of a lock and a semaphore).
            Some(seen) => {
                let detail = seen.detail.get_or_insert_with(String::new);
                detail.push_str(&format!(" | {}", method.signature));
            }
            None => items.push(item(
                method.name,
                CompletionItemKind::METHOD,
                method.signature.to_string(),
                Some(method.about),
            )),
        }
    }
    items
}

fn item(
    label: &str,
    kind: CompletionItemKind,
    detail: String,
    about: Option<&str>,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then_some(detail),
        documentation: about.map(|a| Documentation::String(a.to_string())),
        ..CompletionItem::default()
    }
}
