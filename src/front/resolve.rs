//! Name resolution: turns the syntax tree into the slot-resolved `ir`, reporting
//! undefined names and misplaced `break`/`continue`/`return` before anything runs.

use crate::error::diagnostic::Diag;
use crate::error::ErrorKind;
use crate::front::ast::{self, AssignOp, ExprKind, Ident, Span, StmtKind};
use crate::front::ir::{self, Boxed, Capture, Place};
use crate::front::modules::ModuleSet;
use crate::front::spec;
use crate::front::spec::HostTable;
use arity::ArityChecks;
use scope::{Binding, BlockNames};
use std::cell::Cell;
use std::rc::Rc;

type CResult<T> = Result<T, Diag>;

/// Slot 0 of the script's frame holds `args`, the command-line arguments.
pub const ARGS_SLOT: u32 = 0;

/// A compiled program: the script's own function, and every function in it
/// by index (the same in every process, since all are compiled before any fork).
pub struct Compiled {
    pub script: Rc<ir::FnProto>,
    pub protos: Rc<[Rc<ir::FnProto>]>,
    /// Every module the script imports, directly or not, by index.
    pub modules: Rc<[Rc<ir::Module>]>,
}

/// Compiles a parsed program into the function the interpreter runs;
/// `hosts` are the functions the embedding program registered.
pub fn compile_program(program: &ast::Program, hosts: &dyn HostTable) -> CResult<Compiled> {
    compile_script(program, hosts, ModuleSet::default())
}

/// Compiles a script and every module it imports (found from `modules`,
/// which knows the script's own path).
pub fn compile_script(
    program: &ast::Program,
    hosts: &dyn HostTable,
    modules: ModuleSet,
) -> CResult<Compiled> {
    let mut c = Compiler::new(hosts, false);
    c.modules = modules;
    c.fns.push(FnScope::default());
    c.push_block();
    c.declare_args();
    let body = c.block_stmts(&program.body, None)?;
    c.pop_block();
    c.arity.check()?;
    Ok(c.finish(program, body).0)
}

pub use session::{compile_entry, Session};

#[derive(Default)]
struct FnScope {
    blocks: Vec<BlockNames>,
    slots: Vec<Boxed>,
    captures: Vec<Capture>,
    loop_depth: usize,
}

struct Compiler<'h> {
    fns: Vec<FnScope>,
    protos: Vec<Rc<ir::FnProto>>,
    /// The modules compiled so far, and the files being compiled now.
    modules: ModuleSet,
    /// The names that stand for a module here, by their slot's flag (see `imports`).
    imports: Vec<imports::Alias>,
    hosts: &'h dyn HostTable,
    /// Compiling a prompt entry: block 0 holds the names of earlier entries.
    session: bool,
    arity: ArityChecks,
}

enum Lookup {
    Found(Place),
    /// Declared later in the same function: used before its `let`.
    TooEarly(Span),
    Missing,
}

impl<'h> Compiler<'h> {
    fn new(hosts: &'h dyn HostTable, session: bool) -> Self {
        Compiler {
            fns: Vec::new(),
            protos: Vec::new(),
            modules: ModuleSet::default(),
            imports: Vec::new(),
            hosts,
            session,
            arity: ArityChecks::default(),
        }
    }

    /// `args`, the command-line arguments, is the script's one parameter.
    fn declare_args(&mut self) {
        let args = Ident {
            name: "args".into(),
            span: Span::default(),
        };
        let slot = self.declare(&args, true);
        debug_assert_eq!(slot, ARGS_SLOT);
    }

    /// The script's own function around its compiled body, and its frame's slots.
    fn finish(mut self, program: &ast::Program, body: ir::Block) -> (Compiled, Vec<Boxed>) {
        let (script, slots) = self.file_proto(program, body, "<script>".into());
        let compiled = Compiled {
            script,
            protos: self.protos.into(),
            modules: self.modules.compiled.into(),
        };
        (compiled, slots)
    }

