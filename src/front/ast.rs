//! The syntax tree: what the parser produces, with a span on every node and no pest types.

use std::rc::Rc;

/// A byte range of the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: Rc<str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `import "lib/text.proc" as text`: the path as written (escapes
    /// read), where it is written, and the name the module gets.
    Import {
        path: Rc<str>,
        path_span: Span,
        alias: Ident,
    },
    Let {
        name: Ident,
        value: Expr,
    },
    /// `x = e`, `xs[i][j] = e`, `x += e`: the target is a variable with zero or more indexes.
    Assign {
        target: Ident,
        indexes: Vec<Expr>,
        op: AssignOp,
        value: Expr,
    },
    FnDecl(Rc<FnDef>),
    Return(Option<Expr>),
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
    For {
        var: Ident,
        iter: Expr,
        body: Block,
    },
    Break,
    Continue,
    Try {
        body: Block,
        err: Option<Ident>,
        handler: Block,
    },
    Expr(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Update(BinOp),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

/// A function definition, named (`fn f(a) {}`) or anonymous (`fn(a) {}`).
#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    pub name: Option<Ident>,
    pub params: Vec<Ident>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Levels of the tree from here down (1 for a leaf): the parser refuses
    /// trees deeper than `limits::MAX_EXPR_DEPTH`, whatever built the depth
    /// (operators, brackets, call and index chains).
    pub depth: u32,
}

impl Expr {
    /// A node over already-built children, knowing its own depth.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        let depth = kind.deepest_child() + 1;
        Expr { kind, span, depth }
    }
}

impl ExprKind {
    /// The depth of the deepest direct child (0 for a leaf). A function
    /// literal's body runs in a call of its own, so it does not count here.
    fn deepest_child(&self) -> u32 {
        let mut deepest = 0;
        self.each_child(&mut |e| deepest = deepest.max(e.depth));
        deepest
    }

    /// Calls `f` on each direct sub-expression, in source order; a function
    /// literal's body is not one (it is statements, run in a call of its own).
    pub fn each_child(&self, f: &mut impl FnMut(&Expr)) {
        match self {
            ExprKind::Interp(parts) => {
                for part in parts {
                    if let InterpPart::Expr(e) | InterpPart::Formatted(e, _, _) = part {
                        f(e);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(f),
            ExprKind::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                f(k);
                f(v);
            }),
            ExprKind::Unary(_, e) | ExprKind::Field { target: e, .. } => f(e),
            ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Index {
                target: a,
                index: b,
            } => {
                f(a);
                f(b);
            }
            ExprKind::Call { callee: e, args }
            | ExprKind::Method {
                target: e, args, ..
            } => {
                f(e);
                args.iter().for_each(f);
            }
            ExprKind::Spawn { call: e, name: o }
            | ExprKind::Join {
                target: e,
                timeout: o,
            } => {
                f(e);
                o.iter().for_each(|e| f(e));
            }
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Var(_)
            | ExprKind::Fn(_)
            | ExprKind::Fork
            | ExprKind::Pid
            | ExprKind::Ppid => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    /// A string with `{expr}` parts.
    Interp(Vec<InterpPart>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Var(Ident),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    Field {
        target: Box<Expr>,
        name: Ident,
    },
    Method {
        target: Box<Expr>,
        name: Ident,
        args: Vec<Expr>,
    },
    Fn(Rc<FnDef>),
    Fork,
    Pid,
    Ppid,
    /// `spawn f(args) [as name]`: `call` is always a `Call` or `Method`.
    Spawn {
        call: Box<Expr>,
        name: Option<Box<Expr>>,
    },
    /// `join e` or `join(e, seconds)`.
    Join {
        target: Box<Expr>,
        timeout: Option<Box<Expr>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum InterpPart {
    Text(Rc<str>),
    Expr(Expr),
    /// `{x:.2f}`: the value, its spec, and where the spec is written.
    Formatted(Expr, Rc<crate::front::format_spec::FormatSpec>, Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Range,
}

impl BinOp {
    /// The operator as the user writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Range => "..",
        }
    }
}
