//! `procscript lsp` driven as an editor drives it: Content-Length framed JSON-RPC on its stdin, answers read from its stdout.

mod common;

use common::{assert_no_leftovers, procscript};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// Generous: a loaded 2-core machine may be slow, a hung server is a failure.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

const URI: &str = "file:///tmp/procscript-lsp-test/main.proc";

/// A client: the server's process, its stdin, and the messages it sent.
struct Client {
    server: Child,
    stdin: Option<ChildStdin>,
    from_server: Receiver<Value>,
    /// Notifications read while waiting for a response.
    notifications: VecDeque<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        Client::start_with(&["lsp"])
    }

    fn start_with(words: &[&str]) -> Client {
        let mut server = procscript(words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("procscript lsp starts");
        let stdout = server.stdout.take().expect("piped stdout");
        let (to_client, from_server) = channel();
        // One reader thread, so a server that stops answering fails the test
        // after ANSWER_WITHIN instead of hanging it.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if to_client.send(message).is_err() {
                    return;
                }
            }
        });
        let stdin = server.stdin.take();
        Client {
            server,
            stdin,
            from_server,
            notifications: VecDeque::new(),
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin
            .write_all(framed.as_bytes())
            .expect("the server reads");
        stdin.flush().expect("the server reads");
    }

    fn receive(&mut self) -> Value {
        self.from_server
            .recv_timeout(ANSWER_WITHIN)
            .expect("the server answers in time")
    }

    /// Sends a request; its whole response (notifications sent before it are kept).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.notifications.push_back(message);
        }
    }

    /// The result of a request that must succeed.
    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{response}");
        response["result"].clone()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next_notification(&mut self) -> Value {
        match self.notifications.pop_front() {
            Some(message) => message,
            None => self.receive(),
        }
    }

    fn initialize() -> Client {
        let mut client = Client::start();
        client.result(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        client.notify("initialized", json!({}));
        client
    }

    fn open(&mut self, text: &str) -> Value {
        let document = json!({"uri": URI, "languageId": "procscript", "version": 1, "text": text});
        self.notify("textDocument/didOpen", json!({"textDocument": document}));
        self.next_notification()
    }

    /// Ends the server as an editor does; its exit code, after checking that
    /// nothing of it is left.
    fn shut_down(mut self) -> i32 {
        assert_eq!(self.request("shutdown", Value::Null)["result"], Value::Null);
        self.notify("exit", Value::Null);
        self.wait()
    }

    fn wait(mut self) -> i32 {
        let group = self.server.id() as i32;
        drop(self.stdin.take());
        let status = self.server.wait().expect("wait for the server");
        assert_no_leftovers(group);
        status.code().unwrap_or(-1)
    }
}

/// One framed message, or None at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn at(line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": character}})
}

fn range(line: u32, start: u32, end: u32) -> Value {
    json!({"start": {"line": line, "character": start}, "end": {"line": line, "character": end}})
}

fn diagnostics(version: i32, list: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "textDocument/publishDiagnostics",
        "params": {"uri": URI, "diagnostics": list, "version": version},
    })
}

#[test]
fn initialize_tells_what_the_server_does() {
    // VS Code's client adds `--stdio` to the command.
    let mut client = Client::start_with(&["lsp", "--stdio"]);
    let response = client.request("initialize", json!({"capabilities": {}}));
    assert_eq!(
        response,
        json!({"jsonrpc": "2.0", "id": 1, "result": {
            "capabilities": {
                "positionEncoding": "utf-16",
                "textDocumentSync": {"openClose": true, "change": 2},
                "completionProvider": {"triggerCharacters": ["."]},
                "hoverProvider": true,
                "definitionProvider": true,
                "documentFormattingProvider": true,
            },
            "serverInfo": {"name": "procscript", "version": env!("CARGO_PKG_VERSION")},
        }})
    );
    client.notify("initialized", json!({}));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn diagnostics_follow_incremental_changes_in_utf16_columns() {
    let mut client = Client::initialize();
    // "😀" is 2 UTF-16 units and 4 bytes, "é" 1 unit and 2 bytes: `nope`
    // starts at UTF-16 column 14 (byte 17) of line 1.
    let published = client.open("let s = \"é😀\"\nprint(\"😀 é\", nope)\n");
    let undefined = json!([{
        "range": range(1, 14, 18),
        "severity": 1,
        "code": "procscript::name::undefined",
        "source": "procscript",
        "message": "undefined variable `nope`\nnot defined\nhelp: did you mean `type`?",
    }]);
    assert_eq!(published, diagnostics(1, undefined));

    // `nope` becomes `s`: no error left, and the editor's list is emptied.
    let fix = json!({"range": range(1, 14, 18), "text": "s"});
    let change = json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [fix]});
    client.notify("textDocument/didChange", change);
    assert_eq!(client.next_notification(), diagnostics(2, json!([])));

    // An unfinished expression: the syntax error where `--check` puts it.
    let typo = json!({"range": range(1, 15, 15), "text": " +"});
    let change = json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [typo]});
    client.notify("textDocument/didChange", change);
    let syntax = json!([{
        "range": range(1, 17, 18),
        "severity": 1,
        "code": "procscript::syntax",
        "source": "procscript",
        "message": "expected an expression, found `)`\nexpected an expression",
    }]);
    assert_eq!(client.next_notification(), diagnostics(3, syntax));
    assert_eq!(client.shut_down(), 0);
}

