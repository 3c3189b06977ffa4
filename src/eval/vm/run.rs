//! The register VM's loop: runs compiled code over the frame's slots of `Interp::stack`.

use super::frames::{Cur, Upvals};
use super::instructions::{Br, Code, Op, Reg, R3};
use crate::builtins::CallSite;
use crate::error::{self, ErrorKind, R};
use crate::eval::expr::{binary_slow, int_fast_path};
use crate::eval::{load_slot, load_upval, ops, Env, Interp};
use crate::front::ast::{BinOp, Span, UnOp};
use crate::values::{Upval, Value};
use smallvec::SmallVec;

impl Interp {
    /// Runs `code` in the frame at `base`; `Some` with the value of a
    /// `return`, `None` when it ran to its end.
    ///
    /// The frame invariant: between any two ops, `self.stack.len() >= base +
    /// code.regs` for the function running now. It holds on entry (the stack
    /// is grown here), a call into a compiled function grows the stack for
    /// the callee's frame and a return grows it back for the caller's
    /// (`frames`), and the other ops that run other code (`Step`, which may
    /// run signal handlers, and `Call`) grow the stack back to at least its
    /// length before them. With `verify` (every register operand below
    /// `code.regs`, every constant index within its table, every jump on an
    /// op, `End` last) it is what lets `reg`, `reg_mut`, `int` and the op
    /// fetch skip their bounds checks.
    pub(in crate::eval) fn run_code(
        &mut self,
        code: &Code,
        base: usize,
        upvals: &[Upval],
    ) -> R<Option<Value>> {
        self.regrow(base, code);
        let floor = self.vm.frames.len();
        let outer = std::mem::replace(&mut self.vm.upvals, Upvals(upvals));
        let outer_floor = std::mem::replace(&mut self.vm.floor_upvals, Upvals(upvals));
        let result = match self.run_frames(Cur { code, base }, floor) {
            Err(stop) if self.vm.frames.len() > floor => Err(self.vm_unwind(stop, floor)),
            result => result,
        };
        self.vm.upvals = outer;
        self.vm.floor_upvals = outer_floor;
        result
    }

