//! What to say of a name that is not defined: the Python spelling it may be, or a similar name.

use super::Compiler;
use crate::error::diagnostic::Diag;
use crate::error::ErrorKind;
use crate::front::ast::Ident;
use crate::front::{python_hints, spec};

impl Compiler<'_> {
    pub(super) fn undefined(&self, name: &Ident, what: &str) -> Diag {
        let mut diag =
            ErrorKind::Undefined.at(name.span, format!("{what} `{}`", name.name), "not defined");
        if what.starts_with("assignment") {
            // Python declares by assigning; procscript declares with `let`.
            diag = diag.with_help(format!(
                "declare a new variable with `let`: `let {} = ...`",
                name.name
            ));
        } else if let Some(python) = python_hints::constant(&name.name) {
            diag = diag.with_help(format!("procscript writes `{python}`"));
        } else if let Some(similar) = self.similar_name(&name.name) {
            diag = diag.with_help(format!("did you mean `{similar}`?"));
        }
        diag
    }

    fn similar_name(&self, name: &str) -> Option<String> {
        let visible = self
            .fns
            .iter()
            .flat_map(|f| f.blocks.iter().flat_map(super::BlockNames::iter))
            .map(|b| b.name.to_string())
            // A module's fields are bound as `alias.field`: not names to suggest.
            .filter(|name| !name.contains('.'))
            .chain(spec::names().map(str::to_string))
            .chain(self.hosts.names());
        visible
            .filter(|candidate| candidate != name)
            .map(|candidate| (strsim::levenshtein(name, &candidate), candidate))
            .filter(|(distance, candidate)| *distance <= 2 && *distance < candidate.len())
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, candidate)| candidate)
    }
}
