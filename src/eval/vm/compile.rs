//! Compiles a function body or a loop of the resolved tree into register code, or refuses (`None`).
//!
//! The subset: int/float/bool/nil/string constants, locals and parameters,
//! reads of captured variables, arithmetic and comparisons, `not`/`and`/`or`,
//! `if`, `while`, counting `for`, `break`/`continue`, `x op= e` on a local,
//! calls of a local or captured function, `return`, and method-call
//! statements `x.m()` / `x.m(number)` on a variable (locks, values...). Anything else leaves the
//! code to the tree-walker, which stays the one meaning of every construct:
//! the ops' slow paths call the same `ops` functions with the same spans.

use super::instructions::{Br, CallInfo, Code, Meta, Op, Reg, R3};
use crate::front::ast::{BinOp, Span, UnOp};
use crate::front::ir::{Block, Call, Expr, FnProto, Literal, Place, Sides, Stmt};
use crate::values::Value;

mod method_stmt;

/// How a loop compiled alone finds the slots of the frame it runs in: a
/// cell (`Some(true)`), a plain value (`Some(false)`), or not usable (`None`).
pub type SlotKind<'a> = &'a dyn Fn(u32) -> Option<bool>;

/// The labels of the loop being compiled: where `break` and `continue` go.
struct Loop {
    exit: usize,
    next: usize,
}

struct Compiler<'a> {
    code: Code,
    /// The next free temporary register.
    next: usize,
    loops: Vec<Loop>,
    /// Each label's place once bound, and the ops that jump to it.
    labels: Vec<(Option<usize>, Vec<usize>)>,
    /// For a loop: what each slot of the frame holds; `None` for a function
    /// (whose frame is fresh, with no cells).
    slots: Option<SlotKind<'a>>,
}

/// Compiles a whole function, if every part of it is in the subset.
///
/// A body of guarded returns (`if c { return a }` lines and a last
/// `return`, see `ir::Returns`; fib's shape) compiles too: calls between
/// compiled functions switch frames inside one loop (see `run`), which
/// costs fewer instructions a call than the tree-walker's fast path for
/// that shape.
pub fn function(proto: &FnProto) -> Option<Code> {
    if proto.params_boxed {
        return None;
    }
    let mut c = Compiler::new(proto.slots as usize, None);
    c.code.proto = proto as *const FnProto as usize;
    match &proto.returns {
        Some(returns) => {
            for (cond, value, span) in &returns.guards {
                let skip = c.label();
                c.jump_unless(cond, skip)?;
                c.ret(Some(value), *span)?;
                c.bind(skip);
            }
            if let Some((value, span)) = &returns.last {
                c.ret(Some(value), *span)?;
            }
        }
        None => c.block(&proto.body)?,
    }
    c.finish()
}

/// Compiles a `while` or counting `for` statement alone, to run in a frame
/// whose temporaries start at `first_temp`.
pub fn one_loop(stmt: &Stmt, first_temp: usize, slots: SlotKind) -> Option<Code> {
    if !matches!(stmt, Stmt::While { .. } | Stmt::ForRange { .. }) {
        return None;
    }
    let mut c = Compiler::new(first_temp, Some(slots));
    c.stmt(stmt)?;
    c.code.cells.sort_unstable();
    c.code.cells.dedup();
    c.code.plain.sort_unstable();
    c.code.plain.dedup();
    c.finish()
}

impl<'a> Compiler<'a> {
    fn new(first_temp: usize, slots: Option<SlotKind<'a>>) -> Self {
        let code = Code {
            regs: first_temp,
            first_temp,
            ..Code::default()
        };
        Compiler {
            code,
            next: first_temp,
            loops: Vec::new(),
            labels: Vec::new(),
            slots,
        }
    }