    /// The loop: runs `cur` and the compiled functions it calls (each
    /// pushed on `Cache::frames` above `floor`) until `cur` returns.
    #[inline(always)]
    fn run_frames(&mut self, mut cur: Cur, floor: usize) -> R<Option<Value>> {
        use BinOp::*;
        let mut pc = 0;
        loop {
            // SAFETY: `cur.code` is alive (see `Cur`).
            let code = unsafe { &*cur.code };
            let base = cur.base;
            debug_assert!(pc < code.ops.len() && self.stack.len() >= base + code.regs);
            // SAFETY: `verify` proved that every jump lands on an op and that
            // the last op is `End`, which leaves; so `pc` stays within `ops`.
            let op = unsafe { *code.ops.get_unchecked(pc) };
            pc += 1;
            let at = pc - 1;
            match op {
                Op::Move { dst, src } => self.vm_move(base, dst, src),
                Op::LoadInt { dst, k } => put(self.reg_mut(base, dst), Value::Int(int(code, k))),
                Op::Add(r) => self.vm_arith(code, at, base, Add, r, false)?,
                Op::Sub(r) => self.vm_arith(code, at, base, Sub, r, false)?,
                Op::Mul(r) => self.vm_arith(code, at, base, Mul, r, false)?,
                Op::Div(r) => self.vm_arith(code, at, base, Div, r, false)?,
                Op::Mod(r) => self.vm_arith(code, at, base, Mod, r, false)?,
                Op::Eq(r) => self.vm_arith(code, at, base, Eq, r, false)?,
                Op::Ne(r) => self.vm_arith(code, at, base, Ne, r, false)?,
                Op::Lt(r) => self.vm_arith(code, at, base, Lt, r, false)?,
                Op::Le(r) => self.vm_arith(code, at, base, Le, r, false)?,
                Op::Gt(r) => self.vm_arith(code, at, base, Gt, r, false)?,
                Op::Ge(r) => self.vm_arith(code, at, base, Ge, r, false)?,
                Op::AddI(r) => self.vm_arith(code, at, base, Add, r, true)?,
                Op::SubI(r) => self.vm_arith(code, at, base, Sub, r, true)?,
                Op::MulI(r) => self.vm_arith(code, at, base, Mul, r, true)?,
                Op::DivI(r) => self.vm_arith(code, at, base, Div, r, true)?,
                Op::ModI(r) => self.vm_arith(code, at, base, Mod, r, true)?,
                Op::EqI(r) => self.vm_arith(code, at, base, Eq, r, true)?,
                Op::NeI(r) => self.vm_arith(code, at, base, Ne, r, true)?,
                Op::LtI(r) => self.vm_arith(code, at, base, Lt, r, true)?,
                Op::LeI(r) => self.vm_arith(code, at, base, Le, r, true)?,
                Op::GtI(r) => self.vm_arith(code, at, base, Gt, r, true)?,
                Op::GeI(r) => self.vm_arith(code, at, base, Ge, r, true)?,
                Op::BrEq(b) => pc = self.vm_br(code, at, base, Eq, b, false, pc)?,
                Op::BrNe(b) => pc = self.vm_br(code, at, base, Ne, b, false, pc)?,
                Op::BrLt(b) => pc = self.vm_br(code, at, base, Lt, b, false, pc)?,
                Op::BrLe(b) => pc = self.vm_br(code, at, base, Le, b, false, pc)?,
                Op::BrGt(b) => pc = self.vm_br(code, at, base, Gt, b, false, pc)?,
                Op::BrGe(b) => pc = self.vm_br(code, at, base, Ge, b, false, pc)?,
                Op::BrEqI(b) => pc = self.vm_br(code, at, base, Eq, b, true, pc)?,
                Op::BrNeI(b) => pc = self.vm_br(code, at, base, Ne, b, true, pc)?,
                Op::BrLtI(b) => pc = self.vm_br(code, at, base, Lt, b, true, pc)?,
                Op::BrLeI(b) => pc = self.vm_br(code, at, base, Le, b, true, pc)?,
                Op::BrGtI(b) => pc = self.vm_br(code, at, base, Gt, b, true, pc)?,
                Op::BrGeI(b) => pc = self.vm_br(code, at, base, Ge, b, true, pc)?,
                Op::LoopEq(b) => pc = self.vm_loop(code, at, base, Eq, b, false, pc)?,
                Op::LoopNe(b) => pc = self.vm_loop(code, at, base, Ne, b, false, pc)?,
                Op::LoopLt(b) => pc = self.vm_loop(code, at, base, Lt, b, false, pc)?,
                Op::LoopLe(b) => pc = self.vm_loop(code, at, base, Le, b, false, pc)?,
                Op::LoopGt(b) => pc = self.vm_loop(code, at, base, Gt, b, false, pc)?,
                Op::LoopGe(b) => pc = self.vm_loop(code, at, base, Ge, b, false, pc)?,
                Op::LoopEqI(b) => pc = self.vm_loop(code, at, base, Eq, b, true, pc)?,
                Op::LoopNeI(b) => pc = self.vm_loop(code, at, base, Ne, b, true, pc)?,
                Op::LoopLtI(b) => pc = self.vm_loop(code, at, base, Lt, b, true, pc)?,
                Op::LoopLeI(b) => pc = self.vm_loop(code, at, base, Le, b, true, pc)?,
                Op::LoopGtI(b) => pc = self.vm_loop(code, at, base, Gt, b, true, pc)?,
                Op::LoopGeI(b) => pc = self.vm_loop(code, at, base, Ge, b, true, pc)?,
                Op::Jump { target } => pc = target as usize,
                Op::JumpIfFalse { a, target } if !self.reg(base, a).truthy() => {
                    pc = target as usize
                }
                Op::JumpIfTrue { a, target } if self.reg(base, a).truthy() => pc = target as usize,
                Op::JumpIfFalse { .. } | Op::JumpIfTrue { .. } => {}
                Op::ForLoop { r, var, target } => {
                    pc = self.vm_for_loop(code, at, base, (r, var, target), pc)?
                }
                Op::CalleeUpval { dst, index, call } => {
                    self.vm_callee_upval(code, base, dst, index, call)?
                }
                Op::CalleeLocal { dst, slot, call } => {
                    self.vm_callee_local(code, base, dst, slot, call)?
                }
                Op::Call { func, argc, call } => {
                    self.vm_call_op(&mut cur, &mut pc, func, argc, call)?
                }
                Op::Return { .. } | Op::ReturnNil | Op::End => {
                    if let Some(result) = self.vm_finish(floor, &mut cur, &mut pc, at, op) {
                        return Ok(result);
                    }
                }
                Op::Step | Op::ForTest { .. } => pc = self.vm_rare_jump(op, code, at, base, pc)?,
                Op::MethodStmt { site } => self.vm_method_stmt(code, base, site)?,
                // Every op named (no `_`): the dispatch's table needs no range check.
                rare @ (Op::LoadConst { .. }
                | Op::GetUpval { .. }
                | Op::GetCell { .. }
                | Op::SetCell { .. }
                | Op::Not { .. }
                | Op::Truth { .. }
                | Op::Neg { .. }
                | Op::ForInt { .. }
                | Op::ForPrep { .. }) => self.vm_other(rare, code, at, base)?,
            }
        }
    }

