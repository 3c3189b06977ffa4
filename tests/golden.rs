//! Golden tests: every `tests/cases/**/NAME.proc` and every `scripts/NAME.proc` runs through the
//! binary; exit code, stdout and stderr must match the checked-in transcript `NAME.out`.
//! Regenerate with `SNAPSHOTS=overwrite cargo test --test golden`; `[..]` in a transcript
//! matches any text on one line (used for pids).

mod common;

use snapbox::{Assert, Data};
use std::path::{Path, PathBuf};

/// The script's arguments, from leading comment lines `# test args: a b`.
/// (`#! options:` lines are not read here: procscript reads them itself.)
fn test_args(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|line| line.starts_with('#'))
        .filter_map(|line| line.strip_prefix("# test args:"))
        .flat_map(|rest| rest.split_whitespace().map(str::to_string))
        .collect()
}

fn check(path: &Path, expected: PathBuf) -> datatest_stable::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let run = common::run_file(path, &[], &test_args(&text));
    Assert::new()
        .action_env("SNAPSHOTS")
        .normalize_paths(false)
        .eq(run.transcript(), Data::read_from(&expected, None));
    Ok(())
}

/// A file in a `lib/` folder is a module that cases or scripts import, not
/// a case of its own: it runs as part of the files that import it.
fn is_module(path: &Path) -> bool {
    path.components().any(|part| part.as_os_str() == "lib")
}

fn case(path: &Path) -> datatest_stable::Result<()> {
    if is_module(path) {
        return Ok(());
    }
    check(path, path.with_extension("out"))
}

/// Example scripts keep their transcripts apart, so `scripts/` holds only scripts.
fn script(path: &Path) -> datatest_stable::Result<()> {
    if is_module(path) {
        return Ok(());
    }
    let name = path.file_stem().expect("a script name");
    let expected = Path::new("tests/scripts").join(name).with_extension("out");
    check(path, expected)
}

datatest_stable::harness! {
    { test = case, root = "tests/cases", pattern = r"\.proc$" },
    { test = script, root = "scripts", pattern = r"\.proc$" },
}
