//! The interactive prompt, driven through a real pseudo-terminal.

mod common;

use expectrl::process::unix::{Signal, WaitStatus};
use expectrl::{ControlCode, Eof, Expect, Regex, Session};
use std::process::Command;
use std::time::Duration;

type Prompt = expectrl::session::OsSession;

/// `procscript` with no arguments on a terminal, its history in a fresh file.
fn start(history: &std::path::Path) -> Prompt {
    start_with(history, &[])
}

/// The prompt with options (views) before it starts.
fn start_with(history: &std::path::Path, options: &[&str]) -> Prompt {
    start_in(
        history,
        options,
        &std::env::current_dir().expect("a current folder"),
    )
}

/// The prompt with options, started in the folder `dir`.
fn start_in(history: &std::path::Path, options: &[&str], dir: &std::path::Path) -> Prompt {
    let mut cmd = Command::new(common::BIN);
    cmd.args(options).current_dir(dir);
    cmd.env("NO_COLOR", "1")
        .env("PROCSCRIPT_HISTORY", history)
        .env("TERM", "xterm")
        .env_remove("RUST_BACKTRACE");
    let mut p = Session::spawn(cmd).expect("procscript starts on a pty");
    // Wide enough that no entry of these tests wraps.
    p.get_process_mut()
        .set_window_size(250, 40)
        .expect("set the window size");
    p.set_expect_timeout(Some(Duration::from_secs(20)));
    p.expect("Ctrl-D or exit() leaves").expect("the banner");
    p.expect(">>> ").expect("the first prompt");
    p
}

