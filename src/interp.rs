//! The tree-walking evaluator: runs `ir` on one value stack, in one thread, so a fork copies it as is.

use crate::ast::{BinOp, Span};
use crate::builtins::{self, CallSite};
use crate::compile::ARGS_SLOT;
use crate::diagnostic::{Diag, Frame, Source};
use crate::ending;
use crate::host::Hosts;
use crate::ir::{self, Block, Capture, Expr, FnProto, Place, Stmt};
use crate::limits;
use crate::methods;
use crate::ops::{self, OpError};
use crate::os;
use crate::process::Procs;
use crate::record::Note;
use crate::value::{Closure, Entries, Upval, Value};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::rc::Rc;

/// Calls this deep run on the main thread's stack without checking its room:
/// the 8 MiB main stack holds them and the deepest expression together.
const SHALLOW_CALLS: usize = 16;

/// Why evaluation stopped early: an error, or `exit(code)`. One pointer wide,
/// so that results on the hot path stay small.
#[derive(Debug)]
pub struct Unwind(Box<Stop>);

#[derive(Debug)]
pub enum Stop {
    Error(Diag),
    Exit(i32),
    /// SIGINT, SIGTERM or --timeout's SIGALRM arrived: stop the children and
    /// end by that signal.
    Signal(os::Signal),
}

impl Unwind {
    pub fn error(diag: Diag) -> Self {
        Unwind(Box::new(Stop::Error(diag)))
    }

    pub fn exit(code: i32) -> Self {
        Unwind(Box::new(Stop::Exit(code)))
    }

    pub fn from_stop(stop: Stop) -> Self {
        Unwind(Box::new(stop))
    }

    pub fn into_stop(self) -> Stop {
        *self.0
    }

    /// The diagnostic, when this is an error (not an exit or a signal).
    pub fn diag(&self) -> Option<&Diag> {
        match &*self.0 {
            Stop::Error(diag) => Some(diag),
            Stop::Exit(_) | Stop::Signal(_) => None,
        }
    }

    /// The diagnostic, when this is an error (not an exit).
    pub fn diag_mut(&mut self) -> Option<&mut Diag> {
        match &mut *self.0 {
            Stop::Error(diag) => Some(diag),
            Stop::Exit(_) | Stop::Signal(_) => None,
        }
    }
}

/// A stop signal found pending at a safe point (`os::pending_stop()?`): the
/// one way a signal becomes an unwind.
impl From<os::Signal> for Unwind {
    fn from(sig: os::Signal) -> Self {
        Unwind(Box::new(Stop::Signal(sig)))
    }
}

pub type R<T> = Result<T, Unwind>;

/// A runtime error at a span.
pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Unwind {
    Unwind::error(Diag::new(message, span, label))
}

/// A runtime error with a help line.
pub fn error_help(
    message: impl Into<String>,
    span: Span,
    label: impl Into<String>,
    help: impl Into<String>,
) -> Unwind {
    Unwind::error(Diag::new(message, span, label).with_help(help))
}

impl OpError {
    fn at(self, span: Span) -> Unwind {
        let mut diag = Diag::new(self.message, span, self.label);
        diag.help = self.help;
        Unwind::error(diag)
    }
}

/// How a statement ended. A returned value waits in `Interp::returned`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
    Return,
}

/// The frame a piece of code runs in: where its slots start, and its closure's captures.
#[derive(Clone, Copy)]
struct Env<'a> {
    base: usize,
    upvals: &'a [Upval],
}

/// The script's own frame: slots from 0, nothing captured.
const TOP: Env<'static> = Env {
    base: 0,
    upvals: &[],
};