    /// The function a file's top-level code runs as (the script's, or a
    /// module's), added to the functions; and its frame's slots.
    fn file_proto(
        &mut self,
        program: &ast::Program,
        body: ir::Block,
        name: Rc<str>,
    ) -> (Rc<ir::FnProto>, Vec<Boxed>) {
        let whole = program
            .body
            .first()
            .map(|s| s.span)
            .unwrap_or_default()
            .to(program.body.last().map(|s| s.span).unwrap_or_default());
        let scope = self.fns.pop().expect("script scope");
        let script = Rc::new(ir::FnProto {
            name,
            index: self.protos.len() as u32,
            params: vec![scope.slots[ARGS_SLOT as usize].clone()],
            slots: scope.slots.len() as u32,
            body,
            captures: scope.captures,
            span: whole,
            params_boxed: true,
            returns: None,
        });
        self.protos.push(script.clone());
        (script, scope.slots)
    }

    /// At the top level of a prompt entry: the slot of a name an earlier entry defined.
    fn session_slot(&self, name: &str) -> Option<u32> {
        let scope = self.fns.first()?;
        if !self.session || self.fns.len() != 1 || scope.blocks.len() != 2 {
            return None;
        }
        scope.blocks[0].last_named(name).map(|b| b.slot)
    }

    fn current(&mut self) -> &mut FnScope {
        self.fns.last_mut().expect("a function scope")
    }

    fn push_block(&mut self) {
        self.current().blocks.push(BlockNames::default());
    }

    fn pop_block(&mut self) {
        self.current().blocks.pop();
    }

    fn new_slot(&mut self) -> u32 {
        let scope = self.current();
        scope.slots.push(Rc::new(Cell::new(false)));
        (scope.slots.len() - 1) as u32
    }

    /// Adds a binding in the innermost block; returns its slot.
    fn declare(&mut self, name: &Ident, declared: bool) -> u32 {
        let slot = self.new_slot();
        let block = self.current().blocks.last_mut().expect("a block");
        block.push(Binding {
            name: name.name.clone(),
            slot,
            declared,
            span: name.span,
        });
        slot
    }

    fn decl(&mut self, slot: u32) -> ir::Decl {
        ir::Decl {
            slot,
            boxed: self.current().slots[slot as usize].clone(),
        }
    }

    /// Finds a variable as seen from function `fi`, capturing it from enclosing functions.
    fn lookup(&mut self, fi: usize, name: &str) -> Lookup {
        let mut too_early = None;
        for block in self.fns[fi].blocks.iter().rev() {
            for b in block.named_rev(name) {
                if b.declared || fi + 1 != self.fns.len() {
                    return Lookup::Found(Place::Local(b.slot));
                }
                too_early.get_or_insert(b.span);
            }
        }
        if fi > 0 {
            if let Lookup::Found(outer) = self.lookup(fi - 1, name) {
                let capture = match outer {
                    Place::Local(slot) => {
                        self.fns[fi - 1].slots[slot as usize].set(true);
                        Capture::Local(slot)
                    }
                    Place::Upval(i) => Capture::Upval(i),
                };
                let captures = &mut self.fns[fi].captures;
                let index = match captures.iter().position(|c| *c == capture) {
                    Some(i) => i,
                    None => {
                        captures.push(capture);
                        captures.len() - 1
                    }
                };
                return Lookup::Found(Place::Upval(index as u32));
            }
        }
        match too_early {
            Some(span) => Lookup::TooEarly(span),
            None => Lookup::Missing,
        }
    }

    /// The slot a name stands for here, in this function or an enclosing one.
    fn binding_slot(&self, name: &str) -> Option<Boxed> {
        self.fns.iter().rev().find_map(|scope| {
            let b = scope
                .blocks
                .iter()
                .rev()
                .flat_map(|block| block.iter().rev())
                .find(|b| &*b.name == name)?;
            scope.slots.get(b.slot as usize).cloned()
        })
    }

    fn resolve(&mut self, name: &Ident) -> CResult<Option<Place>> {
        match self.lookup(self.fns.len() - 1, &name.name) {
            Lookup::Found(place) => Ok(Some(place)),
            Lookup::TooEarly(decl) => Err(ErrorKind::UsedBeforeDeclared
                .at(
                    name.span,
                    format!("`{}` is used before it is declared", name.name),
                    "used here",
                )
                .with_note(decl, "declared here")
                .with_help(format!("move `let {}` above this line", name.name))),
            Lookup::Missing => Ok(None),
        }
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, block: &ast::Block, var: Option<&Ident>) -> CResult<ir::Block> {
        self.push_block();
        let result = self.block_stmts(&block.stmts, var);
        self.pop_block();
        result
    }