    fn finish(mut self) -> Option<Code> {
        self.emit(Op::End, Meta::default());
        if self.code.ops.len() > u16::MAX as usize || self.code.regs > u16::MAX as usize {
            return None;
        }
        for (place, jumps) in std::mem::take(&mut self.labels) {
            let to = place? as u16;
            for at in jumps {
                self.code.ops[at].set_target(to);
            }
        }
        // The loop skips bounds checks that this proved (see `run`).
        super::verify::verify(&self.code).then_some(self.code)
    }

    // ------------------------------------------------------------ plumbing

    fn emit(&mut self, op: Op, meta: Meta) {
        self.code.ops.push(op);
        self.code.meta.push(meta);
    }

    fn at(span: Span) -> Meta {
        Meta {
            span,
            sides: Sides::default(),
        }
    }

    fn label(&mut self) -> usize {
        self.labels.push((None, Vec::new()));
        self.labels.len() - 1
    }

    fn bind(&mut self, label: usize) {
        self.labels[label].0 = Some(self.code.ops.len());
    }

    /// Emits a jump whose target is `label`.
    fn jump(&mut self, op: Op, meta: Meta, label: usize) {
        self.labels[label].1.push(self.code.ops.len());
        self.emit(op, meta);
    }

    fn temp(&mut self) -> Option<Reg> {
        let r = reg(self.next)?;
        self.next += 1;
        self.code.regs = self.code.regs.max(self.next);
        Some(r)
    }

    fn int(&mut self, n: i64) -> Option<u16> {
        let k = match self.code.ints.iter().position(|&x| x == n) {
            Some(k) => k,
            None => {
                self.code.ints.push(n);
                self.code.ints.len() - 1
            }
        };
        u16::try_from(k).ok()
    }

    fn name(&mut self, name: &std::rc::Rc<str>) -> Option<u16> {
        self.code.names.push(name.clone());
        u16::try_from(self.code.names.len() - 1).ok()
    }

    /// Whether the local `slot` lives in a cell (a loop's frame may have some).
    fn is_cell(&mut self, slot: u32) -> Option<bool> {
        let Some(kind) = self.slots else {
            return Some(false);
        };
        let cell = kind(slot)?;
        let r = reg(slot as usize)?;
        if cell {
            self.code.cells.push(r);
        } else {
            self.code.plain.push(r);
        }
        Some(cell)
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, block: &Block) -> Option<()> {
        if block.enter || !block.imports.is_empty() {
            return None;
        }
        block.stmts.iter().try_for_each(|s| self.stmt(s))
    }

    fn stmt(&mut self, stmt: &Stmt) -> Option<()> {
        let mark = self.next;
        match stmt {
            Stmt::Expr(Expr::Method(call)) => self.method_stmt(call)?,
            Stmt::Expr(e) => {
                let t = self.temp()?;
                self.expr_into(e, t)?;
            }
            Stmt::Let { slot, value } => self.store(*slot, value)?,
            Stmt::Assign {
                place: Place::Local(slot),
                name,
                op,
                value,
                span,
                value_span,
            } => match op {
                None => self.store(*slot, value)?,
                Some(op) => {
                    let start = span.start as usize;
                    let sides = Sides {
                        left: Span::new(start, start + name.len()),
                        right: *value_span,
                    };
                    self.update(*slot, *op, value, name, Meta { span: *span, sides })?
                }
            },
            Stmt::If {
                branches,
                otherwise,
            } => self.if_chain(branches, otherwise.as_ref())?,
            Stmt::While { cond, body } => self.while_loop(cond, body)?,
            Stmt::ForRange { .. } => self.for_range(stmt)?,
            Stmt::Break => {
                let exit = self.loops.last()?.exit;
                self.jump(Op::Jump { target: 0 }, Meta::default(), exit);
            }
            Stmt::Continue => {
                let next = self.loops.last()?.next;
                self.jump(Op::Jump { target: 0 }, Meta::default(), next);
            }
            Stmt::Return(value, span) => self.ret(value.as_ref(), *span)?,
            Stmt::Assign { .. } | Stmt::AssignIndex { .. } | Stmt::ForEach { .. } => return None,
            Stmt::Try { .. } => return None,
        }
        self.next = mark;
        Some(())
    }

