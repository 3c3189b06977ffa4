//! The resolved tree the evaluator runs: variables are slots, builtins are table indexes.

use crate::ast::{BinOp, Span, UnOp};
use crate::value::Value;
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

#[derive(Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// Variables declared directly in this block (they get fresh cells on entry if boxed).
    pub decls: Vec<Decl>,
    /// Named functions of this block, created on entry so they can be called before their line.
    pub fns: Vec<(u32, Rc<FnProto>)>,
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
    },
    /// `x[i][j] = v` (or `op=`): `indexes` are applied in order, the last one is assigned.
    AssignIndex {
        place: Place,
        name: Rc<str>,
        indexes: Vec<(Expr, Span)>,
        op: Option<BinOp>,
        value: Expr,
        span: Span,
    },
    If {
        cond: Expr,
        then: Block,
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

#[derive(Debug)]
pub enum Expr {
    Const(Value),
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
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr, Span)>),
    Unary(UnOp, Box<Expr>, Span),
    Binary(BinOp, Box<(Expr, Expr)>, Span),
    /// A local variable and an int constant: `n - 1`, `i < 10`.
    LocalInt(Box<LocalInt>),
    And(Box<(Expr, Expr)>),
    Or(Box<(Expr, Expr)>),
    Call(Box<Call>),
    CallBuiltin(Box<BuiltinCall>),
    Index(Box<(Expr, Expr)>, Span),
    Field(Box<Expr>, Rc<str>, Span),
    Method(Box<MethodCall>),
    Closure(Rc<FnProto>),
    Fork(Span),
    Pid,
    Ppid,
    Spawn(Box<Spawn>),
    Join(Box<Join>),
}

#[derive(Debug)]
pub struct LocalInt {
    pub op: BinOp,
    pub slot: u32,
    pub value: i64,
    pub name: Rc<str>,
    pub span: Span,
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