    /// Compiles statements into the current (already pushed) block scope.
    /// `var` is a loop or catch variable bound fresh on each entry.
    fn block_stmts(&mut self, stmts: &[ast::Stmt], var: Option<&Ident>) -> CResult<ir::Block> {
        let mut decls = Vec::new();
        if let Some(var) = var {
            let slot = self.declare(var, true);
            decls.push(self.decl(slot));
        }
        // Hoisting: every name of this block gets its slot now, so functions can
        // call each other and see variables whose `let` comes later.
        let mut imports = Vec::new();
        for stmt in stmts {
            match &stmt.kind {
                StmtKind::Import {
                    path,
                    path_span,
                    alias,
                } if self.at_top_level() => {
                    imports.push(self.declare_import(path, *path_span, alias)?);
                }
                StmtKind::Let { name, .. } => {
                    let block = self.current().blocks.last().expect("a block");
                    if block.last_named(&name.name).is_none()
                        && self.session_slot(&name.name).is_none()
                    {
                        let slot = self.declare(name, false);
                        decls.push(self.decl(slot));
                    }
                }
                StmtKind::FnDecl(def) => {
                    let name = def.name.as_ref().expect("declared functions have names");
                    let block = self.current().blocks.last().expect("a block");
                    if let Some(first) = block.first_named(&name.name) {
                        return Err(ErrorKind::DefinedTwice
                            .at(
                                name.span,
                                format!("`{}` is defined twice in this block", name.name),
                                "second definition",
                            )
                            .with_note(first.span, "first definition"));
                    }
                    if self.session_slot(&name.name).is_none() {
                        let slot = self.declare(name, true);
                        let boxed = self.current().slots[slot as usize].clone();
                        self.arity.declared(&boxed, def.params.len(), def.span);
                        decls.push(self.decl(slot));
                    }
                }
                _ => {}
            }
        }
        let mut out = ir::Block {
            imports,
            stmts: Vec::with_capacity(stmts.len()),
            decls,
            fns: Vec::new(),
            enter: false,
        };
        for stmt in stmts {
            if matches!(stmt.kind, StmtKind::Import { .. }) && self.at_top_level() {
                continue;
            }
            if let StmtKind::FnDecl(def) = &stmt.kind {
                let name = def.name.as_ref().expect("declared functions have names");
                let proto = self.function(def, name.name.clone())?;
                let slot = self
                    .current()
                    .blocks
                    .last()
                    .and_then(|b| b.first_named(&name.name))
                    .map(|b| b.slot)
                    .or_else(|| self.session_slot(&name.name))
                    .expect("hoisted above");
                out.fns.push((slot, proto));
                continue;
            }
            let compiled = self.stmt(stmt, &mut out.decls)?;
            out.stmts.push(compiled);
        }
        // Final now: only closures inside this block capture its variables.
        out.enter = !out.fns.is_empty() || out.decls.iter().any(|d| d.boxed.get());
        Ok(out)
    }

    fn stmt(&mut self, stmt: &ast::Stmt, decls: &mut Vec<ir::Decl>) -> CResult<ir::Stmt> {
        Ok(match &stmt.kind {
            StmtKind::Let { name, value } => self.let_stmt(name, value, decls)?,
            StmtKind::Assign {
                target,
                indexes,
                op,
                value,
            } => self.assign_stmt(target, indexes, *op, value, stmt.span)?,
            StmtKind::FnDecl(_) => unreachable!("hoisted by block_stmts"),
            StmtKind::Import { .. } => return Err(self.misplaced_import(stmt.span)),
            StmtKind::Return(value) => {
                if self.fns.len() == 1 {
                    return Err(ErrorKind::Misplaced
                        .at(
                            stmt.span,
                            "`return` outside a function",
                            "not inside any function",
                        )
                        .with_help("use `exit(code)` to end the script early"));
                }
                ir::Stmt::Return(value.as_ref().map(|v| self.expr(v)).transpose()?, stmt.span)
            }
            StmtKind::If {
                branches,
                otherwise,
            } => ir::Stmt::If {
                branches: branches
                    .iter()
                    .map(|(cond, then)| Ok((self.expr(cond)?, self.block(then, None)?)))
                    .collect::<Result<_, Diag>>()?,
                otherwise: otherwise
                    .as_ref()
                    .map(|b| self.block(b, None))
                    .transpose()?,
            },
            StmtKind::While { cond, body } => {
                let cond = self.expr(cond)?;
                let body = self.loop_body(body, None)?;
                ir::Stmt::While { cond, body }
            }
            StmtKind::For { var, iter, body } => self.for_stmt(var, iter, body)?,
            StmtKind::Break | StmtKind::Continue => {
                let word = if matches!(stmt.kind, StmtKind::Break) {
                    "break"
                } else {
                    "continue"
                };
                if self.current().loop_depth == 0 {
                    return Err(ErrorKind::Misplaced.at(
                        stmt.span,
                        format!("`{word}` outside a loop"),
                        "not inside any `while` or `for` of this function",
                    ));
                }
                if word == "break" {
                    ir::Stmt::Break
                } else {
                    ir::Stmt::Continue
                }
            }
            StmtKind::Try { body, err, handler } => {
                let body = self.block(body, None)?;
                let handler = self.block(handler, err.as_ref())?;
                ir::Stmt::Try {
                    body,
                    err_slot: err.as_ref().map(|_| handler.decls[0].slot),
                    handler,
                }
            }
            StmtKind::Expr(e) => ir::Stmt::Expr(self.expr(e)?),
        })
    }

