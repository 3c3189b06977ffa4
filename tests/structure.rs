//! The layout rules of issue 12, checked over the source tree: role headers, file and
//! function sizes, and no import circle of more than two top-level parts of src/.
//!
//! Each check prints every file, function or circle that breaks its rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 100;
const MAX_CIRCLE: usize = 2;

/// Every .rs file under src/, by its path relative to the crate root, sorted.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    walk(&root.join("src"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
            let name = path.strip_prefix(root).unwrap_or(&path);
            (name.display().to_string(), text)
        })
        .collect()
}

/// Fails with the list of violations, one a line, if there are any.
fn report(rule: &str, violations: Vec<String>) {
    if !violations.is_empty() {
        panic!(
            "{} violation(s) of: {rule}\n  {}\n",
            violations.len(),
            violations.join("\n  ")
        );
    }
}

// ---------------------------------------------------------------- a rough lexer

/// The source with comments, strings and character literals blanked out
/// (newlines kept), so that what is left is code whose braces and words count.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let before_is_word = i > 0 && is_word(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if !before_is_word && raw_string_start(&chars, i).is_some() {
            let (hashes, quote) = raw_string_start(&chars, i).expect("just checked");
            for &c in &chars[i..=quote] {
                blank(&mut out, c);
            }
            i = quote + 1;
            while i < chars.len() {
                let closes =
                    chars[i] == '"' && (1..=hashes).all(|h| chars.get(i + h) == Some(&'#'));
                if closes {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && !before_is_word {
            // A character literal ('x', '\n', '\u{..}'), or else a lifetime.
            let end = if next == Some('\\') {
                (i + 2..chars.len()).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for &c in &chars[i..=end] {
                        blank(&mut out, c);
                    }
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At `r"`, `r#"`, `br"`...: the number of `#` and the position of the opening quote.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some((hashes, j + hashes))
}

fn line_of(code: &str, byte: usize) -> usize {
    code[..byte].matches('\n').count() + 1
}

/// The byte position of the brace that closes the one at `open`.
fn closing_brace(code: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Every function with a body: its name, first line and length in lines.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let bytes = code.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = Vec::new();
    for (at, _) in code.match_indices("fn") {
        let word_before = at > 0 && is_word(bytes[at - 1]);
        let after = &code[at + 2..];
        let name_start = after.len() - after.trim_start().len();
        if word_before || name_start == 0 {
            continue;
        }
        let name: String = after[name_start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // `fn(` is a pointer type; `fn name(..);` has no body.
        if name.is_empty() || name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        let rest = &code[at..];
        let Some(open) = rest.find(['{', ';']) else {
            continue;
        };
        if rest.as_bytes()[open] == b';' {
            continue;
        }
        if let Some(close) = closing_brace(code, at + open) {
            let first = line_of(code, at);
            found.push((name, first, line_of(code, close) - first + 1));
        }
    }
    found
}

// ---------------------------------------------------------------- imports

/// The top-level part of src/ a file belongs to: `src/x.rs` and `src/x/..` are `x`.
fn part_of(file: &str) -> String {
    let inside = file.strip_prefix("src/").unwrap_or(file);
    let first = inside.split('/').next().unwrap_or(inside);
    first.strip_suffix(".rs").unwrap_or(first).to_string()
}

/// The code without its `#[cfg(test)]` modules: tests may reach anywhere.
fn without_test_modules(code: &str) -> String {
    let mut code = code.to_string();
    while let Some(at) = code.find("#[cfg(test)]") {
        let after = &code[at..];
        let item_end = match (after.find('{'), after.find(';')) {
            (Some(open), Some(semi)) if semi < open => at + semi,
            (Some(open), _) => closing_brace(&code, at + open).unwrap_or(code.len() - 1),
            _ => code.len() - 1,
        };
        code.replace_range(at..=item_end, "");
    }
    code
}

/// The top-level parts named after `crate::` in the code, with `use crate::{a, b::c}`
/// groups taken apart.
fn crate_mentions(code: &str) -> BTreeSet<String> {
    let bytes = code.as_bytes();
    let mut parts = BTreeSet::new();
    let word = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0, 0);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        parts.insert(word(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.insert(word(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            parts.insert(word(rest));
        }
    }
    parts.remove("");
    parts
}

/// part -> (part it mentions -> the files that mention it).
type Imports = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn imports() -> Imports {
    let mut graph = Imports::new();
    for (file, text) in sources() {
        // A module's tests, in a file of their own: tests may reach anywhere.
        if file.ends_with("/tests.rs") {
            continue;
        }
        let from = part_of(&file);
        let edges = graph.entry(from.clone()).or_default();
        for to in crate_mentions(&without_test_modules(&code_only(&text))) {
            if to != from && to != "self" && to != "super" {
                edges.entry(to).or_default().insert(file.clone());
            }
        }
    }
    graph
}

/// Strongly connected components (Tarjan), each sorted.
fn components(graph: &Imports) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g Imports,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                component.sort();
                self.found.push(component);
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v.as_str()) {
            tarjan.visit(v);
        }
    }
    tarjan.found
}

// ---------------------------------------------------------------- the rules

#[test]
fn every_source_file_opens_with_a_role_line() {
    let violations = sources()
        .into_iter()
        .filter(|(_, text)| {
            let first = text.lines().next().unwrap_or("");
            first
                .strip_prefix("//!")
                .is_none_or(|role| role.trim().is_empty())
        })
        .map(|(file, text)| {
            let first = text.lines().next().unwrap_or("");
            format!("{file}: first line is {first:?}, not `//! <its role>`")
        })
        .collect();
    report(
        "every file under src/ begins with a `//!` role line",
        violations,
    );
}

#[test]
fn no_source_file_is_over_the_limit() {
    let violations = sources()
        .into_iter()
        .map(|(file, text)| (file, text.lines().count()))
        .filter(|(_, lines)| *lines > MAX_FILE_LINES)
        .map(|(file, lines)| format!("{file}: {lines} lines"))
        .collect();
    report(
        &format!("no file under src/ over {MAX_FILE_LINES} lines"),
        violations,
    );
}

#[test]
fn no_function_is_over_the_limit() {
    let mut violations = Vec::new();
    for (file, text) in sources() {
        for (name, line, lines) in functions(&code_only(&text)) {
            if lines > MAX_FN_LINES {
                violations.push(format!("{file}:{line}: fn {name}: {lines} lines"));
            }
        }
    }
    report(
        &format!("no function over {MAX_FN_LINES} lines"),
        violations,
    );
}

#[test]
fn no_import_circle_joins_more_than_two_parts() {
    let graph = imports();
    let mut violations = Vec::new();
    for circle in components(&graph) {
        if circle.len() <= MAX_CIRCLE {
            continue;
        }
        let mut text = format!("{} parts: {}", circle.len(), circle.join(", "));
        for from in &circle {
            for (to, files) in &graph[from] {
                if circle.contains(to) {
                    let files: Vec<&str> = files.iter().map(String::as_str).collect();
                    text += &format!("\n      {from} -> {to} ({})", files.join(", "));
                }
            }
        }
        violations.push(text);
    }
    report(
        &format!("no import circle of more than {MAX_CIRCLE} top-level parts of src/"),
        violations,
    );
}

// ---------------------------------------------------------------- the scanners themselves

#[test]
fn the_lexer_blanks_comments_strings_and_chars() {
    let source = "let a = \"{ // \\\" }\"; // { comment\n/* { /* nested } */ } */ let b = '{';\n\
                  let c = r##\"{ \"# }\"##; fn f<'a>(x: &'a str) {}";
    let code = code_only(source);
    assert_eq!(code.matches('{').count(), 1, "{code}");
    assert_eq!(code.matches('}').count(), 1, "{code}");
    assert!(
        code.contains("let b") && code.contains("fn f<'a>(x: &'a str)"),
        "{code}"
    );
    assert_eq!(
        code.lines().count(),
        source.lines().count(),
        "lines are kept"
    );
}

#[test]
fn the_function_scanner_measures_bodies_only() {
    let source = "trait T {\n    fn declared(&self);\n}\n\
                  fn outer() {\n    let f: fn(u8) = g;\n    let s = \"}\";\n    fn inner() {\n    }\n}\n";
    let found = functions(&code_only(source));
    assert_eq!(
        found,
        [("outer".to_string(), 4, 6), ("inner".to_string(), 7, 2)]
    );
}

#[test]
fn the_import_scanner_reads_paths_and_groups() {
    let code = code_only(
        "use crate::ast::{self, Span};\nuse crate::{value::Value, os, ir::{A, B}};\n\
         // crate::comment\nfn f() { crate::limits::MAX; $crate::not_me; my_crate::nor_me; }\n\
         #[cfg(test)]\nmod tests { use crate::parser; }\n",
    );
    let found: Vec<String> = crate_mentions(&without_test_modules(&code))
        .into_iter()
        .collect();
    assert_eq!(found, ["ast", "ir", "limits", "os", "value"]);
}

#[test]
fn circles_are_found_whole() {
    let mut graph = Imports::new();
    for (from, to) in [
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
        ("c", "d"),
        ("d", "e"),
        ("e", "d"),
    ] {
        graph
            .entry(from.into())
            .or_default()
            .insert(to.into(), BTreeSet::new());
    }
    let mut found = components(&graph);
    found.sort();
    assert_eq!(found, [vec!["a", "b", "c"], vec!["d", "e"]]);
}
