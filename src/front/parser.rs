//! Source text to syntax tree: runs the pest grammar and turns its pairs into `ast` nodes.

use crate::error::diagnostic::Diag;
use crate::front::ast::*;
use crate::front::format_spec::FormatSpec;
use crate::front::syntax_error;
use crate::limits;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use std::cell::Cell;
use std::rc::Rc;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/procscript.pest"]
pub(crate) struct Grammar;

type PResult<T> = Result<T, Diag>;

thread_local! {
    /// Where the text being parsed starts in the run's offsets: 0 for the
    /// script, a module's base for a module (see `error::source_files`).
    /// Every span of the tree is made by `span_of`, so this one number
    /// places them all.
    static SPAN_BASE: Cell<u32> = const { Cell::new(0) };
}

/// Parses a whole script.
pub fn parse_program(text: &str) -> PResult<Program> {
    parse_program_at(text, 0)
}

/// Parses a module whose text starts at offset `base` of the run: the
/// tree's spans, and those of a syntax error, are at those offsets.
pub fn parse_program_at(text: &str, base: u32) -> PResult<Program> {
    let outer = SPAN_BASE.replace(base);
    let parsed = parse_at_base(text).map_err(|diag| match diag {
        Placed::Text(diag) => diag.moved_by(base),
        Placed::Run(diag) => diag,
    });
    SPAN_BASE.set(outer);
    parsed
}

/// A syntax error, with spans in the text's own offsets or in the run's.
enum Placed {
    Text(Diag),
    Run(Diag),
}

fn parse_at_base(text: &str) -> Result<Program, Placed> {
    syntax_error::check_size_and_nesting(text).map_err(Placed::Text)?;
    // The grammar is recursive; give it room beyond the limits checked above.
    stacker::grow(limits::PARSE_STACK_BYTES, || {
        // Tracking what was expected slows parsing; it is done only to
        // explain an error (pest's default is off).
        let mut pairs = Grammar::parse(Rule::program, text)
            .or_else(|_| parse_explaining(text))
            .map_err(|err| Placed::Text(syntax_error::from_pest(err, text)))?;
        let program = pairs.next().expect("program rule always yields one pair");
        let builder = Builder::new();
        Ok(Program {
            body: builder.stmts(program.into_inner()).map_err(Placed::Run)?,
        })
    })
}

/// Parses again, tracking what was expected, to explain an error. pest's
/// switch for that is one flag for the whole process: only this function
/// turns it on and off, one thread at a time, so that another thread's parse
/// never turns it off in the middle (the error said less, as a test running
/// parses on several threads saw). A parse meanwhile on another thread
/// tracks too: slower, the same result.
fn parse_explaining(
    text: &str,
) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    static EXPLAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = EXPLAINING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    pest::set_error_detail(true);
    let parsed = Grammar::parse(Rule::program, text);
    pest::set_error_detail(false);
    parsed
}

/// The reserved words of the language: the one list the crate and its tests
/// use. pest needs the words in the grammar too (its `keyword` rule and one
/// rule per word); a test below checks that they are the same.
pub const KEYWORDS: &[&str] = &[
    "let", "fn", "return", "if", "else", "while", "for", "in", "break", "continue", "and", "or",
    "not", "true", "false", "nil", "try", "catch", "fork", "spawn", "join", "pid", "ppid", "as",
    "import",
];

/// Whether a word is reserved (cannot name a variable or function).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

fn span_of(pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    let base = SPAN_BASE.get() as usize;
    Span::new(base + s.start(), base + s.end())
}

struct Builder {
    pratt: PrattParser<Rule>,
}