    /// `let x = e` / `x = e`: into the slot (through its cell if it has one).
    fn store(&mut self, slot: u32, value: &Expr) -> Option<()> {
        if self.is_cell(slot)? {
            let t = self.temp()?;
            self.expr_into(value, t)?;
            self.emit(
                Op::SetCell {
                    slot: reg(slot as usize)?,
                    src: t,
                },
                Meta::default(),
            );
        } else {
            // Safe to compute in place: only the last op of `value` writes
            // its target, after reading every operand (`and`/`or` use a temporary).
            self.expr_into(value, reg(slot as usize)?)?;
        }
        Some(())
    }

    /// `x op= e`: the value first, then the variable (as the tree-walker reads them).
    fn update(
        &mut self,
        slot: u32,
        op: BinOp,
        value: &Expr,
        name: &std::rc::Rc<str>,
        meta: Meta,
    ) -> Option<()> {
        let (b, imm) = self.right(value)?;
        let x = reg(slot as usize)?;
        if self.is_cell(slot)? {
            let t = self.temp()?;
            let name = self.name(name)?;
            self.emit(
                Op::GetCell {
                    dst: t,
                    slot: x,
                    name,
                },
                Meta::default(),
            );
            self.emit(Op::binary(op, R3 { dst: t, a: t, b }, imm)?, meta);
            self.emit(Op::SetCell { slot: x, src: t }, Meta::default());
        } else {
            self.emit(Op::binary(op, R3 { dst: x, a: x, b }, imm)?, meta);
        }
        Some(())
    }

    fn if_chain(&mut self, branches: &[(Expr, Block)], otherwise: Option<&Block>) -> Option<()> {
        let end = self.label();
        for (cond, then) in branches {
            let next = self.label();
            self.jump_unless(cond, next)?;
            self.block(then)?;
            self.jump(Op::Jump { target: 0 }, Meta::default(), end);
            self.bind(next);
        }
        if let Some(otherwise) = otherwise {
            self.block(otherwise)?;
        }
        self.bind(end);
        Some(())
    }

    /// `while`: the body, then the test at the bottom that jumps back to it
    /// (one op and a safe point when the condition is a comparison).
    fn while_loop(&mut self, cond: &Expr, body: &Block) -> Option<()> {
        let (top, test, exit) = (self.label(), self.label(), self.label());
        self.jump(Op::Jump { target: 0 }, Meta::default(), test);
        self.bind(top);
        self.loops.push(Loop { exit, next: test });
        self.block(body)?;
        self.loops.pop();
        self.bind(test);
        let mark = self.next;
        match self.compare_as(cond, Op::loop_while)? {
            Some((op, meta)) => self.jump(op, meta, top),
            None => {
                let span = super::super::expr::expr_span(cond).unwrap_or_default();
                let body = self.label();
                self.jump_if(cond, body)?;
                self.jump(Op::Jump { target: 0 }, Meta::default(), exit);
                self.bind(body);
                self.emit(Op::Step, Self::at(span));
                self.jump(Op::Jump { target: 0 }, Meta::default(), top);
            }
        }
        self.next = mark;
        self.bind(exit);
        Some(())
    }

