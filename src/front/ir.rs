//! The resolved tree the evaluator runs: variables are slots, builtins are table indexes.

use crate::front::ast::{BinOp, Span, UnOp};
use std::cell::Cell;
use std::rc::Rc;

/// Set once compilation finds that a closure captures the variable; such a
/// variable lives in a shared cell instead of directly in its slot.
pub type Boxed = Rc<Cell<bool>>;

/// A compiled function (the whole script is one too, named `<script>`).
#[derive(Debug)]
pub struct FnProto {
    /// Empty for anonymous functions.
    pub name: Rc<str>,
    /// Its place in the program's list of functions (how pool tasks name it).
    pub index: u32,
    pub params: Vec<Boxed>,
    /// How many slots its frame needs (parameters first).
    pub slots: u32,
    pub body: Block,
    /// Where each captured variable comes from, in the creating frame.
    pub captures: Vec<Capture>,
    pub span: Span,
    /// Whether any parameter is captured (and so needs a cell when called).
    pub params_boxed: bool,
    /// The body as guarded returns, when it has that shape (then `body` is empty).
    pub returns: Option<Returns>,
}

/// A body made only of `if cond { return a }` lines and a last `return b`
/// (the shape of most small recursive functions), run without statements.
#[derive(Debug)]
pub struct Returns {
    /// Each condition, the value returned when it holds, and where that `return` is.
    pub guards: Vec<(Expr, Expr, Span)>,
    /// The last `return` (nil and no place when the body just ends).
    pub last: Option<(Expr, Span)>,
}

impl Returns {
    /// Takes the statements of `body` apart into guarded returns, or gives
    /// the body back unchanged when it has another shape.
    pub fn from_body(body: Block) -> Result<Returns, Block> {
        let simple = |b: &Block| b.decls.is_empty() && b.fns.is_empty();
        let returns_only = |b: &Block| simple(b) && matches!(b.stmts[..], [Stmt::Return(..)]);
        let fits = simple(&body)
            && body.stmts.iter().enumerate().all(|(i, stmt)| match stmt {
                Stmt::If {
                    branches,
                    otherwise,
                } => {
                    branches.iter().all(|(_, then)| returns_only(then))
                        && otherwise
                            .as_ref()
                            .is_none_or(|o| returns_only(o) && i + 1 == body.stmts.len())
                }
                Stmt::Return(..) => i + 1 == body.stmts.len(),
                _ => false,
            });
        if !fits || body.stmts.is_empty() {
            return Err(body);
        }
        let value = |ret: Stmt| match ret {
            Stmt::Return(value, span) => (value.unwrap_or(Expr::Const(Literal::Nil)), span),
            _ => unreachable!("checked above"),
        };
        let mut returns = Returns {
            guards: Vec::new(),
            last: None,
        };
        for stmt in body.stmts {
            match stmt {
                Stmt::If {
                    branches,
                    otherwise,
                } => {
                    for (cond, mut then) in branches {
                        let (a, span) = value(then.stmts.pop().expect("one return"));
                        returns.guards.push((cond, a, span));
                    }
                    if let Some(mut otherwise) = otherwise {
                        returns.last = Some(value(otherwise.stmts.pop().expect("one return")));
                    }
                }
                ret => returns.last = Some(value(ret)),
            }
        }
        Ok(returns)
    }
}

