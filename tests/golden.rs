//! Golden tests: every `tests/cases/**/NAME.proc` and every `scripts/NAME.proc` runs through the
//! binary; exit code, stdout and stderr must match the checked-in transcript `NAME.out`.
//! Regenerate with `SNAPSHOTS=overwrite cargo test --test golden`; `[..]` in a transcript
//! matches any text on one line (used for pids).

mod common;

use snapbox::{Assert, Data};
use std::path::{Path, PathBuf};

/// A case's first line may be `#! args: a b c`: the script's command-line arguments.
fn case_args(text: &str) -> Vec<String> {
    text.lines()
        .next()
        .and_then(|line| line.strip_prefix("#! args:"))
        .map(|rest| rest.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn check(path: &Path, expected: PathBuf) -> datatest_stable::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let run = common::run_file(path, &case_args(&text));
    Assert::new()
        .action_env("SNAPSHOTS")
        .normalize_paths(false)
        .eq(run.transcript(), Data::read_from(&expected, None));
    Ok(())
}

fn case(path: &Path) -> datatest_stable::Result<()> {
    check(path, path.with_extension("out"))
}

/// Example scripts keep their transcripts apart, so `scripts/` holds only scripts.
fn script(path: &Path) -> datatest_stable::Result<()> {
    let name = path.file_stem().expect("a script name");
    let expected = Path::new("tests/scripts").join(name).with_extension("out");
    check(path, expected)
}

datatest_stable::harness! {
    { test = case, root = "tests/cases", pattern = r"\.proc$" },
    { test = script, root = "scripts", pattern = r"\.proc$" },
}