    /// A counting `for`: bounds checked in order, then (at the top) the
    /// first test, the body, and at the bottom the count and the next test.
    fn for_range(&mut self, stmt: &Stmt) -> Option<()> {
        let Stmt::ForRange {
            slot,
            start,
            end,
            step,
            body,
            span,
        } = stmt
        else {
            return None;
        };
        if self.is_cell(*slot)? {
            return None;
        }
        let meta = Self::at(*span);
        let r = self.temp()?;
        for (what, bound) in [start, end].into_iter().enumerate() {
            let t = if what == 0 { r } else { self.temp()? };
            self.expr_into(bound, t)?;
            self.emit(
                Op::ForInt {
                    a: t,
                    what: what as u16,
                },
                meta,
            );
        }
        let by = self.temp()?;
        match step {
            Some(step) => {
                self.expr_into(step, by)?;
                self.emit(Op::ForInt { a: by, what: 2 }, meta);
            }
            None => {
                let k = self.int(1)?;
                self.emit(Op::LoadInt { dst: by, k }, meta);
            }
        }
        self.emit(Op::ForPrep { r }, meta);
        let (top, next, exit) = (self.label(), self.label(), self.label());
        let var = reg(*slot as usize)?;
        self.jump(Op::ForTest { r, var, target: 0 }, meta, exit);
        self.bind(top);
        self.loops.push(Loop { exit, next });
        self.block(body)?;
        self.loops.pop();
        self.bind(next);
        self.jump(Op::ForLoop { r, var, target: 0 }, meta, top);
        self.bind(exit);
        Some(())
    }

    fn ret(&mut self, value: Option<&Expr>, span: Span) -> Option<()> {
        match value {
            Some(value) => {
                let a = self.operand(value)?;
                self.emit(Op::Return { a }, Self::at(span));
            }
            None => self.emit(Op::ReturnNil, Self::at(span)),
        }
        Some(())
    }
}

/// A register number, if it fits.
fn reg(n: usize) -> Option<Reg> {
    Reg::try_from(n).ok()
}

/// The value a literal stands for.
fn constant(literal: &Literal) -> Value {
    Value::from(literal)
}

/// The spans a call's errors need, if its callee is a variable.
fn call_info(call: &Call) -> Option<CallInfo> {
    let (name, name_span) = match &call.callee {
        Expr::Local { name, span, .. } | Expr::Upval { name, span, .. } => (name.clone(), *span),
        _ => return None,
    };
    Some(CallInfo {
        span: call.span,
        name,
        name_span,
        callee_span: call.callee_span,
        arg_spans: call.arg_spans.clone(),
    })
}

/// Conditions and values of `ops` work on: whether `op` is a comparison.
fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// `not x` and `-x`.
fn unary_op(op: UnOp, dst: Reg, a: Reg) -> Op {
    match op {
        UnOp::Not => Op::Not { dst, a },
        UnOp::Neg => Op::Neg { dst, a },
    }
}

/// So `Br` is built in one place.
fn br(a: Reg, b: Reg) -> Br {
    Br { a, b, target: 0 }
}

