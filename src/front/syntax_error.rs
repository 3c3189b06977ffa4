//! Parse errors in the words of the language: turns pest's failures into `Diag`s, and checks limits first.

use crate::error::diagnostic::Diag;
use crate::front::ast::Span;
use crate::front::parser::Rule;
use crate::limits;
use pest::error::{ErrorVariant, InputLocation};

/// Rejects sources too large or nested too deeply before pest sees them,
/// so that no input can exhaust the parser's stack.
pub fn check_size_and_nesting(text: &str) -> Result<(), Diag> {
    if text.len() > limits::MAX_SOURCE_BYTES {
        return Err(Diag::new(
            format!(
                "the script is too large ({} bytes; the limit is {})",
                text.len(),
                limits::MAX_SOURCE_BYTES
            ),
            Span::new(0, 0),
            "script starts here",
        ));
    }
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if line.len() > limits::MAX_LINE_BYTES {
            return Err(Diag::new(
                format!(
                    "a line of {} bytes is longer than the limit of {}",
                    line.len(),
                    limits::MAX_LINE_BYTES
                ),
                Span::new(line_start, line_start + 1),
                "this line is too long",
            )
            .with_help("split it over several lines"));
        }
        line_start += line.len();
    }
    let openers = Brackets::scan(text);
    match openers.too_deep {
        Some(at) => Err(Diag::new(
            format!(
                "brackets and blocks are nested more than {} levels deep",
                limits::MAX_NESTING
            ),
            Span::new(at, at + 1),
            "this one is too deep",
        )
        .with_help("split the code into functions or smaller expressions")),
        None => Ok(()),
    }
}

/// Whether `text` ends with a bracket, block or interpolation still open,
/// so that more lines may finish it (the prompt then asks for them). A string
/// left open does not count: a string ends on its line, so that is an error
/// to report now.
pub(crate) fn needs_more_lines(text: &str) -> bool {
    let scan = Brackets::scan(text);
    scan.unclosed.is_some() && !scan.in_string
}

/// The one bracket scan (parse errors, nesting limit, the prompt's
/// continuation): a rough one that knows strings, interpolations and comments.
struct Brackets {
    /// The innermost bracket still open at the end of the text.
    unclosed: Option<(usize, char)>,
    /// Where the nesting first went past the limit.
    too_deep: Option<usize>,
    /// Whether the text ends inside a string literal.
    in_string: bool,
}

impl Brackets {
    fn scan(text: &str) -> Brackets {
        #[derive(PartialEq)]
        enum Ctx {
            Open(char),
            Str,
        }
        let mut stack: Vec<(usize, Ctx)> = Vec::new();
        let mut too_deep = None;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let in_string = matches!(stack.last(), Some((_, Ctx::Str)));
            if in_string {
                match c {
                    '\\' => {
                        chars.next_if(|&(_, c)| c != '\n');
                    }
                    '"' | '\n' => {
                        stack.pop();
                    }
                    '{' => stack.push((i, Ctx::Open('{'))),
                    _ => {}
                }
            } else {
                match c {
                    '#' => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
                    '"' => stack.push((i, Ctx::Str)),
                    '(' | '[' | '{' => stack.push((i, Ctx::Open(c))),
                    ')' | ']' | '}' => {
                        if let Some((_, Ctx::Open(_))) = stack.last() {
                            stack.pop();
                        }
                    }
                    _ => {}
                }
            }
            if stack.len() > limits::MAX_NESTING && too_deep.is_none() {
                too_deep = Some(i);
            }
        }
        let unclosed = stack.iter().rev().find_map(|(i, ctx)| match ctx {
            Ctx::Open(c) => Some((*i, *c)),
            Ctx::Str => None,
        });
        let in_string = matches!(stack.last(), Some((_, Ctx::Str)));
        Brackets {
            unclosed,
            too_deep,
            in_string,
        }
    }
}

