//! Expressions: the hot kinds inline, the rest apart; spawns and timeouts.

use super::index::{field, index_value, map_key};
use super::ops;
use super::{load_upval, Env, Interp};
use crate::builtins::methods;
use crate::builtins::{self, CallSite};
use crate::error::{self, ErrorKind, Unwind, R};
use crate::front::ast::{BinOp, Span};
use crate::front::format_spec::{FormatSpec, Number};
use crate::front::ir::{self, Expr, Literal, Sides};
use crate::limits;
use crate::os;
use crate::process::ending;
use crate::process::sync::Number as Shared;
use crate::values::{Counted, Entries, Value};
use smallvec::SmallVec;

impl Interp {
    /// The hot expression kinds stay in this small function; the rest are in
    /// `eval_other`, so recursion through `eval` keeps a small native frame.
    pub(super) fn eval(&mut self, expr: &Expr, env: Env) -> R<Value> {
        match expr {
            Expr::Const(literal) => Ok(Value::from(literal)),
            Expr::Host(index) => Ok(Value::Host(self.hosts[*index as usize].clone())),
            Expr::Local { slot, name, span } => self.load_local(env, *slot, name, *span),
            Expr::Upval { index, name, span } => {
                load_upval(&env.upvals[*index as usize], name, *span)
            }
            Expr::Int(n) => Ok(Value::Int(*n)),
            Expr::Binary(op, operands, span) => {
                let a = self.eval_leaf(&operands.left, env)?;
                let b = self.eval_leaf(&operands.right, env)?;
                // Matching by value: the int arm has nothing left to drop.
                match (a, b) {
                    (Value::Int(x), Value::Int(y)) => match int_fast_path(*op, x, y) {
                        Some(v) => Ok(v),
                        None => {
                            binary_slow(*op, &Value::Int(x), &Value::Int(y), *span, operands.sides)
                        }
                    },
                    (a, b) => binary_slow(*op, &a, &b, *span, operands.sides),
                }
            }
            Expr::LocalInt(e) => self.local_int(e, env),
            Expr::Call(call) => self.eval_call(call, env),
            // A lock's or value's commonest calls first: eval_method's frame
            // costs more than they do.
            Expr::Method(call) => match self.quick_sync_method(call, env) {
                Some(value) => Ok(value),
                None => self.eval_method(call, env),
            },
            other => self.eval_other(other, env),
        }
    }

    /// `target.name(args)`: in its own small function rather than in
    /// `eval_other`, whose large native frame every call would otherwise set
    /// up; the commonest calls (`c.add(1)`, `q.get()`, `l.acquire()`) take 0 or
    /// 1 argument, which are passed from the stack with no vector to build and drop.
    #[inline(never)]
    pub(super) fn eval_method(&mut self, call: &ir::MethodCall, env: Env) -> R<Value> {
        let target = self.eval_leaf(&call.target, env)?;
        let site = CallSite {
            span: call.span,
            arg_spans: &call.arg_spans,
        };
        match (&target, &*call.name, &call.args[..]) {
            (Value::Pool(_), "imap" | "imap_unordered", _) => {
                let args = self.eval_stream_args(&call.args, env)?;
                methods::call(self, &target, call, &args, &site)
            }
            (_, _, []) => methods::call(self, &target, call, &[], &site),
            (_, _, [arg]) => {
                let args = [self.eval_leaf(arg, env)?];
                methods::call(self, &target, call, &args, &site)
            }
            _ => {
                let args = self.eval_args(&call.args, env)?;
                methods::call(self, &target, call, &args, &site)
            }
        }
    }