fn history_path(test: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("procscript-history-{test}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Sends a line and returns what came back before the next prompt.
fn entry(p: &mut Prompt, line: &str) -> String {
    p.send_line(line).expect("send a line");
    let found = p.expect(">>> ").expect("the prompt comes back");
    let text = plain(&String::from_utf8_lossy(found.before()));
    // The editor shows the line typed first; the output follows it.
    match text.split_once(&format!("{line}\n")) {
        Some((_, output)) => output.to_string(),
        None => panic!("the line {line:?} was not shown: {text:?}"),
    }
}

/// Terminal text without its control sequences (`ESC [ ... letter`) and carriage returns.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Waits for the prompt's process to end and checks nothing of its session is left.
fn finish(p: Prompt) -> i32 {
    let pid = p.get_process().pid();
    let status = p.get_process().wait().expect("wait for the prompt");
    // The pty made the prompt a session and group leader: its pid is the group.
    common::assert_no_leftovers(pid.as_raw());
    match status {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the prompt did not exit normally: {other:?}"),
    }
}

#[test]
fn values_are_echoed_and_variables_stay() {
    let history = history_path("values");
    let mut p = start(&history);
    assert_eq!(entry(&mut p, "1 + 2"), "3\n");
    assert_eq!(entry(&mut p, "let name = \"ada\""), "");
    assert_eq!(entry(&mut p, "name"), "\"ada\"\n");
    assert_eq!(entry(&mut p, "print(\"hi {name}\")"), "hi ada\n");
    assert_eq!(entry(&mut p, "nil"), "");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let saved = std::fs::read_to_string(&history).expect("history was saved");
    assert!(saved.contains("let name = \"ada\""), "{saved}");
    let _ = std::fs::remove_file(&history);
}

#[test]
fn a_function_typed_over_several_lines() {
    let history = history_path("multiline");
    let mut p = start(&history);
    // The editor redraws an unfinished entry after each line: wait for it, as
    // a person would (input typed ahead of the editor is not kept).
    p.send_line("fn square(x) {").expect("line 1");
    let found = p
        .expect("... ")
        .expect("a continuation prompt asks for more");
    assert!(plain(&String::from_utf8_lossy(found.before())).contains("fn square(x) {\n"));
    p.send_line("    return x * x").expect("line 2");
    let found = p
        .expect("... ")
        .expect("a continuation prompt asks for more");
    assert!(plain(&String::from_utf8_lossy(found.before())).contains("    return x * x\n"));
    assert_eq!(entry(&mut p, "}"), "");
    assert_eq!(entry(&mut p, "square(12)"), "144\n");
    // A later entry replaces a function, and earlier functions see the new one.
    assert_eq!(
        entry(&mut p, "fn twice(x) { return square(x) + square(x) }"),
        ""
    );
    assert_eq!(entry(&mut p, "fn square(x) { return 0 }"), "");
    assert_eq!(entry(&mut p, "twice(3)"), "0\n");
    p.send_line("exit()").expect("exit");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn an_error_is_shown_and_the_prompt_goes_on() {
    let history = history_path("error");
    let mut p = start(&history);
    assert_eq!(entry(&mut p, "let xs = [1, 2]"), "");
    let shown = entry(&mut p, "print(xs[7])");
    assert!(shown.contains("index 7 is out of range"), "{shown}");
    assert!(shown.contains("<prompt>:2:"), "{shown}");
    let shown = entry(&mut p, "print(nmae)");
    assert!(shown.contains("undefined variable `nmae`"), "{shown}");
    let shown = entry(&mut p, "let = 3");
    assert!(shown.contains("expected"), "{shown}");
    // The entries before the errors are intact.
    assert_eq!(entry(&mut p, "xs"), "[1, 2]\n");
    p.send_line("exit(3)").expect("exit");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 3);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn spawn_and_fork_work_as_in_a_file() {
    let history = history_path("spawn");
    let mut p = start(&history);
    assert_eq!(entry(&mut p, "fn parent_of_me() { return ppid }"), "");
    assert_eq!(entry(&mut p, "join spawn parent_of_me() == pid"), "true\n");
    // A forked child runs the rest of its entry, then ends: one prompt comes back.
    let shown = entry(
        &mut p,
        "let r = fork; if r == 0 { print(\"child of\", ppid) } else { join r; print(\"parent\", pid) }",
    );
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 2, "{shown}");
    let parent = lines[1].strip_prefix("parent ").expect("the parent's line");
    assert_eq!(lines[0], format!("child of {parent}"));
    // The child did not start a prompt of its own: the session goes on alone.
    assert_eq!(entry(&mut p, "len(children())"), "0\n");
    // A child left running is waited for when the prompt ends.
    assert_eq!(
        entry(
            &mut p,
            "fn late() { sleep(0.3); print(\"late child done\") }"
        ),
        ""
    );
    assert_eq!(entry(&mut p, "let h = spawn late()"), "");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect("late child done")
        .expect("the child finished first");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn ctrl_c_stops_the_entry_not_the_prompt() {
    let history = history_path("interrupt");
    let mut p = start(&history);
    assert_eq!(
        entry(&mut p, "fn forever() { while true { sleep(0.05) } }"),
        ""
    );
    p.send_line("let h = spawn forever(); print(\"waiting\" + \"...\"); join h")
        .expect("a long entry");
    // Once the entry prints, the editor has let the terminal go: Ctrl-C is a signal.
    p.expect("waiting...").expect("the entry runs");
    p.send(ControlCode::EndOfText).expect("Ctrl-C");
    p.expect(Regex("interrupted"))
        .expect("the entry was interrupted");
    p.expect(">>> ").expect("the prompt comes back");
    assert_eq!(entry(&mut p, "len(children())"), "0\n");
    assert_eq!(entry(&mut p, "40 + 2"), "42\n");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn an_int_handler_answers_ctrl_c_and_the_entry_goes_on() {
    let history = history_path("int-handler");
    let mut p = start(&history);
    assert_eq!(entry(&mut p, "let q = queue()"), "");
    assert_eq!(
        entry(&mut p, "on_signal(\"INT\", fn(sig) { q.put(sig) })"),
        ""
    );
    // The entry waits for what only the handler puts in the queue.
    p.send_line("print(\"waiting\" + \"...\"); print(\"got\", q.get(60), \"and went on\")")
        .expect("a waiting entry");
    p.expect("waiting...").expect("the entry runs");
    p.send(ControlCode::EndOfText).expect("Ctrl-C");
    p.expect("got INT and went on")
        .expect("the handler ran, the wait went on");
    p.expect(">>> ").expect("the prompt comes back");
    assert_eq!(entry(&mut p, "on_signal(\"INT\", \"default\")"), "");
    assert_eq!(entry(&mut p, "40 + 2"), "42\n");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn sigterm_ends_an_idle_prompt_and_its_children() {
    let history = history_path("sigterm");
    let mut p = start(&history);
    assert_eq!(entry(&mut p, "fn nap() { sleep(60) }"), "");
    assert_eq!(entry(&mut p, "let h = spawn nap()"), "");
    // The prompt waits in the line editor; SIGTERM must still end it (not
    // wait for another line) and stop the sleeping child.
    p.get_process_mut()
        .signal(Signal::SIGTERM)
        .expect("send SIGTERM");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 143);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn explain_and_tree_work_at_the_prompt() {
    let history = history_path("views");
    let mut p = start_with(&history, &["--explain", "--tree"]);
    assert_eq!(entry(&mut p, "fn square(x) { return x * x }"), "");
    let shown = entry(&mut p, "join spawn square(4)");
    let lines: Vec<&str> = shown.lines().collect();
    // Narrated as it happens: the fork, the child's exit, the wait; then the value.
    assert_eq!(lines.len(), 4, "{shown}");
    let parent = lines[0]
        .strip_prefix('[')
        .and_then(|l| l.split_once(']'))
        .map(|(pid, _)| pid.to_string())
        .expect("a narrated line starts with the pid");
    assert!(
        lines[0].ends_with("(the child runs square(4) as Process-1)"),
        "{shown}"
    );
    assert!(lines[1].ends_with("] exit(0)"), "{shown}");
    assert!(
        lines[2].starts_with(&format!("[{parent}] waitpid(")),
        "{shown}"
    );
    assert_eq!(lines[3], "16");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    let found = p.expect(Eof).expect("the prompt ends");
    // All that came before the end of the output is the match of `Eof`.
    let all = [found.before(), found.get(0).unwrap_or_default()].concat();
    let tree = String::from_utf8_lossy(&all).replace('\r', "");
    assert!(
        tree.contains(&format!("{parent} script <prompt>, exited 0")),
        "{tree}"
    );
    assert!(
        tree.contains("── ") && tree.contains(" spawn square(4) at line 2 as Process-1, exited 0"),
        "{tree}"
    );
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn ctrl_c_cancels_the_rest_of_a_pool_map() {
    let history = history_path("pool-map");
    let mut p = start(&history);
    assert_eq!(
        entry(
            &mut p,
            "fn slow(x) { print(\"item\", x); sleep(0.5); return x }"
        ),
        ""
    );
    assert_eq!(entry(&mut p, "let p = pool(2)"), "");
    p.send_line("p.map(slow, range(10))").expect("a long map");
    p.expect("item 1").expect("the map runs");
    p.send(ControlCode::EndOfText).expect("Ctrl-C");
    p.expect(Regex("interrupted"))
        .expect("the map was interrupted");
    p.expect(">>> ").expect("the prompt comes back");
    // The next use of the pool runs only what it is given.
    let shown = entry(&mut p, "p.apply(slow, [42])");
    assert_eq!(shown, "item 42\n42\n");
    assert_eq!(entry(&mut p, "p.close()"), "");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn leaving_with_a_child_running_says_so_and_ctrl_c_gives_130() {
    let history = history_path("leave-waiting");
    let mut p = start(&history);
    assert_eq!(entry(&mut p, "fn nap() { sleep(60) }"), "");
    assert_eq!(entry(&mut p, "let h = spawn nap()"), "");
    let child = entry(&mut p, "h.pid");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect(
        format!(
            "waiting for 1 child (pid {}); Ctrl-C stops it",
            child.trim()
        )
        .as_str(),
    )
    .expect("leaving says what it waits for");
    p.send(ControlCode::EndOfText).expect("Ctrl-C");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 130);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn explain_narration_of_an_entry_comes_before_the_next_prompt() {
    let history = history_path("explain-births");
    let mut p = start_with(&history, &["--explain"]);
    // The workers tell of their own fork; all of it comes before the prompt.
    let shown = entry(&mut p, "let p = pool(3)");
    let births = shown
        .lines()
        .filter(|l| l.ends_with("(a pool worker, waiting for tasks)"))
        .count();
    assert_eq!(births, 3, "{shown}");
    let shown = entry(&mut p, "p.close()");
    assert_eq!(shown.matches("] waitpid(").count(), 3, "{shown}");
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
}

#[test]
fn imports_at_the_prompt_start_from_the_current_folder() {
    let history = history_path("imports");
    let dir =
        std::env::temp_dir().join(format!("procscript-prompt-imports-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("lib")).expect("a folder");
    std::fs::write(
        dir.join("lib/greet.proc"),
        "print(\"greet runs\")\nfn hello(who) { return \"hello \" + who }\n",
    )
    .expect("the module");
    let mut p = start_in(&history, &[], &dir);
    assert_eq!(
        entry(&mut p, "import \"lib/greet.proc\" as greet"),
        "greet runs\n"
    );
    assert_eq!(entry(&mut p, "greet.hello(\"you\")"), "\"hello you\"\n");
    let error = entry(&mut p, "greet.nope");
    assert!(
        error.contains("module `greet` (lib/greet.proc) has no field `nope`"),
        "{error}"
    );
    // The module ran once: the next entries use it without running it again.
    assert_eq!(
        entry(&mut p, "print(greet.hello(\"again\"))"),
        "hello again\n"
    );
    p.send(ControlCode::EndOfTransmission).expect("Ctrl-D");
    p.expect(Eof).expect("the prompt ends");
    assert_eq!(finish(p), 0);
    let _ = std::fs::remove_file(&history);
    let _ = std::fs::remove_dir_all(&dir);
}
