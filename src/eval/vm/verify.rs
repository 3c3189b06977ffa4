//! Proves once per compiled code that every index its ops use is in bounds, so the loop may skip those checks.

use super::instructions::{Code, Op, Reg};

/// Whether every register operand is below `code.regs`, every constant,
/// name, call and method index is within its table, every jump lands on an op, and
/// the last op is `End` (so falling through never runs past the code).
pub fn verify(code: &Code) -> bool {
    let n = code.ops.len();
    if code.meta.len() != n || !matches!(code.ops.last(), Some(Op::End)) {
        return false;
    }
    let reg = |r: Reg| (r as usize) < code.regs;
    let to = |t: u16| (t as usize) < n;
    let int = |k: u16| (k as usize) < code.ints.len();
    let name = |k: u16| (k as usize) < code.names.len();
    let call = |k: u16| (k as usize) < code.calls.len();
    let counter = |r: Reg| (r as usize) + 2 < code.regs;
    code.ops.iter().all(|op| match *op {
        Op::Move { dst, src } => reg(dst) && reg(src),
        Op::LoadInt { dst, k } => reg(dst) && int(k),
        Op::LoadConst { dst, k } => reg(dst) && (k as usize) < code.consts.len(),
        Op::GetUpval { dst, name: k, .. } => reg(dst) && name(k),
        Op::GetCell { dst, slot, name: k } => reg(dst) && reg(slot) && name(k),
        Op::SetCell { slot, src } => reg(slot) && reg(src),
        Op::Add(r) | Op::Sub(r) | Op::Mul(r) | Op::Div(r) | Op::Mod(r) => {
            reg(r.dst) && reg(r.a) && reg(r.b)
        }
        Op::Eq(r) | Op::Ne(r) | Op::Lt(r) | Op::Le(r) | Op::Gt(r) | Op::Ge(r) => {
            reg(r.dst) && reg(r.a) && reg(r.b)
        }
        Op::AddI(r) | Op::SubI(r) | Op::MulI(r) | Op::DivI(r) | Op::ModI(r) => {
            reg(r.dst) && reg(r.a) && int(r.b)
        }
        Op::EqI(r) | Op::NeI(r) | Op::LtI(r) | Op::LeI(r) | Op::GtI(r) | Op::GeI(r) => {
            reg(r.dst) && reg(r.a) && int(r.b)
        }
        Op::BrEq(b) | Op::BrNe(b) | Op::BrLt(b) | Op::BrLe(b) | Op::BrGt(b) | Op::BrGe(b) => {
            reg(b.a) && reg(b.b) && to(b.target)
        }
        Op::BrEqI(b) | Op::BrNeI(b) | Op::BrLtI(b) | Op::BrLeI(b) | Op::BrGtI(b) => {
            reg(b.a) && int(b.b) && to(b.target)
        }
        Op::BrGeI(b) => reg(b.a) && int(b.b) && to(b.target),
        Op::LoopEq(b) | Op::LoopNe(b) | Op::LoopLt(b) | Op::LoopLe(b) | Op::LoopGt(b) => {
            reg(b.a) && reg(b.b) && to(b.target)
        }
        Op::LoopGe(b) => reg(b.a) && reg(b.b) && to(b.target),
        Op::LoopEqI(b) | Op::LoopNeI(b) | Op::LoopLtI(b) | Op::LoopLeI(b) | Op::LoopGtI(b) => {
            reg(b.a) && int(b.b) && to(b.target)
        }
        Op::LoopGeI(b) => reg(b.a) && int(b.b) && to(b.target),
        Op::Not { dst, a } | Op::Neg { dst, a } | Op::Truth { dst, a } => reg(dst) && reg(a),
        Op::Jump { target } => to(target),
        Op::JumpIfFalse { a, target } | Op::JumpIfTrue { a, target } => reg(a) && to(target),
        Op::Step | Op::ReturnNil | Op::End => true,
        Op::ForInt { a, what } => reg(a) && what < 3,
        Op::ForPrep { r } => counter(r),
        Op::ForTest { r, var, target } => counter(r) && reg(var) && to(target),
        Op::ForLoop { r, var, target } => counter(r) && reg(var) && to(target),
        Op::CalleeUpval { dst, call: k, .. } => reg(dst) && call(k),
        Op::CalleeLocal { dst, slot, call: k } => reg(dst) && reg(slot) && call(k),
        Op::Call {
            func,
            argc,
            call: k,
        } => (func as usize + argc as usize) < code.regs && call(k),
        Op::Return { a } => reg(a),
        Op::MethodStmt { site } => (site as usize) < code.methods.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::vm::instructions::{Meta, R3};

    fn code(ops: Vec<Op>, regs: usize) -> Code {
        Code {
            meta: vec![Meta::default(); ops.len()],
            ops,
            ints: vec![1],
            regs,
            ..Code::default()
        }
    }

    #[test]
    fn out_of_bounds_operands_and_jumps_are_refused() {
        let add = |dst, a, b| Op::AddI(R3 { dst, a, b });
        assert!(verify(&code(vec![add(0, 1, 0), Op::End], 2)));
        assert!(!verify(&code(vec![add(2, 1, 0), Op::End], 2)), "a register");
        assert!(!verify(&code(vec![add(0, 1, 1), Op::End], 2)), "an int");
        assert!(
            !verify(&code(vec![Op::Jump { target: 2 }, Op::End], 2)),
            "a jump"
        );
        assert!(!verify(&code(vec![add(0, 1, 0)], 2)), "no End");
        let call = Op::Call {
            func: 0,
            argc: 2,
            call: 0,
        };
        assert!(!verify(&code(vec![call, Op::End], 2)), "arguments");
    }
}