    /// `l.acquire()`, `c.add(1)`...: a call site that found a lock, semaphore
    /// or value method before, on a variable, with no argument or an int or
    /// float one, done on the object in the variable without cloning it
    /// (`builtins::quick_sync_call`); None when that does not apply.
    /// Inlined into `eval` and `exec` in optimised builds only: a debug build's
    /// frames would grow by its locals, and the deepest code the limits allow
    /// recurses through both.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn quick_sync_method(&self, call: &ir::MethodCall, env: Env) -> Option<Value> {
        let (_, id) = call.found.get()?;
        let arg = match &call.args[..] {
            [] => None,
            [Expr::Int(n)] => Some(Shared::Int(*n)),
            [Expr::Local { slot, .. }] => match self.stack[env.base + *slot as usize] {
                Value::Int(n) => Some(Shared::Int(n)),
                Value::Float(x) => Some(Shared::Float(x)),
                _ => return None,
            },
            _ => return None,
        };
        let target = match &call.target {
            Expr::Local { slot, .. } => &self.stack[env.base + *slot as usize],
            Expr::Upval { index, .. } => {
                return builtins::quick_sync_call(&env.upvals[*index as usize].borrow(), id, arg)
            }
            _ => return None,
        };
        builtins::quick_sync_call(target, id, arg)
    }

    /// `eval`, with the commonest leaves (an int, a local, `n - 1`) done in
    /// place: arguments and returned values are mostly these, and a call of
    /// `eval` costs more than they do.
    #[inline(always)]
    pub(super) fn eval_leaf(&mut self, expr: &Expr, env: Env) -> R<Value> {
        match expr {
            Expr::Int(n) => Ok(Value::Int(*n)),
            Expr::Local { slot, name, span } => self.load_local(env, *slot, name, *span),
            Expr::LocalInt(e) => self.local_int(e, env),
            Expr::Call(call) => self.eval_call(call, env),
            _ => self.eval(expr, env),
        }
    }

    /// An int constant, or a local holding an int, read without making a value.
    #[inline(always)]
    pub(super) fn int_leaf(&self, expr: &Expr, env: Env) -> Option<i64> {
        match expr {
            Expr::Int(n) => Some(*n),
            Expr::Local { slot, .. } => match self.stack[env.base + *slot as usize] {
                Value::Int(n) => Some(n),
                _ => None,
            },
            _ => None,
        }
    }

    /// `local op constant`: in place when both are ints and nothing overflows.
    #[inline(always)]
    pub(super) fn local_int(&self, e: &ir::LocalInt, env: Env) -> R<Value> {
        if let Value::Int(x) = self.stack[env.base + e.slot as usize] {
            if let Some(v) = int_fast_path(e.op, x, e.value) {
                return Ok(v);
            }
        }
        let a = self.load_local(env, e.slot, &e.name, e.span)?;
        binary_slow(e.op, &a, &Value::Int(e.value), e.span, e.sides)
    }

    /// A condition's truth; int comparisons skip making a bool value.
    #[inline(always)]
    pub(super) fn eval_condition(&mut self, cond: &Expr, env: Env) -> R<bool> {
        match cond {
            Expr::LocalInt(e) => {
                if let Value::Int(x) = self.stack[env.base + e.slot as usize] {
                    if let Some(Value::Bool(b)) = int_fast_path(e.op, x, e.value) {
                        return Ok(b);
                    }
                }
            }
            Expr::Binary(op, operands, _) => match (&operands.left, &operands.right) {
                // `i < n`: two int locals.
                (Expr::Local { slot: a, .. }, Expr::Local { slot: b, .. }) => {
                    let (x, y) = (
                        &self.stack[env.base + *a as usize],
                        &self.stack[env.base + *b as usize],
                    );
                    if let (Value::Int(x), Value::Int(y)) = (x, y) {
                        if let Some(Value::Bool(b)) = int_fast_path(*op, *x, *y) {
                            return Ok(b);
                        }
                    }
                }
                // `i % 2 == 0`: an int local and a constant, compared with a
                // constant. Anything else (an error included) is evaluated
                // again below; both parts are pure, so that changes nothing.
                (Expr::LocalInt(e), Expr::Int(y)) => {
                    if let Value::Int(x) = self.stack[env.base + e.slot as usize] {
                        if let Some(Value::Int(left)) = int_fast_path(e.op, x, e.value) {
                            if let Some(Value::Bool(b)) = int_fast_path(*op, left, *y) {
                                return Ok(b);
                            }
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        Ok(self.eval(cond, env)?.truthy())
    }

    #[inline(never)]
    pub(super) fn eval_other(&mut self, expr: &Expr, env: Env) -> R<Value> {
        match expr {
            Expr::Const(_)
            | Expr::Host(_)
            | Expr::Int(_)
            | Expr::Local { .. }
            | Expr::Upval { .. }
            | Expr::Binary(..)
            | Expr::LocalInt(_)
            | Expr::Call(_)
            | Expr::Method(_) => self.eval(expr, env),
            Expr::Builtin(id) => Ok(Value::Builtin(*id)),
            Expr::CallBuiltin(call) => {
                let args = self.eval_args(&call.args, env)?;
                let site = CallSite {
                    span: call.span,
                    arg_spans: &call.arg_spans,
                };
                builtins::call(self, call.id, &args, &site)
            }
            Expr::And(operands) => {
                let a = self.eval(&operands.0, env)?;
                Ok(Value::Bool(
                    a.truthy() && self.eval(&operands.1, env)?.truthy(),
                ))
            }
            Expr::Or(operands) => {
                let a = self.eval(&operands.0, env)?;
                Ok(Value::Bool(
                    a.truthy() || self.eval(&operands.1, env)?.truthy(),
                ))
            }
            Expr::Unary(op, operand, span) => {
                let v = self.eval(operand, env)?;
                ops::unary(*op, &v).map_err(|e| e.at(*span))
            }
            Expr::Interp(parts) => self.interpolate(parts, env),
            Expr::Format(format) => {
                let (value, spec, span) = &**format;
                let value = self.eval(value, env)?;
                format_with_spec(&value, spec, *span)
            }
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item, env)?);
                }
                Ok(Value::list(out))
            }
            Expr::Map(entries) => self.map_literal(entries, env),
            Expr::Index(operands, span) => {
                let target = match &operands.0 {
                    chained @ Expr::Index(..) => self.eval_deep(chained, env)?,
                    other => self.eval(other, env)?,
                };
                let index = self.eval(&operands.1, env)?;
                index_value(&target, &index, *span)
            }
            Expr::Field(target, name, span) => match self.eval(target, env)? {
                Value::Process(handle) => self.procs.handle_field(&handle, name, *span),
                other => field(&other, name, *span),
            },
            Expr::Closure(proto) => Ok(self.make_closure(proto, env)),
            Expr::Pid => Ok(Value::Int(os::getpid() as i64)),
            Expr::Ppid => Ok(Value::Int(os::getppid() as i64)),
            Expr::Fork(span) => self.fork_process(*span),
            Expr::Spawn(spawn) => self.eval_spawn(spawn, env),
            Expr::Join(join) => self.eval_join(join, env),
        }
    }

    /// `"text {x} more"`: the parts' display forms, within the size limit.
    fn interpolate(&mut self, parts: &[Expr], env: Env) -> R<Value> {
        let mut out = String::new();
        for part in parts {
            match part {
                Expr::Const(Literal::Str(s)) => out.push_str(s),
                e => self.eval(e, env)?.write_display(&mut out),
            }
            if out.len() > limits::MAX_VALUE_LEN {
                let span = expr_span(part).unwrap_or_default();
                return Err(ops::check_len(out.len(), "string")
                    .expect_err("too long")
                    .at(span));
            }
        }
        Ok(Value::Str(out.into()))
    }

    /// `{"key": value, ...}`: string keys, in order.
    fn map_literal(&mut self, entries: &[(Expr, Expr, Span)], env: Env) -> R<Value> {
        let mut out = Entries::with_capacity_and_hasher(entries.len(), Default::default());
        for (k, v, key_span) in entries {
            let key = map_key(self.eval(k, env)?, *key_span)?;
            let value = self.eval(v, env)?;
            out.insert(key, value);
        }
        Ok(Value::map(out))
    }

    /// `join p` or `join p, timeout`: waits, marked as a wait on the timeline.
    fn eval_join(&mut self, join: &ir::Join, env: Env) -> R<Value> {
        let target = self.eval(&join.target, env)?;
        let timeout = match &join.timeout {
            None => None,
            Some(t) => Some(self.eval_seconds(t, env, join.span)?),
        };
        // One deadline for the whole wait, however often a handler interrupts it.
        let deadline = os::Deadline::after(timeout);
        self.wait_running_handlers("join", join.span, |this| {
            ending::join(this, &target, deadline, join.span)
        })
    }

    /// Arguments of a built-in or method call (most take few, so no heap).
    pub(super) fn eval_args(&mut self, exprs: &[Expr], env: Env) -> R<SmallVec<[Value; 4]>> {
        let mut args = SmallVec::new();
        for a in exprs {
            args.push(self.eval(a, env)?);
        }
        Ok(args)
    }

    /// Arguments of `p.imap(f, items)`: a range written as the items (`a..b`,
    /// `range(...)`) is counted with no list length limit, as in a `for` head,
    /// since the stream reads it item by item and never builds it.
    fn eval_stream_args(&mut self, exprs: &[Expr], env: Env) -> R<SmallVec<[Value; 4]>> {
        let mut args = SmallVec::new();
        for (i, a) in exprs.iter().enumerate() {
            let value = match a {
                Expr::Binary(BinOp::Range, operands, span) if i == 1 => {
                    let start = self.eval_int(&operands.left, env, *span, "a range start")?;
                    let end = self.eval_int(&operands.right, env, *span, "a range end")?;
                    let count = end.saturating_sub(start).max(0) as u64;
                    let step = 1;
                    Value::counted(Counted { start, step, count })
                }
                Expr::CallBuiltin(call)
                    if i == 1 && Some(call.id) == crate::front::spec::lookup("range") =>
                {
                    let ints = self.eval_args(&call.args, env)?;
                    let site = CallSite {
                        span: call.span,
                        arg_spans: &call.arg_spans,
                    };
                    Value::counted(builtins::counted_range(&ints, &site)?)
                }
                other => self.eval(other, env)?,
            };
            args.push(value);
        }
        Ok(args)
    }

    /// Evaluates the function and its arguments here, then runs the call in a child.
    pub(super) fn eval_spawn(&mut self, spawn: &ir::Spawn, env: Env) -> R<Value> {
        let (callee, arg_exprs) = match &spawn.call {
            Expr::Call(call) => (self.eval(&call.callee, env)?, &call.args),
            Expr::CallBuiltin(call) => (Value::Builtin(call.id), &call.args),
            Expr::Method(call) => {
                let unsupported = ErrorKind::Unsupported
                    .at(
                        call.span,
                        "`spawn` of a method call is not supported",
                        "a method call",
                    )
                    .with_help(
                        "wrap it in a function: fn send(q, v) { q.put(v) } then spawn send(q, v)",
                    );
                return Err(unsupported.into());
            }
            _ => unreachable!("the parser only lets calls be spawned"),
        };
        let mut args = Vec::with_capacity(arg_exprs.len());
        for a in arg_exprs {
            args.push(self.eval(a, env)?);
        }
        let name = match &spawn.name {
            None => None,
            Some(e) => match self.eval(e, env)? {
                Value::Str(s) => Some(s),
                other => {
                    let span = expr_span(e).unwrap_or(spawn.span);
                    return Err(error::must_be(
                        "a process name",
                        "a string",
                        other.type_name(),
                        span,
                    )
                    .into());
                }
            },
        };
        if !matches!(callee, Value::Func(_) | Value::Builtin(_) | Value::Host(_)) {
            let ty = callee.type_name();
            let not_callable = ErrorKind::NotCallable.at(
                spawn.span,
                format!("cannot spawn {ty}"),
                format!("this calls {ty}, not a function"),
            );
            return Err(not_callable.into());
        }
        let call = self.snippet(expr_span(&spawn.call).unwrap_or(spawn.span));
        self.spawn_process(callee, args, name, call, spawn.span)
    }

    /// A number of seconds for a timeout: an int or float, 0 or more.
    pub(super) fn eval_seconds(&mut self, e: &Expr, env: Env, span: Span) -> R<f64> {
        let v = self.eval(e, env)?;
        builtins::seconds(&v, "a timeout", expr_span(e).unwrap_or(span))
    }
}