impl Compiler<'_> {
    // ------------------------------------------------------------ expressions

    /// A register holding `e`'s value: a plain local's own slot, else a temporary.
    fn operand(&mut self, e: &Expr) -> Option<Reg> {
        if let Expr::Local { slot, .. } = e {
            if !self.is_cell(*slot)? {
                return reg(*slot as usize);
            }
        }
        let t = self.temp()?;
        self.expr_into(e, t)?;
        Some(t)
    }

    /// The right side of a binary op: an int constant (the `I` forms) or a register.
    fn right(&mut self, e: &Expr) -> Option<(Reg, bool)> {
        match e {
            Expr::Int(n) => Some((self.int(*n)?, true)),
            _ => Some((self.operand(e)?, false)),
        }
    }

    /// Computes `e` into `dst`.
    fn expr_into(&mut self, e: &Expr, dst: Reg) -> Option<()> {
        let mark = self.next;
        match e {
            Expr::Int(n) => {
                let k = self.int(*n)?;
                self.emit(Op::LoadInt { dst, k }, Meta::default());
            }
            Expr::Const(literal) => {
                self.code.consts.push(constant(literal));
                let k = u16::try_from(self.code.consts.len() - 1).ok()?;
                self.emit(Op::LoadConst { dst, k }, Meta::default());
            }
            Expr::Local { slot, name, span } => {
                let src = reg(*slot as usize)?;
                if self.is_cell(*slot)? {
                    let name = self.name(name)?;
                    self.emit(
                        Op::GetCell {
                            dst,
                            slot: src,
                            name,
                        },
                        Self::at(*span),
                    );
                } else if src != dst {
                    self.emit(Op::Move { dst, src }, Meta::default());
                }
            }
            Expr::Upval { index, name, span } => {
                let (index, name) = (u16::try_from(*index).ok()?, self.name(name)?);
                self.emit(Op::GetUpval { dst, index, name }, Self::at(*span));
            }
            Expr::Binary(op, operands, span) => {
                let a = self.operand(&operands.left)?;
                let (b, imm) = self.right(&operands.right)?;
                let meta = Meta {
                    span: *span,
                    sides: operands.sides,
                };
                self.emit(Op::binary(*op, R3 { dst, a, b }, imm)?, meta);
            }
            Expr::LocalInt(e) => {
                let a = self.local_operand(e.slot, &e.name, e.span)?;
                let b = self.int(e.value)?;
                let meta = Meta {
                    span: e.span,
                    sides: e.sides,
                };
                self.emit(Op::binary(e.op, R3 { dst, a, b }, true)?, meta);
            }
            Expr::And(operands) | Expr::Or(operands) => {
                // Into a temporary: `x = y and x` must read the old `x`.
                let t = self.temp()?;
                let end = self.label();
                self.expr_into(&operands.0, t)?;
                self.emit(Op::Truth { dst: t, a: t }, Meta::default());
                let op = match e {
                    Expr::And(_) => Op::JumpIfFalse { a: t, target: 0 },
                    _ => Op::JumpIfTrue { a: t, target: 0 },
                };
                self.jump(op, Meta::default(), end);
                self.expr_into(&operands.1, t)?;
                self.emit(Op::Truth { dst: t, a: t }, Meta::default());
                self.bind(end);
                self.emit(Op::Move { dst, src: t }, Meta::default());
            }
            Expr::Unary(op, operand, span) => {
                let a = self.operand(operand)?;
                self.emit(unary_op(*op, dst, a), Self::at(*span));
            }
            Expr::Call(call) => self.call_into(call, dst)?,
            _ => return None,
        }
        self.next = mark;
        Some(())
    }

    /// A local's register, loaded into a temporary when it lives in a cell.
    fn local_operand(&mut self, slot: u32, name: &std::rc::Rc<str>, span: Span) -> Option<Reg> {
        let src = reg(slot as usize)?;
        if !self.is_cell(slot)? {
            return Some(src);
        }
        let t = self.temp()?;
        let name = self.name(name)?;
        self.emit(
            Op::GetCell {
                dst: t,
                slot: src,
                name,
            },
            Self::at(span),
        );
        Some(t)
    }

    /// `f(args)`: the callee, then each argument, in consecutive registers.
    fn call_into(&mut self, call: &Call, dst: Reg) -> Option<()> {
        self.code.calls.push(call_info(call)?);
        let index = u16::try_from(self.code.calls.len() - 1).ok()?;
        // The callee's register takes the result: `dst` itself when it is
        // the newest temporary (no move after the call). Never a variable's
        // slot: the callee is put there before the arguments, which may read
        // it (`x = g(x)` with `x` the frame's last variable).
        let newest_temp = dst as usize + 1 == self.next && dst as usize >= self.code.first_temp;
        let func = match newest_temp {
            true => dst,
            false => self.temp()?,
        };
        let callee = match call.callee {
            Expr::Local { slot, .. } => {
                self.is_cell(slot)?;
                Op::CalleeLocal {
                    dst: func,
                    slot: reg(slot as usize)?,
                    call: index,
                }
            }
            Expr::Upval { index: up, .. } => Op::CalleeUpval {
                dst: func,
                index: u16::try_from(up).ok()?,
                call: index,
            },
            _ => return None,
        };
        self.emit(callee, Self::at(call.callee_span));
        for arg in &call.args {
            let t = self.temp()?;
            self.expr_into(arg, t)?;
        }
        let argc = u16::try_from(call.args.len()).ok()?;
        let op = Op::Call {
            func,
            argc,
            call: index,
        };
        self.emit(op, Self::at(call.span));
        if func != dst {
            self.emit(Op::Move { dst, src: func }, Meta::default());
        }
        Some(())
    }

    /// Jumps to `label` when `cond` is false.
    fn jump_unless(&mut self, cond: &Expr, label: usize) -> Option<()> {
        let mark = self.next;
        match cond {
            Expr::Unary(UnOp::Not, inner, _) => self.jump_if(inner, label)?,
            Expr::And(operands) => {
                self.jump_unless(&operands.0, label)?;
                self.jump_unless(&operands.1, label)?;
            }
            Expr::Or(operands) => {
                let taken = self.label();
                self.jump_if(&operands.0, taken)?;
                self.jump_unless(&operands.1, label)?;
                self.bind(taken);
            }
            _ => match self.compare(cond)? {
                Some((op, meta)) => self.jump(op, meta, label),
                None => {
                    let a = self.operand(cond)?;
                    self.jump(Op::JumpIfFalse { a, target: 0 }, Meta::default(), label);
                }
            },
        }
        self.next = mark;
        Some(())
    }

    /// Jumps to `label` when `cond` is true.
    fn jump_if(&mut self, cond: &Expr, label: usize) -> Option<()> {
        let mark = self.next;
        match cond {
            Expr::Unary(UnOp::Not, inner, _) => self.jump_unless(inner, label)?,
            Expr::And(operands) => {
                let fails = self.label();
                self.jump_unless(&operands.0, fails)?;
                self.jump_if(&operands.1, label)?;
                self.bind(fails);
            }
            Expr::Or(operands) => {
                self.jump_if(&operands.0, label)?;
                self.jump_if(&operands.1, label)?;
            }
            _ => match self.compare(cond)? {
                // No negated comparison: its error would name the other operator.
                Some((op, meta)) => {
                    let fails = self.label();
                    self.jump(op, meta, fails);
                    self.jump(Op::Jump { target: 0 }, Meta::default(), label);
                    self.bind(fails);
                }
                None => {
                    let a = self.operand(cond)?;
                    self.jump(Op::JumpIfTrue { a, target: 0 }, Meta::default(), label);
                }
            },
        }
        self.next = mark;
        Some(())
    }

    /// A comparison as a branch taken when it does not hold, or `Some(None)`
    /// for a condition of another kind.
    fn compare(&mut self, cond: &Expr) -> Option<Option<(Op, Meta)>> {
        self.compare_as(cond, Op::branch_unless)
    }

    /// A comparison as the op `make` gives for its operator and operands.
    fn compare_as(
        &mut self,
        cond: &Expr,
        make: fn(BinOp, Br, bool) -> Option<Op>,
    ) -> Option<Option<(Op, Meta)>> {
        Some(match cond {
            Expr::Binary(op, operands, span) if is_comparison(*op) => {
                let a = self.operand(&operands.left)?;
                let (b, imm) = self.right(&operands.right)?;
                let meta = Meta {
                    span: *span,
                    sides: operands.sides,
                };
                Some((make(*op, br(a, b), imm)?, meta))
            }
            Expr::LocalInt(e) if is_comparison(e.op) => {
                let a = self.local_operand(e.slot, &e.name, e.span)?;
                let b = self.int(e.value)?;
                let meta = Meta {
                    span: e.span,
                    sides: e.sides,
                };
                Some((make(e.op, br(a, b), true)?, meta))
            }
            _ => None,
        })
    }
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