/// Interpreter state. Everything lives in this one struct and its heap, so a
/// forked child continues with an exact copy.
pub struct Interp {
    stack: Vec<Value>,
    depth: usize,
    /// The value of the `return` being carried out.
    returned: Value,
    /// Where the last `return` ran (a spawned child's result is checked there).
    pub(crate) returned_at: Span,
    pub source: Source,
    /// Whether diagnostics from child processes use colour.
    pub color: bool,
    pub(crate) procs: Procs,
    /// Every compiled function by index (how pool tasks name functions).
    pub(crate) protos: Rc<[Rc<FnProto>]>,
    /// Loop iterations and calls left before the script is stopped.
    pub(crate) steps_left: u64,
    /// Functions of the embedding program, by index.
    pub(crate) hosts: Hosts,
    /// The deepest call allowed.
    pub(crate) max_depth: usize,
    /// Calls whose frame is above this native stack address run without
    /// asking for more stack (`usize::MAX` until it is known).
    stack_floor: usize,
}

impl Interp {
    pub fn new(source: Source, procs: Procs, color: bool, protos: Rc<[Rc<FnProto>]>) -> Self {
        Interp {
            stack: Vec::with_capacity(1024),
            depth: 0,
            returned: Value::Nil,
            returned_at: Span::default(),
            source,
            color,
            procs,
            protos,
            steps_left: u64::MAX,
            hosts: Rc::new([]),
            max_depth: limits::MAX_CALL_DEPTH,
            stack_floor: usize::MAX,
        }
    }

    /// Records (and, with --explain, narrates) what just happened.
    #[inline]
    pub(crate) fn note(&self, kind: impl FnOnce() -> Note) {
        self.procs.note(kind);
    }

    /// Marks the start and end of a wait around `f` for the timeline.
    pub(crate) fn waiting<T>(&mut self, what: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.note(|| Note::WaitBegan {
            what: what.to_string(),
        });
        let result = f(self);
        self.note(|| Note::WaitEnded);
        result
    }

    /// The source text of a span, shortened for one line.
    pub(crate) fn snippet(&self, span: Span) -> String {
        let text = self
            .source
            .text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("");
        let line = text.lines().next().unwrap_or("");
        match line.char_indices().nth(48) {
            Some((cut, _)) => format!("{}...", &line[..cut]),
            None => line.to_string(),
        }
    }

    /// The 1-based line of a span.
    pub(crate) fn line_of(&self, span: Span) -> u32 {
        self.source.line_col(span.start).0 as u32
    }

    /// "script.proc:3:5", for messages that travel without their span.
    pub fn describe_span(&self, span: Span) -> String {
        let (line, col) = self.source.line_col(span.start);
        format!("{}:{line}:{col}", self.source.name)
    }

    /// Frees what the script left, after its end. Values are reference counted,
    /// so a recursive function (which captures its own variable) is a cycle;
    /// emptying the top-level frame's captured cells breaks those cycles.
    /// (Cycles among functions local to a function that returned stay until
    /// the process exits.)
    pub fn release(&mut self) {
        for slot in &self.stack {
            if let Value::Cell(cell) = slot {
                let value = std::mem::take(&mut *cell.borrow_mut());
                drop(value);
            }
        }
        self.stack.clear();
        self.returned = Value::Nil;
    }

    /// Turns a SIGINT or SIGTERM that arrived into an unwind, at a safe point.
    #[inline]
    pub(crate) fn check_signal(&self) -> R<()> {
        Ok(os::pending_stop()?)
    }

    /// A safe point of a loop or call: a signal that arrived, or the end of
    /// the step budget (set for fuzzing and embedding), stops the script here.
    #[inline]
    fn step(&mut self, span: Span) -> R<()> {
        self.check_signal()?;
        self.steps_left -= 1;
        if self.steps_left == 0 {
            self.steps_left = 1;
            return Err(error(
                "the script ran out of its step budget",
                span,
                "stopped here",
            ));
        }
        Ok(())
    }

    /// Runs a compiled script with its command-line arguments.
    pub fn run_script(&mut self, script: &Rc<FnProto>, args: Vec<String>) -> R<()> {
        self.stack.clear();
        self.script_frame(script, &args);
        self.exec_block(&script.body, TOP).map(|_| ())
    }