const SCRIPT: &str = "\
let total = 0
fn add(a, b) {
    return a + b
}
for n in range(3) {
    total = add(total, n)
}
let q = queue()
q.put(total)
print(len([1]))
";

#[test]
fn definitions_of_functions_variables_parameters_and_loop_variables() {
    let mut client = Client::initialize();
    client.open(SCRIPT);
    let location = |range: Value| json!({"uri": URI, "range": range});
    let cases = [
        // `add` in the call (line 5) goes to its declaration (line 1).
        (at(5, 14), location(range(1, 3, 6))),
        // `total` as an argument, and as the assigned name: the `let`.
        (at(5, 18), location(range(0, 4, 9))),
        (at(5, 4), location(range(0, 4, 9))),
        // A parameter used in the body.
        (at(2, 15), location(range(1, 10, 11))),
        // The loop variable.
        (at(5, 23), location(range(4, 4, 5))),
        // A built-in and a method have no place in the script.
        (at(9, 1), Value::Null),
        (at(8, 3), Value::Null),
    ];
    for (position, expected) in cases {
        let found = client.result("textDocument/definition", position.clone());
        assert_eq!(found, expected, "at {position}");
    }
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn hover_shows_a_builtins_reference_line_and_a_functions_signature() {
    let mut client = Client::initialize();
    client.open(SCRIPT);
    let hover = |value: &str, range: Value| json!({"contents": {"kind": "markdown", "value": value}, "range": range});
    assert_eq!(
        client.result("textDocument/hover", at(9, 7)),
        hover(
            "```procscript\nlen(string | list | map)\n```\ncharacters of a string, items of a list, entries of a map",
            range(9, 6, 9)
        )
    );
    assert_eq!(
        client.result("textDocument/hover", at(5, 13)),
        hover("```procscript\nfn add(a, b)\n```", range(5, 12, 15))
    );
    assert_eq!(
        client.result("textDocument/hover", at(8, 3)),
        hover(
            "```procscript\nq.put(value, seconds?)\n```\nadds a message, waiting for room",
            range(8, 2, 5)
        )
    );
    assert_eq!(client.result("textDocument/hover", at(3, 1)), Value::Null);
    assert_eq!(client.shut_down(), 0);
}

fn labels(items: &Value) -> Vec<String> {
    let items = items.as_array().expect("a list of completions");
    items
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn completion_of_methods_after_a_dot() {
    let mut client = Client::initialize();
    // The line being typed does not parse yet: the rest still says what `q` is.
    client.open("let q = queue()\nlet x = [q]\nq.\nx[0].t\n");
    let items = client.result("textDocument/completion", at(2, 2));
    assert_eq!(
        labels(&items),
        [
            "put",
            "get",
            "try_put",
            "try_get",
            "size",
            "empty",
            "full",
            "task_done",
            "join",
            "close"
        ]
    );
    assert_eq!(
        items[0],
        json!({
            "label": "put",
            "kind": 2,
            "detail": "q.put(value, seconds?)",
            "documentation": "adds a message, waiting for room",
        })
    );
    // What `x[0]` is, is not known: every method named so far, each once.
    let items = client.result("textDocument/completion", at(3, 6));
    assert_eq!(
        labels(&items),
        ["try_put", "try_get", "task_done", "terminate"]
    );
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn completion_of_names_in_scope_builtins_and_keywords() {
    let mut client = Client::initialize();
    client.open("let printed = 0\nfn process(path) {\n    pr\n}\npr\n");
    // In the function: its parameter, the function, the variable, then built-ins and keywords.
    let items = client.result("textDocument/completion", at(2, 6));
    assert_eq!(labels(&items), ["printed", "process", "print", "progress"]);
    let inside = client.result("textDocument/completion", at(2, 5));
    assert!(labels(&inside).contains(&"path".to_string()));
    assert!(labels(&inside).contains(&"ppid".to_string()));
    // Outside the function its parameter is not in scope.
    let outside = client.result("textDocument/completion", at(4, 1));
    assert!(!labels(&outside).contains(&"path".to_string()));
    assert_eq!(
        items[1],
        json!({"label": "process", "kind": 3, "detail": "fn process(path)"})
    );
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn exit_without_shutdown_and_end_of_input_end_the_server() {
    let mut client = Client::initialize();
    client.notify("exit", Value::Null);
    assert_eq!(client.wait(), 1);
    // An editor that dies closes the pipe: the server ends, nothing is left.
    let mut client = Client::initialize();
    client.open("print(1)");
    assert_eq!(client.wait(), 1);
}

#[test]
fn requests_before_initialize_and_unknown_methods_are_errors() {
    let mut client = Client::start();
    let early = client.request("textDocument/hover", at(0, 0));
    assert_eq!(early["error"]["code"], json!(-32002));
    client.result("initialize", json!({"capabilities": {}}));
    let unknown = client.request("textDocument/rename", at(0, 0));
    assert_eq!(unknown["error"]["code"], json!(-32601));
    let closed = client.request("textDocument/hover", at(0, 0));
    assert_eq!(closed["error"]["code"], json!(-32602));
    assert_eq!(client.shut_down(), 0);
}

/// The VS Code extension starts this server: package.json points at an entry
/// that runs `procscript lsp` through vscode-languageclient (a declared
/// dependency) for the language the package contributes, and the setting
/// the entry reads is one the package declares.
#[test]
fn the_vscode_extension_starts_the_server() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    let package: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("package.json")).unwrap())
            .expect("package.json is JSON");
    let main = package["main"]
        .as_str()
        .expect("package.json has a main entry");
    let entry = std::fs::read_to_string(folder.join(main)).expect("the main entry exists");
    let language = package["contributes"]["languages"][0]["id"]
        .as_str()
        .unwrap();
    assert_eq!(language, "procscript");
    assert_eq!(
        package["activationEvents"],
        json!([format!("onLanguage:{language}")])
    );
    assert!(package["dependencies"]["vscode-languageclient"].is_string());
    for needle in [
        "require(\"vscode-languageclient/node\")",
        "args: [\"lsp\"]",
        "TransportKind.stdio",
        &format!("language: \"{language}\""),
    ] {
        assert!(entry.contains(needle), "{main} lacks {needle}");
    }
    let setting = &package["contributes"]["configuration"]["properties"]["procscript.server.path"];
    assert_eq!(setting["default"], "procscript");
    assert!(
        entry.contains(".getConfiguration(\"procscript\")") && entry.contains("\"server.path\"")
    );
}

/// Every script of the project, at positions all over it and cut short at
/// every line (texts that do not parse): each answer comes, none panics.
#[test]
fn every_script_is_answered_at_every_kind_of_position() {
    use procscript::lsp::{completion, definition, diagnostics, hover};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let uri: lsp_types::Uri = URI.parse().unwrap();
    let mut scripts = Vec::new();
    for folder in ["tests/cases", "scripts", "examples"] {
        collect_scripts(&root.join(folder), &mut scripts);
    }
    assert!(scripts.len() > 50, "found {} scripts", scripts.len());
    for path in scripts {
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, content) in text.lines().enumerate() {
            let cut = &text[..text.lines().take(line).map(|l| l.len() + 1).sum::<usize>()];
            diagnostics::check(&uri, cut);
            // Every third line is enough to meet every construct (and keeps
            // the test short in a debug build).
            if line % 3 != 0 {
                continue;
            }
            let width = content.encode_utf16().count() as u32;
            for character in (0..=width).filter(|c| c % 8 == 0 || *c == width) {
                let position = lsp_types::Position::new(line as u32, character);
                completion::complete(&uri, &text, position);
                hover::hover(&uri, &text, position);
                definition::definition(&uri, &text, position);
            }
        }
    }
}

