//! The TextMate grammar (editors/vscode), checked against the example scripts.
//!
//! A small TextMate tokenizer (match, begin/end, captures, include) gives
//! every byte of each script its scopes; an independent scan of the same
//! script says what each token is (comment, string, keyword, number, call,
//! member, operator), and each must carry the matching scope.

use fancy_regex::Regex;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::Path;

enum Rule {
    Match {
        regex: Regex,
        name: Option<String>,
        captures: HashMap<usize, String>,
    },
    Begin {
        begin: Box<Regex>,
        end: Box<Regex>,
        name: Option<String>,
        content_name: Option<String>,
        begin_captures: HashMap<usize, String>,
        end_captures: HashMap<usize, String>,
        patterns: Vec<usize>,
    },
    /// A list of patterns only (a repository entry without its own match).
    Group(Vec<usize>),
}

struct Grammar {
    rules: Vec<Rule>,
    top: Vec<usize>,
}

fn grammar_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode/syntaxes/procscript.tmLanguage.json")
}

fn load() -> (Grammar, Json) {
    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(grammar_path()).expect("the grammar file"))
            .expect("the grammar is valid JSON");
    let mut rules = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let repository = json["repository"].as_object().expect("a repository");
    // Reserve an index per repository entry so includes can point anywhere.
    for key in repository.keys() {
        names.insert(key.clone(), rules.len());
        rules.push(Rule::Group(Vec::new()));
    }
    for (key, rule) in repository {
        let built = build(rule, &mut rules, &names);
        rules[names[key]] = built;
    }
    let top = patterns(&json["patterns"], &mut rules, &names);
    (Grammar { rules, top }, json)
}

