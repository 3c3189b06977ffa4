//! The register VM's instruction set: 3-operand ops over frame slots, and a compiled body.

use crate::front::ast::{BinOp, Span};
use crate::front::ir::{MethodCall, Sides};
use crate::values::Value;
use std::rc::Rc;

/// A register: a slot of the frame, counted from its base (locals first, then temporaries).
pub type Reg = u16;

/// `dst = a op b` (or `a op ints[b]` for the `I` forms).
#[derive(Clone, Copy, Debug)]
pub struct R3 {
    pub dst: Reg,
    pub a: Reg,
    pub b: Reg,
}

/// Jump to `target` unless `a op b` holds (or `a op ints[b]`).
#[derive(Clone, Copy, Debug)]
pub struct Br {
    pub a: Reg,
    pub b: Reg,
    pub target: u16,
}

/// One instruction, 8 bytes. Every op that can fail finds its span in
/// `Code::meta` at its own index, so errors read as the tree-walker's.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Move {
        dst: Reg,
        src: Reg,
    },
    LoadInt {
        dst: Reg,
        k: u16,
    },
    LoadConst {
        dst: Reg,
        k: u16,
    },
    /// A captured variable of the running closure (`names[name]` for an
    /// error when it is read before its `let`).
    GetUpval {
        dst: Reg,
        index: u16,
        name: u16,
    },
    /// A local of the frame that lives in a cell (captured by a closure).
    GetCell {
        dst: Reg,
        slot: Reg,
        name: u16,
    },
    SetCell {
        slot: Reg,
        src: Reg,
    },
    Add(R3),
    Sub(R3),
    Mul(R3),
    Div(R3),
    Mod(R3),
    Eq(R3),
    Ne(R3),
    Lt(R3),
    Le(R3),
    Gt(R3),
    Ge(R3),
    AddI(R3),
    SubI(R3),
    MulI(R3),
    DivI(R3),
    ModI(R3),
    EqI(R3),
    NeI(R3),
    LtI(R3),
    LeI(R3),
    GtI(R3),
    GeI(R3),
    BrEq(Br),
    BrNe(Br),
    BrLt(Br),
    BrLe(Br),
    BrGt(Br),
    BrGe(Br),
    BrEqI(Br),
    BrNeI(Br),
    BrLtI(Br),
    BrLeI(Br),
    BrGtI(Br),
    BrGeI(Br),
    /// A `while` loop's test at its bottom: when `a op b` holds, a safe
    /// point (a new iteration) and a jump back to the body at `target`.
    LoopEq(Br),
    LoopNe(Br),
    LoopLt(Br),
    LoopLe(Br),
    LoopGt(Br),
    LoopGe(Br),
    LoopEqI(Br),
    LoopNeI(Br),
    LoopLtI(Br),
    LoopLeI(Br),
    LoopGtI(Br),
    LoopGeI(Br),
    Not {
        dst: Reg,
        a: Reg,
    },
    Neg {
        dst: Reg,
        a: Reg,
    },
    /// `dst = bool(a)` (what `and`/`or` give).
    Truth {
        dst: Reg,
        a: Reg,
    },
    Jump {
        target: u16,
    },
    JumpIfFalse {
        a: Reg,
        target: u16,
    },
    JumpIfTrue {
        a: Reg,
        target: u16,
    },
    /// A loop iteration's safe point: signals, handlers, the step budget.
    Step,
    /// Checks that a `for` range bound in `a` is an int (`what`: 0 start, 1 end, 2 step).
    ForInt {
        a: Reg,
        what: u16,
    },
    /// `for`: registers `r`, `r+1`, `r+2` hold the counter, the end and the step;
    /// a zero step is an error.
    ForPrep {
        r: Reg,
    },
    /// Leaves the loop (to `target`) when the counter is past the end; else a
    /// safe point, and the loop variable `var` gets the counter.
    ForTest {
        r: Reg,
        var: Reg,
        target: u16,
    },
    /// At the loop's bottom: counts on, and unless that overflows or passes
    /// the end, a safe point, `var` set and a jump back to `target`.
    ForLoop {
        r: Reg,
        var: Reg,
        target: u16,
    },
    /// The callee of call `call` from captured variable `index`: an error
    /// when it is not set yet or not callable, before any argument runs.
    CalleeUpval {
        dst: Reg,
        index: u16,
        call: u16,
    },
    /// The same from a local (plain or in a cell).
    CalleeLocal {
        dst: Reg,
        slot: Reg,
        call: u16,
    },
    /// Calls the value in `func` with the `argc` values above it; the result
    /// lands in `func`. `calls[call]` holds the call's spans.
    Call {
        func: Reg,
        argc: u16,
        call: u16,
    },
    Return {
        a: Reg,
    },
    ReturnNil,
    /// The end of the code: a function returns nil, a loop goes on after itself.
    End,
    /// The statement `x.m(...)` of `methods[site]`: a lock's, semaphore's or
    /// value's quick call in place when it applies (`builtins::quick_sync_call`),
    /// else the tree-walker's own evaluation of that call in this frame.
    MethodStmt {
        site: u16,
    },
}

