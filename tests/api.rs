//! The embedding API, used as a host program uses it.
//!
//! Scripts run here fork this very test process, and fork is only safe with
//! one thread: so this file has its own `main` (no libtest threads) and runs
//! its cases one after another. After each case, no child may be left.

mod common;

use procscript::{Engine, Entry, Outcome, Source, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

fn source(text: &str) -> Source {
    Source::new("api.proc", text)
}

/// The children of this test process, zombies included.
fn my_children() -> Vec<i32> {
    common::children_of(std::process::id() as i32)
}

fn upper(args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Str(s) => Ok(Value::str(&s.to_uppercase())),
        other => Err(format!("shout takes a string, not {}", other.type_name())),
    }
}

fn host_functions_are_called_like_builtins() {
    let engine = Engine::new().register("shout", 1, upper);
    let (outcome, printed) = engine.run_captured(&source(
        "print(shout(\"hi\"))\n\
         let f = shout\n\
         print(f(\"via a variable\"), type(f), f)\n\
         try { shout(1) } catch e { print(\"caught:\", e) }",
    ));
    assert!(matches!(outcome, Outcome::Exited(0)), "{outcome:?}");
    assert_eq!(
        printed,
        "HI\nVIA A VARIABLE function <host shout>\ncaught: shout takes a string, not int\n"
    );
}

fn host_functions_run_in_spawned_children_and_pool_workers() {
    // The closure captures host state; each child uses its own copy.
    let greeting = Rc::new(String::from("hello from"));
    let engine = Engine::new()
        .register("greet", 0, move |_| {
            Ok(Value::str(&format!("{} {}", greeting, std::process::id())))
        })
        .register("shout", 1, upper);
    let (outcome, printed) = engine.run_captured(&source(
        "fn child() { return [greet(), pid] }\n\
         let r = join spawn child()\n\
         print(r[0] == \"hello from {r[1]}\", r[1] != pid)\n\
         let direct = join spawn shout(\"direct\")\n\
         print(direct)\n\
         let p = pool(2)\n\
         print(p.map(shout, [\"a\", \"b\", \"c\"]))\n\
         p.close()",
    ));
    assert!(matches!(outcome, Outcome::Exited(0)), "{outcome:?}");
    assert_eq!(printed, "true true\nDIRECT\n[\"A\", \"B\", \"C\"]\n");
}

fn host_arity_and_errors_point_at_the_call() {
    let engine = Engine::new().register("shout", 1, upper);
    let text = "print(1)\nshout(\"a\", \"b\")";
    let Outcome::Invalid(diag) = engine.run(&source(text)) else {
        panic!("a wrong argument count is found before running");
    };
    assert_eq!(diag.message, "`shout` takes 1 argument, but 2 were given");
    assert!(diag.render(&source(text), false).contains("api.proc:2:1"));
    let text = "let x = 1\nshout(x)";
    let Outcome::Failed(diag) = engine.run(&source(text)) else {
        panic!("a host error is a runtime error");
    };
    assert_eq!(diag.message, "shout takes a string, not int");
    let shown = diag.render(&source(text), false);
    assert!(shown.contains("a function of the host program"), "{shown}");
    // A miette report for hosts with their own handler.
    let report = miette::Report::new(diag.report(&source(text)));
    assert_eq!(report.to_string(), "shout takes a string, not int");
}

fn registering_a_bad_name_is_a_host_mistake() {
    for name in ["print", "spawn", "9lives", "a-b", ""] {
        let result = catch_unwind(AssertUnwindSafe(|| {
            Engine::new().register(name, 0, |_| Ok(Value::Nil))
        }));
        assert!(result.is_err(), "`{name}` was accepted");
    }
    let twice = catch_unwind(AssertUnwindSafe(|| {
        Engine::new()
            .register("f", 0, |_| Ok(Value::Nil))
            .register("f", 1, |_| Ok(Value::Nil))
    }));
    assert!(twice.is_err());
}

