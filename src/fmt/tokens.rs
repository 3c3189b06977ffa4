//! The script as one flat list of tokens for the printer: the grammar's leaves, the punctuation and comments between them, and where statements begin and end.
//!
//! The grammar keeps punctuation and comments silent (no pairs), so they are
//! read back from the text *between* the leaves pest did produce. That text
//! can hold only whitespace, newlines, `;`, the grammar's one-character
//! punctuation and comments (`#` to the end of the line): a `#` there always
//! starts a comment, since strings are leaves and are never scanned. What
//! each bracket is (a call's `(`, a block's `{`, a map's `{`...) comes from
//! the pairs that start and end on it.

use crate::front::parser::Rule;
use pest::iterators::Pair;
use std::collections::{HashMap, HashSet};

/// What a bracket opens or closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bracket {
    /// Arguments and parameters: `f(a)`, `fn(a)`, `join(h, 1)`, `fork()`.
    Call,
    /// Parentheses that group: `(a + b)`.
    Group,
    /// A list literal.
    List,
    /// An index: `xs[0]`.
    Index,
    /// A map literal.
    Map,
    /// A block; `of_stmt` when it belongs to a statement (`if`, `fn f`...),
    /// not to a function literal.
    Block { of_stmt: bool },
}

/// What a token is, as far as spacing and line breaks care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Names, keywords, numbers, strings (a string is one token, kept as written).
    Word,
    /// `else` and `catch`: they stay on the line of the `}` before them.
    Joined,
    /// An operator between two operands, and `=`: a space on each side.
    BinOp,
    /// `..`: no spaces.
    Range,
    /// A prefix `-`: nothing after it.
    Neg,
    Open(Bracket),
    Close(Bracket),
    Comma,
    Colon,
    Dot,
    /// `;` between statements (the printer writes a line break instead).
    Sep,
    Comment,
    /// A character the grammar does not put between leaves; kept as is.
    Other,
}

/// One token and what the printer needs to know about its place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'a> {
    pub text: &'a str,
    /// Where the token starts in the source.
    pub start: usize,
    pub kind: Kind,
    /// Line breaks in the source between the token before and this one.
    pub newlines_before: usize,
    /// The first token of a statement.
    pub stmt_start: bool,
    /// The last token of a statement (comments after it are not part of it).
    pub stmt_end: bool,
}

/// What the pairs say: the leaves, what the brackets are, and the statements' spans.
#[derive(Default)]
struct Shape {
    leaves: Vec<(usize, usize, Kind)>,
    brackets: HashMap<usize, Kind>,
    statements: Vec<(usize, usize)>,
    statement_blocks: HashSet<usize>,
}

/// The tokens of a program that parsed (`program` is its pair).
pub(crate) fn tokens<'a>(text: &'a str, program: Pair<'a, Rule>) -> Vec<Token<'a>> {
    let shape = shape_of(program);
    let mut found = Vec::new();
    let mut at = 0;
    for &(start, end, kind) in &shape.leaves {
        let gap_start = scan_gap(text, at, start, &shape, &mut found);
        found.push(token(text, start..end, kind, gap_start));
        at = end;
    }
    scan_gap(text, at, text.len(), &shape, &mut found);
    mark_statements(&mut found, &shape.statements);
    found
}

/// The token at `range` of `text`, after the gap from `gap_start`.
fn token(text: &str, range: std::ops::Range<usize>, kind: Kind, gap_start: usize) -> Token<'_> {
    let mut written = &text[range.clone()];
    if kind == Kind::Comment {
        written = written.trim_end();
    }
    Token {
        text: written,
        start: range.start,
        kind,
        newlines_before: text[gap_start..range.start].matches('\n').count(),
        stmt_start: false,
        stmt_end: false,
    }
}

