//! Golden tests: every `tests/cases/**/NAME.proc` and every `scripts/NAME.proc` runs through the
//! binary; exit code, stdout and stderr must match the checked-in transcript `NAME.out`.
//! Regenerate with `SNAPSHOTS=overwrite cargo test --test golden`; `[..]` in a transcript
//! matches any text on one line (used for pids).

mod common;

use snapbox::{Assert, Data};
use std::path::{Path, PathBuf};

/// Leading `#! args: a b` and `#! options: --max-procs 8` lines give the
/// script's arguments and procscript's own options.
fn directive(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .take_while(|line| line.starts_with("#!"))
        .filter_map(|line| line.strip_prefix("#!")?.trim().strip_prefix(name))
        .flat_map(|rest| rest.split_whitespace().map(str::to_string))
        .collect()
}

fn check(path: &Path, expected: PathBuf) -> datatest_stable::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let run = common::run_file(
        path,
        &directive(&text, "options:"),
        &directive(&text, "args:"),
    );
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
