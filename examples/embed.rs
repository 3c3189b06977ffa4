//! Embeds procscript in a Rust program: a host function, called by a script from spawned children.
//!
//! Run it with `cargo run --example embed`. The host registers `word_score`, a
//! Rust function; the script spreads the words over child processes, each
//! child calls `word_score` (in its own process), and the parent joins the results.

use procscript::{Engine, Outcome, Source, Value};

const SCRIPT: &str = r#"
fn score_all(words) {
    let total = 0
    for w in words { total += word_score(w) }
    return {"pid": pid, "parent": ppid, "total": total}
}

let halves = [slice(args, 0, 2), slice(args, 2)]
let workers = []
for half in halves { push(workers, spawn score_all(half)) }
let sum = 0
for w in workers {
    let result = join w
    if result["parent"] != pid { error("a worker is not my child") }
    sum += result["total"]
}
print("total score of", len(args), "words from", len(workers), "children:", sum)
"#;

/// The host's own logic: a letter score (a = 1 ... z = 26), in Rust.
fn word_score(args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Str(word) => Ok(Value::Int(
            word.chars()
                .filter(|c| c.is_ascii_alphabetic())
                .map(|c| (c.to_ascii_lowercase() as u8 - b'a' + 1) as i64)
                .sum(),
        )),
        other => Err(format!(
            "word_score takes a string, not {}",
            other.type_name()
        )),
    }
}

fn main() {
    let words = ["fork", "spawn", "join", "pipe"];
    let engine = Engine::new()
        .args(words.iter().map(|w| w.to_string()).collect())
        .max_procs(8)
        .register("word_score", 1, word_score);
    let source = Source::new("embedded.proc", SCRIPT);
    let (outcome, printed) = engine.run_captured(&source);
    print!("{printed}");
    match outcome {
        Outcome::Exited(0) => {}
        Outcome::Invalid(error) | Outcome::Failed(error) => {
            eprint!("{}", error.render(&source, false));
            std::process::exit(1);
        }
        other => std::process::exit(other.exit_code()),
    }
}