    /// `let name = value`: a new slot, or the one an earlier use or prompt entry gave the name.
    fn let_stmt(
        &mut self,
        name: &Ident,
        value: &ast::Expr,
        decls: &mut Vec<ir::Decl>,
    ) -> CResult<ir::Stmt> {
        let value = self.expr(value)?;
        let earlier_entry = self.session_slot(&name.name);
        let block = self.current().blocks.last_mut().expect("a block");
        let slot = match (block.last_named_mut(&name.name), earlier_entry) {
            (Some(b), _) if !b.declared => {
                b.declared = true;
                b.span = name.span;
                b.slot
            }
            // At the prompt, a name of an earlier entry: the same variable.
            (None, Some(slot)) => slot,
            // `let` again in the same block: a new variable shadows the old one.
            _ => {
                let slot = self.declare(name, true);
                decls.push(self.decl(slot));
                slot
            }
        };
        Ok(ir::Stmt::Let { slot, value })
    }

    /// `target[indexes] op= value`.
    fn assign_stmt(
        &mut self,
        target: &Ident,
        indexes: &[ast::Expr],
        op: AssignOp,
        value: &ast::Expr,
        span: Span,
    ) -> CResult<ir::Stmt> {
        let place = self
            .resolve(target)?
            .ok_or_else(|| self.undefined(target, "assignment to undeclared variable"))?;
        self.refuse_module_assignment(target)?;
        if let Some(boxed) = self.binding_slot(&target.name) {
            self.arity.assigned(&boxed);
        }
        let op = match op {
            AssignOp::Set => None,
            AssignOp::Update(op) => Some(op),
        };
        let value_span = value.span;
        let value = self.expr(value)?;
        Ok(if indexes.is_empty() {
            ir::Stmt::Assign {
                place,
                name: target.name.clone(),
                op,
                value,
                span,
                value_span,
            }
        } else {
            ir::Stmt::AssignIndex {
                place,
                name: target.name.clone(),
                indexes: indexes
                    .iter()
                    .map(|i| Ok((self.expr(i)?, i.span)))
                    .collect::<CResult<_>>()?,
                op,
                value,
                span,
                value_span,
            }
        })
    }

    fn loop_body(&mut self, body: &ast::Block, var: Option<&Ident>) -> CResult<ir::Block> {
        self.current().loop_depth += 1;
        let result = self.block(body, var);
        self.current().loop_depth -= 1;
        result
    }

    fn for_stmt(&mut self, var: &Ident, iter: &ast::Expr, body: &ast::Block) -> CResult<ir::Stmt> {
        // Counting loops need no list: `a..b` and an unshadowed `range(...)`.
        let counted = match &iter.kind {
            ExprKind::Binary(ast::BinOp::Range, a, b) => Some((self.expr(a)?, self.expr(b)?, None)),
            ExprKind::Call { callee, args }
                if (1..=3).contains(&args.len()) && self.is_builtin(callee, "range")? =>
            {
                let mut args = args
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<CResult<Vec<_>>>()?;
                let step = (args.len() == 3).then(|| args.pop()).flatten();
                let end = args.pop().expect("at least one argument");
                let start = args.pop().unwrap_or(ir::Expr::Int(0));
                Some((start, end, step))
            }
            _ => None,
        };
        if let Some((start, end, step)) = counted {
            let body = self.loop_body(body, Some(var))?;
            return Ok(ir::Stmt::ForRange {
                slot: body.decls[0].slot,
                start,
                end,
                step,
                body,
                span: iter.span,
            });
        }
        let iter_expr = self.expr(iter)?;
        let body = self.loop_body(body, Some(var))?;
        Ok(ir::Stmt::ForEach {
            slot: body.decls[0].slot,
            iter: iter_expr,
            body,
            span: iter.span,
        })
    }