impl Builder {
    fn new() -> Self {
        // Lowest precedence first, as in the language reference.
        let pratt = PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left))
            .op(Op::infix(Rule::op_range, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left))
            .op(Op::prefix(Rule::op_neg));
        Builder { pratt }
    }

    /// Statements of a program or block (separators are silent in the grammar).
    fn stmts(&self, pairs: Pairs<Rule>) -> PResult<Vec<Stmt>> {
        pairs
            .filter(|p| p.as_rule() != Rule::EOI)
            .map(|p| self.stmt(p))
            .collect()
    }

    fn block(&self, pair: Pair<Rule>) -> PResult<Block> {
        let span = span_of(&pair);
        Ok(Block {
            stmts: self.stmts(pair.into_inner())?,
            span,
        })
    }

    fn stmt(&self, pair: Pair<Rule>) -> PResult<Stmt> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::import_stmt => self.import_stmt(pair)?,
            Rule::let_stmt => self.let_stmt(pair)?,
            Rule::fn_decl => StmtKind::FnDecl(Rc::new(self.fn_def(pair)?)),
            Rule::return_stmt => StmtKind::Return(
                pair.into_inner()
                    .find(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p))
                    .transpose()?,
            ),
            Rule::if_stmt => self.if_stmt(pair)?,
            Rule::while_stmt => {
                let mut inner = skip_keywords(pair.into_inner());
                StmtKind::While {
                    cond: self.expr(next(&mut inner))?,
                    body: self.block(next(&mut inner))?,
                }
            }
            Rule::for_stmt => {
                let mut inner = skip_keywords(pair.into_inner());
                StmtKind::For {
                    var: ident(next(&mut inner)),
                    iter: self.expr(next(&mut inner))?,
                    body: self.block(next(&mut inner))?,
                }
            }
            Rule::break_stmt => StmtKind::Break,
            Rule::continue_stmt => StmtKind::Continue,
            Rule::try_stmt => self.try_stmt(pair)?,
            Rule::assign_stmt => self.assign_stmt(pair)?,
            Rule::expr_stmt => StmtKind::Expr(self.expr(next(&mut pair.into_inner()))?),
            rule => unreachable!("not a statement rule: {rule:?}"),
        };
        Ok(Stmt { kind, span })
    }

    /// `import "path" as name`: the path is a plain string (no `{}` parts).
    fn import_stmt(&self, pair: Pair<Rule>) -> PResult<StmtKind> {
        let mut inner = skip_keywords(pair.into_inner());
        let literal = next(&mut inner);
        let path_span = span_of(&literal);
        let ExprKind::Str(path) = self.string(literal)? else {
            return Err(Diag::new(
                "the path of an `import` is a plain string",
                path_span,
                "this string has `{}` parts",
            )
            .with_help("write the path as it is, e.g. `import \"lib/text.proc\" as text`"));
        };
        Ok(StmtKind::Import {
            path,
            path_span,
            alias: ident(next(&mut inner)),
        })
    }

    fn let_stmt(&self, pair: Pair<Rule>) -> PResult<StmtKind> {
        let mut inner = skip_keywords(pair.into_inner());
        Ok(StmtKind::Let {
            name: ident(next(&mut inner)),
            value: self.expr(next(&mut inner))?,
        })
    }

    fn fn_def(&self, pair: Pair<Rule>) -> PResult<FnDef> {
        let span = span_of(&pair);
        let mut name = None;
        let mut params = Vec::new();
        let mut body = None;
        for p in skip_keywords(pair.into_inner()) {
            match p.as_rule() {
                Rule::ident => name = Some(ident(p)),
                Rule::params => params = self.params(p)?,
                Rule::block => body = Some(self.block(p)?),
                rule => unreachable!("unexpected in fn: {rule:?}"),
            }
        }
        Ok(FnDef {
            name,
            params,
            body: body.expect("grammar requires a body"),
            span,
        })
    }

    fn params(&self, pair: Pair<Rule>) -> PResult<Vec<Ident>> {
        let params: Vec<Ident> = pair.into_inner().map(ident).collect();
        for (i, p) in params.iter().enumerate() {
            if let Some(first) = params[..i].iter().find(|q| q.name == p.name) {
                return Err(Diag::new(
                    format!("parameter `{}` is named twice", p.name),
                    p.span,
                    "second parameter with this name",
                )
                .with_note(first.span, "first one here"));
            }
        }
        Ok(params)
    }

    fn if_stmt(&self, pair: Pair<Rule>) -> PResult<StmtKind> {
        let mut inner = skip_keywords(pair.into_inner()).peekable();
        let mut branches = Vec::new();
        let mut otherwise = None;
        while let Some(p) = inner.next() {
            if p.as_rule() == Rule::block && inner.peek().is_none() && !branches.is_empty() {
                otherwise = Some(self.block(p)?);
            } else {
                branches.push((self.expr(p)?, self.block(next(&mut inner))?));
            }
        }
        Ok(StmtKind::If {
            branches,
            otherwise,
        })
    }

    fn try_stmt(&self, pair: Pair<Rule>) -> PResult<StmtKind> {
        let mut body = None;
        let mut err = None;
        let mut handler = None;
        for p in skip_keywords(pair.into_inner()) {
            match p.as_rule() {
                Rule::block if body.is_none() => body = Some(self.block(p)?),
                Rule::block => handler = Some(self.block(p)?),
                Rule::ident => err = Some(ident(p)),
                rule => unreachable!("unexpected in try: {rule:?}"),
            }
        }
        Ok(StmtKind::Try {
            body: body.expect("grammar requires a try block"),
            err,
            handler: handler.expect("grammar requires a catch block"),
        })
    }

    fn assign_stmt(&self, pair: Pair<Rule>) -> PResult<StmtKind> {
        let mut target = None;
        let mut indexes = Vec::new();
        let mut op = AssignOp::Set;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => target = Some(ident(p)),
                Rule::index => indexes.push(self.nexpr(next(&mut p.into_inner()))?),
                Rule::assign_op => {
                    op = match p.as_str() {
                        "=" => AssignOp::Set,
                        "+=" => AssignOp::Update(BinOp::Add),
                        "-=" => AssignOp::Update(BinOp::Sub),
                        "*=" => AssignOp::Update(BinOp::Mul),
                        "/=" => AssignOp::Update(BinOp::Div),
                        _ => AssignOp::Update(BinOp::Mod),
                    }
                }
                Rule::expr => value = Some(self.expr(p)?),
                rule => unreachable!("unexpected in assignment: {rule:?}"),
            }
        }
        Ok(StmtKind::Assign {
            target: target.expect("grammar requires a target"),
            indexes,
            op,
            value: value.expect("grammar requires a value"),
        })
    }

    /// `expr` and `nexpr` differ only in where newlines may stand.
    fn expr(&self, pair: Pair<Rule>) -> PResult<Expr> {
        self.nexpr(pair)
    }

    fn nexpr(&self, pair: Pair<Rule>) -> PResult<Expr> {
        let pairs = pair.into_inner();
        check_prefix_runs(pairs.clone())?;
        self.pratt
            .map_primary(|p| self.operand(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = span_of(&op).to(rhs.span);
                let kind = match op.as_rule() {
                    Rule::op_neg => match rhs.kind {
                        // Fold `-5` into a literal so it prints and compares as one.
                        ExprKind::Int(n) => ExprKind::Int(-n),
                        ExprKind::Float(x) => ExprKind::Float(-x),
                        _ => ExprKind::Unary(UnOp::Neg, Box::new(rhs)),
                    },
                    _ => ExprKind::Unary(UnOp::Not, Box::new(rhs)),
                };
                node(kind, span, span_of(&op))
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (Box::new(lhs?), Box::new(rhs?));
                let added = span_of(&op);
                let span = lhs.span.to(rhs.span);
                let kind = match op.as_rule() {
                    Rule::op_or => ExprKind::Or(lhs, rhs),
                    Rule::op_and => ExprKind::And(lhs, rhs),
                    rule => ExprKind::Binary(binop(rule), lhs, rhs),
                };
                node(kind, span, added)
            })
            .parse(pairs)
    }

    /// A primary followed by calls, indexes, fields and methods.
    fn operand(&self, pair: Pair<Rule>) -> PResult<Expr> {
        let mut inner = pair.into_inner().peekable();
        let mut expr = self.primary(next(&mut inner))?;
        while let Some(p) = inner.next() {
            let added = span_of(&p);
            let span = expr.span.to(added);
            let kind = match p.as_rule() {
                Rule::call_args => ExprKind::Call {
                    callee: Box::new(expr),
                    args: self.args(p)?,
                },
                Rule::index => ExprKind::Index {
                    target: Box::new(expr),
                    index: Box::new(self.nexpr(next(&mut p.into_inner()))?),
                },
                Rule::field => {
                    let name = ident(next(&mut p.into_inner()));
                    match inner.next_if(|q| q.as_rule() == Rule::call_args) {
                        Some(args) => {
                            let span = span.to(span_of(&args));
                            let kind = ExprKind::Method {
                                target: Box::new(expr),
                                name,
                                args: self.args(args)?,
                            };
                            expr = node(kind, span, added)?;
                            continue;
                        }
                        None => ExprKind::Field {
                            target: Box::new(expr),
                            name,
                        },
                    }
                }
                rule => unreachable!("not a postfix rule: {rule:?}"),
            };
            expr = node(kind, span, added)?;
        }
        Ok(expr)
    }

    fn args(&self, pair: Pair<Rule>) -> PResult<Vec<Expr>> {
        pair.into_inner().map(|p| self.nexpr(p)).collect()
    }

    fn primary(&self, pair: Pair<Rule>) -> PResult<Expr> {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::int => int_literal(&pair)?,
            Rule::float => float_literal(&pair)?,
            Rule::string => self.string(pair)?,
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::kw_nil => ExprKind::Nil,
            Rule::list => ExprKind::List(self.args(pair)?),
            Rule::map => ExprKind::Map(
                pair.into_inner()
                    .map(|entry| {
                        let mut kv = entry.into_inner();
                        Ok((self.nexpr(next(&mut kv))?, self.nexpr(next(&mut kv))?))
                    })
                    .collect::<PResult<_>>()?,
            ),
            Rule::fn_lit => ExprKind::Fn(Rc::new(self.fn_def(pair)?)),
            Rule::fork_expr => ExprKind::Fork,
            Rule::pid_expr => ExprKind::Pid,
            Rule::ppid_expr => ExprKind::Ppid,
            Rule::spawn_expr => self.spawn_expr(pair)?,
            Rule::join_expr => self.join_expr(pair)?,
            Rule::ident => ExprKind::Var(ident(pair)),
            Rule::paren => return self.nexpr(next(&mut pair.into_inner())),
            rule => unreachable!("not a primary rule: {rule:?}"),
        };
        node(kind, span, span)
    }

    fn spawn_expr(&self, pair: Pair<Rule>) -> PResult<ExprKind> {
        let mut inner = skip_keywords(pair.into_inner());
        let call = self.operand(next(&mut inner))?;
        if !matches!(call.kind, ExprKind::Call { .. } | ExprKind::Method { .. }) {
            return Err(Diag::new(
                "`spawn` needs a function call",
                call.span,
                "this is not a call",
            )
            .with_help("write `spawn f(args)`: the child process runs that call"));
        }
        let name = inner.next().map(|p| self.expr(p)).transpose()?;
        Ok(ExprKind::Spawn {
            call: Box::new(call),
            name: name.map(Box::new),
        })
    }

    fn join_expr(&self, pair: Pair<Rule>) -> PResult<ExprKind> {
        let operand = next(&mut skip_keywords(pair.into_inner()));
        if operand.as_rule() == Rule::join_args {
            let mut args = operand.into_inner();
            return Ok(ExprKind::Join {
                target: Box::new(self.nexpr(next(&mut args))?),
                timeout: Some(Box::new(self.nexpr(next(&mut args))?)),
            });
        }
        Ok(ExprKind::Join {
            target: Box::new(self.operand(operand)?),
            timeout: None,
        })
    }

    /// `{expr}` or `{expr:spec}`; a spec that does not read is an error here, before running.
    fn interpolation(&self, pair: Pair<Rule>) -> PResult<InterpPart> {
        let mut inner = pair.into_inner();
        let value = self.nexpr(next(&mut inner))?;
        let Some(spec) = inner.next() else {
            return Ok(InterpPart::Expr(value));
        };
        let span = span_of(&spec);
        match FormatSpec::parse(&spec.as_str()[1..]) {
            Ok(parsed) => Ok(InterpPart::Formatted(value, Rc::new(parsed), span)),
            Err(why) => Err(Diag::new(
                format!("the format spec `{}` does not read: {why}", spec.as_str()),
                span,
                "this format spec",
            )
            .with_help("examples: `{x:.2f}`, `{n:>6}`, `{name:<10}`, `{n:08}`, `{n:,}`")),
        }
    }

    fn string(&self, pair: Pair<Rule>) -> PResult<ExprKind> {
        let mut parts: Vec<InterpPart> = Vec::new();
        let mut text = String::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::str_text => text.push_str(p.as_str()),
                Rule::str_escape => text.push(escape(&p)?),
                Rule::str_interp => {
                    if !text.is_empty() {
                        parts.push(InterpPart::Text(std::mem::take(&mut text).into()));
                    }
                    parts.push(self.interpolation(p)?);
                }
                rule => unreachable!("not a string part: {rule:?}"),
            }
        }
        if parts.is_empty() {
            return Ok(ExprKind::Str(text.into()));
        }
        if !text.is_empty() {
            parts.push(InterpPart::Text(text.into()));
        }
        Ok(ExprKind::Interp(parts))
    }
}

