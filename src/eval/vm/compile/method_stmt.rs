//! Compiles a method call as a statement (`l.acquire()`, `c.add(i)`) to the op that runs it in place or through the tree-walker.

use super::{Compiler, Op};
use crate::front::ast::{BinOp, UnOp};
use crate::front::ir::{Expr, Literal, MethodCall};
use std::rc::Rc;

impl Compiler<'_> {
    /// `x.m()` / `x.m(e)` as a statement, on a variable, with `e` a number
    /// expression of the subset that calls nothing: the op evaluates none of
    /// it ahead (the tree-walker's evaluation of the call is its general path).
    pub(super) fn method_stmt(&mut self, call: &Rc<MethodCall>) -> Option<()> {
        let target = matches!(call.target, Expr::Local { .. } | Expr::Upval { .. });
        if !target || call.args.len() > 1 || !call.args.iter().all(plain_number) {
            return None;
        }
        self.code.methods.push(call.clone());
        let site = u16::try_from(self.code.methods.len() - 1).ok()?;
        self.emit(Op::MethodStmt { site }, Self::at(call.span));
        Some(())
    }
}

/// A number expression that calls nothing and reads only variables:
/// evaluating it has no effect (a method statement's argument, see `method_stmt`).
fn plain_number(e: &Expr) -> bool {
    match e {
        Expr::Int(_) | Expr::Local { .. } | Expr::Upval { .. } | Expr::LocalInt(_) => true,
        Expr::Const(literal) => matches!(literal, Literal::Float(_)),
        Expr::Binary(op, operands, _) => {
            let arithmetic = matches!(
                op,
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod
            );
            arithmetic && plain_number(&operands.left) && plain_number(&operands.right)
        }
        Expr::Unary(UnOp::Neg, operand, _) => plain_number(operand),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{function, one_loop};
    use crate::front::ir::tests::functions;
    use crate::front::ir::Stmt;

    /// The sync case compares compiled method-call statements with the
    /// tree-walker's: its vm_ functions and its top-level loop must compile.
    #[test]
    fn method_statements_on_variables_compile() {
        let text = include_str!("../../../../tests/cases/vm/sync_calls_match_tree_walker.proc");
        let protos = functions(text);
        let compiled = |prefix: &str| {
            let named = protos.iter().filter(|p| p.name.starts_with(prefix));
            named.map(|p| function(p).is_some()).collect::<Vec<_>>()
        };
        assert_eq!(compiled("vm_"), [true; 4]);
        assert_eq!(compiled("tw_"), [false; 4]);
        let script = protos.iter().find(|p| &*p.name == "<script>");
        let script = script.expect("the script");
        let is_loop = |s: &&Stmt| matches!(s, Stmt::ForRange { .. });
        let last = script.body.stmts.iter().rfind(is_loop).expect("the loop");
        let cells = |_: u32| Some(false);
        assert!(one_loop(last, script.slots as usize, &cells).is_some());
        // A string argument, or a call in it, is not a number of the subset.
        let other = functions("fn f(q, g) {\n  q.put(\"x\")\n}\nfn h(c, g) {\n  c.add(g())\n}");
        assert!(other
            .iter()
            .filter(|p| p.name.len() == 1)
            .all(|p| function(p).is_none()));
    }
}
