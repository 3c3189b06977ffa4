//! The register VM: functions and loops of a subset, compiled once to 3-operand code over the frame's slots.
//!
//! A function whose whole body is in the subset (see `compile`) is compiled
//! on its first call and runs as code from then on; a `while` or counting
//! `for` loop in the subset, inside code that is not, is compiled on its
//! first run. Everything else is the tree-walker's. A call from compiled
//! code to a compiled function switches frames inside the loop (`frames`);
//! any other goes through `call_closure`; both make the tree-walker's
//! checks (arity, safe point, depth limit, call stack in errors), and each
//! op that can fail reports through the same `ops` functions and spans, so
//! compiled or not, a program prints and fails the same.

mod compile;
mod frames;
mod instructions;
mod run;
mod verify;

use super::{Env, Flow, Interp};
use crate::error::R;
use crate::front::ir::{FnProto, Stmt};
use crate::values::Value;
use instructions::Code;
use std::collections::HashMap;
use std::rc::Rc;

/// Compiled code, made once per function and per loop.
#[derive(Default)]
pub(super) struct Cache {
    /// The program the entries below belong to (an interactive session
    /// compiles each entry anew): held, so its address names it.
    program: Option<Rc<[Rc<FnProto>]>>,
    /// By `FnProto::index`: the code, or `None` when outside the subset.
    fns: Vec<Option<Option<Rc<Code>>>>,
    /// By the statement's address (its program is held above).
    loops: HashMap<usize, Option<Rc<Code>>>,
    /// The callers of the compiled functions running now, innermost last
    /// (see `frames::Frame`); kept across calls so a call allocates nothing.
    frames: Vec<frames::Frame>,
    /// Code of an earlier program replaced while frames were on the stack:
    /// kept, as frames point at code the cache holds (see `frames::Cur`).
    retired: Vec<Vec<Option<Option<Rc<Code>>>>>,
    /// The captured variables of the compiled function running now.
    upvals: frames::Upvals,
    /// Those of the function the innermost `run_code` was given (what a
    /// return to it restores: its frame is below all of that run's).
    floor_upvals: frames::Upvals,
}

impl Cache {
    /// The cached code of `proto` when `protos` is the program the cache
    /// is of: `Some(None)` for a function outside the subset, `None` when
    /// not known yet. Reads only, so a call's fast path may use it while it
    /// holds the callee's register.
    #[inline(always)]
    fn code_of(&self, proto: &FnProto, protos: &Rc<[Rc<FnProto>]>) -> Option<&Option<Rc<Code>>> {
        match self.fns.get(proto.index as usize) {
            Some(Some(code)) if self.is_of(protos) => Some(code),
            _ => None,
        }
    }

    /// Whether the cache is of the program `protos`.
    #[inline(always)]
    fn is_of(&self, protos: &Rc<[Rc<FnProto>]>) -> bool {
        matches!(&self.program, Some(p) if Rc::ptr_eq(p, protos))
    }
}

impl Interp {
    /// The compiled code of `proto`, compiling it on its first call.
    #[inline(always)]
    pub(super) fn compiled(&mut self, proto: &FnProto) -> Option<Rc<Code>> {
        match self.vm.code_of(proto, &self.protos) {
            Some(code) => code.clone(),
            None => self.compile_function(proto),
        }
    }

    #[inline(never)]
    fn compile_function(&mut self, proto: &FnProto) -> Option<Rc<Code>> {
        self.vm_renew();
        let index = proto.index as usize;
        // Only a function of the program (found at its index) is cached.
        let ours = self
            .protos
            .get(index)
            .is_some_and(|p| std::ptr::eq(&**p, proto));
        let code = compile::function(proto).map(Rc::new);
        if ours {
            if self.vm.fns.len() <= index {
                self.vm.fns.resize(index + 1, None);
            }
            self.vm.fns[index] = Some(code.clone());
        }
        code
    }

    /// Empties the cache when the program changed.
    fn vm_renew(&mut self) {
        if !self.vm.is_of(&self.protos) {
            // The program changes only between a session's entries, when
            // no frame is on the stack; were one there, its code stays.
            let old = std::mem::take(&mut self.vm);
            let mut retired = old.retired;
            if !old.frames.is_empty() {
                retired.push(old.fns);
            }
            self.vm = Cache {
                program: Some(self.protos.clone()),
                frames: old.frames,
                retired,
                upvals: old.upvals,
                floor_upvals: old.floor_upvals,
                ..Cache::default()
            };
        }
    }

    /// Runs a compiled function body in its frame (the arguments are in
    /// place). Out of line: the tree-walker's call path stays as small as it was.
    #[inline(never)]
    pub(super) fn run_compiled(&mut self, code: &Code, env: Env) -> R<Value> {
        Ok(self
            .run_code(code, env.base, env.upvals)?
            .unwrap_or_default())
    }

    /// Runs a `while` or `for` statement as compiled code, if it is in the
    /// subset and its frame is as it was when compiled; `None` leaves it to
    /// the tree-walker.
    pub(super) fn run_compiled_loop(&mut self, stmt: &Stmt, env: Env) -> R<Option<Flow>> {
        self.vm_renew();
        let key = stmt as *const Stmt as usize;
        let first_temp = self.stack.len() - env.base;
        let code = match self.vm.loops.get(&key) {
            Some(code) => code.clone(),
            None => {
                let slots = |slot: u32| match self.stack.get(env.base + slot as usize)? {
                    Value::Cell(_) => Some(true),
                    Value::Uninit => None,
                    _ => Some(false),
                };
                let code = compile::one_loop(stmt, first_temp, &slots).map(Rc::new);
                self.vm.loops.insert(key, code.clone());
                code
            }
        };
        let Some(code) = code else { return Ok(None) };
        if code.first_temp != first_temp || !self.frame_fits(&code, env.base) {
            return Ok(None);
        }
        let result = self.run_code(&code, env.base, env.upvals);
        self.stack.truncate(env.base + first_temp);
        Ok(Some(match result? {
            Some(value) => {
                self.returned = value;
                Flow::Return
            }
            None => Flow::Normal,
        }))
    }

    /// Whether the frame's slots hold cells where the loop's code expects them, and only there.
    fn frame_fits(&self, code: &Code, base: usize) -> bool {
        let at = |r: &u16| &self.stack[base + *r as usize];
        code.cells.iter().all(|r| matches!(at(r), Value::Cell(_)))
            && code
                .plain
                .iter()
                .all(|r| !matches!(at(r), Value::Cell(_) | Value::Uninit))
    }
}
