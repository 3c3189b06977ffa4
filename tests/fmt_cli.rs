//! `procscript fmt` as a user runs it (in place, `--check`, `-`, a syntax error), and every golden case and example script, formatted, still running as its transcript says.

mod common;

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const MESSY: &str = "let x=1;print( x+1 )\nif x>0 { print(\"big\") }   # why\n";
const TIDY: &str = "let x = 1\nprint(x + 1)\nif x > 0 {\n    print(\"big\")\n}  # why\n";

/// A fresh empty folder for one test.
fn scratch(tag: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fmt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Runs `procscript fmt ARGS` in `dir`.
fn fmt(dir: &Path, args: &[&str]) -> common::Run {
    let mut all = vec!["fmt"];
    all.extend(args);
    let mut cmd = common::procscript(&all);
    cmd.current_dir(dir);
    common::run(cmd)
}

/// Runs `procscript fmt ARGS` with `input` on stdin.
fn fmt_stdin(args: &[&str], input: &str) -> common::Run {
    let mut all = vec!["fmt"];
    all.extend(args);
    let mut cmd = common::procscript(&all);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procscript starts");
    let group = child.id() as i32;
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    // A usage mistake (`fmt - -`) ends before reading: its stdin is closed
    // then, and the write's broken pipe is part of what is tested, not a fault.
    match stdin.write_all(input.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.expect("stdin takes the script"),
    }
    drop(stdin);
    let output = child.wait_with_output().expect("procscript ends");
    common::assert_no_leftovers(group);
    common::to_run(output)
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(path).expect("a file")
}

#[test]
fn files_are_rewritten_in_place_and_tidy_ones_left_as_they_are() {
    let dir = scratch("in-place");
    std::fs::write(dir.join("messy.proc"), MESSY).unwrap();
    std::fs::write(dir.join("tidy.proc"), TIDY).unwrap();
    let out = fmt(&dir, &["messy.proc", "tidy.proc"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(read(dir.join("messy.proc")), TIDY);
    assert_eq!(read(dir.join("tidy.proc")), TIDY);
    // The formatted script runs as the messy one did.
    let ran = common::run_file(&dir.join("messy.proc"), &[], &[]);
    assert_eq!((ran.code, ran.stdout.as_str()), (0, "2\nbig\n"));
}

#[test]
fn check_lists_the_files_that_would_change_and_changes_nothing() {
    let dir = scratch("check");
    std::fs::create_dir_all(dir.join("lib/deep")).unwrap();
    std::fs::write(dir.join("lib/a.proc"), MESSY).unwrap();
    std::fs::write(dir.join("lib/b.proc"), TIDY).unwrap();
    std::fs::write(dir.join("lib/deep/c.proc"), MESSY).unwrap();
    std::fs::write(dir.join("lib/notes.txt"), MESSY).unwrap();
    std::os::unix::fs::symlink("..", dir.join("lib/deep/up")).unwrap();
    let out = fmt(&dir, &["--check", "lib"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (1, "lib/a.proc\nlib/deep/c.proc\n", "")
    );
    assert_eq!(read(dir.join("lib/a.proc")), MESSY);
    // A folder means its `.proc` files, at any depth (links to folders, such
    // as that loop, are not followed); other files are not touched.
    let out = fmt(&dir, &["lib"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert_eq!(read(dir.join("lib/deep/c.proc")), TIDY);
    assert_eq!(read(dir.join("lib/notes.txt")), MESSY);
    let out = fmt(&dir, &["--check", "lib", "lib/b.proc"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn a_dash_formats_stdin_to_stdout() {
    let out = fmt_stdin(&["-"], MESSY);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, TIDY, "")
    );
    let out = fmt_stdin(&["--check", "-"], MESSY);
    assert_eq!((out.code, out.stdout.as_str()), (1, "<stdin>\n"));
    let out = fmt_stdin(&["--check", "-"], TIDY);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
}

#[test]
fn a_file_that_does_not_parse_is_reported_as_check_reports_it_and_left_alone() {
    let dir = scratch("syntax");
    let broken = "print(1)\nlet x = 1 2\n";
    std::fs::write(dir.join("broken.proc"), broken).unwrap();
    std::fs::write(dir.join("messy.proc"), MESSY).unwrap();
    let out = fmt(&dir, &["broken.proc", "messy.proc"]);
    let mut check = common::procscript(&["--check", "broken.proc"]);
    check.current_dir(&dir);
    let checked = common::run(check);
    assert_eq!(checked.code, 2);
    assert!(
        checked.stderr.contains("broken.proc:2:11"),
        "{}",
        checked.stderr
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (2, "", checked.stderr.as_str())
    );
    assert_eq!(read(dir.join("broken.proc")), broken);
    // The other files are still formatted.
    assert_eq!(read(dir.join("messy.proc")), TIDY);
    let out = fmt_stdin(&["-"], broken);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert!(out.stderr.contains("<stdin>:2:11"), "{}", out.stderr);
}

#[test]
fn usage_mistakes_exit_2_and_help_says_what_fmt_does() {
    let dir = scratch("usage");
    let out = fmt(&dir, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    // The usage line names the whole command (it said `Usage: fmt`).
    let out = fmt(&dir, &["--bogus"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Usage: procscript fmt [OPTIONS] <FILE>..."),
        "{}",
        out.stderr
    );
    // stdin read twice gave the script, then an empty one.
    let out = fmt_stdin(&["-", "-"], "print(1)\n");
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (2, "", "procscript fmt: `-` (stdin) may be given once\n")
    );
    let out = fmt(&dir, &["missing.proc"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            2,
            "procscript fmt: cannot read missing.proc: no such file\n"
        )
    );
    let out = fmt(&dir, &["--help"]);
    assert_eq!(out.code, 0);
    for words in [
        "--check",
        "4-space blocks",
        "Long lines are not wrapped",
        "Exit codes",
    ] {
        assert!(out.stdout.contains(words), "{words}: {}", out.stdout);
    }
    let out = common::run(common::procscript(&["--help"]));
    assert!(
        out.stdout.contains("procscript fmt hello.proc"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_example_scripts_are_formatted() {
    let out = fmt(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["--check", "scripts"],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "")
    );
}

/// A transcript with what formatting may move taken out: `NAME.proc:LINE:COL`
/// and `line N` positions, and the source lines a diagnostic quotes.
fn without_positions(transcript: &str) -> String {
    let position = fancy_regex::Regex::new(r"\.proc:\d+:\d+").expect("a regex");
    let line = fancy_regex::Regex::new(r"\bline \d+").expect("a regex");
    let quoted = fancy_regex::Regex::new(r"^\s*(\d+\s*)?[│·╭╰]").expect("a regex");
    let kept: Vec<&str> = transcript
        .lines()
        .filter(|line| !quoted.is_match(line).unwrap_or(false))
        .collect();
    let kept = position
        .replace_all(&kept.join("\n"), ".proc:L:C")
        .into_owned();
    line.replace_all(&kept, "line L").into_owned()
}

/// Copies the folder `from` with all it holds into `to`.
fn copy_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("a folder") {
        let path = entry.expect("an entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("a folder");
            copy_files(&path, &target);
        } else if path.is_file() {
            std::fs::copy(&path, target).expect("a copy");
        }
    }
}

/// Each golden case and example script that formatting changes runs, formatted,
/// from a copy of its folder, and must match its transcript (positions aside).
#[test]
fn every_golden_case_still_passes_when_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scripts = Vec::new();
    for dir in ["tests/cases", "scripts"] {
        let mut stack = vec![root.join(dir)];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(&folder).expect("a folder") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "proc") {
                    scripts.push(path);
                }
            }
        }
    }
    scripts.sort();
    let (mut changed, mut failures) = (0, Vec::new());
    for path in scripts {
        let text = read(path.clone());
        let Ok(formatted) = procscript::fmt::format_source(&text) else {
            continue; // a case of a syntax error
        };
        if formatted == text {
            continue; // golden.rs runs it as it is
        }
        changed += 1;
        let name = path.file_name().expect("a name");
        let expected = match path.parent().and_then(Path::file_name) {
            Some(folder) if folder == "scripts" && path.starts_with(root.join("scripts")) => {
                root.join("tests/scripts").join(name).with_extension("out")
            }
            _ => path.with_extension("out"),
        };
        let copy = scratch(&format!("case-{changed}"));
        copy_files(path.parent().expect("a folder"), &copy);
        std::fs::write(copy.join(name), &formatted).unwrap();
        let args: Vec<String> = text
            .lines()
            .take_while(|line| line.starts_with('#'))
            .filter_map(|line| line.strip_prefix("# test args:"))
            .flat_map(|rest| rest.split_whitespace().map(str::to_string))
            .collect();
        let ran = common::run_file(&copy.join(name), &[], &args);
        let actual = snapbox::Data::text(without_positions(&ran.transcript()));
        let wanted = snapbox::Data::text(without_positions(&read(expected)));
        let assert = snapbox::Assert::new().normalize_paths(false);
        if let Err(diff) = assert.try_eq(Some(&path.display()), actual, wanted) {
            eprintln!("{}:\n{formatted}\n{diff}", path.display());
            failures.push(path.display().to_string());
        }
        let _ = std::fs::remove_dir_all(&copy);
    }
    assert!(changed > 20, "only {changed} scripts change when formatted");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs the binary with ARGS under a 4 GB address-space limit, stdin from
/// `stdin`: reading an endless file must stop at a script's size limit,
/// never run out of memory.
fn run_bounded(args: &str, stdin: &str) -> common::Run {
    let line = format!("ulimit -v 4000000; exec '{}' {args} < {stdin}", common::BIN);
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", &line])
        .env("NO_COLOR", "1")
        .process_group(0);
    common::run(cmd)
}

#[test]
fn an_endless_file_or_stdin_is_refused_at_the_size_limit() {
    let too_large = format!("larger than a script may be ({} bytes)", 32 * 1024 * 1024);
    for (args, stdin, starts) in [
        (
            "fmt /dev/zero",
            "/dev/null",
            "procscript fmt: cannot read /dev/zero: ",
        ),
        (
            "fmt --check /dev/zero",
            "/dev/null",
            "procscript fmt: cannot read /dev/zero: ",
        ),
        (
            "fmt -",
            "/dev/zero",
            "procscript fmt: cannot read the script from stdin: ",
        ),
        (
            "/dev/zero",
            "/dev/null",
            "procscript: cannot read /dev/zero: ",
        ),
        (
            "--check /dev/zero",
            "/dev/null",
            "procscript: cannot read /dev/zero: ",
        ),
        (
            "-",
            "/dev/zero",
            "procscript: cannot read the script from stdin: ",
        ),
    ] {
        let out = run_bounded(args, stdin);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (2, "", format!("{starts}{too_large}\n").as_str()),
            "procscript {args} < {stdin}"
        );
    }
}

#[test]
fn a_folder_walk_passes_over_a_fifo_named_like_a_script() {
    // Opening a FIFO waits for a writer: a walk that read one hung for ever.
    let dir = scratch("fifo");
    std::fs::create_dir_all(dir.join("tree")).unwrap();
    std::fs::write(dir.join("tree/messy.proc"), MESSY).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("tree/pipe.proc"))
        .status()
        .unwrap();
    assert!(made.success());
    let line = format!("exec timeout -s KILL 60 '{}' fmt --check tree", common::BIN);
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", &line])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .process_group(0);
    let out = common::run(cmd);
    assert_eq!(
        out.transcript(),
        "exit: 1\n--- stdout\ntree/messy.proc\n--- stderr\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
