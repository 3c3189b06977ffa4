//! Every runnable example of the docs (README.md and docs/*.md), run and checked as the docs show it.
//!
//! Fenced blocks the docs mark as runnable:
//!
//! - ```` ```proc ```` is a script, run by the binary in a fresh folder. Words
//!   after `proc` on the fence: `exit=N` (the expected exit code, else 0),
//!   `name=F` (the file name errors show, else `example.proc`), `args=A,B`.
//!   A block right after it fenced ```` ```output ```` is its whole stdout, and
//!   one fenced ```` ```stderr ```` its whole stderr; `[..]` in them stands
//!   for any text on that line (pids, times).
//! - ```` ```proc file=PATH ```` is a module: not run itself, it is written
//!   at PATH in the folder of the next runnable ```` ```proc ```` example
//!   (which imports it).
//! - ```` ```prompt ```` is a session at the prompt: `>>> ` lines are entries
//!   (`... ` continues one), the lines after an entry are what it printed and
//!   its echoed value; `error: MESSAGE` is an error's message.
//!
//! Scripts fork this process in prompt blocks (sessions run in-process), so
//! this file has its own `main` and stays single-threaded.

mod common;

use procscript::{Engine, Entry};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    info: String,
    /// How far the opening fence is indented (blocks inside list items are).
    indent: usize,
    text: String,
}

/// The fenced blocks of a Markdown file, with the line each starts on.
fn blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).expect("a doc file");
    let mut found = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    current = Some(Block {
                        file: path.display().to_string(),
                        line: i + 1,
                        info: info.trim().to_string(),
                        indent: line.len() - trimmed.len(),
                        text: String::new(),
                    });
                }
            }
            Some(block) => {
                if trimmed.starts_with("```") {
                    found.push(current.take().expect("a block"));
                } else {
                    // Blocks inside list items are indented; the indent is not code.
                    let strip = (line.len() - trimmed.len()).min(block.indent);
                    block.text.push_str(&line[strip..]);
                    block.text.push('\n');
                }
            }
        }
    }
    found
}

/// Whether `actual` matches `expected`, line by line, `[..]` matching any text.
fn matches(expected: &str, actual: &str) -> bool {
    let (expected, actual): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    expected.len() == actual.len()
        && expected
            .iter()
            .zip(&actual)
            .all(|(e, a)| line_matches(e, a))
}

fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("[..]").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let Some(mut rest) = actual.strip_prefix(parts[0]) else {
        return false;
    };
    for (i, part) in parts.iter().enumerate().skip(1) {
        if i == parts.len() - 1 {
            return rest.len() >= part.len() && rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn option<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.split_whitespace()
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

/// Runs a ```proc block; returns a failure message, or None.
fn run_script(
    block: &Block,
    modules: &[&Block],
    output: Option<&Block>,
    stderr: Option<&Block>,
) -> Option<String> {
    let dir = std::env::temp_dir().join(format!(
        "procscript-docs-{}-{}",
        std::process::id(),
        block.line
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder for the example");
    for module in modules {
        let path = dir.join(option(&module.info, "file").expect("a module's path"));
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("the module's folder");
        std::fs::write(path, &module.text).expect("write the module");
    }
    let name = option(&block.info, "name").unwrap_or("example.proc");
    std::fs::write(dir.join(name), &block.text).expect("write the example");
    // A hanging example fails (exit 124) instead of hanging the tests.
    let mut args = vec!["--timeout", "60", name];
    if let Some(list) = option(&block.info, "args") {
        args.extend(list.split(','));
    }
    let mut cmd = common::procscript(&args);
    // Examples that run `procscript` itself find it as a user's would after
    // `cargo run`: through $PROCSCRIPT, which the command sets; not on the PATH.
    cmd.current_dir(&dir).env_remove("PROCSCRIPT");
    let run = common::run(cmd);
    let _ = std::fs::remove_dir_all(&dir);
    let code: i32 = option(&block.info, "exit").map_or(0, |c| c.parse().expect("exit=N"));
    let mut problems = Vec::new();
    if run.code != code {
        problems.push(format!("exit code {} instead of {code}", run.code));
    }
    if let Some(output) = output {
        if !matches(&output.text, &run.stdout) {
            problems.push(format!("stdout differs:\n{}", run.stdout));
        }
    }
    match stderr {
        Some(stderr) if !matches(&stderr.text, &run.stderr) => {
            problems.push(format!("stderr differs:\n{}", run.stderr));
        }
        None if code == 0 && !run.stderr.is_empty() => {
            problems.push(format!("unexpected stderr:\n{}", run.stderr));
        }
        _ => {}
    }
    (!problems.is_empty()).then(|| problems.join("\n"))
}

/// Runs a ```prompt block through a session; returns a failure message, or None.
fn run_transcript(block: &Block) -> Option<String> {
    // Entries and what each should show.
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in block.text.lines() {
        if let Some(entry) = line.strip_prefix(">>> ") {
            entries.push((entry.to_string(), String::new()));
        } else if let Some(more) = line.strip_prefix("... ") {
            let last = entries.last_mut().expect("`... ` continues an entry");
            last.0.push('\n');
            last.0.push_str(more);
        } else {
            let last = entries.last_mut().expect("output follows an entry");
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    let printed = procscript::os::memory_file("docs").expect("a memory file");
    let writer: OwnedFd = printed.try_clone().expect("dup the memory file");
    let engine = Engine::new().print_to(writer);
    let mut session = engine.session();
    let mut seen = 0;
    let mut problems = Vec::new();
    for (entry, expected) in &entries {
        let result = session.run(entry);
        let all = procscript::os::read_memory_file(&printed).expect("read prints");
        let mut shown = String::from_utf8_lossy(&all[seen..]).into_owned();
        seen = all.len();
        match result {
            Entry::Done(None) => {}
            Entry::Done(Some(value)) => {
                shown.push_str(&value.to_repr());
                shown.push('\n');
            }
            Entry::Error(diag) => shown.push_str(&format!("error: {}\n", diag.message)),
            Entry::Interrupted => shown.push_str("interrupted\n"),
            Entry::Exit(code) => shown.push_str(&format!("exit: {code}\n")),
        }
        if !matches(expected, &shown) {
            problems.push(format!(">>> {entry}\nexpected:\n{expected}got:\n{shown}"));
        }
    }
    session.end();
    let left = common::children_of(std::process::id() as i32);
    if !left.is_empty() {
        problems.push(format!("processes left behind: {left:?}"));
    }
    (!problems.is_empty()).then(|| problems.join("\n"))
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Names the reference must show in a runnable example.
fn must_be_shown() -> Vec<String> {
    let mut names: Vec<String> = procscript::front::spec::names()
        .map(|n| format!("{n}("))
        .collect();
    names.extend(
        procscript::front::spec::methods()
            .iter()
            .map(|m| format!(".{}(", m.name)),
    );
    names.extend(
        procscript::front::parser::KEYWORDS
            .iter()
            .map(|k| k.to_string()),
    );
    for op in [
        " + ", " - ", " * ", " / ", " % ", " == ", " != ", " < ", " <= ", " > ", " >= ", "..",
        " += ", " -= ", " *= ", " /= ", " %= ", "[-1]", "-(",
    ] {
        names.push(op.to_string());
    }
    names
}

/// Whether `code` holds `name`; a keyword only as a whole word.
fn shows(code: &str, name: &str) -> bool {
    let is_word = name.chars().all(|c| c.is_ascii_alphabetic());
    if !is_word {
        return code.contains(name);
    }
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + name.len()..].chars().next();
        !before.is_some_and(word_char) && !after.is_some_and(word_char)
    })
}

fn main() {
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut reference_code = String::new();
    // Modules (```proc file=PATH) waiting for the example that imports them.
    let mut modules: Vec<&Block> = Vec::new();
    let files = doc_files();
    let blocks_of: Vec<Vec<Block>> = files.iter().map(|f| blocks(f)).collect();
    for (file, all) in files.iter().zip(&blocks_of) {
        for (i, block) in all.iter().enumerate() {
            let lang = block.info.split_whitespace().next().unwrap_or("");
            let after = |kind: &str| {
                all[i + 1..]
                    .iter()
                    .take(2)
                    .take_while(|b| b.info == "output" || b.info == "stderr")
                    .find(|b| b.info == kind)
            };
            if lang == "proc" && option(&block.info, "file").is_some() {
                modules.push(block);
                if file.ends_with("language.md") {
                    reference_code.push_str(&block.text);
                }
                continue;
            }
            let failure = match lang {
                "proc" => {
                    let written = std::mem::take(&mut modules);
                    run_script(block, &written, after("output"), after("stderr"))
                }
                "prompt" => run_transcript(block),
                _ => continue,
            };
            ran += 1;
            if file.ends_with("language.md") {
                reference_code.push_str(&block.text);
            }
            if let Some(why) = failure {
                failures.push(format!("{}:{}: {why}", block.file, block.line));
            }
        }
    }
    for name in must_be_shown() {
        if !shows(&reference_code, &name) {
            failures.push(format!(
                "docs/language.md: no runnable example shows `{}`",
                name.trim()
            ));
        }
    }
    for failure in &failures {
        println!("FAILED {failure}\n");
    }
    println!("{ran} doc examples run, {} failures", failures.len());
    std::process::exit(if failures.is_empty() { 0 } else { 1 });
}