    /// Runs one entry of an interactive session, in the frame the entries
    /// before it left: their variables stay. Returns the value of an entry
    /// that ends with an expression.
    pub fn run_entry(&mut self, entry: &Rc<FnProto>, args: &[String]) -> R<Option<Value>> {
        self.script_frame(entry, args);
        let flow = self.exec_block(&entry.body, TOP);
        // An error deep in a call leaves nothing above the frame; make sure.
        self.stack.truncate(entry.slots as usize);
        match flow? {
            Flow::Return => Ok(Some(std::mem::take(&mut self.returned))),
            _ => Ok(None),
        }
    }

    /// Grows the script's frame to the slots it needs, with `args` in slot 0.
    fn script_frame(&mut self, script: &FnProto, args: &[String]) {
        if self.stack.is_empty() {
            self.stack.resize(script.slots as usize, Value::Nil);
            let args = Value::list(args.iter().map(|a| Value::str(a)).collect());
            self.stack[ARGS_SLOT as usize] = if script_args_boxed(script) {
                Value::Cell(Rc::new(RefCell::new(args)))
            } else {
                args
            };
        } else if self.stack.len() < script.slots as usize {
            self.stack.resize(script.slots as usize, Value::Nil);
        }
    }

    // ------------------------------------------------------------ variables

    #[inline(always)]
    fn load_local(&self, env: Env, slot: u32, name: &str, span: Span) -> R<Value> {
        match &self.stack[env.base + slot as usize] {
            Value::Int(n) => Ok(Value::Int(*n)),
            other => load_slot(other, name, span),
        }
    }

    #[inline]
    fn store(&mut self, env: Env, place: Place, value: Value) {
        match place {
            Place::Local(slot) => {
                let target = &mut self.stack[env.base + slot as usize];
                match target {
                    Value::Cell(cell) => *cell.borrow_mut() = value,
                    _ => *target = value,
                }
            }
            Place::Upval(i) => *env.upvals[i as usize].borrow_mut() = value,
        }
    }

    fn load(&self, env: Env, place: Place, name: &str, span: Span) -> R<Value> {
        match place {
            Place::Local(slot) => self.load_local(env, slot, name, span),
            Place::Upval(i) => load_upval(&env.upvals[i as usize], name, span),
        }
    }

    fn make_closure(&mut self, proto: &Rc<FnProto>, env: Env) -> Value {
        let upvals = proto
            .captures
            .iter()
            .map(|capture| match *capture {
                Capture::Local(slot) => {
                    let target = &mut self.stack[env.base + slot as usize];
                    match target {
                        Value::Cell(cell) => cell.clone(),
                        other => {
                            // Boxed slots always hold cells; stay correct if one does not.
                            let cell = Rc::new(RefCell::new(std::mem::take(other)));
                            *other = Value::Cell(cell.clone());
                            cell
                        }
                    }
                }
                Capture::Upval(i) => env.upvals[i as usize].clone(),
            })
            .collect();
        Value::Func(Rc::new(Closure {
            proto: proto.clone(),
            upvals,
        }))
    }

    // ------------------------------------------------------------ statements

    /// Gives captured variables of the block fresh cells and creates its named functions.
    #[inline]
    fn enter_block(&mut self, block: &Block, env: Env) {
        if !block.enter {
            return;
        }
        self.enter_block_slow(block, env);
    }

