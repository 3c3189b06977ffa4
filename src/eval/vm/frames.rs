//! Calls between compiled functions without native recursion: a frame stack the VM's loop pushes and pops.
//!
//! A `Call` of a compiled script function saves its caller (code, captured
//! variables, base, return pc) on `Cache::frames` and switches the loop to
//! the callee; its `Return` pops the caller back. So deep compiled recursion
//! uses heap, not native stack, and a call costs no native call, no
//! `Result` through memory and no code lookup beyond one cache read. Every
//! call still does what `call_closure` does: the arity check, the safe point
//! and the depth limit (`enter_call`), and an error leaving a callee gets
//! that call's line in its call stack (`vm_unwind`, innermost first).

use super::instructions::{Code, Op, Reg};
use super::run::put;
use crate::error::{Unwind, R};
use crate::eval::call::traced_error;
use crate::eval::Interp;
use crate::front::ast::Span;
use crate::values::{Closure, Upval, Value};
use std::rc::Rc;

/// The function the loop runs now: its code and its frame's base (its
/// captured variables are in `Cache::upvals`, out of the loop's registers).
/// A raw pointer, so the loop can switch functions without counting
/// references; it points into an `Rc` that outlives its use: the outermost
/// function's code is borrowed by `run_code`'s caller, a callee's is held by
/// the cache (`Cache::fns`, or `Cache::retired` once replaced: code is never
/// dropped while a frame is on the stack, see `Interp::vm_renew`).
#[derive(Clone, Copy)]
pub(super) struct Cur {
    pub code: *const Code,
    pub base: usize,
}

/// The captured variables of the function the loop runs now: those
/// `run_code` was given, or a callee's, held by its `Frame`'s closure.
#[derive(Clone, Copy)]
pub(super) struct Upvals(pub *const [Upval]);

// Not derived: a derived default would not point at a slice; this is an
// empty one (what the loop reads before any function runs is never used).
#[allow(clippy::derivable_impls)]
impl Default for Upvals {
    fn default() -> Self {
        Upvals(&[])
    }
}

/// A compiled call in progress: who to go back to, and what keeps the callee alive.
/// (The caller's captured variables are not kept here: they are those of
/// the frame below's callee, or `Cache::floor_upvals` for the first frame.)
pub(super) struct Frame {
    caller: Cur,
    /// The caller's next op (its `Call` is the one before).
    ret_pc: usize,
    /// The callee (moved out of its register, not cloned): holds its captured variables.
    closure: Rc<Closure>,
}

impl Interp {
    /// `Call` of register `func` with `argc` arguments above it: when the
    /// callee is a compiled script function, its checks, then the frame
    /// switch (the callee's frame starts at its first argument: no copy,
    /// nothing cleared, its code writes each register before reading it).
    /// `None` leaves the call to `vm_call` (built-ins, tree-walked functions,
    /// values that are not callable), with the register as it was.
    #[inline(always)]
    pub(super) fn vm_enter(
        &mut self,
        cur: Cur,
        pc: usize,
        func: Reg,
        argc: u16,
        span: Span,
    ) -> R<Option<Cur>> {
        let f = cur.base + func as usize;
        debug_assert!(f < self.stack.len());
        // SAFETY: `verify` proved `func < code.regs` for every `Call`, and
        // the frame invariant of `run_code` gives `stack.len() >= base + code.regs`.
        let slot = unsafe { self.stack.get_unchecked_mut(f) };
        let closure = match std::mem::take(slot) {
            Value::Func(closure) => closure,
            other => {
                *slot = other;
                return Ok(None);
            }
        };
        // SAFETY: `cur.code` is alive (see `Cur`).
        let running = unsafe { &*cur.code };
        // The running function calling itself (it is alive, so no other
        // function has its address): its own code, without a cache lookup.
        let code: *const Code = if Rc::as_ptr(&closure.proto) as usize == running.proto {
            running
        } else {
            match self.vm.code_of(&closure.proto, &self.protos) {
                Some(Some(code)) => Rc::as_ptr(code),
                _ => match self.vm_compile_callee(&closure) {
                    Some(code) => code,
                    None => return self.vm_not_compiled(f, closure),
                },
            }
        };
        // SAFETY: the cache holds the code (see `Cur`).
        let regs = unsafe { (*code).regs };
        self.enter_call(&closure.proto, argc as usize, span)?;
        self.depth += 1;
        let base = f + 1;
        if self.stack.len() < base + regs {
            self.vm_grow_stack(base + regs);
        }
        let callee = Cur { code, base };
        self.vm.upvals = Upvals(&*closure.upvals);
        self.vm.frames.push(Frame {
            caller: cur,
            ret_pc: pc,
            closure,
        });
        Ok(Some(callee))
    }

    /// The first call of a function: compiles it; its code when the cache
    /// holds it (a function not of the program runs elsewhere: `None`).
    #[inline(never)]
    fn vm_compile_callee(&mut self, closure: &Closure) -> Option<*const Code> {
        self.compiled(&closure.proto)?;
        match self.vm.code_of(&closure.proto, &self.protos) {
            Some(Some(code)) => Some(Rc::as_ptr(code)),
            _ => None,
        }
    }

    /// Grows the value stack to `len` slots: rare (the stack keeps its
    /// length), so out of the loop, which then keeps its registers.
    #[cold]
    #[inline(never)]
    fn vm_grow_stack(&mut self, len: usize) {
        self.stack.resize(len, Value::Nil);
    }