    fn is_builtin(&mut self, callee: &ast::Expr, wanted: &str) -> CResult<bool> {
        Ok(match &callee.kind {
            ExprKind::Var(name) if &*name.name == wanted => self.resolve(name)?.is_none(),
            _ => false,
        })
    }

    fn function(&mut self, def: &ast::FnDef, name: Rc<str>) -> CResult<Rc<ir::FnProto>> {
        let outer_loops = std::mem::take(&mut self.current().loop_depth);
        self.fns.push(FnScope::default());
        self.push_block();
        let params: Vec<Boxed> = def
            .params
            .iter()
            .map(|p| {
                let slot = self.declare(p, true);
                self.current().slots[slot as usize].clone()
            })
            .collect();
        let body = self.block(&def.body, None);
        self.pop_block();
        let scope = self.fns.pop().expect("pushed above");
        self.current().loop_depth = outer_loops;
        // Final now: only functions inside this one capture its variables.
        let params_boxed = params.iter().any(|p| p.get());
        let (body, returns) = match ir::Returns::from_body(body?) {
            Ok(returns) => (ir::Block::default(), Some(returns)),
            Err(body) => (body, None),
        };
        let proto = Rc::new(ir::FnProto {
            name,
            index: self.protos.len() as u32,
            params,
            slots: scope.slots.len() as u32,
            body,
            captures: scope.captures,
            span: def.span,
            params_boxed,
            returns,
        });
        self.protos.push(proto.clone());
        Ok(proto)
    }

    // ------------------------------------------------------------ expressions

    fn exprs(&mut self, exprs: &[ast::Expr]) -> CResult<(Vec<ir::Expr>, Vec<Span>)> {
        let compiled = exprs.iter().map(|e| self.expr(e)).collect::<CResult<_>>()?;
        Ok((compiled, exprs.iter().map(|e| e.span).collect()))
    }

    fn expr(&mut self, expr: &ast::Expr) -> CResult<ir::Expr> {
        // Expressions nest as deep as the source does; keep native stack in reserve.
        stacker::maybe_grow(
            crate::limits::STACK_RED_ZONE,
            crate::limits::STACK_SEGMENT,
            || self.expr_inner(expr),
        )
    }

    /// `a op b`, keeping where each side stands for errors about one side.
    fn binary(
        &mut self,
        op: ast::BinOp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
    ) -> CResult<ir::Expr> {
        let sides = ir::Sides {
            left: a.span,
            right: b.span,
        };
        Ok(match (self.expr(a)?, self.expr(b)?) {
            // `n - 1`, `i < 10`: one node instead of three on a hot path.
            (ir::Expr::Local { slot, name, .. }, ir::Expr::Int(value)) => {
                ir::Expr::LocalInt(Box::new(ir::LocalInt {
                    op,
                    slot,
                    value,
                    name,
                    span,
                    sides,
                }))
            }
            (left, right) => {
                ir::Expr::Binary(op, Box::new(ir::Operands { left, right, sides }), span)
            }
        })
    }