/// Walks the pairs (iteratively: `flatten` is pre-order, so leaves come in text order).
fn shape_of(program: Pair<Rule>) -> Shape {
    let mut shape = Shape::default();
    let mut string_end = 0;
    for pair in program.into_inner().flatten() {
        let span = pair.as_span();
        let (start, end) = (span.start(), span.end());
        if start < string_end {
            continue; // the inside of a string: the string is one token
        }
        let rule = pair.as_rule();
        let name = format!("{rule:?}");
        if let Some(kind) = leaf_kind(rule, &name) {
            if rule == Rule::string {
                string_end = end;
            }
            shape.leaves.push((start, end, kind));
            continue;
        }
        if let Some(bracket) = bracket_of(rule, start, &shape.statement_blocks) {
            shape.brackets.insert(start, Kind::Open(bracket));
            shape.brackets.insert(end - 1, Kind::Close(bracket));
        }
        if rule == Rule::field {
            shape.brackets.insert(start, Kind::Dot);
        }
        if name.ends_with("_stmt") || rule == Rule::fn_decl {
            shape.statements.push((start, end));
            for child in pair.into_inner() {
                if child.as_rule() == Rule::block {
                    shape.statement_blocks.insert(child.as_span().start());
                }
            }
        }
    }
    shape
}

/// The kind of a leaf rule (keywords and operators by their `kw_`/`op_` names,
/// so a keyword added to the grammar is a leaf here too), or `None`.
fn leaf_kind(rule: Rule, name: &str) -> Option<Kind> {
    Some(match rule {
        Rule::ident | Rule::member_name | Rule::int | Rule::float | Rule::string => Kind::Word,
        Rule::assign_op => Kind::BinOp,
        Rule::kw_else | Rule::kw_catch => Kind::Joined,
        Rule::op_neg => Kind::Neg,
        Rule::op_range => Kind::Range,
        Rule::op_not => Kind::Word,
        _ if name.starts_with("kw_") => Kind::Word,
        _ if name.starts_with("op_") => Kind::BinOp,
        _ => return None,
    })
}

fn bracket_of(rule: Rule, start: usize, statement_blocks: &HashSet<usize>) -> Option<Bracket> {
    Some(match rule {
        Rule::call_args | Rule::params | Rule::join_args => Bracket::Call,
        Rule::paren => Bracket::Group,
        Rule::list => Bracket::List,
        Rule::index => Bracket::Index,
        Rule::map => Bracket::Map,
        Rule::block => Bracket::Block {
            of_stmt: statement_blocks.contains(&start),
        },
        _ => return None,
    })
}

/// The punctuation, separators and comments in `text[from..to]`, between two
/// leaves; returns where the whitespace before the next leaf starts.
fn scan_gap<'a>(
    text: &'a str,
    from: usize,
    to: usize,
    shape: &Shape,
    found: &mut Vec<Token<'a>>,
) -> usize {
    let mut last = from;
    let mut at = from;
    while at < to {
        let c = text[at..].chars().next().unwrap_or(' ');
        let len = match c {
            ' ' | '\t' | '\r' | '\n' => {
                at += c.len_utf8();
                continue;
            }
            '#' => text[at..to].find('\n').unwrap_or(to - at),
            _ => c.len_utf8(),
        };
        let kind = match c {
            '#' => Kind::Comment,
            _ => shape
                .brackets
                .get(&at)
                .copied()
                .unwrap_or_else(|| default_kind(c)),
        };
        found.push(token(text, at..at + len, kind, last));
        at += len;
        last = at;
    }
    last
}

/// Punctuation no pair starts or ends on: `fork()`'s parentheses, `,`, `:`, `=`, `;`.
fn default_kind(c: char) -> Kind {
    match c {
        '(' => Kind::Open(Bracket::Call),
        ')' => Kind::Close(Bracket::Call),
        '[' => Kind::Open(Bracket::List),
        ']' => Kind::Close(Bracket::List),
        '{' => Kind::Open(Bracket::Map),
        '}' => Kind::Close(Bracket::Map),
        ',' => Kind::Comma,
        ':' => Kind::Colon,
        '=' => Kind::BinOp,
        '.' => Kind::Dot,
        ';' => Kind::Sep,
        _ => Kind::Other,
    }
}

/// Marks each statement's first token and its last one that is not a comment
/// (a statement's span may run over the comment after it).
fn mark_statements(found: &mut [Token], statements: &[(usize, usize)]) {
    let starts: Vec<usize> = found.iter().map(|t| t.start).collect();
    for &(start, end) in statements {
        let first = starts.partition_point(|&s| s < start);
        let past = starts.partition_point(|&s| s < end);
        if let Some(token) = found.get_mut(first) {
            token.stmt_start = true;
        }
        if let Some(last) = (first..past)
            .rev()
            .find(|&i| found[i].kind != Kind::Comment)
        {
            found[last].stmt_end = true;
        }
    }
}
