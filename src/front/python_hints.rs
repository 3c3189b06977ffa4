//! Hints for people who write Python: what procscript writes instead of a Python spelling.

use crate::front::parser::KEYWORDS;

/// Python's constants spelled as procscript writes them.
pub fn constant(name: &str) -> Option<&'static str> {
    match name {
        "True" => Some("true"),
        "False" => Some("false"),
        "None" => Some("nil"),
        _ => None,
    }
}

/// A hint for a parse error at byte `pos` of `text` when what stands there
/// reads as Python (`3 in xs`, `7 // 2`, `2 ** 3`, `def f():`, `elif`,
/// `import os`), as C (`a && b`, `!done`) or as a misspelt keyword
/// (`spwan work(1)`).
pub fn after_syntax_error(text: &str, pos: usize) -> Option<String> {
    let rest = text.get(pos..)?;
    let before = text.get(..pos)?;
    let found = leading_word(rest);
    if found == "in" {
        return Some(
            "to test membership, write `contains(list, value)`; `in` only follows `for x`".into(),
        );
    }
    if rest.starts_with('/') && before.ends_with('/') {
        return Some(
            "procscript has no `//`: `/` on two ints truncates toward zero (`7 / 2` is `3`, \
             but `-7 / 2` is `-3` where Python's `//` gives `-4`); on floats, `int(a / b)`"
                .into(),
        );
    }
    if rest.starts_with('*') && before.ends_with('*') {
        return Some(
            "procscript has no `**`: multiply (`x * x`), or loop for larger powers".into(),
        );
    }
    if let Some(word) = spelt_as_in_c(rest) {
        return Some(format!(
            "procscript writes `{word}` for this operator, as Python does"
        ));
    }
    let word = leading_word(rest);
    if trailing_word(before.trim_end_matches([' ', '\t'])) == "import" && !word.is_empty() {
        return Some(format!(
            "a module is a file, named in quotes and given a name: \
             `import \"{word}.proc\" as {word}`"
        ));
    }
    if is_field_assignment(rest, before) {
        return Some(
            "a field after `.` cannot be assigned: change a module's variable through a \
             function of the module, a map's entry with `map[\"key\"] = value`"
                .into(),
        );
    }
    let previous = trailing_word(before.trim_end_matches([' ', '\t']));
    if found.is_empty() || previous.is_empty() {
        return None;
    }
    match previous {
        "def" => Some(format!(
            "declare a function with `fn`: `fn {found}(...) {{ ... }}`"
        )),
        "elif" => Some("write `else if`".into()),
        word => misspelt_keyword(word)
            .map(|k| format!("`{word}` is not a keyword: did you mean `{k}`?")),
    }
}

/// The word for `&&`, `||` or a prefix `!` (C's and JavaScript's spellings).
fn spelt_as_in_c(rest: &str) -> Option<&'static str> {
    if rest.starts_with("&&") {
        Some("and")
    } else if rest.starts_with("||") {
        Some("or")
    } else if rest.starts_with('!') && !rest.starts_with("!=") {
        Some("not")
    } else {
        None
    }
}

/// An assignment (`=`, `+=`...) standing after a field (`words.calls = 5`,
/// Python's `obj.attr = value`), which the grammar has no place for.
fn is_field_assignment(rest: &str, before: &str) -> bool {
    let assigns = ["=", "+=", "-=", "*=", "/=", "%="]
        .iter()
        .any(|op| rest.starts_with(op))
        && !rest.starts_with("==");
    let before = before.trim_end_matches([' ', '\t']);
    let field = trailing_word(before);
    let starts_as_name = field.starts_with(|c: char| c.is_alphabetic() || c == '_');
    assigns && starts_as_name && before[..before.len() - field.len()].ends_with('.')
}

/// The keyword `word` is one or two letters away from, if it is none itself.
fn misspelt_keyword(word: &str) -> Option<&'static str> {
    if word.len() < 3 || KEYWORDS.contains(&word) {
        return None;
    }
    KEYWORDS
        .iter()
        .filter(|k| k.len() >= 3)
        .map(|k| (strsim::damerau_levenshtein(word, k), *k))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn leading_word(text: &str) -> &str {
    let end = text.find(|c| !is_word_char(c)).unwrap_or(text.len());
    &text[..end]
}

fn trailing_word(text: &str) -> &str {
    let start = text.rfind(|c| !is_word_char(c)).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    &text[start..]
}