#[inline(never)]
pub(super) fn binary_slow(op: BinOp, a: &Value, b: &Value, span: Span, sides: Sides) -> R<Value> {
    ops::binary(op, a, b).map_err(|e| e.at_sides(span, sides))
}

/// Int operations that cannot fail, computed without leaving the evaluator;
/// `None` sends the rest (overflow, division) to `ops::binary`.
#[inline(always)]
pub(super) fn int_fast_path(op: BinOp, x: i64, y: i64) -> Option<Value> {
    Some(match op {
        BinOp::Add => Value::Int(x.checked_add(y)?),
        BinOp::Sub => Value::Int(x.checked_sub(y)?),
        BinOp::Mul => Value::Int(x.checked_mul(y)?),
        // None for a zero divisor or i64::MIN / -1: ops::binary says which.
        BinOp::Div => Value::Int(x.checked_div(y)?),
        // By a power of two (`i % 2`), a mask instead of a division (20-odd
        // cycles): the remainder keeps the sign of `x`, as `checked_rem`'s.
        BinOp::Mod if y > 0 && y & (y - 1) == 0 => {
            let r = x & (y - 1);
            Value::Int(if x < 0 && r != 0 { r - y } else { r })
        }
        BinOp::Mod => Value::Int(x.checked_rem(y)?),
        BinOp::Lt => Value::Bool(x < y),
        BinOp::Le => Value::Bool(x <= y),
        BinOp::Gt => Value::Bool(x > y),
        BinOp::Ge => Value::Bool(x >= y),
        BinOp::Eq => Value::Bool(x == y),
        BinOp::Ne => Value::Bool(x != y),
        _ => return None,
    })
}