impl FnProto {
    /// How errors name the function: "`fib`", or "an anonymous function".
    pub fn describe(&self) -> String {
        if self.name.is_empty() {
            "an anonymous function".to_string()
        } else {
            format!("`{}`", self.name)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    Local(u32),
    Upval(u32),
}

/// Where a variable lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Local(u32),
    Upval(u32),
}

#[derive(Debug)]
pub struct Decl {
    pub slot: u32,
    pub boxed: Boxed,
}

/// An imported module, compiled: its top-level code and its fields.
#[derive(Debug)]
pub struct Module {
    /// The path as the importing file resolved it (what diagnostics show).
    pub name: Rc<str>,
    /// Its top-level code, run once, on first import.
    pub script: Rc<FnProto>,
    /// Its top-level `let`s and `fn`s: each name with its slot in the
    /// module's frame (always a cell, so importers share the variable).
    pub fields: Vec<(Rc<str>, u32)>,
}

/// `import "path" as name`, done before the other statements of its file:
/// the module to run (if it has not run yet), and which of the importer's
/// slots get the cells of which of its fields.
#[derive(Debug)]
pub struct Import {
    pub module: u32,
    /// (the field's place in `Module::fields`, the importer's slot).
    pub fields: Vec<(u32, u32)>,
    /// The path as written, where an error while the module runs names the
    /// import (as a compile error in the module does).
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Block {
    /// A file's imports, run before anything else of the file (only a
    /// file's top-level block has any).
    pub imports: Vec<Import>,
    pub stmts: Vec<Stmt>,
    /// Variables declared directly in this block (they get fresh cells on entry if boxed).
    pub decls: Vec<Decl>,
    /// Named functions of this block, created on entry so they can be called before their line.
    pub fns: Vec<(u32, Rc<FnProto>)>,
    /// Whether entering the block has work to do (a captured variable or a
    /// named function); most loop bodies have none.
    pub enter: bool,
}

#[derive(Debug)]
pub enum Stmt {
    Expr(Expr),
    /// `let`: the slot's cell (if boxed) was made on block entry; this fills it.
    Let {
        slot: u32,
        value: Expr,
    },
    Assign {
        place: Place,
        name: Rc<str>,
        op: Option<BinOp>,
        value: Expr,
        span: Span,
        /// Where the value stands (`x /= 0`: an error about it underlines it).
        value_span: Span,
    },
    /// `x[i][j] = v` (or `op=`): `indexes` are applied in order, the last one is assigned.
    AssignIndex {
        place: Place,
        name: Rc<str>,
        indexes: Vec<(Expr, Span)>,
        op: Option<BinOp>,
        value: Expr,
        span: Span,
        /// Where the value stands (`x[0] /= 0`: an error about it underlines it).
        value_span: Span,
    },
    /// `if c { } else if d { } ... else { }`: each condition with its block,
    /// in order (a flat list, so a long `else if` chain nests nothing).
    If {
        branches: Vec<(Expr, Block)>,
        otherwise: Option<Block>,
    },
    While {
        cond: Expr,
        body: Block,
    },
    /// `for v in a..b` and `for v in range(...)`: counts without building a list.
    ForRange {
        slot: u32,
        start: Expr,
        end: Expr,
        step: Option<Expr>,
        body: Block,
        span: Span,
    },
    ForEach {
        slot: u32,
        iter: Expr,
        body: Block,
        span: Span,
    },
    Break,
    Continue,
    Return(Option<Expr>, Span),
    Try {
        body: Block,
        err_slot: Option<u32>,
        handler: Block,
    },
}

/// A constant written in the script. The evaluator turns it into a value;
/// the front end knows no runtime values, so that values may refer to the
/// tree (a function value holds its `FnProto`) without an import circle.
#[derive(Debug, Clone)]
pub enum Literal {
    Nil,
    Bool(bool),
    Float(f64),
    Str(Rc<str>),
}

#[derive(Debug)]
pub enum Expr {
    Const(Literal),
    /// A function of the host program, by its index in the engine's list.
    Host(u32),
    /// An int constant (the common case, kept apart so it needs no clone).
    Int(i64),
    Local {
        slot: u32,
        name: Rc<str>,
        span: Span,
    },
    Upval {
        index: u32,
        name: Rc<str>,
        span: Span,
    },
    Builtin(u16),
    Interp(Vec<Expr>),
    /// `{x:.2f}` inside an interpolation: the value, its spec, the spec's span.
    Format(Box<(Expr, Rc<crate::front::format_spec::FormatSpec>, Span)>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr, Span)>),
    Unary(UnOp, Box<Expr>, Span),
    Binary(BinOp, Box<Operands>, Span),
    /// A local variable and an int constant: `n - 1`, `i < 10`.
    LocalInt(Box<LocalInt>),
    And(Box<(Expr, Expr)>),
    Or(Box<(Expr, Expr)>),
    Call(Box<Call>),
    CallBuiltin(Box<BuiltinCall>),
    Index(Box<(Expr, Expr)>, Span),
    Field(Box<Expr>, Rc<str>, Span),
    /// Shared: compiled code that runs the call keeps the call site (`vm::Code::methods`).
    Method(Rc<MethodCall>),
    Closure(Rc<FnProto>),
    Fork(Span),
    Pid,
    Ppid,
    Spawn(Box<Spawn>),
    Join(Box<Join>),
}

/// The two sides of a binary operator.
#[derive(Debug)]
pub struct Operands {
    pub left: Expr,
    pub right: Expr,
    pub sides: Sides,
}

/// Where each side of a binary operator stands, so an error about one side
/// (a zero divisor, a value of the wrong type) underlines that side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sides {
    pub left: Span,
    pub right: Span,
}