/// Where an op's error points: the whole expression and its sides.
#[derive(Clone, Copy, Debug, Default)]
pub struct Meta {
    pub span: Span,
    pub sides: Sides,
}

/// The spans of a call, as `builtins::CallSite` and error messages want them.
#[derive(Debug)]
pub struct CallInfo {
    pub span: Span,
    /// The callee variable's name and where it stands (for "used before `let`").
    pub name: Rc<str>,
    pub name_span: Span,
    pub callee_span: Span,
    pub arg_spans: Vec<Span>,
}

/// A compiled function body or loop.
#[derive(Debug, Default)]
pub struct Code {
    pub ops: Vec<Op>,
    pub meta: Vec<Meta>,
    pub ints: Vec<i64>,
    pub consts: Vec<Value>,
    pub names: Vec<Rc<str>>,
    pub calls: Vec<CallInfo>,
    /// The method-call statements the code runs (see `Op::MethodStmt`).
    pub methods: Vec<Rc<MethodCall>>,
    /// Registers the code uses (slots and temporaries), from the frame's base.
    pub regs: usize,
    /// The first temporary: the frame's slots are below it.
    pub first_temp: usize,
    /// For a loop: the slots it expects to hold a cell, and those it expects
    /// not to; checked on each entry (the tree-walker runs it otherwise).
    pub cells: Vec<Reg>,
    pub plain: Vec<Reg>,
    /// For a function: the address of the `FnProto` it was compiled from
    /// (only compared, to know a call of the running function); 0 for a loop.
    pub proto: usize,
}

impl Op {
    /// The op computing `op` of two registers (`imm`: the right side is an int constant).
    pub fn binary(op: BinOp, r: R3, imm: bool) -> Option<Op> {
        Some(match (op, imm) {
            (BinOp::Add, false) => Op::Add(r),
            (BinOp::Sub, false) => Op::Sub(r),
            (BinOp::Mul, false) => Op::Mul(r),
            (BinOp::Div, false) => Op::Div(r),
            (BinOp::Mod, false) => Op::Mod(r),
            (BinOp::Eq, false) => Op::Eq(r),
            (BinOp::Ne, false) => Op::Ne(r),
            (BinOp::Lt, false) => Op::Lt(r),
            (BinOp::Le, false) => Op::Le(r),
            (BinOp::Gt, false) => Op::Gt(r),
            (BinOp::Ge, false) => Op::Ge(r),
            (BinOp::Add, true) => Op::AddI(r),
            (BinOp::Sub, true) => Op::SubI(r),
            (BinOp::Mul, true) => Op::MulI(r),
            (BinOp::Div, true) => Op::DivI(r),
            (BinOp::Mod, true) => Op::ModI(r),
            (BinOp::Eq, true) => Op::EqI(r),
            (BinOp::Ne, true) => Op::NeI(r),
            (BinOp::Lt, true) => Op::LtI(r),
            (BinOp::Le, true) => Op::LeI(r),
            (BinOp::Gt, true) => Op::GtI(r),
            (BinOp::Ge, true) => Op::GeI(r),
            (BinOp::Range, _) => return None,
        })
    }

