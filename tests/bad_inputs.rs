//! Hostile and malformed scripts: every one ends with a diagnostic and exit code 1 or 2
//! (or runs, when a truncation happens to be valid), never a panic, a Rust backtrace, a
//! hang, or a process left behind.

mod common;

use common::{procscript, run};
use std::path::PathBuf;

/// What a case may end with.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// An error: exit 1 or 2, with a diagnostic.
    Error,
    /// Anything but a crash (a truncated script may still be valid).
    NoCrash,
}

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bad-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn check(name: &str, source: &[u8], expect: Expect) {
    let path = dir().join(format!("{name}.proc"));
    std::fs::write(&path, source).unwrap();
    let mut cmd = procscript(&[
        "--max-procs",
        "8",
        "--timeout",
        "20",
        path.to_str().unwrap(),
    ]);
    cmd.env("RUST_BACKTRACE", "1");
    let out = run(cmd);
    let shown = String::from_utf8_lossy(&source[..source.len().min(120)]).into_owned();
    for bad in [
        "panicked",
        "stack backtrace",
        "overflowed its stack",
        "RUST_BACKTRACE",
        "fatal runtime error",
    ] {
        assert!(
            !out.stderr.contains(bad),
            "{name} ({shown:?}) crashed:\n{}",
            out.stderr
        );
    }
    assert!(out.code != 124, "{name} ({shown:?}) did not finish");
    match expect {
        Expect::Error => {
            assert!(
                matches!(out.code, 1 | 2),
                "{name} ({shown:?}) exited {}:\n{}",
                out.code,
                out.stderr
            );
            assert!(
                out.stderr.contains('×') || out.stderr.starts_with("procscript: "),
                "{name} ({shown:?}) gave no diagnostic:\n{}",
                out.stderr
            );
        }
        Expect::NoCrash => assert!(matches!(out.code, 0..=2), "{name} exited {}", out.code),
    }
    if out.code != 0 && out.stderr.contains('×') {
        // A diagnostic with a place says where: file:line:col.
        assert!(
            out.stderr.contains(&format!("{name}.proc:")),
            "{name}: no location:\n{}",
            out.stderr
        );
    }
}

/// Token ends of a script: after every run of word characters and every other character.
fn token_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let word = c.is_alphanumeric() || c == '_';
        let next_word = chars
            .peek()
            .is_some_and(|(_, n)| n.is_alphanumeric() || *n == '_');
        let inside_word = word && next_word;
        if !inside_word && !c.is_whitespace() {
            ends.push(i + c.len_utf8());
        }
    }
    ends
}

#[test]
fn truncations_of_a_real_script_at_every_token() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bank.proc")).unwrap();
    let ends = token_ends(&text);
    assert!(ends.len() > 100);
    for (n, end) in ends.iter().enumerate() {
        check(
            &format!("truncated{n}"),
            &text.as_bytes()[..*end],
            Expect::NoCrash,
        );
    }
}

#[test]
fn malformed_syntax() {
    let cases: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "(]",
        "[)",
        "{)",
        "print((1)",
        "print(1))",
        "[1, 2",
        "{\"a\": 1",
        "fn f( { }",
        "fn f() {",
        "if true { } else",
        "while",
        "for x in",
        "for in x {}",
        "let",
        "let x",
        "let x =",
        "x +",
        "1 +* 2",
        "@",
        "$x",
        "`cmd`",
        "x := 1",
        "a ? b : c",
        "print(\"unterminated",
        "print(\"bad \\q\")",
        "\"{\"",
        "\"{1 +}\"",
        "\"}\"{",
        "let 1x = 2",
        "fn 1() {}",
        "return",
        "break",
        "continue",
        "spawn 3",
        "spawn f",
        "join",
        "join(1,)",
        "99999999999999999999999",
        "1e999",
        "x[",
        "x.",
        "..",
        "1..",
        "not",
        "-",
        "fn",
        "try { }",
        "try { } catch",
        "catch e { }",
        "else { }",
        ";;;;)",
        "print(1) print(2)",
        "\u{1}",
        "\u{7f}",
        "let é = 1",
        "print(1)\u{0}",
        "\u{feff}print(1)",
        "/* comment */",
        "// comment",
    ];
    for (n, case) in cases.iter().enumerate() {
        check(&format!("syntax{n}"), case.as_bytes(), Expect::Error);
    }
}