    /// `Call`: a compiled callee's frame becomes the running one (see
    /// `vm_enter`); any other callee runs through `vm_call`.
    #[inline(always)]
    fn vm_call_op(
        &mut self,
        cur: &mut Cur,
        pc: &mut usize,
        func: Reg,
        argc: u16,
        call: u16,
    ) -> R<()> {
        // SAFETY: `cur.code` is alive (see `Cur`).
        let code = unsafe { &*cur.code };
        match self.vm_enter(*cur, *pc, func, argc, call_span(code, call))? {
            Some(callee) => (*cur, *pc) = (callee, 0),
            None => {
                self.vm_call(code, cur.base, func, argc, call)?;
                self.regrow(cur.base, code);
            }
        }
        Ok(())
    }

    /// Register `r` of the frame at `base`.
    #[inline(always)]
    fn reg(&self, base: usize, r: Reg) -> &Value {
        debug_assert!(base + (r as usize) < self.stack.len());
        // SAFETY: `r < code.regs` (proved by `verify` for every register
        // operand) and `stack.len() >= base + code.regs` (the frame
        // invariant of `run_code`), so the index is in bounds.
        unsafe { self.stack.get_unchecked(base + r as usize) }
    }

    #[inline(always)]
    pub(super) fn reg_mut(&mut self, base: usize, r: Reg) -> &mut Value {
        debug_assert!(base + (r as usize) < self.stack.len());
        // SAFETY: as in `reg`.
        unsafe { self.stack.get_unchecked_mut(base + r as usize) }
    }

    /// `dst = src` (an int without the generic clone).
    #[inline(always)]
    fn vm_move(&mut self, base: usize, dst: Reg, src: Reg) {
        let v = match self.reg(base, src) {
            Value::Int(n) => Value::Int(*n),
            other => other.clone(),
        };
        put(self.reg_mut(base, dst), v);
    }

    /// The callee in a local (a plain one or a cell).
    #[inline(always)]
    fn vm_callee_local(
        &mut self,
        code: &Code,
        base: usize,
        dst: Reg,
        slot: Reg,
        call: u16,
    ) -> R<()> {
        let callee = match self.reg(base, slot) {
            Value::Func(closure) => Value::Func(closure.clone()),
            other => self.vm_callee(code, other, call)?,
        };
        put(self.reg_mut(base, dst), callee);
        Ok(())
    }

    /// `x.m(...)` as a statement: the quick call on a lock, semaphore or
    /// value in place; when that does not apply (nothing changed then), the
    /// tree-walker's evaluation of the very call in this frame (whose named
    /// variables are these registers), so errors, waits and spans are its own.
    #[inline(always)]
    fn vm_method_stmt(&mut self, code: &Code, base: usize, site: u16) -> R<()> {
        // SAFETY: the running function's captured variables are alive (see
        // `Upvals`): held by its frame or by `run_code`'s caller, neither of
        // which the call below can drop (a nested `run_code` pops only its own
        // frames and puts `Cache::upvals` back).
        let upvals = unsafe { &*self.vm.upvals.0 };
        debug_assert!((site as usize) < code.methods.len());
        // SAFETY: `verify` proved every method index is within `code.methods`.
        let call = unsafe { code.methods.get_unchecked(site as usize) };
        let env = Env { base, upvals };
        match self.quick_sync_method(call, env) {
            Some(done) => discard(done),
            None => self.vm_method_general(code, base, env, site)?,
        }
        Ok(())
    }

    /// The general path of `vm_method_stmt`; it may run other code, so the
    /// frame invariant is restored after it.
    #[inline(never)]
    fn vm_method_general(&mut self, code: &Code, base: usize, env: Env, site: u16) -> R<()> {
        self.eval_method(&code.methods[site as usize], env)?;
        self.regrow(base, code);
        Ok(())
    }

    /// Restores the frame invariant after an op that ran other code.
    #[inline(always)]
    fn regrow(&mut self, base: usize, code: &Code) {
        if self.stack.len() < base + code.regs {
            self.stack.resize(base + code.regs, Value::Nil);
        }
    }

