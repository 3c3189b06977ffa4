//! Statements: blocks, assignments, `if`, loops, `return`, `try`.

use super::expr::{expr_span, int_fast_path};
use super::index::{index_value, store_index};
use super::ops;
use super::{Env, Flow, Interp};
use crate::error::{self, ErrorKind, R};
use crate::front::ast::Span;
use crate::front::ir::{Block, Expr, Place, Sides, Stmt};
use crate::os;
use crate::values::Value;
use std::cell::RefCell;
use std::rc::Rc;

impl Interp {
    /// Gives captured variables of the block fresh cells and creates its named functions.
    #[inline]
    pub(super) fn enter_block(&mut self, block: &Block, env: Env) {
        if !block.enter {
            return;
        }
        self.enter_block_slow(block, env);
    }

    #[inline(never)]
    pub(super) fn enter_block_slow(&mut self, block: &Block, env: Env) {
        for decl in &block.decls {
            if decl.boxed.get() {
                self.stack[env.base + decl.slot as usize] =
                    Value::Cell(Rc::new(RefCell::new(Value::Uninit)));
            }
        }
        for (slot, proto) in &block.fns {
            let f = self.make_closure(proto, env);
            self.store(env, Place::Local(*slot), f);
        }
    }

    pub(super) fn exec_block(&mut self, block: &Block, env: Env) -> R<Flow> {
        self.enter_block(block, env);
        self.exec_stmts(&block.stmts, env)
    }

    pub(super) fn exec_stmts(&mut self, stmts: &[Stmt], env: Env) -> R<Flow> {
        for stmt in stmts {
            match self.exec(stmt, env)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
            // Between statements: a safe point for script signal handlers.
            if os::handlers_due() {
                self.run_due_handlers(stmt_span(stmt).unwrap_or_default())?;
            }
        }
        Ok(Flow::Normal)
    }

    pub(super) fn exec(&mut self, stmt: &Stmt, env: Env) -> R<Flow> {
        match stmt {
            // `l.acquire()` as a statement: its value is dropped, so a lock's or
            // value's quick call needs no trip through `eval`; when it does not
            // apply, the general call (not `eval`, which would try it again).
            Stmt::Expr(Expr::Method(call)) => {
                if self.quick_sync_method(call, env).is_none() {
                    self.eval_method(call, env)?;
                }
            }
            Stmt::Expr(e) => {
                self.eval(e, env)?;
            }
            Stmt::Let { slot, value } => {
                let v = self.eval(value, env)?;
                self.store(env, Place::Local(*slot), v);
            }
            Stmt::Assign {
                place,
                name,
                op,
                value,
                span,
                value_span,
            } => {
                // `i += 1`, `total += i` on int locals: the int in the slot is
                // updated in place, and no value is made or dropped.
                if let (Some(op), Place::Local(slot)) = (op, place) {
                    if let Some(y) = self.int_leaf(value, env) {
                        if let Value::Int(x) = &mut self.stack[env.base + *slot as usize] {
                            if let Some(Value::Int(result)) = int_fast_path(*op, *x, y) {
                                *x = result;
                                return Ok(Flow::Normal);
                            }
                        }
                    }
                }
                let v = self.eval_leaf(value, env)?;
                let v = match op {
                    None => v,
                    Some(op) => {
                        let old = self.load(env, *place, name, *span)?;
                        // The target is the statement's first word.
                        let start = span.start as usize;
                        let target = Span::new(start, start + name.len());
                        let sides = Sides {
                            left: target,
                            right: *value_span,
                        };
                        ops::binary(*op, &old, &v).map_err(|e| e.at_sides(*span, sides))?
                    }
                };
                self.store(env, *place, v);
            }
            Stmt::AssignIndex { .. } => self.assign_index(stmt, env)?,
            Stmt::If {
                branches,
                otherwise,
            } => {
                for (cond, then) in branches {
                    if self.eval_condition(cond, env)? {
                        return self.exec_block(then, env);
                    }
                }
                if let Some(otherwise) = otherwise {
                    return self.exec_block(otherwise, env);
                }
            }
            Stmt::While { .. } | Stmt::ForRange { .. } => return self.exec_loop(stmt, env),
            Stmt::ForEach {
                slot,
                iter,
                body,
                span,
            } => {
                let items = self.eval(iter, env)?;
                return self.for_each(&items, *slot, body, env, *span);
            }
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Return(value, span) => {
                self.returned = match value {
                    Some(e) => self.eval(e, env)?,
                    None => Value::Nil,
                };
                // After the value: returns inside it must not take its place.
                self.returned_at = *span;
                return Ok(Flow::Return);
            }
            Stmt::Try {
                body,
                err_slot,
                handler,
            } => return self.exec_try(body, *err_slot, handler, env),
        }
        Ok(Flow::Normal)
    }

