//! The command line: modes, exit codes, stdin, bad usage, and output to a closed pipe.

mod common;

use common::{procscript, run, run_code};
use std::io::{Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::process::Stdio;

#[test]
fn help_lists_every_option_with_examples() {
    let out = run(procscript(&["--help"]));
    assert_eq!(out.code, 0);
    for needle in [
        "-e <CODE>",
        "--check",
        "--version",
        "procscript lsp",
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
    common::run_with_stdin(procscript(args), input)
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

/// Asserts that stderr holds `words`, showing all of it when not.
fn assert_said(out: &common::Run, words: &str) {
    assert!(
        out.stderr.contains(words),
        "no {words:?} in:\n{}",
        out.stderr
    );
}

/// Runs `procscript ARGS` in `dir` with `input` on stdin (not a terminal).
fn in_dir_with_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> common::Run {
    let mut cmd = procscript(args);
    cmd.current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let group = child.id() as i32;
    let mut stdin = child.stdin.take().unwrap();
    // The command may refuse before reading stdin: a closed pipe is fine.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    common::assert_no_leftovers(group);
    common::to_run(output)
}

#[test]
fn a_view_file_must_be_given_with_an_equals_sign() {
    let dir = tempdir();
    std::fs::write(dir.join("hello.proc"), "print(\"hello\")\n").unwrap();
    for option in ["--timeline", "--trace"] {
        let out = in_dir_with_stdin(&dir, &[option, "hello.proc"], "print(1)\n");
        assert_eq!(out.code, 2, "{option}: {}", out.stderr);
        assert!(
            out.stdout.is_empty(),
            "{option} ran something: {}",
            out.stdout
        );
        assert!(
            out.stderr.contains(&format!("'{option}=")),
            "{option}: {}",
            out.stderr
        );
        let script = std::fs::read_to_string(dir.join("hello.proc")).unwrap();
        assert_eq!(
            script, "print(\"hello\")\n",
            "{option} wrote over the script"
        );
    }
}

#[test]
fn a_view_never_writes_over_a_script() {
    let dir = tempdir();
    std::fs::write(dir.join("other.proc"), "print(2)\n").unwrap();
    let out = in_dir_with_stdin(&dir, &["--trace=other.proc", "-e", "print(1)"], "");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "", "nothing runs");
    assert_eq!(
        out.stderr,
        "procscript: --trace other.proc would write over a script (a name ending in .proc); \
         give the view its own file, such as --trace=run.json\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("other.proc")).unwrap(),
        "print(2)\n"
    );
}

#[test]
fn views_replace_their_file_whole_through_a_temporary_file() {
    let dir = tempdir();
    std::fs::write(dir.join("kept.txt"), "old").unwrap();
    std::os::unix::fs::symlink("kept.txt", dir.join("t.json")).unwrap();
    let out = in_dir_with_stdin(&dir, &["--trace=t.json", "-e", "join spawn print(1)"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The link is followed, as a shell's `>` would: the link stays, and the
    // file it names is replaced whole by a new file renamed into place.
    assert!(std::fs::symlink_metadata(dir.join("t.json"))
        .unwrap()
        .is_symlink());
    let json = std::fs::read_to_string(dir.join("kept.txt")).unwrap();
    assert!(json.contains("traceEvents") && json.trim_end().ends_with('}'));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["kept.txt", "t.json"], "no temporary file is left");
}

#[test]
fn a_view_into_a_fifo_or_device_is_written_into_never_replaced() {
    let dir = tempdir();
    let fifo = dir.join("view.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    // A reader, as `cat fifo` would be; it ends when the writer closes.
    let reader = std::process::Command::new("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = in_dir_with_stdin(&dir, &["--trace=view.fifo", "-e", "print(1)"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let read = reader.wait_with_output().unwrap();
    let json = String::from_utf8_lossy(&read.stdout);
    assert!(json.contains("traceEvents"), "the reader got: {json}");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    // And /dev/null stays the device (before, as root, it became a plain file).
    let out = in_dir_with_stdin(&dir, &["--trace=/dev/null", "-e", "print(1)"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn a_view_in_a_folder_that_cannot_take_it_runs_nothing() {
    let dir = tempdir();
    std::fs::write(dir.join("plain"), "").unwrap();
    let marker = dir.join("ran");
    let code = format!("write_file({:?}, \"x\")", marker.to_str().unwrap());
    let cases = [
        (
            "--trace=missing/t.json",
            "cannot write --trace missing/t.json: no such folder missing",
        ),
        (
            "--timeline=plain/t.svg",
            "cannot write --timeline plain/t.svg: not a folder plain",
        ),
        ("--timeline=.", "cannot write --timeline .: it is a folder"),
    ];
    for (option, message) in cases {
        let out = in_dir_with_stdin(&dir, &[option, "-e", &code], "");
        assert_eq!(
            (out.code, out.stderr.as_str()),
            (2, format!("procscript: {message}\n").as_str())
        );
        assert!(!marker.exists(), "{option}: the script ran");
    }
}

#[test]
fn a_view_that_fails_to_be_written_after_the_run_is_exit_1() {
    let dir = tempdir();
    let views = dir.join("views");
    std::fs::create_dir(&views).unwrap();
    let code = format!("run(\"rmdir\", {:?})", views.to_str().unwrap());
    let out = in_dir_with_stdin(&dir, &["--trace=views/t.json", "-e", &code], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("procscript: cannot write views/t.json: "),
        "{}",
        out.stderr
    );
}

#[test]
fn a_mistyped_option_gets_a_suggestion_not_a_missing_file() {
    let out = run(procscript(&["--treee", "x.proc"]));
    assert_eq!(out.code, 2);
    assert_said(&out, "unexpected argument '--treee'");
    assert_said(&out, "'--tree'");
    assert!(!out.stderr.contains("no such file"), "{}", out.stderr);
}

#[test]
fn everything_after_the_script_goes_to_it_untouched() {
    let dir = tempdir();
    std::fs::write(dir.join("x.proc"), "print(args)\n").unwrap();
    let out = in_dir_with_stdin(
        &dir,
        &["x.proc", "--verbose", "-n", "3", "--", "--tree"],
        "",
    );
    assert_eq!(
        out.stdout,
        "[\"--verbose\", \"-n\", \"3\", \"--\", \"--tree\"]\n"
    );
    // `--` ends procscript's options: a script whose name starts with `-`.
    std::fs::write(dir.join("-x.proc"), "print(args)\n").unwrap();
    let out = in_dir_with_stdin(&dir, &["--", "-x.proc", "-e"], "");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "[\"-e\"]\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn timeout_takes_fractions_of_a_second() {
    let started = std::time::Instant::now();
    let out = run(procscript(&[
        "--timeout",
        "0.5",
        "-e",
        "join spawn sleep(10)",
    ]));
    let took = started.elapsed();
    assert_eq!(out.code, 124, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "procscript: stopped after --timeout 0.5 seconds; every process of the script was stopped\n"
    );
    assert!(took < std::time::Duration::from_secs(3), "took {took:?}");
    let out = run(procscript(&["--timeout", "0", "-e", "print(1)"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn a_script_gives_its_own_options_and_the_command_line_wins() {
    let dir = tempdir();
    let script = "#!/usr/bin/env procscript\n#! options: --max-procs 1 --tree\n\
                  try { join spawn print(\"spawned\") } catch e { print(\"refused\") }\n";
    std::fs::write(dir.join("x.proc"), script).unwrap();
    let out = in_dir_with_stdin(&dir, &["x.proc"], "");
    assert_eq!(out.stdout, "refused\n", "{}", out.stderr);
    assert!(
        out.stderr.starts_with("processes that ran:"),
        "{}",
        out.stderr
    );
    let out = in_dir_with_stdin(&dir, &["--max-procs", "4", "x.proc"], "");
    assert_eq!(out.stdout, "spawned\n", "{}", out.stderr);
}

#[test]
fn a_script_may_not_ask_for_a_file_or_an_unknown_option() {
    let dir = tempdir();
    let cases = [
        (
            "--trace=t.json",
            "--trace may be given on the command line only",
        ),
        ("--check", "--check may be given on the command line only"),
        ("--max-procs 0", "invalid value '0' for '--max-procs <N>'"),
        ("--tre", "a similar argument exists: '--tree'"),
    ];
    for (header, words) in cases {
        let script = format!("#! options: {header}\nprint(\"ran\")\n");
        std::fs::write(dir.join("x.proc"), script).unwrap();
        let out = in_dir_with_stdin(&dir, &["x.proc"], "");
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{header}");
        assert_said(
            &out,
            "procscript: x.proc: in the script's `#! options:` line: ",
        );
        assert_said(&out, words);
    }
    assert!(!dir.join("t.json").exists());
}

#[test]
fn the_fork_bomb_run_as_documented_stays_small() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fork_bomb.proc");
    let started = std::time::Instant::now();
    let out = run(procscript(&[script.to_str().unwrap()]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_said(&out, "the script already has 16 live processes");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn benchmarks_build_their_own_profile_and_release_builds_fast() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let section = |name: &str| {
        let start = manifest.find(&format!("[profile.{name}]")).expect(name);
        let rest = &manifest[start + 1..];
        rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
    };
    let release = section("release");
    assert!(
        !release.lines().any(|line| line.starts_with("lto")),
        "{release}"
    );
    let dist = section("dist");
    for line in ["inherits = \"release\"", "lto = true", "codegen-units = 1"] {
        assert!(dist.contains(line), "[profile.dist] lacks {line}");
    }
    // The benchmarks build through the alias the README installs with: the
    // dist profile, linked statically (by the final link alone).
    let runner = std::fs::read_to_string(root.join("benches/run.py")).unwrap();
    assert!(
        runner.contains("[\"cargo\", \"dist-static\"]")
            && runner.contains("\"dist\" / \"procscript\""),
        "benches/run.py builds with `cargo dist-static` and runs target/dist/procscript"
    );
    let config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    let alias = config
        .lines()
        .find(|line| line.starts_with("dist-static = "))
        .expect("the dist-static alias");
    for part in [
        "\"rustc\", \"--profile\", \"dist\", \"--bin\", \"procscript\"",
        "\"target-feature=+crt-static\"",
    ] {
        assert!(alias.contains(part), "{alias} lacks {part}");
    }
}

#[test]
fn scripts_find_their_interpreter_in_procscript_variable() {
    // Not on the PATH (as after `cargo run`): $PROCSCRIPT names the binary.
    let mut cmd = common::procscript(&[
        "-e",
        "print(trim(capture(env(\"PROCSCRIPT\"), \"-e\", \"print(40 + 2)\")))\nprint(run(\"sh\", \"-c\", \"\\\"$PROCSCRIPT\\\" -e 'exit(3)'\"))",
    ]);
    cmd.env("PATH", "/usr/bin:/bin").env_remove("PROCSCRIPT");
    let run = common::run(cmd);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "42\n3\n", "")
    );
}

/// What `procscript -e script` shows on a pty 40 columns wide (set before
/// procscript starts, so no race), with line-clearing codes taken out.
fn on_a_40_column_terminal(script: &str) -> String {
    use expectrl::{Eof, Expect};
    let mut cmd = std::process::Command::new("sh");
    // The pty's size is set to 80x24 by the spawning side after the fork, so
    // a size set by the child could be undone: the test sets it once spawn
    // has returned, and the shell waits until it shows before procscript starts.
    cmd.args([
        "-c",
        "until [ \"$(stty size)\" = \"10 40\" ]; do sleep 0.01; done; exec \"$0\" -e \"$1\"",
        common::BIN,
        script,
    ])
    .env("NO_COLOR", "1");
    let mut p = expectrl::Session::spawn(cmd).expect("procscript starts on a pty");
    p.get_process_mut()
        .set_window_size(40, 10)
        .expect("set the window size");
    p.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    let found = p.expect(Eof).expect("the script ends");
    let all = String::from_utf8_lossy(&[found.before(), found.get(0).unwrap_or_default()].concat())
        .replace("\x1b[K", "")
        .replace("\r\n", "\n");
    all
}

#[test]
fn a_progress_bar_fits_the_terminal_and_ends_its_line_before_a_print() {
    let script = "let label = \"a label much wider than this narrow terminal is, and then some\"\n\
                  for i in 0..3 { progress(i, 3, label) }\n\
                  print(\"a line of its own\")\n\
                  progress(3, 3, label)";
    let all = on_a_40_column_terminal(script);
    // Every redraw (\r) and line (\n) fits in 39 columns: none wraps.
    for segment in all.split(['\r', '\n']) {
        assert!(segment.chars().count() <= 39, "{segment:?} in {all:?}");
    }
    assert!(all.contains("\na line of its own\n"), "{all:?}");
    assert!(all.ends_with("100% …\n"), "{all:?}");
}

#[test]
fn a_progress_bar_measures_columns_and_ends_its_line_when_the_script_ends() {
    // Wide characters take two columns each; a tab would move the cursor.
    let script = "progress(1, 3, \"\u{65e5}\u{672c}\u{8a9e}\" * 10 + \"\\tend\")\n\
                  run(\"echo\", \"from echo\")\n\
                  progress(2, 3, \"again\")\nexit(3)";
    let all = on_a_40_column_terminal(script);
    for segment in all.split(['\r', '\n']) {
        let columns = unicode_width::UnicodeWidthStr::width(segment);
        assert!(columns <= 39, "{columns} columns: {segment:?} in {all:?}");
        assert!(!segment.contains('\t'), "{segment:?}");
    }
    // A program's output starts a line of its own, and the unfinished bar's
    // line is ended before the shell's prompt comes.
    assert!(all.contains("\nfrom echo\n"), "{all:?}");
    assert!(all.ends_with('\n'), "{all:?}");
}

/// An error report that stderr cannot take (a full disk) ends the run with
/// the script's exit code, not a panic of the interpreter.
#[test]
fn an_error_with_a_full_stderr_exits_1_without_a_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full opens");
    let mut cmd = common::procscript(&["-e", "error(\"boom\")"]);
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(full)
        .spawn()
        .expect("procscript starts");
    let group = child.id() as i32;
    let out = child.wait_with_output().expect("wait for procscript");
    common::assert_no_leftovers(group);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}

#[test]
fn the_trace_and_the_timeline_may_not_share_a_file() {
    let dir = tempdir();
    let out = in_dir_with_stdin(
        &dir,
        &["--trace=v.json", "--timeline=v.json", "-e", "print(1)"],
        "",
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            2,
            "",
            "procscript: --trace and --timeline both name v.json; give each view its own file\n"
        )
    );
    assert!(!dir.join("v.json").exists());
}