    /// The safe point of a loop whose condition is not one comparison, and
    /// a `for` loop's first test: the next pc.
    #[inline(never)]
    fn vm_rare_jump(&mut self, op: Op, code: &Code, at: usize, base: usize, pc: usize) -> R<usize> {
        match op {
            Op::ForTest { r, var, target } if !self.vm_for_test(code, at, base, r, var)? => {
                Ok(target as usize)
            }
            Op::Step => {
                self.step(code.meta[at].span)?;
                self.regrow(base, code);
                Ok(pc)
            }
            _ => Ok(pc),
        }
    }

    /// The ops that run rarely, kept out of the loop's native frame.
    #[inline(never)]
    fn vm_other(&mut self, op: Op, code: &Code, at: usize, base: usize) -> R<()> {
        let span = code.meta[at].span;
        // SAFETY: as for `CalleeUpval` in the loop.
        let upvals = unsafe { &*self.vm.upvals.0 };
        let value = match op {
            Op::LoadConst { dst, k } => (dst, code.consts[k as usize].clone()),
            Op::GetUpval { dst, index, name } => {
                let name = &code.names[name as usize];
                (dst, load_upval(&upvals[index as usize], name, span)?)
            }
            Op::GetCell { dst, slot, name } => {
                let name = &code.names[name as usize];
                (
                    dst,
                    load_slot(&self.stack[base + slot as usize], name, span)?,
                )
            }
            Op::SetCell { slot, src } => {
                let v = self.stack[base + src as usize].clone();
                match &self.stack[base + slot as usize] {
                    Value::Cell(cell) => *cell.borrow_mut() = v,
                    _ => self.stack[base + slot as usize] = v,
                }
                return Ok(());
            }
            Op::Not { dst, a } => (dst, Value::Bool(!self.stack[base + a as usize].truthy())),
            Op::Truth { dst, a } => (dst, Value::Bool(self.stack[base + a as usize].truthy())),
            Op::Neg { dst, a } => {
                let v = ops::unary(UnOp::Neg, &self.stack[base + a as usize]);
                (dst, v.map_err(|e| e.at(span))?)
            }
            Op::ForInt { a, what } => {
                let what = ["a range start", "a range end", "a range step"][what as usize];
                return match &self.stack[base + a as usize] {
                    Value::Int(_) => Ok(()),
                    other => Err(error::must_be(what, "an int", other.type_name(), span).into()),
                };
            }
            Op::ForPrep { r } => {
                if let Value::Int(0) = self.stack[base + r as usize + 2] {
                    let zero = "range step is zero";
                    let err = ErrorKind::InvalidValue.at(span, zero, "the step must not be 0");
                    return Err(err.into());
                }
                return Ok(());
            }
            _ => unreachable!("the loop runs every other op"),
        };
        self.stack[base + value.0 as usize] = value.1;
        Ok(())
    }

    /// `dst = a op b` (`imm`: `dst = a op ints[b]`): ints in place, the rest through `ops`.
    #[inline(always)]
    fn vm_arith(
        &mut self,
        code: &Code,
        at: usize,
        base: usize,
        op: BinOp,
        r: R3,
        imm: bool,
    ) -> R<()> {
        let fast = match self.int_operands(code, base, r.a, r.b, imm) {
            Some((x, y)) => int_fast_path(op, x, y),
            None => None,
        };
        match fast {
            Some(v) => put_fast(self.reg_mut(base, r.dst), v),
            None => {
                let v = self.vm_slow(code, at, base, op, r.a, r.b, imm)?;
                put(self.reg_mut(base, r.dst), v);
            }
        }
        Ok(())
    }

    /// The two ints of `a op b` (`imm`: `a op ints[b]`), when both are ints.
    #[inline(always)]
    fn int_operands(
        &self,
        code: &Code,
        base: usize,
        a: Reg,
        b: Reg,
        imm: bool,
    ) -> Option<(i64, i64)> {
        let Value::Int(x) = self.reg(base, a) else {
            return None;
        };
        let y = match imm {
            true => int(code, b),
            false => match self.reg(base, b) {
                Value::Int(y) => *y,
                _ => return None,
            },
        };
        Some((*x, y))
    }