    /// `while` and counting `for`: as compiled code when the loop is in the
    /// register VM's subset, else here.
    fn exec_loop(&mut self, stmt: &Stmt, env: Env) -> R<Flow> {
        if let Some(flow) = self.run_compiled_loop(stmt, env)? {
            return Ok(flow);
        }
        match stmt {
            Stmt::While { cond, body } => self.exec_while(cond, body, env),
            _ => self.for_range(stmt, env),
        }
    }

    /// `x[i][j] = v` (or `op=`): every index but the last reads, the last stores.
    fn assign_index(&mut self, stmt: &Stmt, env: Env) -> R<()> {
        let Stmt::AssignIndex {
            place,
            name,
            indexes,
            op,
            value,
            span,
            value_span,
        } = stmt
        else {
            unreachable!("called for index assignments only")
        };
        let mut container = self.load(env, *place, name, *span)?;
        let (last, path) = indexes.split_last().expect("at least one index");
        for (index, index_span) in path {
            let i = self.eval(index, env)?;
            container = index_value(&container, &i, *index_span)?;
        }
        let key = self.eval(&last.0, env)?;
        let v = self.eval(value, env)?;
        let v = match op {
            None => v,
            Some(op) => {
                let old = index_value(&container, &key, last.1)?;
                // The target ends at the `]` that closes its last index.
                let sides = Sides {
                    left: Span::new(span.start as usize, last.1.end as usize + 1),
                    right: *value_span,
                };
                ops::binary(*op, &old, &v).map_err(|e| e.at_sides(*span, sides))?
            }
        };
        store_index(&container, key, v, last.1)
    }

    fn exec_while(&mut self, cond: &Expr, body: &Block, env: Env) -> R<Flow> {
        let span = expr_span(cond).unwrap_or_default();
        while self.eval_condition(cond, env)? {
            self.step(span)?;
            match self.exec_block(body, env)? {
                Flow::Break => break,
                Flow::Return => return Ok(Flow::Return),
                Flow::Normal | Flow::Continue => {}
            }
        }
        Ok(Flow::Normal)
    }

    /// `for i in a..b` (or `range(a, b, step)`): counts without building a list.
    fn for_range(&mut self, stmt: &Stmt, env: Env) -> R<Flow> {
        let Stmt::ForRange {
            slot,
            start,
            end,
            step,
            body,
            span,
        } = stmt
        else {
            unreachable!("called for counting loops only")
        };
        let start = self.eval_int(start, env, *span, "a range start")?;
        let end = self.eval_int(end, env, *span, "a range end")?;
        let step = match step {
            Some(step) => self.eval_int(step, env, *span, "a range step")?,
            None => 1,
        };
        if step == 0 {
            let zero =
                ErrorKind::InvalidValue.at(*span, "range step is zero", "the step must not be 0");
            return Err(zero.into());
        }
        let mut i = start;
        while (step > 0 && i < end) || (step < 0 && i > end) {
            self.step(*span)?;
            self.enter_block(body, env);
            self.store(env, Place::Local(*slot), Value::Int(i));
            match self.exec_stmts(&body.stmts, env)? {
                Flow::Break => break,
                Flow::Return => return Ok(Flow::Return),
                Flow::Normal | Flow::Continue => {}
            }
            i = match i.checked_add(step) {
                Some(next) => next,
                None => break,
            };
        }
        Ok(Flow::Normal)
    }