    #[inline(never)]
    fn enter_block_slow(&mut self, block: &Block, env: Env) {
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

    fn exec_block(&mut self, block: &Block, env: Env) -> R<Flow> {
        self.enter_block(block, env);
        self.exec_stmts(&block.stmts, env)
    }

    fn exec_stmts(&mut self, stmts: &[Stmt], env: Env) -> R<Flow> {
        for stmt in stmts {
            match self.exec(stmt, env)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, stmt: &Stmt, env: Env) -> R<Flow> {
        match stmt {
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
            } => {
                let v = self.eval(value, env)?;
                // `i += 1` on an int local: update the slot in place.
                if let (Some(op), Place::Local(slot), Value::Int(y)) = (op, place, &v) {
                    let target = &mut self.stack[env.base + *slot as usize];
                    if let Value::Int(x) = *target {
                        if let Some(result) = int_fast_path(*op, x, *y) {
                            *target = result;
                            return Ok(Flow::Normal);
                        }
                    }
                }
                let v = match op {
                    None => v,
                    Some(op) => {
                        let old = self.load(env, *place, name, *span)?;
                        ops::binary(*op, &old, &v).map_err(|e| e.at(*span))?
                    }
                };
                self.store(env, *place, v);
            }
            Stmt::AssignIndex {
                place,
                name,
                indexes,
                op,
                value,
                span,
            } => {
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
                        ops::binary(*op, &old, &v).map_err(|e| e.at(*span))?
                    }
                };
                store_index(&container, key, v, last.1)?;
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                if self.eval_condition(cond, env)? {
                    return self.exec_block(then, env);
                } else if let Some(otherwise) = otherwise {
                    return self.exec_block(otherwise, env);
                }
            }
            Stmt::While { cond, body } => {
                while self.eval_condition(cond, env)? {
                    self.step(expr_span(cond).unwrap_or_default())?;
                    match self.exec_block(body, env)? {
                        Flow::Break => break,
                        Flow::Return => return Ok(Flow::Return),
                        Flow::Normal | Flow::Continue => {}
                    }
                }
            }
            Stmt::ForRange {
                slot,
                start,
                end,
                step,
                body,
                span,
            } => {
                let start = self.eval_int(start, env, *span, "a range start")?;
                let end = self.eval_int(end, env, *span, "a range end")?;
                let step = match step {
                    Some(step) => self.eval_int(step, env, *span, "a range step")?,
                    None => 1,
                };
                if step == 0 {
                    return Err(error("range step is zero", *span, "the step must not be 0"));
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
            }
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
            } => {
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
                            self.store(env, Place::Local(*slot), message);
                        }
                        return self.exec_stmts(&handler.stmts, env);
                    }
                    ok => return ok,
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn for_each(
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
                    let item = match list.borrow().get(i) {
                        Some(item) => item.clone(),
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
            other => return Err(error_help(
                format!("cannot loop over {}", other.type_name()),
                span,
                format!("this is {}", other.type_name()),
                "`for` takes a list, a map (its keys), a string (its characters) or a range a..b",
            )),
        }
        Ok(Flow::Normal)
    }

    fn eval_int(&mut self, e: &Expr, env: Env, span: Span, what: &str) -> R<i64> {
        match self.eval(e, env)? {
            Value::Int(n) => Ok(n),
            other => Err(error(
                format!("{what} must be an int, not {}", other.type_name()),
                span,
                format!("this is {}", other.type_name()),
            )),
        }
    }

    // ------------------------------------------------------------ expressions

    /// The hot expression kinds stay in this small function; the rest are in
    /// `eval_other`, so recursion through `eval` keeps a small native frame.
    fn eval(&mut self, expr: &Expr, env: Env) -> R<Value> {
        match expr {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Local { slot, name, span } => self.load_local(env, *slot, name, *span),
            Expr::Upval { index, name, span } => {
                load_upval(&env.upvals[*index as usize], name, *span)
            }
            Expr::Int(n) => Ok(Value::Int(*n)),
            Expr::Binary(op, operands, span) => {
                let a = self.eval_leaf(&operands.0, env)?;
                let b = self.eval_leaf(&operands.1, env)?;
                // Matching by value: the int arm has nothing left to drop.
                match (a, b) {
                    (Value::Int(x), Value::Int(y)) => match int_fast_path(*op, x, y) {
                        Some(v) => Ok(v),
                        None => binary_slow(*op, &Value::Int(x), &Value::Int(y), *span),
                    },
                    (a, b) => binary_slow(*op, &a, &b, *span),
                }
            }
            Expr::LocalInt(e) => self.local_int(e, env),
            Expr::Call(call) => self.eval_call(call, env),
            other => self.eval_other(other, env),
        }
    }