    /// Puts back a callee that runs elsewhere (see `vm_enter`).
    #[inline(never)]
    fn vm_not_compiled(&mut self, f: usize, closure: Rc<Closure>) -> R<Option<Cur>> {
        self.stack[f] = Value::Func(closure);
        Ok(None)
    }

    /// `Return`, `ReturnNil` or `End` (op `at`) of the function `cur`.
    /// When it is `run_code`'s own (no frame above `floor`): `Some` of what
    /// `run_code` gives. Else the value goes to the caller's register just
    /// below the callee's frame (emptied when the call began), and the
    /// caller runs on (`cur` and `pc` become its).
    #[inline(always)]
    pub(super) fn vm_finish(
        &mut self,
        floor: usize,
        cur: &mut Cur,
        pc: &mut usize,
        at: usize,
        op: Op,
    ) -> Option<Option<Value>> {
        // SAFETY: `cur.code` is alive (see `Cur`).
        let code = unsafe { &*cur.code };
        let base = cur.base;
        if self.vm.frames.len() <= floor {
            // Where the last `return` ran (see `Runner::returned_at`): this
            // one, the last of the run; those of compiled callees need not
            // be written, as this one comes after them.
            if !matches!(op, Op::End) {
                debug_assert!(at < code.meta.len());
                // SAFETY: `verify` proved `meta` as long as `ops`; `at` is an op's index.
                self.returned_at = unsafe { code.meta.get_unchecked(at) }.span;
            }
            return Some(match op {
                Op::Return { a } => Some(std::mem::take(self.reg_mut(base, a))),
                Op::ReturnNil => Some(Value::Nil),
                _ => None,
            });
        }
        match op {
            Op::Return { a } => self.vm_move_result(base + a as usize, base - 1),
            _ => put(&mut self.stack[base - 1], Value::Nil),
        }
        self.vm_leave(floor, cur, pc);
        None
    }

    /// Moves the value in slot `from` (left nil, or the int it was) to slot `to`.
    #[inline(always)]
    fn vm_move_result(&mut self, from: usize, to: usize) {
        debug_assert!(to < from && from < self.stack.len());
        // SAFETY: `from` is a register of the running frame (`verify` and
        // the frame invariant: below `stack.len()`), `to` is below it; the
        // old value at `to` is dropped first, the value at `from` is copied
        // (moved) and `from` overwritten without a drop (an int, which owns
        // nothing, is left as it is), so each value is dropped once.
        unsafe {
            let stack = self.stack.as_mut_ptr();
            let (from, to) = (stack.add(from), stack.add(to));
            if !matches!(
                *to,
                Value::Nil | Value::Int(_) | Value::Bool(_) | Value::Float(_)
            ) {
                std::ptr::drop_in_place(to);
            }
            // An int is read as its tag and its number, as the arithmetic
            // that just made it wrote them: a copy of the whole slot at once
            // read across those two stores, which the processor cannot
            // forward to a load, and waited for them to reach the cache (a
            // return of fib spent 13% of its time on that one load).
            if let Value::Int(n) = *from {
                std::ptr::write(to, Value::Int(n));
                return;
            }
            std::ptr::copy_nonoverlapping(from, to, 1);
            std::ptr::write(from, Value::Nil);
        }
    }

    /// Back to the caller of the compiled function `cur` (`cur` and `pc`
    /// become the caller's); there is a frame above `vm_finish`'s floor.
    #[inline(always)]
    fn vm_leave(&mut self, floor: usize, cur: &mut Cur, pc: &mut usize) {
        let frames = &mut self.vm.frames;
        let top = frames.len();
        debug_assert!(top > floor);
        // SAFETY: `top > floor >= 0` (`vm_finish`), so `top - 1` is the last
        // frame; it is read once here, and `set_len` forgets it (its closure
        // moved out). The caller's captured variables are those of the
        // callee of the frame below, alive as that frame holds it, or, with
        // no frame of this run below, `run_code`'s (its caller holds them).
        let (caller, ret_pc, closure) = unsafe {
            let frame = frames.as_ptr().add(top - 1);
            frames.set_len(top - 1);
            self.vm.upvals = match top - 1 > floor {
                true => {
                    let below = &*frames.as_ptr().add(top - 2);
                    Upvals(&*below.closure.upvals)
                }
                false => self.vm.floor_upvals,
            };
            (
                (*frame).caller,
                (*frame).ret_pc,
                std::ptr::read(&(*frame).closure),
            )
        };
        self.depth -= 1;
        (*cur, *pc) = (caller, ret_pc);
        // SAFETY: the caller's code is held by the frame below this one, or
        // by `run_code`'s caller for the outermost (see `Cur`).
        let code = unsafe { &*caller.code };
        // A call the callee made (to a tree-walked function or a built-in)
        // may have cut the stack below the caller's frame.
        if self.stack.len() < caller.base + code.regs {
            self.vm_grow_stack(caller.base + code.regs);
        }
        drop(closure);
    }

    /// An error leaving the compiled calls above `floor`: each gets its
    /// call's line in the call stack, innermost first, and leaves the depth
    /// it took, as a native return through `call_closure` would.
    #[inline(never)]
    pub(super) fn vm_unwind(&mut self, mut stop: Unwind, floor: usize) -> Unwind {
        while self.vm.frames.len() > floor {
            let Some(frame) = self.vm.frames.pop() else {
                break;
            };
            self.depth -= 1;
            // SAFETY: as in `vm_leave`.
            let caller = unsafe { &*frame.caller.code };
            let span = caller.meta[frame.ret_pc - 1].span;
            stop = traced_error(stop, &frame.closure.proto, span);
        }
        stop
    }
}
