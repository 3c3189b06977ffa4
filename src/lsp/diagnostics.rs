//! A document's diagnostics: what `--check` says about it, as LSP diagnostics with UTF-16 ranges.

use crate::error::diagnostic::Diag;
use crate::lsp::positions::range_of;
use crate::lsp::uris::shown_name;
use crate::{Engine, Source};
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri,
};
use miette::Diagnostic as _;

/// What `procscript --check` finds in the text: no diagnostic, or the one
/// error it stops at (the same check, so the editor and the command agree).
pub fn check(uri: &Uri, text: &str) -> Vec<Diagnostic> {
    let source = Source::new(shown_name(uri), text);
    match Engine::new().check(&source) {
        Ok(()) => Vec::new(),
        Err(diag) => vec![to_lsp(uri, text, &diag)],
    }
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
