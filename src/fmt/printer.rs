//! Writes the token list back out in the canonical style: where lines break, how deep each line is indented, where a space goes.
//!
//! The printer never adds, drops or reorders a token (a `;` between
//! statements becomes a line break); it only chooses the whitespace between
//! tokens. Statements and blocks are laid out by rule; inside a statement a
//! line break stays where the source had one (the only places the grammar
//! lets a statement go on) and nowhere else.

use crate::fmt::tokens::{Bracket, Kind, Token};

const INDENT: &str = "    ";

/// An open bracket: how deep the lines inside it go, and its closing line.
struct Frame {
    bracket: Bracket,
    inside: usize,
    closing: usize,
}

#[derive(Default)]
struct Printer {
    out: String,
    /// Indent (in levels) of the line being written.
    line_indent: usize,
    frames: Vec<Frame>,
    /// The indent of the first line of each statement being written.
    statements: Vec<usize>,
    /// Between two statements (or after a `{` or at the start), not inside one.
    between_statements: bool,
    previous: Option<Kind>,
}

/// The canonical text of `tokens` (a program that parsed).
pub(crate) fn print(tokens: &[Token]) -> String {
    let mut printer = Printer {
        between_statements: true,
        ..Printer::default()
    };
    // For each token, the kind of the next one that is not a comment or `;`.
    let mut next_kinds = vec![None; tokens.len()];
    let mut next = None;
    for (i, token) in tokens.iter().enumerate().rev() {
        next_kinds[i] = next;
        if !matches!(token.kind, Kind::Sep | Kind::Comment) {
            next = Some(token.kind);
        }
    }
    let mut newlines = 0;
    for (token, next) in tokens.iter().zip(next_kinds) {
        newlines += token.newlines_before;
        if token.kind == Kind::Sep {
            continue;
        }
        printer.place(token, newlines, next);
        printer.write(token);
        newlines = 0;
    }
    if !printer.out.is_empty() {
        printer.out.push('\n');
    }
    printer.out
}

impl Printer {
    /// Writes what goes before `token`: nothing, a space, or a line break and indent.
    /// `next` is the kind of the next token that is not a comment.
    fn place(&mut self, token: &Token, newlines: usize, next: Option<Kind>) {
        let Some(previous) = self.previous else {
            return; // the first token of the file
        };
        let after_comment = previous == Kind::Comment;
        if token.kind == Kind::Comment && newlines == 0 {
            self.out.push_str("  ");
            return; // a comment at the end of a line stays there
        }
        if token.kind == Kind::Joined && !after_comment {
            self.out.push(' ');
            return;
        }
        let opened_block = matches!(previous, Kind::Open(Bracket::Block { .. }));
        let closes_block = matches!(token.kind, Kind::Close(Bracket::Block { .. }));
        if opened_block && closes_block {
            return; // an empty block: `{}`
        }
        let must_break = after_comment
            || token.kind == Kind::Comment
            || token.stmt_start
            || closes_block
            || opened_block;
        if must_break || newlines > 0 {
            let blank = newlines >= 2
                && !matches!(previous, Kind::Open(_))
                && !matches!(token.kind, Kind::Close(_));
            self.break_line(token, blank, next);
        } else if spaced(previous, token.kind) {
            self.out.push(' ');
        }
    }

    fn break_line(&mut self, token: &Token, blank: bool, next: Option<Kind>) {
        let indent = match token.kind {
            Kind::Close(_) => self.frames.last().map_or(0, |f| f.closing),
            // A comment before `else` lines up with the `else`.
            Kind::Joined => self.statements.last().copied().unwrap_or(0),
            Kind::Comment if next == Some(Kind::Joined) => {
                self.statements.last().copied().unwrap_or(0)
            }
            _ if self.between_statements => self.frames.last().map_or(0, |f| f.inside),
            _ => self.continuation_indent(),
        };
        self.out.push('\n');
        if blank {
            self.out.push('\n');
        }
        for _ in 0..indent {
            self.out.push_str(INDENT);
        }
        self.line_indent = indent;
    }

    /// Inside brackets, the bracket's inside; else one deeper than the statement.
    fn continuation_indent(&self) -> usize {
        match self.frames.last() {
            Some(frame) if !matches!(frame.bracket, Bracket::Block { .. }) => frame.inside,
            _ => self.statements.last().copied().unwrap_or(0) + 1,
        }
    }

    /// Writes the token and keeps track of brackets and statements.
    fn write(&mut self, token: &Token) {
        if token.stmt_start {
            self.statements.push(self.line_indent);
            self.between_statements = false;
        }
        match token.kind {
            Kind::Open(bracket) => {
                // A statement's block lines up with the statement, even when
                // its head (an `if` condition) went on over several lines.
                let base = match bracket {
                    Bracket::Block { of_stmt: true } => {
                        self.statements.last().copied().unwrap_or(0)
                    }
                    _ => self.line_indent,
                };
                self.frames.push(Frame {
                    bracket,
                    inside: base + 1,
                    closing: base,
                });
                if matches!(bracket, Bracket::Block { .. }) {
                    self.between_statements = true;
                }
            }
            Kind::Close(bracket) => {
                self.frames.pop();
                if matches!(bracket, Bracket::Block { .. }) {
                    self.between_statements = false;
                }
            }
            _ => {}
        }
        self.out.push_str(token.text);
        if token.stmt_end {
            self.statements.pop();
            self.between_statements = true;
        }
        self.previous = Some(token.kind);
    }
}

/// Whether a space goes between two tokens on one line.
fn spaced(previous: Kind, next: Kind) -> bool {
    match (previous, next) {
        (Kind::Dot | Kind::Neg | Kind::Open(_), _) => false,
        (_, Kind::Comma | Kind::Colon | Kind::Dot) => false,
        (_, Kind::Close(bracket)) => matches!(bracket, Bracket::Block { .. }),
        (_, Kind::Open(Bracket::Call | Bracket::Index)) => false,
        (Kind::Range, _) | (_, Kind::Range) => false,
        _ => true,
    }
}