fn print_goes_where_the_host_says() {
    let path = std::env::temp_dir().join(format!("procscript-api-{}.txt", std::process::id()));
    let file = std::fs::File::create(&path).expect("create the output file");
    let outcome = Engine::new().print_to(file).run(&source(
        "fn child() { print(\"child line\") }\n\
         join spawn child()\n\
         run(\"echo\", \"program line\")\n\
         print(\"parent line\")\n\
         eprint(\"to stderr, not the file\")",
    ));
    assert!(matches!(outcome, Outcome::Exited(0)), "{outcome:?}");
    let written = std::fs::read_to_string(&path).expect("read the output file");
    assert_eq!(written, "child line\nprogram line\nparent line\n");
    std::fs::remove_file(&path).expect("remove the output file");
    // After the run, print goes to stdout again.
    let (_, printed) = Engine::new().run_captured(&source("print(\"captured\")"));
    assert_eq!(printed, "captured\n");
}

fn args_and_limits() {
    let (outcome, printed) = Engine::new()
        .args(vec!["x".into(), "y z".into()])
        .run_captured(&source("print(args)\nexit(len(args) + 5)"));
    assert!(matches!(outcome, Outcome::Exited(7)), "{outcome:?}");
    assert_eq!(outcome.exit_code(), 7);
    assert_eq!(printed, "[\"x\", \"y z\"]\n");

    let text =
        "fn down(n) { if n == 0 { return 0 } return down(n - 1) }\nprint(down(40))\ndown(60)";
    let (outcome, printed) = Engine::new().max_call_depth(50).run_captured(&source(text));
    assert_eq!(printed, "0\n");
    let Outcome::Failed(diag) = outcome else {
        panic!("60 calls deep passes a limit of 50: {outcome:?}");
    };
    assert_eq!(diag.message, "recursion deeper than 50 calls");

    let text = "let ps = []\nfor i in 0..5 { push(ps, spawn sleep(0.2)) }";
    let Outcome::Failed(diag) = Engine::new().max_procs(3).run(&source(text)) else {
        panic!("five live children pass a limit of 3");
    };
    assert!(diag.message.contains("3"), "{}", diag.message);
}

fn check_finds_errors_without_running() {
    let engine = Engine::new();
    assert!(engine.check(&source("print(1)")).is_ok());
    let error = engine
        .check(&source("fork\nprint(undefined_thing)"))
        .expect_err("an undefined name");
    assert_eq!(error.message, "undefined variable `undefined_thing`");
    assert!(my_children().is_empty(), "check must not fork");
}

fn a_session_keeps_its_variables() {
    let engine = Engine::new().register("shout", 1, upper);
    let mut session = engine.session();
    assert!(matches!(session.run("let n = 20"), Entry::Done(None)));
    let Entry::Done(Some(v)) = session.run("n + 1") else {
        panic!("an expression's value comes back")
    };
    assert_eq!(v.to_repr(), "21");
    let Entry::Done(Some(v)) = session.run("shout(\"s\")") else {
        panic!("host functions work in sessions")
    };
    assert_eq!(v.to_repr(), "\"S\"");
    let Entry::Error(diag) = session.run("n +") else {
        panic!("a syntax error")
    };
    assert!(diag
        .render(&session.source(), false)
        .contains("<prompt>:4:"));
    // The failed entry left nothing behind: the next entry's lines follow on.
    let Entry::Error(diag) = session.run("[1][5]") else {
        panic!("a runtime error")
    };
    assert!(
        diag.render(&session.source(), false)
            .contains("<prompt>:4:"),
        "{}",
        diag.render(&session.source(), false)
    );
    assert!(matches!(
        session.run("let h = spawn sleep(0.1)"),
        Entry::Done(None)
    ));
    assert!(matches!(session.run("exit(4)"), Entry::Exit(4)));
    assert!(
        my_children().is_empty(),
        "exit joins the session's children"
    );
    assert_eq!(session.end(), 0);
}

