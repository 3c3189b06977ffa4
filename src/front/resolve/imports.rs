//! `import "path" as name` in the resolver: where an import may stand, and the name it binds.

use super::{CResult, Compiler};
use crate::error::ErrorKind;
use crate::front::ast::{Ident, Span};
use crate::front::ir;

impl Compiler<'_> {
    /// Whether statements compiled now stand at the top level of the file
    /// (a prompt entry's block sits on the session's).
    pub(super) fn at_top_level(&self) -> bool {
        let outer_blocks = if self.session { 2 } else { 1 };
        self.fns.len() == 1 && self.fns[0].blocks.len() == outer_blocks
    }

    /// An `import` statement: only at the top level of a file.
    pub(super) fn import_stmt(&mut self, _alias: &Ident, span: Span) -> CResult<ir::Stmt> {
        if !self.at_top_level() {
            return Err(ErrorKind::Misplaced
                .at(span, "`import` inside a block", "not at the top level of the file")
                .with_help(
                    "imports stand at the top level of a script or module, outside any block or function",
                ));
        }
        Err(ErrorKind::Misplaced.at(span, "imports are not run yet", "this import"))
    }
}