fn collect_scripts(folder: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_scripts(&path, found);
        } else if path.extension().is_some_and(|e| e == "proc") {
            found.push(path);
        }
    }
}

#[test]
fn a_message_that_is_not_json_rpc_is_skipped() {
    let mut client = Client::initialize();
    let stdin = client.stdin.as_mut().unwrap();
    stdin
        .write_all(b"Content-Length: 9\r\n\r\nnot json!")
        .unwrap();
    let bad = client.request("textDocument/hover", json!({"position": "nowhere"}));
    assert_eq!(bad["error"]["code"], json!(-32602));
    client.open("print(1)");
    assert_eq!(
        client.result("textDocument/hover", at(0, 0))["range"],
        range(0, 0, 5)
    );
    assert_eq!(client.shut_down(), 0);
}

/// `import "lib/text.proc" as text`: the alias goes to the module file,
/// `text.words` to `words` in it, and `text.` completes the module's names.
#[test]
fn imports_lead_to_their_module_file_and_its_names() {
    let folder = std::env::temp_dir().join(format!("procscript-lsp-import-{}", std::process::id()));
    std::fs::create_dir_all(folder.join("lib")).unwrap();
    let module = folder.join("lib/text.proc");
    std::fs::write(
        &module,
        "let SEP = \" \"\nfn words(s) {\n    return split(s, SEP)\n}\n",
    )
    .unwrap();
    let main_uri = format!("file://{}/main.proc", folder.display());
    let module_uri = format!("file://{}", module.display());
    let here = |line: u32, character: u32| json!({"textDocument": {"uri": main_uri}, "position": {"line": line, "character": character}});
    let mut client = Client::initialize();
    let text = "import \"lib/text.proc\" as text\nprint(text.words(\"a b\"))\ntext.\n";
    let document = json!({"uri": main_uri, "languageId": "procscript", "version": 1, "text": text});
    client.notify("textDocument/didOpen", json!({"textDocument": document}));
    // `text.` on line 2 is unfinished; the import itself checks.
    let published = client.next_notification();
    assert_eq!(
        published["params"]["diagnostics"][0]["range"],
        range(2, 5, 5)
    );

    let alias = client.result("textDocument/definition", here(1, 8));
    assert_eq!(alias, json!({"uri": module_uri, "range": range(0, 0, 0)}));
    let words = client.result("textDocument/definition", here(1, 13));
    assert_eq!(words, json!({"uri": module_uri, "range": range(1, 3, 8)}));
    let hover = client.result("textDocument/hover", here(1, 13));
    assert_eq!(
        hover["contents"]["value"],
        "```procscript\nfn words(s)\n```"
    );
    let hover = client.result("textDocument/hover", here(1, 8));
    assert_eq!(
        hover["contents"]["value"],
        "```procscript\nimport \"lib/text.proc\" as text\n```"
    );
    let fields = client.result("textDocument/completion", here(2, 5));
    assert_eq!(labels(&fields), ["SEP", "words"]);
    assert_eq!(client.shut_down(), 0);
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn formatting_is_one_edit_of_fmt_and_none_for_a_formatted_text() {
    let mut client = Client::initialize();
    client.open("fn add(a,b){return a+b}\nprint(add(1,2))\n");
    let options = json!({"tabSize": 4, "insertSpaces": true});
    let request = json!({"textDocument": {"uri": URI}, "options": options});
    let edits = client.result("textDocument/formatting", request.clone());
    let formatted = "fn add(a, b) {\n    return a + b\n}\nprint(add(1, 2))\n";
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}});
    assert_eq!(edits, json!([{"range": whole, "newText": formatted}]));

    // The editor applies it: formatted now, nothing to do.
    let change = json!({"text": formatted});
    let change = json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [change]});
    client.notify("textDocument/didChange", change);
    assert_eq!(client.next_notification(), diagnostics(2, json!([])));
    assert_eq!(
        client.result("textDocument/formatting", request.clone()),
        json!([])
    );

    // A text that does not parse is left as it is (its diagnostic says why).
    let broken = json!({"range": range(1, 0, 0), "text": "let = "});
    let change = json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [broken]});
    client.notify("textDocument/didChange", change);
    client.next_notification();
    assert_eq!(
        client.result("textDocument/formatting", request),
        Value::Null
    );
    assert_eq!(client.shut_down(), 0);
}

