//! Unit tests of the parser: the keyword list against the grammar, and errors in the language's words.

use super::*;

fn parses(src: &str) -> bool {
    parse_program(src).is_ok()
}

/// The single expression statement of `src`.
fn expr_of(src: &str) -> ExprKind {
    let program = parse_program(src).unwrap_or_else(|d| panic!("{src:?}: {}", d.message));
    match program.body.into_iter().next().map(|s| s.kind) {
        Some(StmtKind::Expr(e)) => e.kind,
        other => panic!("not an expression statement: {other:?}"),
    }
}

#[test]
fn accepts_every_statement_form() {
    for src in [
        "",
        "\n\n# only a comment\n",
        "let x = 1",
        "let x = 1; x = 2; x += 3",
        "let xs = [1]; xs[0] = 2; xs[0] -= 1",
        "fn f(a, b) { return a + b }",
        "fn f() { return }",
        "if true { } else if false { } else { }",
        "while false { break }",
        "for x in [1] { continue }",
        "for i in 0..3 { }",
        "try { error(\"e\") } catch e { }",
        "try { } catch { }",
        "if true { } print(1)",
        "print(1);;print(2)",
        "let f = fn(x) { return x }",
    ] {
        assert!(parses(src), "should parse: {src:?}");
    }
}

#[test]
fn accepts_every_process_form() {
    for src in [
        "fork",
        "fork()",
        "let p = fork",
        "print(pid, pid(), ppid, ppid())",
        "fn f(x) { }\nlet h = spawn f(1)",
        "fn f(x) { }\nlet h = spawn f(1) as \"worker\"",
        "fn f() { }\njoin spawn f()",
        "fn f() { }\nlet h = spawn f()\njoin(h, 1.5)",
        "fn f() { }\nlet h = spawn f()\njoin [h]",
        "fn f() { }\nlet h = spawn f()\nprint(h.pid, h.name, h.exitcode)",
    ] {
        assert!(parses(src), "should parse: {src:?}");
    }
}

#[test]
fn rejects_malformed_input() {
    for src in [
        "let",
        "let x",
        "let x =",
        "let 1 = 2",
        "print(1",
        "print(1))",
        "[1, 2",
        "{\"a\" 1}",
        "if true",
        "if true {",
        "while { }",
        "for in [1] { }",
        "for x [1] { }",
        "fn (a) { }\nfn",
        "fn f(a b) { }",
        "try { }",
        "print(1) print(2)",
        "x = = 1",
        "1 +",
        "\"unterminated",
        "\"bad \\q escape\"",
        "spawn 1",
        "let let = 1",
        "let fork = 1",
        "h.",
        "join",
        "99999999999999999999",
    ] {
        assert!(!parses(src), "should fail: {src:?}");
    }
}

