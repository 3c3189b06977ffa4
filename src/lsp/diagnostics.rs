//! A document's diagnostics: what `--check` says about it, as LSP diagnostics with UTF-16 ranges.

use crate::error::diagnostic::Diag;
use crate::front::ast::Span;
use crate::lsp::positions::range_of;
use crate::lsp::symbols::{self, Binding, BindingKind};
use crate::lsp::uris::{self, shown_name};
use crate::{Engine, Source};
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range,
    Uri,
};
use miette::Diagnostic as _;
use std::path::Path;

/// What `procscript --check` finds in the text: no diagnostic, or the one
/// error it stops at (the same check, so the editor and the command agree).
pub fn check(uri: &Uri, text: &str) -> Vec<Diagnostic> {
    let source = Source::new(shown_name(uri), text);
    match Engine::new().check(&source) {
        Ok(()) => Vec::new(),
        Err(diag) => match in_module(uri, text, &source, &diag) {
            Some(found) => vec![found],
            None => vec![to_lsp(uri, text, &diag)],
        },
    }
}

/// An error in a module the document imports (its span lies in the module's
/// offsets): shown on the document's import of that file (or its first
/// import, for a module imported by a module), saying where, with the place
/// in the module file as related information.
fn in_module(uri: &Uri, text: &str, source: &Source, diag: &Diag) -> Option<Diagnostic> {
    let (file, base) = source.file_at(diag.span.start);
    if base == 0 {
        return None;
    }
    let mut local = diag.clone();
    local.span = Span::new(
        (diag.span.start - base) as usize,
        (diag.span.end - base) as usize,
    );
    local.notes.clear();
    let (line, column) = file.line_col(local.span.start);
    let mut shown = to_lsp(uri, text, &local);
    shown.message = format!("{}:{line}:{column}: {}", file.name, shown.message);
    let module_uri = uris::from_path(Path::new(&*file.name))?;
    shown.related_information = Some(vec![DiagnosticRelatedInformation {
        location: Location::new(module_uri, range_of(&file.text, local.span)),
        message: diag.label.clone(),
    }]);
    shown.range = import_of(uri, text, Path::new(&*file.name));
    Some(shown)
}

/// The range of the import statement's alias that names `module`, else of the first import.
fn import_of(uri: &Uri, text: &str, module: &Path) -> Range {
    let names = symbols::of_text(text, None).unwrap_or_default();
    let imports: Vec<_> = (names.bindings.iter())
        .filter(|b| b.kind == BindingKind::Import)
        .collect();
    let folder = uris::to_path(uri).and_then(|p| p.parent().map(Path::to_path_buf));
    let names_module = |b: &&&Binding| {
        let written = b.module.as_deref().unwrap_or_default();
        folder.as_ref().is_some_and(|f| f.join(written) == module)
    };
    let chosen = imports.iter().find(names_module).or(imports.first());
    chosen.map_or_else(Range::default, |b| {
        range_of(text, Span::new(b.at.0 as usize, b.at.1 as usize))
    })
}

/// The message with the label and the help under it (the label says what is
/// wrong at the place, as the command's report draws it under the line);
/// notes (an unclosed `{`, a first definition) as related places.
fn to_lsp(uri: &Uri, text: &str, diag: &Diag) -> Diagnostic {
    let mut message = diag.message.clone();
    if !diag.label.is_empty() && diag.label != diag.message {
        message.push_str(&format!("\n{}", diag.label));
    }
    if let Some(help) = &diag.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<_> = diag
        .notes
        .iter()
        .map(|(span, note)| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), range_of(text, *span)),
            message: note.clone(),
        })
        .collect();
    Diagnostic {
        range: range_of(text, diag.span),
        severity: Some(DiagnosticSeverity::ERROR),
        code: diag
            .kind
            .code()
            .map(|code| NumberOrString::String(code.to_string())),
        source: Some("procscript".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    }
}