fn a_session_pool_runs_functions_of_later_entries() {
    let engine = Engine::new();
    let mut session = engine.session();
    let value = |entry: Entry| match entry {
        Entry::Done(Some(v)) => v.to_repr(),
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        session.run("fn one(x) { return x + 1 }"),
        Entry::Done(None)
    ));
    assert!(matches!(session.run("let p = pool(2)"), Entry::Done(None)));
    assert_eq!(value(session.run("p.map(one, [1, 2])")), "[2, 3]");
    // Defined after the workers were forked: they are forked again.
    assert!(matches!(
        session.run("let k = 10\nfn later(x) { return x * k }"),
        Entry::Done(None)
    ));
    assert_eq!(
        value(session.run("p.map(later, [1, 2, 3])")),
        "[10, 20, 30]"
    );
    assert_eq!(
        value(session.run("p.apply(fn(a, b) { return a - b }, [5, 2])")),
        "3"
    );
    assert!(matches!(session.run("p.close()"), Entry::Done(None)));
    assert_eq!(session.end(), 0);
}

fn a_session_pool_refreshed_for_later_functions_keeps_submit_time_values() {
    let engine = Engine::new();
    let mut session = engine.session();
    let mut run = |code: &str| match session.run(code) {
        Entry::Done(v) => v.map(|v| v.to_repr()),
        other => panic!("{code}: {other:?}"),
    };
    run("let big = range(3000)");
    run("fn first(pad) { return len(big) }");
    run("let p = pool(1)");
    // `a` carries a large new list: the worker has no room for `b`, which
    // waits here, naming `big` as the pool pinned it.
    run("let a = p.submit(first, [range(20000)])");
    run("let b = p.submit(first, [0])");
    run("push(big, 1)");
    // A function defined now makes the idle worker be forked again, after
    // the push: `b` must still see `big` as it was when it was submitted.
    run("fn later() { return len(big) }");
    run("let c = p.submit(later)");
    let seen = run("[join a, join b, join c]");
    assert_eq!(seen.as_deref(), Some("[3000, 3000, 3001]"));
    run("p.close()");
    assert_eq!(session.end(), 0);
}

fn a_session_survives_hostile_entries() {
    let engine = Engine::new().max_steps(Some(200_000)).max_procs(8);
    let mut session = engine.session();
    let deep = "[".repeat(300);
    let long = format!("{}1", "1 + ".repeat(2000));
    let errors = [
        "\0",
        "fn f( {",
        "\"unterminated",
        deep.as_str(),
        long.as_str(),
        "break",
        "continue",
        "return 1",
        "fn g() { }\nfn g() { }",
        "x = undefined_name",
        "while true { }",
        "exit(300)",
        "fn r(n) { return r(n + 1) }\nr(0)",
        "while true { fork }",
        "let s = \"x\" * (1 << 40)",
    ];
    for text in errors {
        let shown = match session.run(text) {
            Entry::Error(diag) => diag.render(&session.source(), false),
            other => panic!("{text:?} gave {other:?}, not an error"),
        };
        assert!(shown.contains("<prompt>:"), "{text:?}: {shown}");
    }
    for text in ["", "\"\\", "}{", "\"{", "# {", "((]]", "\"\\\""] {
        let _ = procscript::Session::is_incomplete(text);
    }
    assert!(matches!(session.run(""), Entry::Done(None)));
    assert!(matches!(
        session.run("fn g() { return 1 }"),
        Entry::Done(None)
    ));
    assert!(matches!(
        session.run("fn g() { return 2 }"),
        Entry::Done(None)
    ));
    let result = session.run("let x = 1; let x = 2; [x, g()]");
    let Entry::Done(Some(v)) = result else {
        panic!("the session still works: {result:?}")
    };
    assert_eq!(v.to_repr(), "[2, 2]");
    assert_eq!(session.end(), 0);
}

