//! `import "path" as name` in the resolver: compiling the module once, binding its fields in the importing file, and what the name may be used for.

use super::{CResult, Compiler, FnScope};
use crate::error;
use crate::error::diagnostic::{Diag, Frame};
use crate::error::ErrorKind;
use crate::front::ast::{self, ExprKind, Ident, Span, StmtKind};
use crate::front::ir::{self, Boxed, Place};
use crate::front::parser;
use std::rc::Rc;

/// A name that stands for a module: its slot's flag (which binding it is,
/// whatever scope the name is seen from), and the module.
#[derive(Clone)]
pub(crate) struct Alias {
    flag: Boxed,
    module: u32,
}

impl Compiler<'_> {
    /// Whether statements compiled now stand at the top level of the file
    /// (a prompt entry's block sits on the session's).
    pub(super) fn at_top_level(&self) -> bool {
        let outer_blocks = if self.session { 2 } else { 1 };
        self.fns.len() == 1 && self.fns[0].blocks.len() == outer_blocks
    }

    /// An `import` that is not at the top level of its file (one that is
    /// was done by `declare_import`).
    pub(super) fn misplaced_import(&self, span: Span) -> Diag {
        ErrorKind::Misplaced
            .at(span, "`import` inside a block", "not at the top level of the file")
            .with_help(
                "imports stand at the top level of a script or module, outside any block or function",
            )
    }

    /// Compiles the module (once) and binds, in the current block, its name
    /// and each of its fields as `name.field`. Done before the block's other
    /// statements, as the import itself runs before them.
    pub(super) fn declare_import(
        &mut self,
        path: &str,
        path_span: Span,
        alias: &Ident,
    ) -> CResult<ir::Import> {
        // A second import under one name would hide the first without a word.
        let block = self.current().blocks.last().expect("a block");
        if let Some(first) = block.first_named(&alias.name) {
            return Err(ErrorKind::DefinedTwice
                .at(
                    alias.span,
                    format!("`{}` is defined twice in this block", alias.name),
                    "second definition",
                )
                .with_note(first.span, "first definition")
                .with_help("import the module under a name this file does not use yet"));
        }
        let module = self.load_module(path, path_span)?;
        let slot = self.declare(alias, true);
        let flag = self.current().slots[slot as usize].clone();
        self.imports.push(Alias { flag, module });
        let names: Vec<Rc<str>> = self.modules.compiled[module as usize]
            .fields
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        let mut fields = Vec::with_capacity(names.len());
        for (index, name) in names.iter().enumerate() {
            let field = Ident {
                name: format!("{}.{name}", alias.name).into(),
                span: alias.span,
            };
            let slot = self.declare(&field, true);
            // The slot holds the module's own cell of the variable.
            self.current().slots[slot as usize].set(true);
            fields.push((index as u32, slot));
        }
        Ok(ir::Import {
            module,
            fields,
            span: path_span,
        })
    }

    /// The module a path names, compiled now if it was not before.
    fn load_module(&mut self, path: &str, path_span: Span) -> CResult<u32> {
        if path.is_empty() {
            return Err(ErrorKind::Import
                .at(path_span, "cannot import an empty path", "no file named")
                .with_help(
                    "name the module's file, from the importing file's folder: \
                     `import \"lib/text.proc\" as text`",
                ));
        }
        // A path ending in `/` names a folder; resolving would drop the `/`
        // and import the file of that name.
        if path.ends_with('/') {
            return Err(ErrorKind::Import
                .at(
                    path_span,
                    format!(
                        "cannot import {path}: a module is a file, and this path ends with `/`"
                    ),
                    "a folder's path",
                )
                .with_help(format!(
                    "name the module's file: `import \"{}\" as ...`",
                    path.trim_end_matches('/')
                )));
        }
        let name = self.modules.resolve(path);
        if let Some(index) = self.modules.index_of(&name) {
            return Ok(index);
        }
        if let Some(cycle) = self.modules.cycle(&name, path_span) {
            return Err(cycle);
        }
        let file = self.modules.read(&name, path_span)?;
        // An error is shown in the module's file; its call stack names the
        // import that brought the file in, as when the module's code fails
        // while it runs.
        let imported_here = |mut diag: Diag| {
            diag.trace.push(Frame {
                function: format!("the module {name}"),
                call_site: path_span,
            });
            diag
        };
        let program = parser::parse_program_at(&file.text, file.base)
            .map_err(|e| imported_here(error::syntax(e)))?;
        let mut inner = Compiler::new(self.hosts, false);
        inner.protos = std::mem::take(&mut self.protos);
        inner.modules = std::mem::take(&mut self.modules);
        inner.modules.enter(&name);
        let module = inner.module(&program, name.as_str().into());
        self.protos = std::mem::take(&mut inner.protos);
        self.modules = std::mem::take(&mut inner.modules);
        Ok(self.modules.leave(module.map_err(imported_here)?))
    }

    /// A module's top-level code, as a function of its own; its top-level
    /// `let`s and `fn`s become its fields, kept in cells.
    fn module(&mut self, program: &ast::Program, name: Rc<str>) -> CResult<ir::Module> {
        self.fns.push(FnScope::default());
        self.push_block();
        self.declare_args();
        let mut body = self.block_stmts(&program.body, None)?;
        let mut fields: Vec<(Rc<str>, u32)> = Vec::new();
        for stmt in &program.body {
            let field = match &stmt.kind {
                StmtKind::Let { name, .. } => name,
                StmtKind::FnDecl(def) => def.name.as_ref().expect("declared functions have names"),
                _ => continue,
            };
            if fields.iter().any(|(known, _)| *known == field.name) {
                continue;
            }
            let top = self.current().blocks.last().expect("the module's block");
            let slot = top.last_named(&field.name).expect("declared").slot;
            self.current().slots[slot as usize].set(true);
            fields.push((field.name.clone(), slot));
        }
        body.enter |= !fields.is_empty();
        self.pop_block();
        self.arity.check()?;
        let (script, _) = self.file_proto(program, body, format!("<module {name}>").into());
        Ok(ir::Module {
            name,
            script,
            fields,
        })
    }

    /// The module a name stands for where it is used, if it does.
    fn module_of(&self, name: &str) -> Option<&Alias> {
        if self.imports.is_empty() {
            return None;
        }
        let flag = self.binding_slot(name)?;
        self.imports.iter().find(|a| Rc::ptr_eq(&a.flag, &flag))
    }

    /// `text.words(x)`, `text.CONST`, or `text` alone, where `text` names a
    /// module: a field becomes the variable bound for it, and the name alone
    /// is an error. None for any other expression.
    pub(super) fn module_access(&mut self, expr: &ast::Expr) -> CResult<Option<ir::Expr>> {
        let (alias, field, args) = match &expr.kind {
            ExprKind::Var(alias) if self.module_of(&alias.name).is_some() => {
                return Err(self.module_not_a_value(alias));
            }
            ExprKind::Field { target, name } => (target, name, None),
            ExprKind::Method { target, name, args } => (target, name, Some(args)),
            _ => return Ok(None),
        };
        let ExprKind::Var(alias) = &alias.kind else {
            return Ok(None);
        };
        let Some(module) = self.module_of(&alias.name).map(|a| a.module) else {
            return Ok(None);
        };
        let value = self.module_field(alias, field, module)?;
        let Some(args) = args else {
            return Ok(Some(value));
        };
        let (args, arg_spans) = self.exprs(args)?;
        Ok(Some(ir::Expr::Call(Box::new(ir::Call {
            callee: value,
            args,
            arg_spans,
            callee_span: alias.span.to(field.span),
            span: expr.span,
        }))))
    }

    /// The variable bound for a field of a module, or an error naming the
    /// module and its fields.
    fn module_field(&mut self, alias: &Ident, field: &Ident, module: u32) -> CResult<ir::Expr> {
        let compiled = self.modules.compiled[module as usize].clone();
        if !compiled.fields.iter().any(|(name, _)| *name == field.name) {
            return Err(no_field(alias, field, &compiled));
        }
        let bound = Ident {
            name: format!("{}.{}", alias.name, field.name).into(),
            span: alias.span.to(field.span),
        };
        Ok(match self.resolve(&bound)? {
            Some(Place::Local(slot)) => ir::Expr::Local {
                slot,
                name: bound.name,
                span: bound.span,
            },
            Some(Place::Upval(index)) => ir::Expr::Upval {
                index,
                name: bound.name,
                span: bound.span,
            },
            None => return Err(no_field(alias, field, &compiled)),
        })
    }

    fn module_not_a_value(&self, alias: &Ident) -> Diag {
        ErrorKind::TypeMismatch
            .at(
                alias.span,
                format!("`{}` is a module, not a value", alias.name),
                "a module",
            )
            .with_help(format!(
                "use its fields: `{0}.name` or `{0}.function(...)`",
                alias.name
            ))
    }

    /// An assignment to a name that stands for a module is refused.
    pub(super) fn refuse_module_assignment(&self, target: &Ident) -> CResult<()> {
        match self.module_of(&target.name) {
            Some(_) => Err(self.module_not_a_value(target)),
            None => Ok(()),
        }
    }
}

/// "module `text` (lib/text.proc) has no field `wrds`", with the fields it has.
fn no_field(alias: &Ident, field: &Ident, module: &ir::Module) -> Diag {
    let names: Vec<&str> = module.fields.iter().map(|(n, _)| &**n).collect();
    let close = names
        .iter()
        .map(|n| (strsim::levenshtein(&field.name, n), *n))
        .filter(|(distance, n)| *distance <= 2 && *distance < n.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, n)| n);
    let mut help = match close {
        Some(close) => format!("did you mean `{}.{close}`? ", alias.name),
        None => String::new(),
    };
    help.push_str(&match names.is_empty() {
        true => format!("{} has no top-level `let` or `fn`", module.name),
        false => format!("its fields: {}", names.join(", ")),
    });
    ErrorKind::NoField
        .at(
            field.span,
            format!(
                "module `{}` ({}) has no field `{}`",
                alias.name, module.name, field.name
            ),
            "not a top-level `let` or `fn` of the module",
        )
        .with_help(help)
}