/// The span of an expression, where it records one.
pub(super) fn expr_span(e: &Expr) -> Option<Span> {
    Some(match e {
        Expr::Local { span, .. } | Expr::Upval { span, .. } => *span,
        Expr::Unary(_, _, span) | Expr::Binary(_, _, span) | Expr::Index(_, span) => *span,
        Expr::LocalInt(e) => e.span,
        Expr::Field(_, _, span) | Expr::Fork(span) => *span,
        Expr::Call(call) => call.span,
        Expr::CallBuiltin(call) => call.span,
        Expr::Method(call) => call.span,
        Expr::Spawn(spawn) => spawn.span,
        Expr::Join(join) => join.span,
        _ => return None,
    })
}

/// `{value:spec}`: the value's text as the spec shapes it; a spec that does
/// not fit the value's type (`.2f` of a string) is an error at the spec.
fn format_with_spec(value: &Value, spec: &FormatSpec, span: Span) -> R<Value> {
    let number = match value {
        Value::Int(i) => Some(Number::Int(*i)),
        Value::Float(x) => Some(Number::Float(*x)),
        _ => None,
    };
    let text = value.to_display();
    let ty = value.type_name();
    let article = if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    spec.apply(number, &text, &format!("{article} {ty}"))
        .map(|formatted| Value::Str(formatted.into()))
        .map_err(|why| {
            Unwind::error(ErrorKind::TypeMismatch.at(
                span,
                format!("this format spec does not fit the value: {why}"),
                "this format spec",
            ))
        })
}