#[test]
fn nul_bytes_and_invalid_utf8() {
    check("nul", b"print(\"a\0b\")\n\0\0", Expect::Error);
    check("latin1", b"print(\"caf\xe9\")", Expect::Error);
    check("broken_utf8", b"\xff\xfe\xfd", Expect::Error);
}

#[test]
fn deep_nesting_and_huge_lines() {
    check("nest50000", "(".repeat(50_000).as_bytes(), Expect::Error);
    check(
        "nest_brackets",
        format!("print({}{})", "[".repeat(50_000), "]".repeat(50_000)).as_bytes(),
        Expect::Error,
    );
    check(
        "nest_blocks",
        "if true {".repeat(50_000).as_bytes(),
        Expect::Error,
    );
    check(
        "negations",
        format!("print({}1)", "-".repeat(50_000)).as_bytes(),
        Expect::Error,
    );
    check(
        "nots",
        format!("print({}true)", "not ".repeat(50_000)).as_bytes(),
        Expect::Error,
    );
    check(
        "unclosed_calls",
        "f(".repeat(3_000).as_bytes(),
        Expect::Error,
    );
    // A 10 MB line: an operator chain past the limit.
    let long = format!("let x = {}1\n", "1 + ".repeat(2_500_000));
    check("ten_mb_line", long.as_bytes(), Expect::Error);
    // An error after a 1 MB line shows a window of it, not the whole line.
    let text = format!("let s = \"{}\"\nprint(nope)\n", "x".repeat(1_000_000));
    let path = dir().join("after_long_line.proc");
    std::fs::write(&path, &text).unwrap();
    let out = run(procscript(&[path.to_str().unwrap()]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.len() < 2_000,
        "the long line was printed whole ({} bytes)",
        out.stderr.len()
    );
    assert!(
        out.stderr.contains("after_long_line.proc:2:7"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_builtin_with_wrong_counts_and_types() {
    let mut n = 0;
    for b in procscript::front::spec::all() {
        if b.min_args > 0 {
            check(
                &format!("builtin{n}"),
                format!("{}()", b.name).as_bytes(),
                Expect::Error,
            );
            n += 1;
        }
        if b.max_args != usize::MAX {
            let many = vec!["1"; b.max_args + 1].join(", ");
            check(
                &format!("builtin{n}"),
                format!("{}({many})", b.name).as_bytes(),
                Expect::Error,
            );
            n += 1;
        }
        for bad in ["nil", "[[]]", "{\"k\": fn() {}}", "-1"] {
            let args = vec![bad; b.min_args.max(1).min(b.max_args)].join(", ");
            check(
                &format!("builtin{n}"),
                format!("{}({args})", b.name).as_bytes(),
                Expect::NoCrash,
            );
            n += 1;
        }
    }
}

#[test]
fn process_misuse() {
    let cases: &[&str] = &[
        "join 1",
        "join ppid",
        "kill(1)",
        "kill(ppid, \"KILL\")",
        "join(1, -1)",
        "join(1, \"x\")",
        "join [1, 2]",
        "join nil",
        "let p = fork\nif p == 0 { exit(0) }\nkill(p, \"NOPE\")",
        "let p = fork\nif p == 0 { exit(0) }\nkill(p, 9)",
        "fn f() { }\nlet h = spawn f()\nprint(h.nothing)",
        "fn f() { }\nspawn f() as 5",
        "fn f() { return print }\njoin spawn f()",
        "state(1)",
        "alive(\"x\")",
        "queue(0)",
        "queue(-5)",
        "let q = queue()\nq.put(print)",
        "let q = queue()\nq.get(-1)",
        "let q = queue()\nq.get()",
        "let q = queue(1)\nq.put(1)\nq.put(2)",
        "let q = queue()\nq.nothing()",
        "let q = queue()\nq.put()",
        "let q = queue()\nq.put(\"x\" * 20000000)",
        "pool(0)",
        "pool(100000)",
        "let p = pool(1)\np.map(1, 2)",
        "let p = pool(1)\np.map(print, 5)",
        "let p = pool(1)\np.apply(fn() { error(\"boom\") })",
        "let p = pool(1)\np.close()\np.apply(print, [1])",
        "let p = pool(1)\np.submit(print, 5)",
        "let p = pool(2)\nlet q = queue()\np.map(fn(x) { return q }, [1])",
        "run()",
        "run(\"surely-no-such-program\")",
        "capture(\"false\")",
        "exec(\"surely-no-such-program\")",
        "exec([])",
        "sleep(-1)",
        "sleep(float(\"nan\"))",
        "sleep(\"1\")",
        "exit(256)",
        "exit(-1)",
        "exit(\"0\")",
        "let m = -9223372036854775807 - 1\nprint(m / -1)",
        "print(-(-9223372036854775807 - 1))",
        "print(abs(-9223372036854775807 - 1))",
        "while true { fork }",
        "fn f(n) { return f(n + 1) }\nf(0)",
        "let s = \"x\"\nwhile true { s = s + s }",
        "let xs = [1]\nwhile true { xs = xs + xs }",
        "read_file(\"/surely/not/here\")",
        "write_file(\"/proc/nope/x\", \"y\")",
        "list_dir(\"/surely/not/here\")",
        "copy_file(\"/surely/not/here\", \"/tmp/x\")",
    ];
    for (n, case) in cases.iter().enumerate() {
        check(&format!("misuse{n}"), case.as_bytes(), Expect::Error);
    }
}

#[test]
fn the_deepest_code_the_limits_allow_runs_in_a_debug_build_too() {
    // The tests run the debug binary, whose stack frames are the largest.
    let chain = "1 + ".repeat(procscript::limits::MAX_OPERATORS);
    let deep = format!(
        "fn f(n) {{ return {chain}n }}\n\
         fn g(d) {{ if d == 0 {{ return f(1) }} return g(d - 1) }}\n\
         print(g(9000))\n\
         print({}{chain}1{})",
        "(".repeat(150),
        ")".repeat(150)
    );
    let out = run(procscript(&["-e", &deep]));
    let expected = procscript::limits::MAX_OPERATORS + 1;
    assert_eq!(
        out.stdout,
        format!("{expected}\n{expected}\n"),
        "{}",
        out.stderr
    );
    // One operator more is an error before running, not a crash.
    check(
        "one_operator_too_many",
        format!("print({chain}1 + 1)").as_bytes(),
        Expect::Error,
    );
}

#[test]
fn long_call_and_index_chains_are_errors_not_crashes() {
    // The bracket limit does not see a chain of calls or indexes; each link
    // still nests the tree one level deeper.
    let calls = format!("fn f() {{ return f }}\nprint(f{})\n", "()".repeat(15_000));
    check("call_chain", calls.as_bytes(), Expect::Error);
    let indexes = format!("let xs = [1]\nprint(xs{})\n", "[0]".repeat(20_000));
    check("index_chain", indexes.as_bytes(), Expect::Error);
    let out = run(procscript(&["--check", "-e", &calls]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("nested more than"), "{}", out.stderr);
    // A chain as deep as the limit allows runs, in a debug build too.
    let depth = procscript::limits::MAX_EXPR_DEPTH - 10;
    let calls = format!("fn f() {{ return f }}\nprint(f{})\n", "()".repeat(depth));
    let out = run(procscript(&["-e", &calls]));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "<fn f>\n"),
        "{}",
        out.stderr
    );
    let nested = format!(
        "let xs = 7\nfor i in 0..{depth} {{ xs = [xs] }}\nprint(xs{})\n",
        "[0]".repeat(depth)
    );
    let out = run(procscript(&["-e", &nested]));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "7\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_long_else_if_chain_compiles_and_runs() {
    let mut text = String::from("let x = 7999\nif x == 0 { print(0) }\n");
    for i in 1..8_000 {
        text.push_str(&format!("else if x == {i} {{ print({i}) }}\n"));
    }
    text.push_str("else { print(\"none\") }\n");
    let path = dir().join("else_if_chain.proc");
    std::fs::write(&path, &text).unwrap();
    let out = run(procscript(&["--check", path.to_str().unwrap()]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(procscript(&[path.to_str().unwrap()]));
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "7999\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_small_address_space_is_enough_to_run_a_script() {
    // The parser's stack is reserved whole: it must fit well inside 250 MB.
    let mut cmd = std::process::Command::new("prlimit");
    cmd.arg("--as=250000000")
        .arg(env!("CARGO_BIN_EXE_procscript"))
        .args(["-e", "print(1)"]);
    let out = run(cmd);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "1\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn size_limits_hold_before_anything_large_is_built() {
    // Under 2 GB of address space: building any of these whole (4 GB of
    // text, a 600 MB file, endless output) would abort instead.
    let script = r#"
let s = "x" * (100 * 1024 * 1024)
let xs = [s] * 40
try { str(xs) } catch e { print("str:", e) }
try { print(xs) } catch e { print("print:", e) }
let q = queue()
try { q.put(xs) } catch e { print("put:", e) }
try { capture("yes") } catch e { print("capture:", e) }
try { read_file(args[0]) } catch e { print("read_file:", e) }
"#;
    let big = dir().join("huge.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(600 * 1024 * 1024)
        .unwrap();
    let mut cmd = std::process::Command::new("prlimit");
    cmd.arg("--as=2000000000")
        .arg(env!("CARGO_BIN_EXE_procscript"))
        .args(["-e", script, big.to_str().unwrap()]);
    let out = run(cmd);
    std::fs::remove_file(&big).unwrap();
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            0,
            "str: string too large: more than 268435456 bytes\n\
             print: string too large: more than 268435456 bytes\n\
             put: a message of more than 33554432 bytes is larger than a queue holds (16777216 bytes)\n\
             capture: `yes` wrote more than a string may hold (268435456 bytes)\n\
             read_file: read_file(\"HUGE\"): the file is larger than a string may be (268435456 bytes)\n"
                .replace("HUGE", big.to_str().unwrap())
                .as_str()
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_block_of_many_names_compiles_in_linear_time() {
    // Each `let` looked its name up among all the block's earlier names:
    // 100,000 of them took minutes. Linear, they take seconds even in a
    // debug build; the bound is far above that and far below quadratic.
    let text: String = (0..100_000).map(|i| format!("let v{i} = {i}\n")).collect();
    let path = dir().join("many_lets.proc");
    std::fs::write(&path, &text).unwrap();
    let started = std::time::Instant::now();
    let out = run(procscript(&["--check", path.to_str().unwrap()]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(60), "took {took:?}");
}

/// Found by hostile testing: under an address-space limit, a string or list
/// within procscript's own limits that the machine cannot hold aborted
/// (exit 134, "memory allocation of N bytes failed", a backtrace).
#[test]
fn running_out_of_memory_is_a_clear_error_not_an_abort() {
    for code in [
        "let s = \"x\" * 200000000\nprint(len(s))",
        "let s = \"x\" * 30000000\nprint(len(str([s, s, s, s, s, s])))",
        "fn big() { return \"x\" * 200000000 }\nprint(len(join spawn big()))",
    ] {
        let mut cmd = std::process::Command::new("prlimit");
        cmd.arg("--as=300000000")
            .arg(env!("CARGO_BIN_EXE_procscript"))
            .args(["-e", code]);
        let out = run(cmd);
        assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
        assert!(
            out.stderr.contains("procscript: out of memory"),
            "{code}: {}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("backtrace") && !out.stderr.contains("panicked"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn imports_of_what_is_not_a_script_file_are_errors() {
    check(
        "import_dev_zero",
        b"import \"/dev/zero\" as zero",
        Expect::Error,
    );
    check("import_folder", b"import \"/\" as root", Expect::Error);
    check(
        "import_itself",
        b"import \"import_itself.proc\" as me",
        Expect::Error,
    );
}

#[test]
fn a_chain_of_imports_too_long_is_refused() {
    // deep_0.proc imports deep_1.proc, which imports deep_2.proc ...
    let dir = dir().join("imports");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 1..200 {
        let text = format!("import \"deep_{}.proc\" as next\nlet n = {i}\n", i + 1);
        std::fs::write(dir.join(format!("deep_{i}.proc")), text).unwrap();
    }
    std::fs::write(dir.join("deep_200.proc"), "let n = 200\n").unwrap();
    let mut cmd = procscript(&["--check", "deep_1.proc"]);
    cmd.current_dir(&dir).env("RUST_BACKTRACE", "1");
    let out = run(cmd);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("imports nest more than 64 files deep")
            && out.stderr.contains("╭─[deep_64.proc:1:8]"),
        "{}",
        out.stderr
    );
    // 64 files deep is within the limit.
    std::fs::write(dir.join("deep_64.proc"), "let n = 64\n").unwrap();
    let mut cmd = procscript(&["deep_1.proc"]);
    cmd.current_dir(&dir);
    assert_eq!(run(cmd).transcript(), "exit: 0\n--- stdout\n--- stderr\n");
}
