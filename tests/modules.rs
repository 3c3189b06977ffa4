//! Modules across the command line: `--check` of imported files, a remote worker whose host has none of the module files, and code given with `-e` or on stdin.

mod common;

use common::{procscript, run, BIN};
use std::path::{Path, PathBuf};

/// A fresh folder holding `files` (path, text).
fn folder(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("modules-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> common::Run {
    let mut cmd = procscript(args);
    cmd.current_dir(dir);
    run(cmd)
}

#[test]
fn check_reports_an_error_in_an_imported_file_with_its_name() {
    let dir = folder(
        "check",
        &[
            (
                "main.proc",
                "import \"lib/util.proc\" as util\nprint(util.twice(2))\n",
            ),
            (
                "lib/util.proc",
                "print(\"module runs\")\nfn twice(n) {\n    return n * tow\n}\n",
            ),
        ],
    );
    let out = run_in(&dir, &["--check", "main.proc"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "", "--check runs nothing");
    assert!(
        out.stderr.contains("undefined variable `tow`")
            && out.stderr.contains("╭─[lib/util.proc:3:16]"),
        "{}",
        out.stderr
    );
    std::fs::write(
        dir.join("lib/util.proc"),
        "print(\"module runs\")\nfn twice(n) {\n    return n * 2\n}\n",
    )
    .unwrap();
    let out = run_in(&dir, &["--check", "main.proc"]);
    assert_eq!(out.transcript(), "exit: 0\n--- stdout\n--- stderr\n");
    let out = run_in(&dir, &["main.proc"]);
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\nmodule runs\n4\n--- stderr\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_remote_worker_compiles_the_modules_the_driver_sent() {
    // The "ssh" runs the worker on this machine, in an empty folder: it has
    // the script's modules only from the driver's hello.
    let dir = folder(
        "remote",
        &[
            ("remote-home/.keep", ""),
            (
                "project/lib/scale.proc",
                "let FACTOR = 10\nfn scale(n) { return n * FACTOR }\n",
            ),
        ],
    );
    let home = dir.join("remote-home");
    let script = format!(
        r#"import "lib/scale.proc" as scale
fn plus_one(n) {{ return scale.scale(n) + 1 }}
let hop = "shift; cd '{}' && exec \"$@\""
let p = pool(2, {{"on": "ssh", "hosts": ["h1"], "ssh": ["sh", "-c", hop, "fake-ssh"], "command": "{BIN}"}})
print(p.map(plus_one, [1, 2, 3]))
print(p.map(scale.scale, [4]))
p.close()
"#,
        home.display()
    );
    std::fs::write(dir.join("project/main.proc"), script).unwrap();
    let out = run_in(&dir, &["project/main.proc"]);
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\n[11, 21, 31]\n[40]\n--- stderr\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn code_on_the_command_line_or_stdin_imports_from_the_current_folder() {
    let dir = folder(
        "stdin",
        &[(
            "lib/greet.proc",
            "fn hello(who) { return \"hello \" + who }\n",
        )],
    );
    let code = "import \"lib/greet.proc\" as greet\nprint(greet.hello(\"you\"))\n";
    let out = run_in(&dir, &["-e", code]);
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\nhello you\n--- stderr\n"
    );
    let mut cmd = procscript(&["-"]);
    cmd.current_dir(&dir);
    let out = common::run_with_stdin(cmd, code);
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\nhello you\n--- stderr\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_path_going_up_two_folders_from_the_current_one_stays_two_folders_up() {
    // `../../top.proc` from a script in the current folder is two folders
    // up; a file of the same name here must not be taken instead.
    let dir = folder(
        "up",
        &[
            ("top.proc", "let WHERE = \"two folders up\"\n"),
            ("a/b/top.proc", "let WHERE = \"the current folder\"\n"),
            (
                "a/b/main.proc",
                "import \"../../top.proc\" as top\nprint(top.WHERE)\n",
            ),
        ],
    );
    let out = run_in(&dir.join("a/b"), &["main.proc"]);
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\ntwo folders up\n--- stderr\n"
    );
    let out = run_in(
        &dir.join("a/b"),
        &["-e", "import \"../../top.proc\" as top\nprint(top.WHERE)"],
    );
    assert_eq!(
        out.transcript(),
        "exit: 0\n--- stdout\ntwo folders up\n--- stderr\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn importing_a_fifo_is_refused_at_once_by_check_and_by_a_run() {
    // A module is a regular file: opening a FIFO with no writer blocked
    // `--check` (and the language server) until Ctrl-C.
    let dir = folder(
        "fifo",
        &[("main.proc", "import \"lib/pipe.proc\" as p\nprint(1)\n")],
    );
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    nix::unistd::mkfifo(&dir.join("lib/pipe.proc"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    for args in [&["--check", "main.proc"][..], &["main.proc"][..]] {
        let said = dir.join("stderr.txt");
        let child = procscript(args)
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&said).unwrap())
            .spawn()
            .expect("procscript starts");
        let code = common::end_within(
            child,
            std::time::Duration::from_secs(10),
            "import of a FIFO",
        );
        let stderr = std::fs::read_to_string(&said).unwrap();
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "cannot import lib/pipe.proc: not a regular file (a FIFO, device or socket)"
            ),
            "{args:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