#[derive(Debug)]
pub struct LocalInt {
    pub op: BinOp,
    pub slot: u32,
    pub value: i64,
    pub name: Rc<str>,
    pub span: Span,
    pub sides: Sides,
}

#[derive(Debug)]
pub struct Call {
    pub callee: Expr,
    pub args: Vec<Expr>,
    pub arg_spans: Vec<Span>,
    pub callee_span: Span,
    pub span: Span,
}

#[derive(Debug)]
pub struct BuiltinCall {
    pub id: u16,
    pub args: Vec<Expr>,
    pub arg_spans: Vec<Span>,
    pub span: Span,
}

#[derive(Debug)]
pub struct MethodCall {
    pub target: Expr,
    pub name: Rc<str>,
    /// The method this call site found last: the target's type name and the
    /// method's id (a call site mostly sees one type, and then skips the lookup).
    pub found: std::cell::Cell<Option<(&'static str, u16)>>,
    pub args: Vec<Expr>,
    pub arg_spans: Vec<Span>,
    pub name_span: Span,
    pub span: Span,
}

#[derive(Debug)]
pub struct Spawn {
    /// The call the child runs (a `Call`, `CallBuiltin` or `Method`).
    pub call: Expr,
    pub name: Option<Expr>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Join {
    pub target: Expr,
    pub timeout: Option<Expr>,
    pub span: Span,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Evaluated by the golden test beside it, so the results of these shapes are checked too.
    const SHAPES: &str = include_str!("../../tests/cases/functions/guarded_return_shapes.proc");

    /// Every function of `text`, compiled (for tests of what the tree looks like).
    pub(crate) fn functions(text: &str) -> Vec<Rc<FnProto>> {
        let program =
            crate::front::parser::parse_program(text).unwrap_or_else(|d| panic!("{}", d.message));
        let compiled =
            crate::front::resolve::compile_program(&program, &crate::front::spec::NoHosts)
                .unwrap_or_else(|d| panic!("{}", d.message));
        compiled.protos.to_vec()
    }

    fn named<'a>(protos: &'a [Rc<FnProto>], name: &str) -> &'a FnProto {
        protos.iter().find(|p| &*p.name == name).expect(name)
    }

    #[test]
    fn guarded_return_bodies_and_only_those_take_the_fast_path() {
        let protos = functions(SHAPES);
        let mut seen = (0, 0);
        for proto in protos.iter().filter(|p| !p.name.is_empty()) {
            if proto.name.starts_with("fast_") {
                assert!(
                    proto.returns.is_some(),
                    "{} should be guarded returns",
                    proto.name
                );
                assert!(
                    proto.body.stmts.is_empty(),
                    "{}: its body is kept apart",
                    proto.name
                );
                seen.0 += 1;
            } else if proto.name.starts_with("slow_") {
                assert!(proto.returns.is_none(), "{} has another shape", proto.name);
                seen.1 += 1;
            }
        }
        assert!(
            seen.0 >= 5 && seen.1 >= 5,
            "the case file lost its functions: {seen:?}"
        );
    }

    #[test]
    fn guards_keep_their_order_and_the_last_return() {
        let protos = functions(SHAPES);
        let returns = |name| named(&protos, name).returns.as_ref().expect(name);
        let sign = returns("fast_sign");
        assert_eq!(sign.guards.len(), 2);
        assert!(
            matches!(sign.guards[1].1, Expr::Const(Literal::Nil)),
            "a bare `return` gives nil"
        );
        assert!(matches!(sign.last, Some((Expr::Int(1), _))));
        let with_else = returns("fast_else");
        assert_eq!(with_else.guards.len(), 1);
        assert!(
            matches!(&with_else.last, Some((Expr::Const(Literal::Str(s)), _)) if &**s == "small")
        );
        assert!(
            returns("fast_falls_off").last.is_none(),
            "falling off the end gives nil"
        );
        let only = returns("fast_only_return");
        assert!(only.guards.is_empty() && only.last.is_some());
    }

    #[test]
    fn anonymous_functions_take_the_fast_path_too() {
        let protos = functions("let f = fn(n) {\n  if n { return 1 }\n  return 2\n}");
        assert!(protos
            .iter()
            .any(|p| p.name.is_empty() && p.returns.is_some()));
    }
}