fn the_embed_example_runs() {
    // Cargo builds the examples beside the binary before it runs the tests.
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_procscript"));
    let example = bin.with_file_name("examples").join("embed");
    let output = std::process::Command::new(&example)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} runs (plain `cargo test` builds it): {e}",
                example.display()
            )
        });
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "total score of 4 words from 2 children: 217\n"
    );
    assert!(output.status.success());
}

fn a_signal_that_ended_a_run_does_not_end_the_next() {
    // The script has SIGINT sent to this process (as Ctrl-C would).
    let engine = Engine::new();
    let outcome = engine.run(&source("run(\"kill\", \"-INT\", str(pid))\nsleep(30)"));
    assert!(matches!(outcome, Outcome::Signaled(2)), "{outcome:?}");
    let (outcome, printed) = engine.run_captured(&source(
        "fn child() { return \"second run\" }\nprint(join spawn child())\nsleep(0.01)",
    ));
    assert!(matches!(outcome, Outcome::Exited(0)), "{outcome:?}");
    assert_eq!(printed, "second run\n");
}

fn a_run_s_signal_handlers_end_with_it() {
    // The first run ignores TERM; the next one has procscript's default
    // again: a TERM it sends itself stops it (143), not the host.
    let engine = Engine::new();
    let (outcome, printed) = engine.run_captured(&source(
        "on_signal(\"TERM\", \"ignore\")\nkill(pid, \"TERM\")\nprint(\"ignored\")",
    ));
    assert!(matches!(outcome, Outcome::Exited(0)), "{outcome:?}");
    assert_eq!(printed, "ignored\n");
    let (outcome, printed) =
        engine.run_captured(&source("kill(pid, \"TERM\")\nprint(\"not reached\")"));
    assert!(matches!(outcome, Outcome::Signaled(15)), "{outcome:?}");
    assert_eq!(printed, "");
}

fn a_host_panic_is_an_error_of_the_script() {
    let host = std::process::id();
    let engine = Engine::new().register("boom", 0, |_| -> Result<Value, String> {
        panic!("host bug")
    });
    let (outcome, printed) = engine.run_captured(&source(
        "fn child() { return boom() }\n\
         try { join spawn child() } catch err { print(\"joined:\", err) }\n\
         try { boom() } catch err { print(\"direct:\", err) }",
    ));
    // A child that unwound out of `run` would be here, in the host's code.
    if std::process::id() != host {
        std::process::exit(99);
    }
    assert!(matches!(outcome, Outcome::Exited(0)), "{outcome:?}");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{printed}");
    assert!(
        lines[0].starts_with("joined: ") && lines[0].contains("`boom` panicked: host bug"),
        "{printed}"
    );
    assert_eq!(lines[1], "direct: `boom` panicked: host bug");
}

fn a_run_inside_a_host_function_is_refused() {
    let engine = Engine::new().register("inner", 0, |_| {
        match Engine::new().run(&Source::new("inner.proc", "print(1)")) {
            Outcome::Exited(code) => Ok(Value::Int(code as i64)),
            Outcome::Invalid(diag) | Outcome::Failed(diag) => Err(diag.message.clone()),
            other => Err(format!("{other:?}")),
        }
    });
    let (outcome, printed) = engine.run_captured(&source(
        "fn child() { sleep(0.2); return \"child result\" }\n\
         let h = spawn child()\n\
         try { inner() } catch err { print(err) }\n\
         print(join h)",
    ));
    assert!(matches!(outcome, Outcome::Exited(0)), "{outcome:?}");
    assert_eq!(
        printed,
        "a procscript run is already under way in this process: a host function cannot start another\nchild result\n"
    );
}

fn a_threaded_host_cannot_fork() {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let _ = stopped.recv();
    });
    let (outcome, printed) = Engine::new().run_captured(&source(
        "fn child() { return env(\"HOME\") }\n\
         print(\"before\")\n\
         let h = spawn child()",
    ));
    let _ = stop.send(());
    thread.join().unwrap();
    let Outcome::Failed(diag) = outcome else {
        panic!("a fork with two threads fails: {outcome:?}");
    };
    assert_eq!(
        diag.message,
        "cannot spawn: this process has 2 threads, and a fork is only safe with one"
    );
    assert_eq!(printed, "before\n");
}