    /// `try { body } catch err { handler }`: an error (not an exit or a
    /// signal) in the body runs the handler with the error's message.
    fn exec_try(
        &mut self,
        body: &Block,
        err_slot: Option<u32>,
        handler: &Block,
        env: Env,
    ) -> R<Flow> {
        let height = self.stack.len();
        let depth = self.depth;
        match self.exec_block(body, env) {
            Err(mut unwind) => {
                let Some(diag) = unwind.diag_mut() else {
                    return Err(unwind);
                };
                let message = Value::str(&diag.message);
                self.stack.truncate(height);
                self.depth = depth;
                self.enter_block(handler, env);
                if let Some(slot) = err_slot {
                    self.store(env, Place::Local(slot), message);
                }
                self.exec_stmts(&handler.stmts, env)
            }
            ok => ok,
        }
    }

    pub(super) fn for_each(
        &mut self,
        items: &Value,
        slot: u32,
        body: &Block,
        env: Env,
        span: Span,
    ) -> R<Flow> {
        let run = |this: &mut Self, item: Value| -> R<Option<Flow>> {
            this.step(span)?;
            this.enter_block(body, env);
            this.store(env, Place::Local(slot), item);
            Ok(match this.exec_stmts(&body.stmts, env)? {
                Flow::Break => Some(Flow::Normal),
                Flow::Return => Some(Flow::Return),
                Flow::Normal | Flow::Continue => None,
            })
        };
        match items {
            Value::List(list) => {
                // Index by index, re-reading the length: the body may change the list.
                let mut i = 0;
                loop {
                    let item = match list.borrow().item(i) {
                        Some(item) => item,
                        None => break,
                    };
                    if let Some(flow) = run(self, item)? {
                        return Ok(flow);
                    }
                    i += 1;
                }
            }
            Value::Map(map) => {
                let keys: Vec<Value> = map.borrow().keys().map(|k| Value::Str(k.clone())).collect();
                for key in keys {
                    if let Some(flow) = run(self, key)? {
                        return Ok(flow);
                    }
                }
            }
            Value::Str(s) => {
                for c in s.chars() {
                    if let Some(flow) = run(self, Value::Str(c.to_string().into()))? {
                        return Ok(flow);
                    }
                }
            }
            Value::TaskStream(stream) => {
                stream.begin(span)?;
                loop {
                    let next =
                        self.wait_running_handlers("imap", span, |this| stream.next(this, span));
                    let flow = match next {
                        Ok(Some(item)) => run(self, item),
                        Ok(None) => return Ok(Flow::Normal),
                        Err(unwind) => Err(unwind),
                    };
                    match flow {
                        Ok(None) => {}
                        // Left early (break, return, an error): the rest never runs.
                        Ok(Some(flow)) => {
                            stream.cancel_rest();
                            return Ok(flow);
                        }
                        Err(unwind) => {
                            stream.cancel_rest();
                            return Err(unwind);
                        }
                    }
                }
            }
            other => {
                let not_iterable = error::cannot("loop over", other.type_name(), span)
                    .with_help(
                        "`for` takes a list, a map (its keys), a string (its characters) or a range a..b",
                    );
                return Err(not_iterable.into());
            }
        }
        Ok(Flow::Normal)
    }

    pub(super) fn eval_int(&mut self, e: &Expr, env: Env, span: Span, what: &str) -> R<i64> {
        match self.eval(e, env)? {
            Value::Int(n) => Ok(n),
            other => Err(error::must_be(what, "an int", other.type_name(), span).into()),
        }
    }
}

/// Where a statement stands, as far as its parts tell (for a handler that
/// runs after it, and raises).
fn stmt_span(stmt: &Stmt) -> Option<Span> {
    match stmt {
        Stmt::Expr(e) | Stmt::Let { value: e, .. } | Stmt::While { cond: e, .. } => expr_span(e),
        Stmt::If { branches, .. } => branches.first().and_then(|(cond, _)| expr_span(cond)),
        Stmt::Assign { span, .. }
        | Stmt::AssignIndex { span, .. }
        | Stmt::ForRange { span, .. }
        | Stmt::ForEach { span, .. }
        | Stmt::Return(_, span) => Some(*span),
        Stmt::Break | Stmt::Continue | Stmt::Try { .. } => None,
    }
}