/// An error in an imported file is shown on the import that brings it in,
/// naming the file and place, with that place as related information.
#[test]
fn an_error_in_an_imported_module_is_shown_on_its_import() {
    let folder =
        std::env::temp_dir().join(format!("procscript-lsp-bad-module-{}", std::process::id()));
    std::fs::create_dir_all(folder.join("lib")).unwrap();
    let module = folder.join("lib/text.proc");
    std::fs::write(&module, "fn words(s) {\n    return split(s, nope)\n}\n").unwrap();
    let main_uri = format!("file://{}/main.proc", folder.display());
    let mut client = Client::initialize();
    let text = "let n = 1\nimport \"lib/text.proc\" as text\nprint(text.words(\"a b\"))\n";
    let document = json!({"uri": main_uri, "languageId": "procscript", "version": 1, "text": text});
    client.notify("textDocument/didOpen", json!({"textDocument": document}));
    let published = client.next_notification();
    let module_name = module.display().to_string();
    assert_eq!(
        published["params"]["diagnostics"],
        json!([{
            "range": range(1, 26, 30),
            "severity": 1,
            "code": "procscript::name::undefined",
            "source": "procscript",
            "message": format!("{module_name}:2:21: undefined variable `nope`\nnot defined\nhelp: did you mean `type`?"),
            "relatedInformation": [{
                "location": {"uri": format!("file://{module_name}"), "range": range(1, 20, 24)},
                "message": "not defined",
            }],
        }])
    );
    assert_eq!(client.shut_down(), 0);
    std::fs::remove_dir_all(&folder).unwrap();
}