fn a_run_ended_by_a_signal_reaps_adopted_grandchildren() {
    // The middle child dies by SIGKILL, so `sleep` (a grandchild of a program)
    // is adopted by this process, the subreaper; then SIGTERM ends the run.
    // Nothing may be left: not the `sleep`, and no zombie of it either.
    let engine = Engine::new();
    let outcome = engine.run(&source(
        "fn grandchild() { run(\"sh\", \"-c\", \"sleep 30; echo\") }\n\
         fn middle() { spawn grandchild()\n sleep(30) }\n\
         let h = spawn middle()\n\
         sleep(0.5)\n\
         kill(h, \"KILL\")\n\
         sleep(0.3)\n\
         run(\"kill\", \"-TERM\", str(pid))\n\
         sleep(30)",
    ));
    assert!(matches!(outcome, Outcome::Signaled(15)), "{outcome:?}");
}

fn main() {
    let cases: &[(&str, fn())] = &[
        (
            "host_functions_are_called_like_builtins",
            host_functions_are_called_like_builtins,
        ),
        (
            "host_functions_run_in_spawned_children_and_pool_workers",
            host_functions_run_in_spawned_children_and_pool_workers,
        ),
        (
            "host_arity_and_errors_point_at_the_call",
            host_arity_and_errors_point_at_the_call,
        ),
        (
            "registering_a_bad_name_is_a_host_mistake",
            registering_a_bad_name_is_a_host_mistake,
        ),
        (
            "print_goes_where_the_host_says",
            print_goes_where_the_host_says,
        ),
        ("args_and_limits", args_and_limits),
        (
            "check_finds_errors_without_running",
            check_finds_errors_without_running,
        ),
        (
            "a_session_keeps_its_variables",
            a_session_keeps_its_variables,
        ),
        (
            "a_session_survives_hostile_entries",
            a_session_survives_hostile_entries,
        ),
        ("the_embed_example_runs", the_embed_example_runs),
        (
            "a_host_panic_is_an_error_of_the_script",
            a_host_panic_is_an_error_of_the_script,
        ),
        (
            "a_run_inside_a_host_function_is_refused",
            a_run_inside_a_host_function_is_refused,
        ),
        ("a_threaded_host_cannot_fork", a_threaded_host_cannot_fork),
        (
            "a_session_pool_runs_functions_of_later_entries",
            a_session_pool_runs_functions_of_later_entries,
        ),
        (
            "a_session_pool_refreshed_for_later_functions_keeps_submit_time_values",
            a_session_pool_refreshed_for_later_functions_keeps_submit_time_values,
        ),
        (
            "a_run_ended_by_a_signal_reaps_adopted_grandchildren",
            a_run_ended_by_a_signal_reaps_adopted_grandchildren,
        ),
        // Last: before its fix, the signal it leaves ended every later case.
        (
            "a_signal_that_ended_a_run_does_not_end_the_next",
            a_signal_that_ended_a_run_does_not_end_the_next,
        ),
        (
            "a_run_s_signal_handlers_end_with_it",
            a_run_s_signal_handlers_end_with_it,
        ),
    ];
    // The register cases panic on purpose; keep their messages out of the log.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = 0;
    for (name, case) in cases {
        let result = catch_unwind(*case);
        let left = my_children();
        match (result, left.is_empty()) {
            (Ok(()), true) => println!("test {name} ... ok"),
            (Ok(()), false) => {
                failed += 1;
                println!("test {name} ... FAILED: children left behind: {left:?}");
            }
            (Err(panic), _) => {
                failed += 1;
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                println!("test {name} ... FAILED: {message}");
            }
        }
    }
    println!("{} passed, {failed} failed", cases.len() - failed);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