    /// A `while` loop's bottom test (see `LoopLt`).
    pub fn loop_while(op: BinOp, b: Br, imm: bool) -> Option<Op> {
        Some(match (op, imm) {
            (BinOp::Eq, false) => Op::LoopEq(b),
            (BinOp::Ne, false) => Op::LoopNe(b),
            (BinOp::Lt, false) => Op::LoopLt(b),
            (BinOp::Le, false) => Op::LoopLe(b),
            (BinOp::Gt, false) => Op::LoopGt(b),
            (BinOp::Ge, false) => Op::LoopGe(b),
            (BinOp::Eq, true) => Op::LoopEqI(b),
            (BinOp::Ne, true) => Op::LoopNeI(b),
            (BinOp::Lt, true) => Op::LoopLtI(b),
            (BinOp::Le, true) => Op::LoopLeI(b),
            (BinOp::Gt, true) => Op::LoopGtI(b),
            (BinOp::Ge, true) => Op::LoopGeI(b),
            _ => return None,
        })
    }

    /// The branch taken when the comparison `op` does NOT hold; `None` for
    /// operators that are not comparisons.
    pub fn branch_unless(op: BinOp, b: Br, imm: bool) -> Option<Op> {
        Some(match (op, imm) {
            (BinOp::Eq, false) => Op::BrEq(b),
            (BinOp::Ne, false) => Op::BrNe(b),
            (BinOp::Lt, false) => Op::BrLt(b),
            (BinOp::Le, false) => Op::BrLe(b),
            (BinOp::Gt, false) => Op::BrGt(b),
            (BinOp::Ge, false) => Op::BrGe(b),
            (BinOp::Eq, true) => Op::BrEqI(b),
            (BinOp::Ne, true) => Op::BrNeI(b),
            (BinOp::Lt, true) => Op::BrLtI(b),
            (BinOp::Le, true) => Op::BrLeI(b),
            (BinOp::Gt, true) => Op::BrGtI(b),
            (BinOp::Ge, true) => Op::BrGeI(b),
            _ => return None,
        })
    }

    /// Points a jump at `target` (labels are patched once their place is known).
    pub fn set_target(&mut self, to: u16) {
        match self {
            Op::Jump { target }
            | Op::JumpIfFalse { target, .. }
            | Op::JumpIfTrue { target, .. }
            | Op::ForTest { target, .. }
            | Op::ForLoop { target, .. } => *target = to,
            Op::BrEq(b) | Op::BrNe(b) | Op::BrLt(b) | Op::BrLe(b) | Op::BrGt(b) | Op::BrGe(b) => {
                b.target = to
            }
            Op::BrEqI(b) | Op::BrNeI(b) | Op::BrLtI(b) | Op::BrLeI(b) | Op::BrGtI(b) => {
                b.target = to
            }
            Op::BrGeI(b) => b.target = to,
            Op::LoopEq(b) | Op::LoopNe(b) | Op::LoopLt(b) | Op::LoopLe(b) | Op::LoopGt(b) => {
                b.target = to
            }
            Op::LoopEqI(b) | Op::LoopNeI(b) | Op::LoopLtI(b) | Op::LoopLeI(b) | Op::LoopGtI(b) => {
                b.target = to
            }
            Op::LoopGe(b) | Op::LoopGeI(b) => b.target = to,
            _ => unreachable!("only jumps have targets"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_op_is_one_word() {
        assert_eq!(std::mem::size_of::<super::Op>(), 8);
    }
}