    /// A fused compare-and-branch: the next pc (`b.target` unless `a op b` holds).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn vm_br(
        &mut self,
        code: &Code,
        at: usize,
        base: usize,
        op: BinOp,
        b: Br,
        imm: bool,
        pc: usize,
    ) -> R<usize> {
        let holds = self.vm_holds(code, at, base, op, b, imm)?;
        Ok(if holds { pc } else { b.target as usize })
    }

    /// Whether `a op b` (or `a op ints[b]`) holds.
    #[inline(always)]
    fn vm_holds(
        &mut self,
        code: &Code,
        at: usize,
        base: usize,
        op: BinOp,
        b: Br,
        imm: bool,
    ) -> R<bool> {
        let holds = match self.int_operands(code, base, b.a, b.b, imm) {
            Some((x, y)) => int_compare(op, x, y),
            None => self.vm_slow(code, at, base, op, b.a, b.b, imm)?.truthy(),
        };
        Ok(holds)
    }

    /// A `while` loop's bottom test: the next pc (back to `b.target`, after
    /// a safe point, while `a op b` holds; on past the loop when not).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn vm_loop(
        &mut self,
        code: &Code,
        at: usize,
        base: usize,
        op: BinOp,
        b: Br,
        imm: bool,
        pc: usize,
    ) -> R<usize> {
        if !self.vm_holds(code, at, base, op, b, imm)? {
            return Ok(pc);
        }
        self.step(code.meta[at].span)?;
        self.regrow(base, code);
        Ok(b.target as usize)
    }

    /// Any operands but two ints (and int overflow, division by zero): the
    /// tree-walker's `ops::binary`, with the same spans.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn vm_slow(
        &mut self,
        code: &Code,
        at: usize,
        base: usize,
        op: BinOp,
        a: Reg,
        b: Reg,
        imm: bool,
    ) -> R<Value> {
        let right = match imm {
            true => Value::Int(code.ints[b as usize]),
            false => self.stack[base + b as usize].clone(),
        };
        let meta = code.meta[at];
        binary_slow(
            op,
            &self.stack[base + a as usize],
            &right,
            meta.span,
            meta.sides,
        )
    }

    /// `for`: whether the counter is within the range; if so, a safe point
    /// and the loop variable set.
    #[inline(always)]
    fn vm_for_test(&mut self, code: &Code, at: usize, base: usize, r: Reg, var: Reg) -> R<bool> {
        let r = base + r as usize;
        let (i, end, step) = match &self.stack[r..r + 3] {
            [Value::Int(i), Value::Int(end), Value::Int(step)] => (*i, *end, *step),
            _ => return Ok(false),
        };
        if !((step > 0 && i < end) || (step < 0 && i > end)) {
            return Ok(false);
        }
        self.step(code.meta[at].span)?;
        put(&mut self.stack[base + var as usize], Value::Int(i));
        Ok(true)
    }

    /// `for`'s bottom: the next pc (back to `target` while the loop goes on).
    #[inline(always)]
    fn vm_for_loop(
        &mut self,
        code: &Code,
        at: usize,
        base: usize,
        (r, var, target): (Reg, Reg, u16),
        pc: usize,
    ) -> R<usize> {
        if self.vm_for_next(base, r) && self.vm_for_test(code, at, base, r, var)? {
            return Ok(target as usize);
        }
        Ok(pc)
    }

    /// `for`: counts on; false when the counter would overflow (the loop ends).
    #[inline(always)]
    fn vm_for_next(&mut self, base: usize, r: Reg) -> bool {
        let r = base + r as usize;
        let step = match self.stack[r + 2] {
            Value::Int(step) => step,
            _ => return false,
        };
        match &mut self.stack[r] {
            Value::Int(i) => match i.checked_add(step) {
                Some(next) => {
                    *i = next;
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// `func(args)` of a callee that is not compiled (see `vm_enter`): the
    /// arguments are above `func` already; a script function goes through
    /// `call_closure`, a built-in or host function through `call_native`.
    #[inline(never)]
    fn vm_call(&mut self, code: &Code, base: usize, func: Reg, argc: u16, call: u16) -> R<()> {
        let f = base + func as usize;
        let span = code.calls[call as usize].span;
        let top = self.stack.len();
        let callee = std::mem::take(&mut self.stack[f]);
        let value = match callee {
            Value::Func(closure) => {
                // Above the arguments are only dead temporaries.
                self.stack.truncate(f + 1 + argc as usize);
                self.call_closure(&closure, f + 1, span)?
            }
            other => {
                self.stack.truncate(f + 1 + argc as usize);
                self.vm_call_other(other, code, f + 1, call)?
            }
        };
        if self.stack.len() < top {
            self.stack.resize(top, Value::Nil);
        }
        put(&mut self.stack[f], value);
        Ok(())
    }

    /// The callee in a captured variable (commonly the function itself).
    #[inline(always)]
    fn vm_callee_upval(
        &mut self,
        code: &Code,
        base: usize,
        dst: Reg,
        index: u16,
        call: u16,
    ) -> R<()> {
        // SAFETY: the running function's captured variables are alive (see `Upvals`).
        let upvals = unsafe { &*self.vm.upvals.0 };
        let cell = &upvals[index as usize];
        // SAFETY: the reference lives only to clone the closure out of the
        // cell; nothing runs meanwhile that could borrow the cell mutably.
        let closure = match unsafe { cell.try_borrow_unguarded() } {
            Ok(Value::Func(closure)) => closure.clone(),
            _ => {
                let callee = self.vm_callee(code, &cell.borrow(), call)?;
                put(self.reg_mut(base, dst), callee);
                return Ok(());
            }
        };
        put(self.reg_mut(base, dst), Value::Func(closure));
        Ok(())
    }

    /// A callee that is not a script function: a built-in or host function,
    /// or an error (not set yet, not callable) before the arguments run.
    #[inline(never)]
    fn vm_callee(&self, code: &Code, value: &Value, call: u16) -> R<Value> {
        let info = &code.calls[call as usize];
        let value = match value {
            Value::Cell(cell) => load_upval(cell, &info.name, info.name_span)?,
            other => load_slot(other, &info.name, info.name_span)?,
        };
        match value {
            Value::Func(_) | Value::Builtin(_) | Value::Host(_) => Ok(value),
            other => Err(error::not_callable(other.type_name(), info.callee_span)
                .with_help("only functions can be called: `fn name(...) { ... }` defines one")
                .into()),
        }
    }

    /// A call of a built-in or host function, or of a value that is none.
    #[inline(never)]
    fn vm_call_other(&mut self, callee: Value, code: &Code, args: usize, call: u16) -> R<Value> {
        let info = &code.calls[call as usize];
        if !matches!(callee, Value::Builtin(_) | Value::Host(_)) {
            return Err(error::not_callable(callee.type_name(), info.callee_span)
                .with_help("only functions can be called: `fn name(...) { ... }` defines one")
                .into());
        }
        let values: SmallVec<[Value; 4]> = self.stack.drain(args..).collect();
        let site = CallSite {
            span: info.span,
            arg_spans: &info.arg_spans,
        };
        self.call_native(&callee, &values, &site, info.callee_span)
    }
}

/// Stores `v` in a register; an old int, float, bool or nil needs no drop.
#[inline(always)]
pub(super) fn put(slot: &mut Value, v: Value) {
    match slot {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Nil => {
            std::mem::forget(std::mem::replace(slot, v))
        }
        _ => *slot = v,
    }
}

/// Drops `v`; an int, float, bool or nil (what a quick call gives) without a call.
#[inline(always)]
fn discard(v: Value) {
    match v {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Nil => std::mem::forget(v),
        other => drop(other),
    }
}

/// Stores the result of an int fast path: over an int (the common case
/// in a loop or a call) only the number is written.
#[inline(always)]
fn put_fast(slot: &mut Value, v: Value) {
    if let (Value::Int(old), Value::Int(n)) = (&mut *slot, &v) {
        *old = *n;
        // An int has nothing to drop: no call of the drop glue.
        std::mem::forget(v);
        return;
    }
    put(slot, v)
}

/// The span of call `call` (what its safe point and errors point at).
#[inline(always)]
fn call_span(code: &Code, call: u16) -> Span {
    debug_assert!((call as usize) < code.calls.len());
    // SAFETY: `verify` proved every call index is within `code.calls`.
    unsafe { code.calls.get_unchecked(call as usize) }.span
}

/// Int constant `k`.
#[inline(always)]
fn int(code: &Code, k: u16) -> i64 {
    debug_assert!((k as usize) < code.ints.len());
    // SAFETY: `verify` proved every int operand is within `code.ints`.
    unsafe { *code.ints.get_unchecked(k as usize) }
}

/// An int comparison's truth (`op` is a comparison; the rest never get here).
#[inline(always)]
fn int_compare(op: BinOp, x: i64, y: i64) -> bool {
    match op {
        BinOp::Eq => x == y,
        BinOp::Ne => x != y,
        BinOp::Lt => x < y,
        BinOp::Le => x <= y,
        BinOp::Gt => x > y,
        _ => x >= y,
    }
}