fn captures(json: &Json) -> HashMap<usize, String> {
    json.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.parse().expect("a capture number"),
                        v["name"].as_str().expect("a capture name").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn regex(json: &Json) -> Regex {
    let text = json.as_str().expect("a regex string");
    Regex::new(text).unwrap_or_else(|e| panic!("the regex {text:?} compiles: {e}"))
}

fn name(json: &Json) -> Option<String> {
    json.as_str().map(str::to_string)
}

fn patterns(json: &Json, rules: &mut Vec<Rule>, names: &HashMap<String, usize>) -> Vec<usize> {
    json.as_array()
        .map(|list| {
            list.iter()
                .map(|p| match p["include"].as_str() {
                    Some(include) => {
                        let key = include.strip_prefix('#').expect("a repository include");
                        names[key]
                    }
                    None => {
                        let rule = build(p, rules, names);
                        rules.push(rule);
                        rules.len() - 1
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn build(json: &Json, rules: &mut Vec<Rule>, names: &HashMap<String, usize>) -> Rule {
    if json.get("match").is_some() {
        Rule::Match {
            regex: regex(&json["match"]),
            name: name(&json["name"]),
            captures: captures(&json["captures"]),
        }
    } else if json.get("begin").is_some() {
        let shared = captures(&json["captures"]);
        let or_shared = |key: &str| {
            let own = captures(&json[key]);
            if own.is_empty() {
                shared.clone()
            } else {
                own
            }
        };
        Rule::Begin {
            begin: Box::new(regex(&json["begin"])),
            end: Box::new(regex(&json["end"])),
            name: name(&json["name"]),
            content_name: name(&json["contentName"]),
            begin_captures: or_shared("beginCaptures"),
            end_captures: or_shared("endCaptures"),
            patterns: patterns(&json["patterns"], rules, names),
        }
    } else {
        Rule::Group(patterns(&json["patterns"], rules, names))
    }
}

impl Grammar {
    /// The match rules and begin rules a pattern list stands for, includes expanded.
    fn flatten(&self, list: &[usize], out: &mut Vec<usize>) {
        for &i in list {
            match &self.rules[i] {
                Rule::Group(inner) => self.flatten(inner, out),
                _ => out.push(i),
            }
        }
    }

    /// The scopes of every byte of `text`.
    fn scopes(&self, text: &str) -> Vec<Vec<String>> {
        let mut out = vec![Vec::new(); text.len()];
        // Open begin rules: the rule, and the scopes inside it.
        let mut stack: Vec<(usize, Vec<String>)> = Vec::new();
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let body = line.strip_suffix('\n').unwrap_or(line);
            let mut pos = 0;
            loop {
                let (outer, list): (Vec<String>, Vec<usize>) = match stack.last() {
                    None => (Vec::new(), self.top.clone()),
                    Some((i, inner)) => match &self.rules[*i] {
                        Rule::Begin { patterns, .. } => (inner.clone(), patterns.clone()),
                        _ => unreachable!("only begin rules are pushed"),
                    },
                };
                let mut candidates = Vec::new();
                self.flatten(&list, &mut candidates);
                // The end of the open rule first: it wins a tie, as in TextMate.
                let mut best: Option<(
                    usize,
                    usize,
                    Option<usize>,
                    fancy_regex::Captures<'_, str>,
                )> = None;
                if let Some((i, _)) = stack.last() {
                    if let Rule::Begin { end, .. } = &self.rules[*i] {
                        if let Some(c) = end.captures_from_pos(body, pos).expect("regex runs") {
                            let m = c.get(0).expect("group 0");
                            best = Some((m.start(), m.end(), None, c));
                        }
                    }
                }
                for &i in &candidates {
                    let re = match &self.rules[i] {
                        Rule::Match { regex, .. } => regex,
                        Rule::Begin { begin, .. } => begin,
                        Rule::Group(_) => unreachable!("flattened"),
                    };
                    if let Some(c) = re.captures_from_pos(body, pos).expect("regex runs") {
                        let m = c.get(0).expect("group 0");
                        if best.as_ref().is_none_or(|b| m.start() < b.0) {
                            best = Some((m.start(), m.end(), Some(i), c));
                        }
                    }
                }
                let Some((start, end, rule, caps)) = best else {
                    for scopes in &mut out[line_start + pos..line_start + body.len()] {
                        *scopes = outer.clone();
                    }
                    break;
                };
                for scopes in &mut out[line_start + pos..line_start + start] {
                    *scopes = outer.clone();
                }
                let mut paint = |base: &[String], group_names: &HashMap<usize, String>| {
                    for scopes in &mut out[line_start + start..line_start + end] {
                        *scopes = base.to_vec();
                    }
                    for (group, scope) in group_names {
                        if let Some(m) = caps.get(*group) {
                            for scopes in &mut out[line_start + m.start()..line_start + m.end()] {
                                scopes.push(scope.clone());
                            }
                        }
                    }
                };
                match rule {
                    None => {
                        let (i, _) = stack.pop().expect("an open rule");
                        let Rule::Begin {
                            name, end_captures, ..
                        } = &self.rules[i]
                        else {
                            unreachable!()
                        };
                        let mut base = stack.last().map(|s| s.1.clone()).unwrap_or_default();
                        base.extend(name.clone());
                        paint(&base, end_captures);
                    }
                    Some(i) => match &self.rules[i] {
                        Rule::Match { name, captures, .. } => {
                            let mut base = outer.clone();
                            base.extend(name.clone());
                            paint(&base, captures);
                        }
                        Rule::Begin {
                            name,
                            content_name,
                            begin_captures,
                            ..
                        } => {
                            let mut base = outer.clone();
                            base.extend(name.clone());
                            paint(&base, begin_captures);
                            let mut inner = base.clone();
                            inner.extend(content_name.clone());
                            stack.push((i, inner));
                        }
                        Rule::Group(_) => unreachable!("flattened"),
                    },
                }
                // A rule that matched nothing must not stop the scan.
                pos = if end > start {
                    end
                } else {
                    let next = body[start..].chars().next().map_or(1, char::len_utf8);
                    for scopes in &mut out[line_start + start
                        ..(line_start + start + next).min(line_start + body.len())]
                    {
                        *scopes = outer.clone();
                    }
                    start + next
                };
                if pos >= body.len() {
                    // An end pattern such as `$` may still close a rule at the line's end.
                    if let Some((i, _)) = stack.last() {
                        if let Rule::Begin { end, .. } = &self.rules[*i] {
                            if end.is_match(&body[body.len()..]).unwrap_or(false) {
                                stack.pop();
                            }
                        }
                    }
                    break;
                }
            }
            line_start += line.len();
        }
        out
    }
}

/// What the language says a token is, found without the grammar.
#[derive(Debug, PartialEq)]
enum Token {
    Comment,
    StringText,
    Interpolation,
    Keyword,
    Number,
    BuiltinCall,
    FunctionName,
    Call,
    Member,
    Operator,
}

/// Scans a script into tokens (byte ranges), as the parser would see them.
fn tokens(text: &str) -> Vec<(usize, usize, Token)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    scan_code(text, bytes, 0, None, &mut out);
    out
}

/// Scans code from `i` until the end, or (inside an interpolation) its `}`.
fn scan_code(
    text: &str,
    bytes: &[u8],
    mut i: usize,
    close: Option<u8>,
    out: &mut Vec<(usize, usize, Token)>,
) -> usize {
    let builtins: Vec<&str> = procscript::front::spec::names().collect();
    let mut depth = 0;
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'#' => {
                let end = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                out.push((i, end, Token::Comment));
                i = end;
            }
            b'"' => i = scan_string(text, bytes, i, out),
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' if close == Some(b'}') && depth == 0 => return i,
            b'}' => {
                depth -= 1;
                i += 1;
            }
            b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit()) {
                    i += 1;
                }
                out.push((start, i, Token::Number));
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && word(bytes[i]) {
                    i += 1;
                }
                let name = &text[start..i];
                let before = text[..start].trim_end_matches([' ', '\t']);
                let after = text[i..].trim_start();
                let token = if before.ends_with('.') && !before.ends_with("..") {
                    Token::Member
                } else if procscript::front::parser::is_keyword(name) {
                    Token::Keyword
                } else if before.ends_with("fn")
                    && before[..before.len() - 2].ends_with(|c: char| !c.is_ascii_alphanumeric())
                {
                    Token::FunctionName
                } else if after.starts_with('(') && builtins.contains(&name) {
                    Token::BuiltinCall
                } else if after.starts_with('(') {
                    Token::Call
                } else {
                    continue;
                };
                out.push((start, i, token));
            }
            _ => {
                let rest = &text[i..];
                let op = ["==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", ".."]
                    .iter()
                    .find(|op| rest.starts_with(**op))
                    .map(|op| op.len())
                    .or_else(|| b"+-*/%<>=".contains(&b).then_some(1));
                match op {
                    Some(n) => {
                        out.push((i, i + n, Token::Operator));
                        i += n;
                    }
                    None => i += text[i..].chars().next().map_or(1, char::len_utf8),
                }
            }
        }
    }
    i
}

