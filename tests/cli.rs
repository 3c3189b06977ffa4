//! The command line: modes, exit codes, stdin, bad usage, and output to a closed pipe.

mod common;

use common::{procscript, run, run_code};
use std::io::{Read, Write};
use std::process::Stdio;

#[test]
fn help_lists_every_option_with_examples() {
    let out = run(procscript(&["--help"]));
    assert_eq!(out.code, 0);
    for needle in [
        "-e <CODE>",
        "--check",
        "--version",
        "Examples:",
        "Exit codes:",
    ] {
        assert!(
            out.stdout.contains(needle),
            "--help lacks {needle}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn version_prints_the_crate_version() {
    let out = run(procscript(&["--version"]));
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, concat!("procscript ", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn inline_code_gets_every_positional_argument() {
    let out = run(procscript(&["-e", "print(args)", "a", "--b", "-c"]));
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\n[\"a\", \"--b\", \"-c\"]\n--- stderr\n"
    );
}

#[test]
fn script_arguments_may_look_like_options() {
    let dir = tempdir();
    let path = dir.join("a.proc");
    std::fs::write(&path, "print(args)\n").unwrap();
    let out = run(procscript(&[path.to_str().unwrap(), "--check", "-e", "x"]));
    assert_eq!(out.stdout, "[\"--check\", \"-e\", \"x\"]\n");
}

fn with_stdin(args: &[&str], input: &str) -> common::Run {
    let mut cmd = procscript(args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let group = child.id() as i32;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    common::assert_no_leftovers(group);
    common::to_run(output)
}

#[test]
fn dash_reads_the_script_from_stdin() {
    let out = with_stdin(&["-", "x"], "print(\"from stdin\", args)\n");
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\nfrom stdin [\"x\"]\n--- stderr\n"
    );
}

#[test]
fn no_arguments_and_piped_stdin_runs_stdin() {
    let out = with_stdin(&[], "print(1 + 1)\n");
    assert_eq!(out.stdout, "2\n");
}

#[test]
fn errors_in_stdin_scripts_name_stdin() {
    let out = with_stdin(&["-"], "print(nope)\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("<stdin>:1:7"), "{}", out.stderr);
}

#[test]
fn check_runs_nothing_and_exits_zero() {
    let out = run_code_with(&["--check", "-e", "print(\"ran\")"]);
    assert_eq!(out.transcript(), "exit: 0\n--- stdout\n--- stderr\n");
}

#[test]
fn check_reports_errors_with_exit_two() {
    let out = run_code_with(&["--check", "-e", "print(undefined_name)"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("undefined variable `undefined_name`"),
        "{}",
        out.stderr
    );
}

fn run_code_with(args: &[&str]) -> common::Run {
    run(procscript(args))
}

#[test]
fn exit_codes_follow_the_outcome() {
    assert_eq!(run_code("print(1)").code, 0);
    assert_eq!(run_code("exit(7)").code, 7);
    assert_eq!(run_code("exit()").code, 0);
    assert_eq!(run_code("error(\"x\")").code, 1);
    assert_eq!(run_code("let = 1").code, 2);
    assert_eq!(run_code("print(undefined)").code, 2);
}

#[test]
fn missing_file_is_a_usage_error() {
    let out = run(procscript(&["/nonexistent/dir/script.proc"]));
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "procscript: cannot read /nonexistent/dir/script.proc: no such file\n"
    );
}

#[test]
fn non_utf8_file_is_a_usage_error() {
    let dir = tempdir();
    let path = dir.join("latin1.proc");
    std::fs::write(&path, b"print(\"caf\xe9\")\n").unwrap();
    let out = run(procscript(&[path.to_str().unwrap()]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("is not UTF-8 text (invalid byte at offset 10)"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_option_is_a_usage_error() {
    let out = run(procscript(&["--no-such-option"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--no-such-option"), "{}", out.stderr);
}

#[test]
fn no_colour_when_stderr_is_not_a_terminal() {
    let mut cmd = procscript(&["-e", "print(1 + nil)"]);
    cmd.env_remove("NO_COLOR");
    let out = run(cmd);
    assert_eq!(out.code, 1);
    assert!(
        !out.stderr.contains('\x1b'),
        "colour codes in a pipe: {:?}",
        out.stderr
    );
}

#[test]
fn errors_never_show_a_rust_backtrace() {
    let mut cmd = procscript(&["-e", "fn f(n) { return f(n + 1) }\nf(0)"]);
    cmd.env("RUST_BACKTRACE", "1");
    let out = run(cmd);
    assert_eq!(out.code, 1);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!out.stderr.contains("stack backtrace"), "{}", out.stderr);
}

#[test]
fn closed_stdout_ends_quietly() {
    let mut cmd = procscript(&["-e", "for i in 0..1000000 { print(i) }"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let group = child.id() as i32;
    let mut first = [0u8; 2];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The reader is gone now, like `procscript ... | head -1`.
    let output = child.wait_with_output().unwrap();
    common::assert_no_leftovers(group);
    let out = common::to_run(output);
    assert_eq!(&first, b"0\n");
    assert_eq!((out.code, out.stderr.as_str()), (141, ""));
}

/// A fresh folder under the target directory (no extra crate needed).
fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