#[test]
fn precedence_follows_the_reference() {
    // not binds looser than comparison: not (a == b)
    assert!(matches!(
        expr_of("not 1 == 2"),
        ExprKind::Unary(UnOp::Not, _)
    ));
    // or is lowest: (a and b) or c
    assert!(matches!(expr_of("a or b and c"), ExprKind::Or(..)));
    // range is below + : (1 + 2)..(3 + 4)
    assert!(matches!(
        expr_of("1 + 2..3 + 4"),
        ExprKind::Binary(BinOp::Range, ..)
    ));
    // * above + : 1 + (2 * 3)
    match expr_of("1 + 2 * 3") {
        ExprKind::Binary(BinOp::Add, _, rhs) => {
            assert!(matches!(rhs.kind, ExprKind::Binary(BinOp::Mul, ..)))
        }
        other => panic!("{other:?}"),
    }
    // unary minus above *, below postfix: (-x) * y and -(f(x))
    assert!(matches!(
        expr_of("-x * y"),
        ExprKind::Binary(BinOp::Mul, ..)
    ));
    assert!(matches!(expr_of("-f(x)"), ExprKind::Unary(UnOp::Neg, _)));
    // subtraction is left-associative: (10 - 4) - 3
    match expr_of("10 - 4 - 3") {
        ExprKind::Binary(BinOp::Sub, lhs, _) => {
            assert!(matches!(lhs.kind, ExprKind::Binary(BinOp::Sub, ..)))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn postfix_forms_chain() {
    assert!(matches!(expr_of("q.put(1)"), ExprKind::Method { .. }));
    assert!(matches!(expr_of("h.pid"), ExprKind::Field { .. }));
    assert!(matches!(expr_of("xs[0][1]"), ExprKind::Index { .. }));
    assert!(matches!(expr_of("f(1)(2)"), ExprKind::Call { .. }));
}

#[test]
fn strings_split_into_text_and_interpolations() {
    match expr_of("\"a{1 + 2}b\\{c\\}\"") {
        ExprKind::Interp(parts) => {
            assert_eq!(parts.len(), 3);
            assert!(matches!(&parts[0], InterpPart::Text(t) if &**t == "a"));
            assert!(matches!(&parts[2], InterpPart::Text(t) if &**t == "b{c}"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(expr_of("\"plain\\n\""), ExprKind::Str("plain\n".into()));
}

#[test]
fn negative_literals_fold() {
    assert_eq!(expr_of("-7"), ExprKind::Int(-7));
    assert_eq!(expr_of("-2.5"), ExprKind::Float(-2.5));
}

#[test]
fn join_with_timeout_is_two_arguments() {
    match expr_of("join(h, 2)") {
        ExprKind::Join { timeout, .. } => assert!(timeout.is_some()),
        other => panic!("{other:?}"),
    }
    match expr_of("join (h)") {
        ExprKind::Join { timeout, .. } => assert!(timeout.is_none()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn spans_cover_their_text() {
    let src = "print(1 + 22)";
    let ExprKind::Call { args, .. } = expr_of(src) else {
        panic!("not a call")
    };
    let span = args[0].span;
    assert_eq!(&src[span.start as usize..span.end as usize], "1 + 22");
}

/// Rule names that are not also plain English words ("string", "map" and
/// "field" may appear in messages as words).
const RULE_NAMES: &[&str] = &[
    "top_item",
    "block_item",
    "compound_stmt",
    "simple_stmt",
    "let_stmt",
    "fn_decl",
    "params",
    "return_stmt",
    "if_stmt",
    "while_stmt",
    "for_stmt",
    "break_stmt",
    "continue_stmt",
    "try_stmt",
    "assign_stmt",
    "assign_op",
    "expr_stmt",
    "expr",
    "nexpr",
    "operand",
    "primary",
    "postfix",
    "call_args",
    "paren",
    "fn_lit",
    "ident",
    "member_name",
    "join_args",
    "EOI",
    "SOI",
];

#[test]
fn error_messages_never_name_grammar_rules() {
    for src in [
        "let",
        "print(1",
        "if x {",
        "1 +",
        "{\"a\" 1}",
        "fn f(",
        "x[",
        "h.",
    ] {
        let diag = parse_program(src).unwrap_err();
        let text = format!("{} {}", diag.message, diag.label);
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            let is_rule = RULE_NAMES.contains(&word)
                || ["kw_", "op_", "str_"].iter().any(|p| word.starts_with(p));
            assert!(!is_rule, "{src:?} gave {text:?}");
        }
    }
}

/// The quoted words of a piece of the grammar.
fn quoted(text: &str) -> Vec<&str> {
    text.split('"').skip(1).step_by(2).collect()
}

#[test]
fn keywords_are_the_grammars_reserved_words() {
    let grammar = include_str!("../../../grammar/procscript.pest");
    let mut keywords = KEYWORDS.to_vec();
    keywords.sort();
    // `keyword = @{ ("let" | "fn" | ...) ~ !ident_char }`: what `ident` refuses.
    let start = grammar.find("\nkeyword ").expect("the keyword rule");
    let rule = &grammar[start..];
    let mut reserved = quoted(&rule[..rule.find("!ident_char").expect("its end")]);
    reserved.sort();
    assert_eq!(reserved, keywords, "the grammar's `keyword` rule");
    // `kw_let = @{ "let" ~ !ident_char }` and the word operators `and`, `or`, `not`.
    let mut words: Vec<&str> = grammar
        .lines()
        .filter(|line| line.starts_with("kw_") || line.starts_with("op_"))
        .filter(|line| line.contains("!ident_char"))
        .flat_map(quoted)
        .collect();
    words.sort();
    assert_eq!(words, keywords, "the grammar's word rules");
}

#[test]
fn import_reads_its_path_and_alias() {
    let program = parse_program("import \"lib/te\\\"xt.proc\" as text\n").expect("parses");
    match &program.body[0].kind {
        StmtKind::Import {
            path,
            path_span,
            alias,
        } => {
            assert_eq!(&**path, "lib/te\"xt.proc");
            assert_eq!(*path_span, Span::new(7, 24));
            assert_eq!(&*alias.name, "text");
        }
        other => panic!("not an import: {other:?}"),
    }
    assert!(!parses("import \"a.proc\""), "the alias is required");
    assert!(!parses("import a as b"), "the path is a string");
    assert!(
        !parses("import \"a.proc\" as import"),
        "the alias is a name"
    );
    let error = parse_program("import \"a{1}.proc\" as a").unwrap_err();
    assert_eq!(error.message, "the path of an `import` is a plain string");
}

#[test]
fn a_syntax_error_says_the_same_while_other_threads_parse() {
    // pest's "track what was expected" switch is one flag for the whole
    // process: a thread's parse that turned it off while another explained
    // an error made that error say less ("expected `(` and the parameters,
    // found `(`", without "`,` or `)`"), as the formatter's test saw.
    // Lines before the error make its explaining parse long, as in a script.
    let bad = "let a = [1, 2]\n".repeat(100) + "fn f(f { }\n)n f() { }\n";
    let bad = bad.as_str();
    let expected = parse_program(bad).expect_err("refused").message.clone();
    assert!(expected.contains("`,` or `)`"), "{expected}");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    assert!(parses("x"));
                }
            });
        }
        let said: Vec<String> = (0..300)
            .map(|_| parse_program(bad).expect_err("refused").message.clone())
            .filter(|message| *message != expected)
            .collect();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            said.is_empty(),
            "{} of 300 said otherwise: {:?}",
            said.len(),
            said.first()
        );
    });
}