fn next<'i>(pairs: &mut impl Iterator<Item = Pair<'i, Rule>>) -> Pair<'i, Rule> {
    pairs
        .next()
        .expect("the grammar guarantees this child exists")
}

/// Keyword tokens are pairs of their own; the builders skip them.
fn skip_keywords<'i>(pairs: Pairs<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pairs.filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::kw_let
                | Rule::kw_fn
                | Rule::kw_return
                | Rule::kw_if
                | Rule::kw_else
                | Rule::kw_while
                | Rule::kw_for
                | Rule::kw_in
                | Rule::kw_try
                | Rule::kw_catch
                | Rule::kw_spawn
                | Rule::kw_join
                | Rule::kw_as
                | Rule::kw_import
        )
    })
}

fn ident(pair: Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().into(),
        span: span_of(&pair),
    }
}

fn binop(rule: Rule) -> BinOp {
    match rule {
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        Rule::op_mod => BinOp::Mod,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_range => BinOp::Range,
        rule => unreachable!("not an infix operator: {rule:?}"),
    }
}

/// A new node, unless it makes the tree deeper than the limit: evaluating
/// (and dropping) a tree takes native stack per level, so a long chain of
/// calls or indexes (`f()()()…`, `xs[0][0]…`), operators or brackets
/// within brackets is refused here, before anything walks it.
fn node(kind: ExprKind, span: Span, added: Span) -> PResult<Expr> {
    let expr = Expr::new(kind, span);
    if expr.depth as usize > limits::MAX_EXPR_DEPTH {
        return Err(Diag::new(
            format!(
                "an expression nested more than {} levels deep",
                limits::MAX_EXPR_DEPTH
            ),
            added,
            "this level is too deep",
        )
        .with_help("split it over several statements, with variables for the parts"));
    }
    Ok(expr)
}

