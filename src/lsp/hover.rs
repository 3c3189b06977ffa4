//! Hover: a built-in's or method's reference line, a function's signature, what a variable is.

use crate::front::ast::Span;
use crate::front::spec;
use crate::lsp::cursor::word_at;
use crate::lsp::modules::Module;
use crate::lsp::positions::{offset_of, range_of};
use crate::lsp::symbols::{self, Binding, BindingKind};
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Uri};

/// What the name at `position` is, in Markdown: the code line, then the
/// reference line for a built-in or a method (from `front::spec`); for
/// `alias.f`, `f` as the imported module declares it.
pub fn hover(uri: &Uri, text: &str, position: Position) -> Option<Hover> {
    let word = word_at(text, offset_of(text, position));
    if word.text.is_empty() {
        return None;
    }
    let names = symbols::of_text(text, Some(position.line as usize)).unwrap_or_default();
    let value = match &word.receiver {
        Some(receiver) => match Module::of_receiver(uri, &names, receiver) {
            Some(module) => code(&describe(module.field(word.text)?)),
            None => methods(word.text, names.receiver_type(receiver))?,
        },
        None => match names.resolve(word.text, word.start as u32) {
            Some(binding) => code(&describe(binding)),
            None => {
                let builtin = &spec::all()[spec::lookup(word.text)? as usize];
                reference(builtin.signature, builtin.about)
            }
        },
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(range_of(text, Span::new(word.start, word.end))),
    })
}

/// The methods called `name` (of type `on` when it is known), each with its reference line.
fn methods(name: &str, on: Option<&str>) -> Option<String> {
    let lines: Vec<String> = spec::methods()
        .iter()
        .filter(|m| m.name == name && on.is_none_or(|on| m.on == on))
        .map(|m| reference(m.signature, m.about))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n\n"))
}

/// A declared name as its declaration reads: `fn add(a, b)`, `let q` (a queue).
pub fn describe(binding: &Binding) -> String {
    let name = &binding.name;
    match binding.kind {
        BindingKind::Function => format!("fn {name}({})", binding.params.join(", ")),
        BindingKind::Variable => match binding.holds {
            Some(holds) => format!("let {name}  # a {holds}"),
            None => format!("let {name}"),
        },
        BindingKind::Parameter => format!("{name}  # a parameter"),
        BindingKind::LoopVariable => format!("for {name} in ..."),
        BindingKind::CatchVariable => format!("catch {name}"),
        BindingKind::Import => {
            let path = binding.module.as_deref().unwrap_or_default();
            format!("import {path:?} as {name}")
        }
    }
}

fn code(line: &str) -> String {
    format!("```procscript\n{line}\n```")
}

/// A reference entry: the usage as code, then the one line saying what it does.
fn reference(signature: &str, about: &str) -> String {
    format!("{}\n{about}", code(signature))
}