    fn expr_inner(&mut self, expr: &ast::Expr) -> CResult<ir::Expr> {
        if let Some(field) = self.module_access(expr)? {
            return Ok(field);
        }
        let span = expr.span;
        Ok(match &expr.kind {
            ExprKind::Nil => ir::Expr::Const(ir::Literal::Nil),
            ExprKind::Bool(b) => ir::Expr::Const(ir::Literal::Bool(*b)),
            ExprKind::Int(n) => ir::Expr::Int(*n),
            ExprKind::Float(x) => ir::Expr::Const(ir::Literal::Float(*x)),
            ExprKind::Str(s) => ir::Expr::Const(ir::Literal::Str(s.clone())),
            ExprKind::Interp(parts) => ir::Expr::Interp(
                parts
                    .iter()
                    .map(|part| match part {
                        ast::InterpPart::Text(t) => {
                            Ok(ir::Expr::Const(ir::Literal::Str(t.clone())))
                        }
                        ast::InterpPart::Expr(e) => self.expr(e),
                        ast::InterpPart::Formatted(e, spec, span) => Ok(ir::Expr::Format(
                            Box::new((self.expr(e)?, spec.clone(), *span)),
                        )),
                    })
                    .collect::<CResult<_>>()?,
            ),
            ExprKind::List(items) => ir::Expr::List(self.exprs(items)?.0),
            ExprKind::Map(entries) => ir::Expr::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((self.expr(k)?, self.expr(v)?, k.span)))
                    .collect::<CResult<_>>()?,
            ),
            ExprKind::Var(name) => match self.resolve(name)? {
                Some(Place::Local(slot)) => ir::Expr::Local {
                    slot,
                    name: name.name.clone(),
                    span,
                },
                Some(Place::Upval(index)) => ir::Expr::Upval {
                    index,
                    name: name.name.clone(),
                    span,
                },
                None => match spec::lookup(&name.name) {
                    Some(id) => ir::Expr::Builtin(id),
                    None => match self.hosts.index_of(&name.name) {
                        Some(index) => ir::Expr::Host(index),
                        None => return Err(self.undefined(name, "undefined variable")),
                    },
                },
            },
            ExprKind::Unary(op, operand) => {
                ir::Expr::Unary(*op, Box::new(self.expr(operand)?), span)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span)?,
            ExprKind::And(a, b) => ir::Expr::And(Box::new((self.expr(a)?, self.expr(b)?))),
            ExprKind::Or(a, b) => ir::Expr::Or(Box::new((self.expr(a)?, self.expr(b)?))),
            ExprKind::Call { callee, args } => self.call(callee, args, span)?,
            ExprKind::Index { target, index } => {
                ir::Expr::Index(Box::new((self.expr(target)?, self.expr(index)?)), span)
            }
            ExprKind::Field { target, name } => {
                ir::Expr::Field(Box::new(self.expr(target)?), name.name.clone(), name.span)
            }
            ExprKind::Method { target, name, args } => {
                let target = self.expr(target)?;
                let (args, arg_spans) = self.exprs(args)?;
                ir::Expr::Method(Rc::new(ir::MethodCall {
                    target,
                    name: name.name.clone(),
                    found: Default::default(),
                    args,
                    arg_spans,
                    name_span: name.span,
                    span,
                }))
            }
            ExprKind::Fn(def) => ir::Expr::Closure(self.function(def, "".into())?),
            ExprKind::Fork => ir::Expr::Fork(span),
            ExprKind::Pid => ir::Expr::Pid,
            ExprKind::Ppid => ir::Expr::Ppid,
            ExprKind::Spawn { call, name } => ir::Expr::Spawn(Box::new(ir::Spawn {
                call: self.expr(call)?,
                name: name.as_ref().map(|n| self.expr(n)).transpose()?,
                span,
            })),
            ExprKind::Join { target, timeout } => ir::Expr::Join(Box::new(ir::Join {
                target: self.expr(target)?,
                timeout: timeout.as_ref().map(|t| self.expr(t)).transpose()?,
                span,
            })),
        })
    }

    fn call(&mut self, callee: &ast::Expr, args: &[ast::Expr], span: Span) -> CResult<ir::Expr> {
        let (compiled_args, arg_spans) = self.exprs(args)?;
        if let ExprKind::Var(name) = &callee.kind {
            if let Some(boxed) = self.binding_slot(&name.name) {
                self.arity.called(&boxed, &name.name, args.len(), span);
            }
            if self.resolve(name)?.is_none() {
                if let Some(id) = spec::lookup(&name.name) {
                    spec::check_arity(id, args.len(), span, name.span)?;
                    return Ok(ir::Expr::CallBuiltin(Box::new(ir::BuiltinCall {
                        id,
                        args: compiled_args,
                        arg_spans,
                        span,
                    })));
                }
                if let Some(index) = self.hosts.index_of(&name.name) {
                    self.hosts.check_arity(index, args.len(), span, name.span)?;
                }
            }
        }
        Ok(ir::Expr::Call(Box::new(ir::Call {
            callee: self.expr(callee)?,
            args: compiled_args,
            arg_spans,
            callee_span: callee.span,
            span,
        })))
    }
}

mod arity;
mod imports;
mod scope;
mod session;
mod suggest;
#[cfg(test)]
mod tests;