/// A long run of prefix operators (`- - - … x`), or a very long chain of
/// binary ones, nests the tree once per operator: both are limited.
fn check_prefix_runs(pairs: Pairs<Rule>) -> PResult<()> {
    let mut run = 0;
    let mut operators = 0;
    for p in pairs {
        if !matches!(p.as_rule(), Rule::operand | Rule::op_neg | Rule::op_not) {
            operators += 1;
            if operators > limits::MAX_OPERATORS {
                return Err(Diag::new(
                    format!(
                        "more than {} operators in one expression",
                        limits::MAX_OPERATORS
                    ),
                    span_of(&p),
                    "this one is past the limit",
                )
                .with_help("split the expression over several statements"));
            }
        }
        if matches!(p.as_rule(), Rule::op_neg | Rule::op_not) {
            run += 1;
            if run > limits::MAX_NESTING {
                return Err(Diag::new(
                    "too many prefix operators in a row",
                    span_of(&p),
                    format!("more than {} here", limits::MAX_NESTING),
                ));
            }
        } else {
            run = 0;
        }
    }
    Ok(())
}

fn int_literal(pair: &Pair<Rule>) -> PResult<ExprKind> {
    pair.as_str()
        .parse::<i64>()
        .map(ExprKind::Int)
        .map_err(|_| {
            Diag::new(
                "integer literal too large",
                span_of(pair),
                "does not fit in a 64-bit int",
            )
            .with_help(format!(
                "ints range from {} to {}; write a float such as 1e19 for larger numbers",
                i64::MIN,
                i64::MAX
            ))
        })
}

fn float_literal(pair: &Pair<Rule>) -> PResult<ExprKind> {
    match pair.as_str().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(ExprKind::Float(x)),
        _ => Err(Diag::new(
            "float literal too large",
            span_of(pair),
            "this is larger than the largest float",
        )),
    }
}

fn escape(pair: &Pair<Rule>) -> PResult<char> {
    let text = pair.as_str();
    Ok(match &text[1..] {
        "n" => '\n',
        "t" => '\t',
        "r" => '\r',
        "0" => '\0',
        "\\" => '\\',
        "\"" => '"',
        "{" => '{',
        "}" => '}',
        "" => {
            return Err(Diag::new(
                "unfinished escape at the end of the line",
                span_of(pair),
                "a `\\` must be followed by a character",
            )
            .with_help("a string ends on the line it starts; write `\\n` for a newline"))
        }
        other => {
            return Err(Diag::new(
                format!("unknown escape `\\{other}`"),
                span_of(pair),
                "not a known escape",
            )
            .with_help(
                "escapes are \\n \\t \\r \\0 \\\\ \\\" \\{ \\}; write `\\\\` for a backslash",
            ))
        }
    })
}

#[cfg(test)]
mod tests;
