//! Prompt entries: each compiled as a continuation of the entries before it, keeping the session's names.

use super::imports::Alias;
use super::scope::Binding;
use super::{CResult, Compiled, Compiler, FnScope};
use crate::front::ast::{self, Span, StmtKind};
use crate::front::ir::{self, Boxed};
use crate::front::modules::ModuleSet;
use crate::front::spec::HostTable;
use std::rc::Rc;

/// The top-level names of an interactive session, kept from one entry to the
/// next: each entry is compiled as a continuation of the ones before.
#[derive(Default)]
pub struct Session {
    /// Name and slot of every top-level variable and function defined so far.
    bindings: Vec<(Rc<str>, u32)>,
    pub(super) slots: Vec<Boxed>,
    pub(super) protos: Vec<Rc<ir::FnProto>>,
    /// The modules imported so far (from the current folder).
    modules: ModuleSet,
    /// The top-level names that stand for a module.
    aliases: Vec<Alias>,
}

impl Session {
    /// The modules the session's entries imported: a diagnostic shows
    /// those in their own files.
    pub fn module_files(&self) -> crate::error::source_files::SharedModules {
        self.modules.files()
    }
}

/// Compiles one entry typed at the prompt. Its names join the session's (a
/// `let` or `fn` of a name defined earlier replaces that variable, so functions
/// defined earlier see the new one). A last statement that is an expression
/// becomes the entry's returned value, for the prompt to echo. On an error the
/// session is left as it was.
pub fn compile_entry(
    program: &ast::Program,
    hosts: &dyn HostTable,
    session: &mut Session,
) -> CResult<Compiled> {
    let mut c = Compiler::new(hosts, true);
    c.protos = session.protos.clone();
    c.modules = session.modules.clone();
    c.imports = session.aliases.clone();
    c.fns.push(FnScope {
        slots: session.slots.clone(),
        ..FnScope::default()
    });
    c.push_block();
    if session.slots.is_empty() {
        c.declare_args();
    }
    for (name, slot) in &session.bindings {
        c.current().blocks[0].push(Binding {
            name: name.clone(),
            slot: *slot,
            declared: true,
            span: Span::default(),
        });
    }
    c.push_block();
    let mut body = c.block_stmts(&program.body, None)?;
    c.arity.check()?;
    if let Some(ast::Stmt {
        kind: StmtKind::Expr(_),
        span,
    }) = program.body.last()
    {
        if let Some(ir::Stmt::Expr(_)) = body.stmts.last() {
            let Some(ir::Stmt::Expr(value)) = body.stmts.pop() else {
                unreachable!("just matched")
            };
            body.stmts.push(ir::Stmt::Return(Some(value), *span));
        }
    }
    let entry = c.current().blocks.pop().expect("the entry's block");
    let mut bindings = c
        .current()
        .blocks
        .pop()
        .expect("the session's block")
        .into_vec();
    for b in entry.into_vec() {
        bindings.retain(|old| old.name != b.name);
        bindings.push(b);
    }
    session.bindings = bindings.into_iter().map(|b| (b.name, b.slot)).collect();
    session.modules = c.modules.clone();
    session.aliases = c.imports.clone();
    let (compiled, slots) = c.finish(program, body);
    session.slots = slots;
    session.protos = compiled.protos.to_vec();
    Ok(compiled)
}