/// A module path that never ends (`/dev/zero`) is read no further than a
/// script may be long: completion after its alias still answers, with
/// nothing, as for any module it cannot read (it offered every built-in
/// method, which a module does not have).
#[test]
fn an_endless_module_file_is_not_read_to_its_end() {
    let mut client = Client::initialize();
    client.open("import \"/dev/zero\" as z\nimport \"missing.proc\" as m\nz.\nm.\n");
    let items = client.result("textDocument/completion", at(2, 2));
    assert_eq!(labels(&items), Vec::<String>::new(), "{items}");
    let items = client.result("textDocument/completion", at(3, 2));
    assert_eq!(labels(&items), Vec::<String>::new(), "{items}");
    assert_eq!(client.shut_down(), 0);
}

/// A server whose stdin is written by `write`, then closed: its exit code
/// and what it wrote on stderr.
fn serve_raw(write: impl FnOnce(&mut ChildStdin)) -> (i32, String) {
    let mut server = procscript(&["lsp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procscript lsp starts");
    let group = server.id() as i32;
    let mut stdin = server.stdin.take().expect("piped stdin");
    write(&mut stdin);
    drop(stdin);
    let output = server.wait_with_output().expect("wait for the server");
    assert_no_leftovers(group);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

/// A header may name any length: the server never allocates it. A length
/// past what may follow (here the client then closes the pipe) ends the
/// server as a client gone does: exit code 1, nothing on stderr, no panic
/// or refused allocation.
#[test]
fn a_content_length_past_all_memory_neither_panics_nor_allocates() {
    for length in ["18446744073709551615", "100000000000"] {
        let (code, stderr) = serve_raw(|stdin| {
            let header = format!("Content-Length: {length}\r\n\r\n{{}}");
            stdin.write_all(header.as_bytes()).unwrap();
        });
        assert_eq!((code, stderr.as_str()), (1, ""), "Content-Length {length}");
    }
}

/// A message over the limit (docs/editors.md) is read, dropped and reported
/// on stderr, and the next message is answered.
#[test]
fn a_message_over_the_size_limit_is_skipped() {
    let mut client = Client::initialize();
    let limit = 128 * 1024 * 1024;
    let stdin = client.stdin.as_mut().unwrap();
    let header = format!("Content-Length: {}\r\n\r\n", limit + 1);
    stdin.write_all(header.as_bytes()).unwrap();
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..128 {
        stdin.write_all(&chunk).unwrap();
    }
    stdin.write_all(b" ").unwrap();
    client.open("print(1)");
    assert_eq!(
        client.result("textDocument/hover", at(0, 0))["range"],
        range(0, 0, 5)
    );
    assert_eq!(client.shut_down(), 0);
}