    /// `eval`, with the commonest leaves (an int, a local, `n - 1`) done in
    /// place: arguments and returned values are mostly these, and a call of
    /// `eval` costs more than they do.
    #[inline(always)]
    fn eval_leaf(&mut self, expr: &Expr, env: Env) -> R<Value> {
        match expr {
            Expr::Int(n) => Ok(Value::Int(*n)),
            Expr::Local { slot, name, span } => self.load_local(env, *slot, name, *span),
            Expr::LocalInt(e) => self.local_int(e, env),
            Expr::Call(call) => self.eval_call(call, env),
            _ => self.eval(expr, env),
        }
    }

    /// `local op constant`: in place when both are ints and nothing overflows.
    #[inline(always)]
    fn local_int(&self, e: &ir::LocalInt, env: Env) -> R<Value> {
        if let Value::Int(x) = self.stack[env.base + e.slot as usize] {
            if let Some(v) = int_fast_path(e.op, x, e.value) {
                return Ok(v);
            }
        }
        let a = self.load_local(env, e.slot, &e.name, e.span)?;
        binary_slow(e.op, &a, &Value::Int(e.value), e.span)
    }

    /// A condition's truth; int comparisons skip making a bool value.
    #[inline(always)]
    fn eval_condition(&mut self, cond: &Expr, env: Env) -> R<bool> {
        match cond {
            Expr::LocalInt(e) => {
                if let Value::Int(x) = self.stack[env.base + e.slot as usize] {
                    if let Some(Value::Bool(b)) = int_fast_path(e.op, x, e.value) {
                        return Ok(b);
                    }
                }
            }
            // `i < n`: two int locals.
            Expr::Binary(op, operands, _) => {
                if let (Expr::Local { slot: a, .. }, Expr::Local { slot: b, .. }) = &**operands {
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
            }
            _ => {}
        }
        Ok(self.eval(cond, env)?.truthy())
    }

    #[inline(never)]
    fn eval_other(&mut self, expr: &Expr, env: Env) -> R<Value> {
        match expr {
            Expr::Const(_)
            | Expr::Int(_)
            | Expr::Local { .. }
            | Expr::Upval { .. }
            | Expr::Binary(..)
            | Expr::LocalInt(_)
            | Expr::Call(_) => self.eval(expr, env),
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
            Expr::Interp(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Expr::Const(Value::Str(s)) => out.push_str(s),
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
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item, env)?);
                }
                Ok(Value::list(out))
            }
            Expr::Map(entries) => {
                let mut out = Entries::with_capacity_and_hasher(entries.len(), Default::default());
                for (k, v, key_span) in entries {
                    let key = map_key(self.eval(k, env)?, *key_span)?;
                    let value = self.eval(v, env)?;
                    out.insert(key, value);
                }
                Ok(Value::map(out))
            }
            Expr::Index(operands, span) => {
                let target = self.eval(&operands.0, env)?;
                let index = self.eval(&operands.1, env)?;
                index_value(&target, &index, *span)
            }
            Expr::Field(target, name, span) => match self.eval(target, env)? {
                Value::Process(handle) => self.procs.handle_field(&handle, name, *span),
                other => field(&other, name, *span),
            },
            Expr::Method(call) => {
                let target = self.eval(&call.target, env)?;
                let args = self.eval_args(&call.args, env)?;
                let site = CallSite {
                    span: call.span,
                    arg_spans: &call.arg_spans,
                };
                methods::call(self, &target, &call.name, call.name_span, &args, &site)
            }
            Expr::Closure(proto) => Ok(self.make_closure(proto, env)),
            Expr::Pid => Ok(Value::Int(os::getpid() as i64)),
            Expr::Ppid => Ok(Value::Int(os::getppid() as i64)),
            Expr::Fork(span) => self.fork_process(*span),
            Expr::Spawn(spawn) => self.eval_spawn(spawn, env),
            Expr::Join(join) => {
                let target = self.eval(&join.target, env)?;
                let timeout = match &join.timeout {
                    None => None,
                    Some(t) => Some(self.eval_seconds(t, env, join.span)?),
                };
                self.waiting("join", |this| {
                    ending::join(this, &target, timeout, join.span)
                })
            }
        }
    }

    /// Arguments of a built-in or method call (most take few, so no heap).
    fn eval_args(&mut self, exprs: &[Expr], env: Env) -> R<SmallVec<[Value; 4]>> {
        let mut args = SmallVec::new();
        for a in exprs {
            args.push(self.eval(a, env)?);
        }
        Ok(args)
    }

    /// Evaluates the function and its arguments here, then runs the call in a child.
    fn eval_spawn(&mut self, spawn: &ir::Spawn, env: Env) -> R<Value> {
        let (callee, arg_exprs) = match &spawn.call {
            Expr::Call(call) => (self.eval(&call.callee, env)?, &call.args),
            Expr::CallBuiltin(call) => (Value::Builtin(call.id), &call.args),
            Expr::Method(call) => {
                return Err(error_help(
                    "`spawn` of a method call is not supported",
                    call.span,
                    "a method call",
                    "wrap it in a function: fn send(q, v) { q.put(v) } then spawn send(q, v)",
                ));
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
                    return Err(error(
                        format!("a process name must be a string, not {}", other.type_name()),
                        expr_span(e).unwrap_or(spawn.span),
                        format!("this is {}", other.type_name()),
                    ))
                }
            },
        };
        if !matches!(callee, Value::Func(_) | Value::Builtin(_) | Value::Host(_)) {
            return Err(error(
                format!("cannot spawn {}", callee.type_name()),
                spawn.span,
                format!("this calls {}, not a function", callee.type_name()),
            ));
        }
        let call = self.snippet(expr_span(&spawn.call).unwrap_or(spawn.span));
        self.spawn_process(callee, args, name, call, spawn.span)
    }

    /// A number of seconds for a timeout: an int or float, 0 or more.
    fn eval_seconds(&mut self, e: &Expr, env: Env, span: Span) -> R<f64> {
        let v = self.eval(e, env)?;
        builtins::seconds(&v, "a timeout", expr_span(e).unwrap_or(span))
    }

    #[inline(never)]
    fn eval_call(&mut self, call: &ir::Call, env: Env) -> R<Value> {
        // Calls of a captured named function (recursion, helpers) skip a generic eval.
        let callee = match &call.callee {
            Expr::Upval { index, .. } => match &*env.upvals[*index as usize].borrow() {
                Value::Func(closure) => Value::Func(closure.clone()),
                _ => self.eval(&call.callee, env)?,
            },
            other => self.eval(other, env)?,
        };
        match callee {
            Value::Func(closure) => {
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
                self.call_closure(&closure, base, call.span)
            }
            native @ (Value::Builtin(_) | Value::Host(_)) => {
                let args = self.eval_args(&call.args, env)?;
                let site = CallSite {
                    span: call.span,
                    arg_spans: &call.arg_spans,
                };
                self.call_native(&native, &args, &site, call.callee_span)
            }
            other => Err(error_help(
                format!("cannot call {}", other.type_name()),
                call.callee_span,
                format!("this is {}, not a function", other.type_name()),
                "only functions can be called: `fn name(...) { ... }` defines one",
            )),
        }
    }

    /// Calls a closure whose arguments are already on the stack from `base` on.
    #[inline(always)]
    fn call_closure(&mut self, closure: &Rc<Closure>, base: usize, span: Span) -> R<Value> {
        let proto = &closure.proto;
        let argc = self.stack.len() - base;
        if argc != proto.params.len() {
            self.stack.truncate(base);
            let want = proto.params.len();
            return Err(Unwind::error(
                Diag::new(
                    format!(
                        "{} takes {want} argument{}, but {argc} {} given",
                        proto.describe(),
                        if want == 1 { "" } else { "s" },
                        if argc == 1 { "was" } else { "were" }
                    ),
                    span,
                    format!("{argc} given here"),
                )
                .with_note(proto.span, "defined here"),
            ));
        }
        if let Err(stop) = self.step(span) {
            self.stack.truncate(base);
            return Err(stop);
        }
        if self.depth >= self.max_depth {
            self.stack.truncate(base);
            return Err(error_help(
                format!("recursion deeper than {} calls", self.max_depth),
                span,
                "this call is too deep",
                "check that the recursion has a base case that is reached",
            ));
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
        match result {
            Ok(value) => Ok(value),
            Err(mut unwind) => {
                if let Some(diag) = unwind.diag_mut() {
                    diag.trace.push(Frame {
                        function: proto.describe(),
                        call_site: span,
                    });
                }
                Err(unwind)
            }
        }
    }

    /// Runs a body where the native stack may be short: finds out how much is
    /// left, and moves to a new segment (stacker) when less than the red zone is.
    #[inline(never)]
    fn run_body_with_more_stack(&mut self, proto: &FnProto, env: Env) -> R<Value> {
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
    fn run_body(&mut self, proto: &FnProto, env: Env) -> R<Value> {
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
    fn call_native(
        &mut self,
        callee: &Value,
        args: &[Value],
        site: &CallSite,
        callee_span: Span,
    ) -> R<Value> {
        match callee {
            Value::Builtin(id) => {
                builtins::spec::check_arity(*id, args.len(), site.span, callee_span)
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
            other => Err(error(
                format!("cannot call {}", other.type_name()),
                span,
                format!("this is {}, not a function", other.type_name()),
            )),
        }
    }
}

#[inline(never)]
fn binary_slow(op: BinOp, a: &Value, b: &Value, span: Span) -> R<Value> {
    ops::binary(op, a, b).map_err(|e| e.at(span))
}

/// Int operations that cannot fail, computed without leaving the evaluator;
/// `None` sends the rest (overflow, division) to `ops::binary`.
#[inline(always)]
fn int_fast_path(op: BinOp, x: i64, y: i64) -> Option<Value> {
    Some(match op {
        BinOp::Add => Value::Int(x.checked_add(y)?),
        BinOp::Sub => Value::Int(x.checked_sub(y)?),
        BinOp::Mul => Value::Int(x.checked_mul(y)?),
        BinOp::Lt => Value::Bool(x < y),
        BinOp::Le => Value::Bool(x <= y),
        BinOp::Gt => Value::Bool(x > y),
        BinOp::Ge => Value::Bool(x >= y),
        BinOp::Eq => Value::Bool(x == y),
        BinOp::Ne => Value::Bool(x != y),
        _ => return None,
    })
}

/// Roughly where the native stack is now (the address of a local; the stack grows down).
#[inline(always)]
fn native_stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Whether a closure captures `args` (then its slot holds a cell).
fn script_args_boxed(script: &FnProto) -> bool {
    script.params.first().is_some_and(|boxed| boxed.get())
}

/// The span of an expression, where it records one.
fn expr_span(e: &Expr) -> Option<Span> {
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

/// A slot's value, looking through the cell of a captured variable.
#[inline]
fn load_slot(slot: &Value, name: &str, span: Span) -> R<Value> {
    match slot {
        Value::Cell(cell) => load_upval(cell, name, span),
        Value::Uninit => Err(used_before_let(name, span)),
        v => Ok(v.clone()),
    }
}

fn used_before_let(name: &str, span: Span) -> Unwind {
    error_help(
        format!("`{name}` is used before it is declared"),
        span,
        "its `let` has not run yet",
        format!("run `let {name} = ...` before this line runs"),
    )
}

#[inline]
fn load_upval(cell: &Upval, name: &str, span: Span) -> R<Value> {
    match &*cell.borrow() {
        Value::Uninit => Err(used_before_let(name, span)),
        v => Ok(v.clone()),
    }
}

fn map_key(key: Value, span: Span) -> R<Rc<str>> {
    match key {
        Value::Str(s) => Ok(s),
        other => Err(error_help(
            format!("map keys must be strings, not {}", other.type_name()),
            span,
            format!("this is {}", other.type_name()),
            "convert the key with str(x)",
        )),
    }
}

/// Resolves a possibly negative index against a length.
fn list_position(index: &Value, len: usize, span: Span, what: &str) -> R<usize> {
    let i = match index {
        Value::Int(i) => *i,
        other => {
            return Err(error(
                format!("{what} indexes must be ints, not {}", other.type_name()),
                span,
                format!("indexed with {}", other.type_name()),
            ))
        }
    };
    let pos = if i < 0 { i + len as i64 } else { i };
    if pos < 0 || pos >= len as i64 {
        return Err(error_help(
            format!("index {i} is out of range for a {what} of length {len}"),
            span,
            "out of range",
            if len == 0 {
                format!("the {what} is empty")
            } else {
                format!(
                    "valid indexes are 0 to {} (or -{len} to -1 from the end)",
                    len - 1
                )
            },
        ));
    }
    Ok(pos as usize)
}

pub fn index_value(target: &Value, index: &Value, span: Span) -> R<Value> {
    match target {
        Value::List(items) => {
            let items = items.borrow();
            let pos = list_position(index, items.len(), span, "list")?;
            Ok(items[pos].clone())
        }
        Value::Map(entries) => {
            let Value::Str(key) = index else {
                return Err(map_key(index.clone(), span).expect_err("not a string"));
            };
            entries.borrow().get(key).cloned().ok_or_else(|| {
                error_help(
                    format!("key \"{key}\" is not in the map"),
                    span,
                    "missing key",
                    "use get(map, key, default) for a key that may be missing",
                )
            })
        }
        Value::Str(s) => {
            let len = s.chars().count();
            let pos = list_position(index, len, span, "string")?;
            let c = s.chars().nth(pos).expect("position checked");
            Ok(Value::Str(c.to_string().into()))
        }
        other => Err(error(
            format!("cannot index {}", other.type_name()),
            span,
            format!("this is {}", other.type_name()),
        )),
    }
}

fn store_index(target: &Value, index: Value, value: Value, span: Span) -> R<()> {
    match target {
        Value::List(items) => {
            let len = items.borrow().len();
            let pos = list_position(&index, len, span, "list")?;
            items.borrow_mut()[pos] = value;
            Ok(())
        }
        Value::Map(entries) => {
            let key = map_key(index, span)?;
            entries.borrow_mut().insert(key, value);
            Ok(())
        }
        Value::Str(_) => Err(error_help(
            "strings cannot be changed in place",
            span,
            "assigning into a string",
            "build a new string instead, e.g. with + or replace(s, old, new)",
        )),
        other => Err(error(
            format!("cannot assign into {}", other.type_name()),
            span,
            format!("this is {}", other.type_name()),
        )),
    }
}

fn field(target: &Value, name: &str, span: Span) -> R<Value> {
    let help = match target {
        Value::Map(_) => format!("maps have no fields; write m[\"{name}\"]"),
        _ => "fields exist on process handles: pid, name, exitcode".to_string(),
    };
    Err(error_help(
        format!("{} has no field `{name}`", target.type_name()),
        span,
        "no such field",
        help,
    ))
}
