//! Calls: closures (with the guarded-return fast path and stack growth), natives, callable values.

use super::{Env, Flow, Interp};
use crate::builtins::{self, CallSite};
use crate::error::diagnostic::Frame;
use crate::error::{self, Unwind, R};
use crate::front::ast::Span;
use crate::front::ir::{self, Expr, FnProto};
use crate::limits;
use crate::values::{Closure, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// Calls this deep run on the main thread's stack without checking its room:
/// the 8 MiB main stack holds them and the deepest expression together.
pub(super) const SHALLOW_CALLS: usize = 16;

impl Interp {
    /// Evaluates the inner link of a chain (`f()()()…`, `xs[0][0]…`), which
    /// can be as deep as `limits::MAX_EXPR_DEPTH`: moves to a fresh stack
    /// segment when the native stack runs short.
    pub(super) fn eval_deep(&mut self, expr: &Expr, env: Env) -> R<Value> {
        stacker::maybe_grow(limits::STACK_RED_ZONE, limits::STACK_SEGMENT, || {
            self.eval(expr, env)
        })
    }

    #[inline(never)]
    pub(super) fn eval_call(&mut self, call: &ir::Call, env: Env) -> R<Value> {
        // Calls of a captured named function (recursion, helpers) take the
        // closure straight from its cell: no generic eval, and no `Value`
        // made and dropped around it.
        if let Expr::Upval { index, .. } = &call.callee {
            let found = match &*env.upvals[*index as usize].borrow() {
                Value::Func(closure) => Some(closure.clone()),
                _ => None,
            };
            if let Some(closure) = found {
                return self.call_with_args(&closure, call, env);
            }
        }
        self.eval_call_generic(call, env)
    }

    /// Any other callee: evaluated first, then called if it is callable.
    #[inline(never)]
    fn eval_call_generic(&mut self, call: &ir::Call, env: Env) -> R<Value> {
        let callee = match &call.callee {
            chained @ Expr::Call(_) => self.eval_deep(chained, env)?,
            other => self.eval(other, env)?,
        };
        match callee {
            Value::Func(closure) => self.call_with_args(&closure, call, env),
            native @ (Value::Builtin(_) | Value::Host(_)) => {
                let args = self.eval_args(&call.args, env)?;
                let site = CallSite {
                    span: call.span,
                    arg_spans: &call.arg_spans,
                };
                self.call_native(&native, &args, &site, call.callee_span)
            }
            other => Err(error::not_callable(other.type_name(), call.callee_span)
                .with_help("only functions can be called: `fn name(...) { ... }` defines one")
                .into()),
        }
    }

    /// Pushes the call's arguments above the caller's frame and calls the closure.
    #[inline(always)]
    fn call_with_args(&mut self, closure: &Rc<Closure>, call: &ir::Call, env: Env) -> R<Value> {
        let base = self.stack.len();
        for a in &call.args {
            match self.eval_leaf(a, env) {
                Ok(v) => self.stack.push(v),
                Err(e) => {
                    self.stack.truncate(base);
                    return Err(e);
                }
            }
        }
        self.call_closure(closure, base, call.span)
    }

    /// Calls a closure whose arguments are already on the stack from `base` on.
    #[inline(always)]
    pub(super) fn call_closure(
        &mut self,
        closure: &Rc<Closure>,
        base: usize,
        span: Span,
    ) -> R<Value> {
        let proto = &closure.proto;
        let argc = self.stack.len() - base;
        if let Err(stop) = self.enter_call(proto, argc, span) {
            self.stack.truncate(base);
            return Err(stop);
        }
        if proto.slots as usize > argc {
            self.stack.resize(base + proto.slots as usize, Value::Nil);
        }
        if proto.params_boxed {
            for (i, boxed) in proto.params.iter().enumerate() {
                if boxed.get() {
                    let v = std::mem::take(&mut self.stack[base + i]);
                    self.stack[base + i] = Value::Cell(Rc::new(RefCell::new(v)));
                }
            }
        }
        let env = Env {
            base,
            upvals: &closure.upvals,
        };
        self.depth += 1;
        // The main stack holds the first levels of recursion with room to
        // spare; past them, each call checks for (and makes) more stack.
        let result = if self.depth < SHALLOW_CALLS || native_stack_address() > self.stack_floor {
            self.run_body(proto, env)
        } else {
            self.run_body_with_more_stack(proto, env)
        };
        self.depth -= 1;
        self.stack.truncate(base);
        traced(result, proto, span)
    }

    /// What every call of a script function checks first: the argument
    /// count, a safe point, the depth limit.
    #[inline(always)]
    pub(super) fn enter_call(&mut self, proto: &FnProto, argc: usize, span: Span) -> R<()> {
        if argc != proto.params.len() {
            let want = proto.params.len();
            let arity = error::closure_arity(&proto.describe(), want, argc, span, proto.span);
            return Err(arity.into());
        }
        self.step(span)?;
        if self.depth >= self.max_depth {
            return Err(error::too_deep(self.max_depth, span).into());
        }
        Ok(())
    }

    /// Runs a body where the native stack may be short: finds out how much is
    /// left, and moves to a new segment (stacker) when less than the red zone is.
    #[inline(never)]
    pub(super) fn run_body_with_more_stack(&mut self, proto: &FnProto, env: Env) -> R<Value> {
        let here = native_stack_address();
        match stacker::remaining_stack() {
            Some(room) if room >= limits::STACK_RED_ZONE => {
                // Remembered, so deeper calls on this segment skip asking.
                self.stack_floor = (here - room).saturating_add(limits::STACK_RED_ZONE);
                self.run_body(proto, env)
            }
            Some(_) => stacker::grow(limits::STACK_SEGMENT, || {
                let outer = self.stack_floor;
                let here = native_stack_address();
                self.stack_floor = stacker::remaining_stack().map_or(usize::MAX, |room| {
                    (here - room).saturating_add(limits::STACK_RED_ZONE)
                });
                let result = self.run_body(proto, env);
                self.stack_floor = outer;
                result
            }),
            None => stacker::maybe_grow(limits::STACK_RED_ZONE, limits::STACK_SEGMENT, || {
                self.run_body(proto, env)
            }),
        }
    }

    /// Runs a function's body and gives what it returned.
    #[inline(always)]
    pub(super) fn run_body(&mut self, proto: &FnProto, env: Env) -> R<Value> {
        if let Some(code) = self.compiled(proto) {
            return self.run_compiled(&code, env);
        }
        let Some(returns) = &proto.returns else {
            return match self.exec_block(&proto.body, env)? {
                Flow::Return => Ok(std::mem::take(&mut self.returned)),
                _ => Ok(Value::Nil),
            };
        };
        // `if cond { return a }` ... `return b`, without statements.
        for (cond, value, span) in &returns.guards {
            if self.eval_condition(cond, env)? {
                let v = self.eval_leaf(value, env)?;
                self.returned_at = *span;
                return Ok(v);
            }
        }
        match &returns.last {
            Some((value, span)) => {
                let v = self.eval(value, env)?;
                self.returned_at = *span;
                Ok(v)
            }
            None => Ok(Value::Nil),
        }
    }

    /// Calls a built-in or host function with its evaluated arguments,
    /// checking their count first; `callee_span` is where its name stands.
    pub(super) fn call_native(
        &mut self,
        callee: &Value,
        args: &[Value],
        site: &CallSite,
        callee_span: Span,
    ) -> R<Value> {
        match callee {
            Value::Builtin(id) => {
                crate::front::spec::check_arity(*id, args.len(), site.span, callee_span)
                    .map_err(Unwind::error)?;
                builtins::call(self, *id, args, site)
            }
            Value::Host(host) => {
                host.check_arity(args.len(), site.span, callee_span)
                    .map_err(Unwind::error)?;
                host.call(args, site.span).map_err(Unwind::error)
            }
            _ => unreachable!("only built-in and host functions are native"),
        }
    }

    /// Calls any callable value with the given arguments (used by builtins such as `sort`).
    pub fn call_value(&mut self, callee: &Value, args: &[Value], span: Span) -> R<Value> {
        match callee {
            Value::Func(closure) => {
                let base = self.stack.len();
                self.stack.extend(args.iter().cloned());
                self.call_closure(closure, base, span)
            }
            native @ (Value::Builtin(_) | Value::Host(_)) => {
                let spans = vec![span; args.len()];
                let site = CallSite {
                    span,
                    arg_spans: &spans,
                };
                self.call_native(native, args, &site, span)
            }
            other => Err(error::not_callable(other.type_name(), span).into()),
        }
    }
}

/// Roughly where the native stack is now (the address of a local; the stack grows down).
#[inline(always)]
pub(super) fn native_stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// A call's result; an error gets the call's line in its call stack.
#[inline(always)]
pub(super) fn traced(result: R<Value>, proto: &FnProto, span: Span) -> R<Value> {
    match result {
        Ok(value) => Ok(value),
        Err(unwind) => Err(traced_error(unwind, proto, span)),
    }
}

#[inline(never)]
pub(super) fn traced_error(mut unwind: Unwind, proto: &FnProto, span: Span) -> Unwind {
    if let Some(diag) = unwind.diag_mut() {
        diag.trace.push(Frame {
            function: proto.describe(),
            call_site: span,
        });
    }
    unwind
}