/// Scans a string literal from its opening quote; returns the index after it.
fn scan_string(
    text: &str,
    bytes: &[u8],
    start: usize,
    out: &mut Vec<(usize, usize, Token)>,
) -> usize {
    out.push((start, start + 1, Token::StringText));
    let mut i = start + 1;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'"' => {
                out.push((i, i + 1, Token::StringText));
                return i + 1;
            }
            b'\\' => {
                out.push((i, (i + 2).min(bytes.len()), Token::StringText));
                i += 2;
            }
            b'{' => {
                out.push((i, i + 1, Token::Interpolation));
                let end = scan_code(text, bytes, i + 1, Some(b'}'), out);
                if end < bytes.len() {
                    out.push((end, end + 1, Token::Interpolation));
                }
                i = end + 1;
            }
            _ => {
                let n = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push((i, i + n, Token::StringText));
                i += n;
            }
        }
    }
    i
}

/// The scope prefixes that show a token correctly.
fn expected_scopes(token: &Token) -> &'static [&'static str] {
    match token {
        Token::Comment => &["comment.line"],
        Token::StringText => &["string.quoted"],
        Token::Interpolation => &["punctuation.section.interpolation"],
        Token::Keyword => &[
            "keyword.",
            "storage.type",
            "constant.language",
            "variable.language",
        ],
        Token::Number => &["constant.numeric"],
        Token::BuiltinCall => &["support.function.builtin"],
        Token::FunctionName => &["entity.name.function.procscript"],
        Token::Call => &["entity.name.function.call"],
        Token::Member => &["variable.other.member", "entity.name.function.method"],
        Token::Operator => &["keyword.operator"],
    }
}