/// Translates a pest error into a diagnostic that never names a grammar rule.
pub fn from_pest(err: pest::error::Error<Rule>, text: &str) -> Diag {
    let mut pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let positives = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => {
            return Diag::new(
                "the script is nested too deeply to parse",
                Span::new(pos, pos),
                "here",
            )
            .with_help("split the code into functions or smaller expressions");
        }
    };
    let mut expected: Vec<Expected> = positives.iter().filter_map(|r| describe_rule(*r)).collect();
    if let Some(attempts) = err.parse_attempts() {
        // pest places the error where the last rule failed, which for
        // `let a% = 1` is the statement's start, while the token that
        // could not be read (`=`, at the `%`) is further on: point there,
        // with what was expected there only.
        // (Only for a token pest expected there: one it merely looked at,
        // such as `let` checked for not being a name, does not count.)
        let further: Vec<Expected> = attempts
            .expected_tokens()
            .iter()
            .filter_map(describe_token)
            .collect();
        if attempts.max_position > pos && !further.is_empty() {
            pos = attempts.max_position;
            expected = further;
        } else if attempts.max_position == pos {
            expected.extend(further);
        }
    }
    let found = Found::at(text, pos);
    let mut span = Span::new(pos, pos + found.len);
    if found.is_end {
        // Nothing stands at the very end to underline: point just after the last token.
        let last = text.trim_end().len();
        span = match text[..last].chars().next_back() {
            // miette draws nothing past the final character; underline that character instead.
            Some(c) if last == text.len() => Span::new(last - c.len_utf8(), last),
            _ => Span::new(last, last),
        };
    }

    // Inside a string literal, the only sensible story is an unterminated string.
    if found.ends_line && Brackets::scan(&text[..pos]).in_string {
        return Diag::new(
            "unterminated string",
            span,
            "the string needs a closing `\"` here",
        )
        .with_help("a string ends on the line it starts; write `\\n` for a newline inside it");
    }

    if let Some(diag) = unmatched_closer(text, pos, span) {
        return diag;
    }

    let words = summarize(expected, found.is_end);
    let mut diag = Diag::new(
        format!("expected {}, found {}", words, found.words),
        span,
        format!("expected {words}"),
    );
    let found_word = found.words.trim_matches('`');
    if words.contains("a name") && crate::front::parser::is_keyword(found_word) {
        diag = diag.with_help(format!(
            "`{found_word}` is a keyword and cannot name a variable, function or parameter"
        ));
    }
    if let Some(hint) = crate::front::python_hints::after_syntax_error(text, pos) {
        diag = diag.with_help(hint);
    }
    if found.is_end {
        if let Some((at, c)) = Brackets::scan(text).unclosed {
            let close = match c {
                '(' => ')',
                '[' => ']',
                _ => '}',
            };
            diag = diag
                .with_note(Span::new(at, at + 1), format!("this `{c}` is never closed"))
                .with_help(format!("add the missing `{close}`"));
        }
    }
    diag
}

/// A `)`, `]` or `}` where every bracket before it is closed: it closes
/// nothing (a brace too many after a function, a stray bracket on the first
/// line), which the parser's list of what it expected there only hides.
fn unmatched_closer(text: &str, pos: usize, span: Span) -> Option<Diag> {
    let close = text.get(pos..)?.chars().next()?;
    let open = match close {
        ')' => '(',
        ']' => '[',
        '}' => '{',
        _ => return None,
    };
    let before = Brackets::scan(&text[..pos]);
    if before.unclosed.is_some() || before.in_string {
        return None;
    }
    Some(
        Diag::new(
            format!("unmatched `{close}`"),
            span,
            format!("no `{open}` before it is left open"),
        )
        .with_help(format!(
            "remove this `{close}`, or add the `{open}` it was meant to close"
        )),
    )
}

/// One thing the parser would have accepted, and whether it is only a
/// continuation (an operator, a call...) that is possible after any operand.
#[derive(PartialEq)]
struct Expected {
    text: String,
    continuation: bool,
}

fn word(text: &str) -> Option<Expected> {
    Some(Expected {
        text: text.to_string(),
        continuation: false,
    })
}

fn continuation(text: &str) -> Option<Expected> {
    Some(Expected {
        text: format!("`{text}`"),
        continuation: true,
    })
}

fn describe_rule(rule: Rule) -> Option<Expected> {
    use Rule::*;
    match rule {
        expr | nexpr | operand | list | map | paren | fn_lit | fork_expr | pid_expr | ppid_expr
        | spawn_expr | join_expr | int | float | string | kw_true | kw_false | kw_nil | op_neg
        | op_not => word("an expression"),
        ident => word("a name"),
        member_name => word("a field or method name"),
        block => word("`{`"),
        params => word("`(` and the parameters"),
        entry => word("a `key: value` entry"),
        let_stmt | fn_decl | return_stmt | if_stmt | while_stmt | for_stmt | break_stmt
        | continue_stmt | try_stmt | assign_stmt | expr_stmt => word("a statement"),
        kw_else => word("`else`"),
        kw_catch => word("`catch`"),
        kw_in => word("`in`"),
        kw_as => continuation("as"),
        EOI => word("end of input"),
        op_or => continuation("or"),
        op_and => continuation("and"),
        op_eq => continuation("=="),
        op_ne => continuation("!="),
        op_lt => continuation("<"),
        op_le => continuation("<="),
        op_gt => continuation(">"),
        op_ge => continuation(">="),
        op_range => continuation(".."),
        op_add => continuation("+"),
        op_sub => continuation("-"),
        op_mul => continuation("*"),
        op_div => continuation("/"),
        op_mod => continuation("%"),
        call_args | join_args => continuation("("),
        index => continuation("["),
        field => continuation("."),
        assign_op => continuation("="),
        _ => None,
    }
}

/// pest does not export its token type; its text is what we need. Character
/// ranges print as `a..z` and built-in rules as `BUILTIN_RULE`: neither is useful here.
fn describe_token(token: &impl ToString) -> Option<Expected> {
    let token = token.to_string();
    let is_range = token.chars().count() == 4 && token.chars().skip(1).take(2).all(|c| c == '.');
    if is_range || token == "BUILTIN_RULE" {
        return None;
    }
    match token.as_str() {
        // Whitespace and comments are possible everywhere; not worth saying.
        " " | "\t" | "\r" | "#" => None,
        "\n" => word("a new line"),
        ";" => word("`;`"),
        "(" | "[" | "." | "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "+" | "-" | "*" | "/" | "%"
        | "==" | "!=" | "<" | "<=" | ">" | ">=" | ".." => continuation(&token),
        // Letters are parts of keywords or names, already described by rule.
        t if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => None,
        t => word(&format!("`{t}`")),
    }
}

const END_OF_STATEMENT: [&str; 3] = ["a new line", "`;`", "end of input"];

/// Tokens that start an expression; "an expression" already says them.
const EXPRESSION_STARTS: [&str; 5] = ["`\"`", "`{`", "`[`", "`(`", "`-`"];

/// Says what was expected in a few words: "`,` or `)`", "an expression".
fn summarize(expected: Vec<Expected>, at_end: bool) -> String {
    let mut main: Vec<String> = Vec::new();
    let mut continuations: Vec<String> = Vec::new();
    for e in expected {
        let list = if e.continuation {
            &mut continuations
        } else {
            &mut main
        };
        if !list.contains(&e.text) {
            list.push(e.text);
        }
    }
    if main.iter().any(|t| t == "an expression") {
        // A statement may start with a name (an assignment) or any expression.
        main.retain(|t| !EXPRESSION_STARTS.contains(&t.as_str()) && t != "a name");
    }
    // The end of a statement is always possible after a complete one; say it
    // only when nothing more specific was expected.
    let specific: Vec<String> = main
        .iter()
        .filter(|t| !END_OF_STATEMENT.contains(&t.as_str()))
        .cloned()
        .collect();
    // After a complete statement inside a block, `}` is one more way to end it;
    // at the end of input, though, the missing `}` is the whole story.
    let ends_statement = main.iter().any(|t| END_OF_STATEMENT.contains(&t.as_str()));
    if specific == ["`}`"] && ends_statement && !at_end {
        return "the end of the statement (a new line, `;` or `}`)".to_string();
    }
    let mut items = if !specific.is_empty() {
        specific
    } else if !main.is_empty() {
        return "the end of the statement (a new line or `;`)".to_string();
    } else {
        continuations
    };
    if items.is_empty() {
        return "something else".to_string();
    }
    // Closing brackets read best last.
    items.sort_by_key(|t| matches!(t.as_str(), "`)`" | "`]`" | "`}`"));
    match items.len() {
        1 => items.remove(0),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// What stands at the error position, described for a person.
struct Found {
    words: String,
    len: usize,
    is_end: bool,
    ends_line: bool,
}

impl Found {
    fn at(text: &str, pos: usize) -> Found {
        let rest = text.get(pos..).unwrap_or("");
        let Some(c) = rest.chars().next() else {
            return Found {
                words: "end of input".into(),
                len: 0,
                is_end: true,
                ends_line: true,
            };
        };
        if c == '\n' || (c == '\r' && rest[1..].starts_with('\n')) {
            return Found {
                words: "end of line".into(),
                len: 0,
                is_end: false,
                ends_line: true,
            };
        }
        let word_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let len = if word_len > 0 {
            word_len.min(40)
        } else {
            c.len_utf8()
        };
        let shown = &rest[..rest.floor_char_boundary_at(len)];
        let words = if c.is_control() {
            format!("the control character {:?}", c)
        } else {
            format!("`{shown}`")
        };
        Found {
            words,
            len: shown.len(),
            is_end: false,
            ends_line: false,
        }
    }
}

trait FloorBoundary {
    fn floor_char_boundary_at(&self, i: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_at(&self, mut i: usize) -> usize {
        i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::needs_more_lines;

    #[test]
    fn more_lines_only_for_what_more_lines_can_close() {
        for open in [
            "fn f() {", "print(1,", "[1, 2", "\"a {1 +", "f(\"}\"", "{\n# }\n",
        ] {
            assert!(needs_more_lines(open), "{open:?}");
        }
        for done in [
            "",
            "print(1)",
            "print(1))",
            "\"(\"",
            "# (",
            "let s = \"abc",
            "\"a\\\"",
        ] {
            assert!(!needs_more_lines(done), "{done:?}");
        }
    }
}