#[test]
fn the_grammar_highlights_every_example_script() {
    let (grammar, _) = load();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut files: Vec<_> = std::fs::read_dir(&scripts)
        .expect("scripts/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "proc"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the example scripts are there");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a script");
        let scopes = grammar.scopes(&text);
        for (start, end, token) in tokens(&text) {
            checked += 1;
            let want = expected_scopes(&token);
            let ok = (start..end).all(|b| {
                text.as_bytes()[b] == b'\n'
                    || scopes[b]
                        .iter()
                        .any(|s| want.iter().any(|w| s.starts_with(w)))
            });
            if !ok {
                let (line, _) = procscript::Source::new("", text.as_str()).line_col(start as u32);
                wrong.push(format!(
                    "{}:{line}: `{}` is {token:?} but has scopes {:?}",
                    file.file_name().unwrap().to_string_lossy(),
                    &text[start..end],
                    scopes[start]
                ));
            }
        }
    }
    assert!(checked > 1000, "only {checked} tokens checked");
    assert!(
        wrong.is_empty(),
        "{} tokens mis-scoped:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The words a rule's regex lists as alternatives: `\b(a|b|c)\b` gives a, b, c.
fn alternatives(regex: &str) -> Vec<String> {
    let inner = regex
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map_or("", |(inner, _)| inner);
    inner.split('|').map(str::to_string).collect()
}

#[test]
fn the_grammar_knows_every_keyword_and_builtin() {
    let (_, json) = load();
    let keyword_rules = json["repository"]["keyword"]["patterns"]
        .as_array()
        .expect("keyword patterns");
    let mut words: Vec<String> = keyword_rules
        .iter()
        .flat_map(|r| alternatives(r["match"].as_str().expect("a match")))
        .collect();
    words.retain(|w| w != "args");
    words.sort();
    let mut keywords: Vec<String> = procscript::front::parser::KEYWORDS
        .iter()
        .map(|k| k.to_string())
        .collect();
    keywords.sort();
    assert_eq!(words, keywords);

    let mut builtins: Vec<String> = alternatives(
        json["repository"]["builtin-call"]["match"]
            .as_str()
            .expect("the built-in rule"),
    );
    builtins.sort();
    let mut known: Vec<String> = procscript::front::spec::names()
        .map(str::to_string)
        .collect();
    known.sort();
    assert_eq!(builtins, known);
}

#[test]
fn the_vscode_extension_points_at_the_grammar() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    let package: Json = serde_json::from_str(
        &std::fs::read_to_string(root.join("package.json")).expect("package.json"),
    )
    .expect("valid JSON");
    let grammar = &package["contributes"]["grammars"][0];
    assert_eq!(grammar["scopeName"], "source.procscript");
    let path = root.join(grammar["path"].as_str().expect("a grammar path"));
    assert_eq!(
        path.canonicalize().unwrap(),
        grammar_path().canonicalize().unwrap()
    );
    assert_eq!(
        package["contributes"]["languages"][0]["extensions"][0],
        ".proc"
    );
    let config = root.join("language-configuration.json");
    let _: Json = serde_json::from_str(&std::fs::read_to_string(config).expect("config"))
        .expect("valid JSON");
}

#[test]
fn the_grammar_highlights_an_import() {
    let (grammar, _) = load();
    let text = "import \"lib/words.proc\" as words\nprint(words.count(\"a b\"))\n";
    let scopes = grammar.scopes(text);
    let scope_at = |word: &str| {
        let at = text.find(word).expect("the word is in the text");
        scopes[at].clone()
    };
    let has = |word: &str, prefix: &str| {
        let scopes = scope_at(word);
        assert!(
            scopes.iter().any(|s| s.starts_with(prefix)),
            "`{word}` has scopes {scopes:?}, none starting with {prefix}"
        );
    };
    has("import", "keyword.control.import");
    has("\"lib/", "string.quoted");
    has("as words", "keyword.other.process");
    has("count", "entity.name.function.method");
}
