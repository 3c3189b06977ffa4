//! `procscript fmt`: formats script files in place, lists the ones that would change (`--check`), or formats stdin to stdout (`-`).

use clap::Parser;
use procscript::{stderr_wants_color, Source};
use std::path::{Path, PathBuf};

/// Format procscript scripts in the one canonical style (see docs/fmt.md).
#[derive(Parser, Debug)]
#[command(
    name = "procscript fmt",
    // The usage line names the command as typed, not the word `fmt` alone.
    bin_name = "procscript fmt",
    about = "Format procscript scripts in the one canonical style (see docs/fmt.md)",
    after_help = "Examples:\n  \
                  procscript fmt hello.proc lib/          rewrite a file and every .proc under lib/\n  \
                  procscript fmt --check scripts/         list the files that would change\n  \
                  procscript fmt - < x.proc               format stdin to stdout\n\n\
                  The style: 4-space blocks, one statement a line, spaces around binary\n\
                  operators, comments kept where they were, at most one blank line in a\n\
                  row, a final newline. Long lines are not wrapped.\n\n\
                  Exit codes: 0 done (with --check: nothing would change); 1 with --check\n\
                  when a file would change (each is listed on stdout); 2 when a file does\n\
                  not parse (it is reported and left as it is) or cannot be read or written."
)]
struct FmtArgs {
    /// Change nothing: list the files that would change and exit 1 (0 when none would)
    #[arg(long)]
    check: bool,

    /// Scripts to format in place; a folder means every `.proc` file under it;
    /// `-` reads a script from stdin and writes it formatted to stdout
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// How one file went.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Unchanged,
    WouldChange,
    Failed,
}

/// Runs `procscript fmt ARGS` (`args` starts with the word `fmt`); returns the exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> u8 {
    let cli = match FmtArgs::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { 2 } else { 0 };
        }
    };
    // stdin can be read once: a second `-` would format an empty script.
    if cli.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        eprintln!("procscript fmt: `-` (stdin) may be given once");
        return 2;
    }
    let mut worst = Outcome::Unchanged;
    for file in &cli.files {
        let outcome = if file.as_os_str() == "-" {
            format_stdin(cli.check)
        } else {
            match scripts_in(file) {
                Ok(paths) => paths
                    .iter()
                    .map(|path| format_file(path, cli.check))
                    .max()
                    .unwrap_or(Outcome::Unchanged),
                Err(message) => fail(&message),
            }
        };
        worst = worst.max(outcome);
    }
    match worst {
        Outcome::Unchanged => 0,
        Outcome::WouldChange => 1,
        Outcome::Failed => 2,
    }
}

/// `path` itself, or the `.proc` files under a folder (not through links to
/// folders), sorted.
fn scripts_in(path: &Path) -> Result<Vec<PathBuf>, String> {
    let shown = path.display();
    let Some(name) = path.to_str() else {
        return Err(format!("{shown}: the path is not UTF-8"));
    };
    if !procscript::os::is_dir(name) {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let names = procscript::os::list_dir(name).map_err(|e| format!("cannot read {shown}: {e}"))?;
    for entry in names {
        let child = path.join(&entry);
        let name = child.to_str().unwrap_or_default();
        if procscript::os::is_dir(name) {
            // A link to a folder is not followed (as `find` does): a link
            // back up the tree would have the walk go round for ever.
            if !procscript::os::is_link(name) {
                found.extend(scripts_in(&child)?);
            }
        } else if entry.ends_with(".proc") && !is_special(name) {
            found.push(child);
        }
    }
    Ok(found)
}

/// A FIFO, socket or device named like a script: the walk passes over it
/// (opening a FIFO waits for a writer). A broken link is kept, and reported.
fn is_special(name: &str) -> bool {
    procscript::os::path_exists(name) && !procscript::os::is_file(name)
}

fn format_file(path: &Path, check: bool) -> Outcome {
    let source = match Source::from_file(path) {
        Ok(source) => source,
        Err(message) => return fail(&message),
    };
    let Some(formatted) = formatted(&source) else {
        return Outcome::Failed;
    };
    if formatted == *source.text {
        return Outcome::Unchanged;
    }
    if check {
        say(&format!("{}\n", path.display()));
        return Outcome::WouldChange;
    }
    // Written into the file (not renamed over it), so its mode and owner stay.
    let written = path
        .to_str()
        .ok_or_else(|| "the path is not UTF-8".to_string())
        .and_then(|name| {
            procscript::os::write_file(name, formatted.as_bytes(), false).map_err(|e| e.to_string())
        });
    match written {
        Ok(()) => Outcome::Unchanged,
        Err(e) => fail(&format!("cannot write {}: {e}", path.display())),
    }
}

fn format_stdin(check: bool) -> Outcome {
    let text = match procscript::os::read_stdin_at_most(procscript::limits::MAX_SOURCE_BYTES) {
        Ok(text) => text,
        Err(e) => return fail(&format!("cannot read the script from stdin: {e}")),
    };
    let source = Source::new("<stdin>", text);
    let Some(formatted) = formatted(&source) else {
        return Outcome::Failed;
    };
    if check {
        if formatted == *source.text {
            return Outcome::Unchanged;
        }
        say("<stdin>\n");
        return Outcome::WouldChange;
    }
    say(&formatted);
    Outcome::Unchanged
}

/// The formatted text, or `None` after reporting the syntax error.
fn formatted(source: &Source) -> Option<String> {
    match procscript::fmt::format_source(&source.text) {
        Ok(text) => Some(text),
        Err(diag) => {
            tell(&diag.render(source, stderr_wants_color()));
            None
        }
    }
}

fn fail(message: &str) -> Outcome {
    tell(&format!("procscript fmt: {message}\n"));
    Outcome::Failed
}

fn say(text: &str) {
    let _ = procscript::os::write_all(procscript::os::StdFd::Out, text.as_bytes());
}

fn tell(text: &str) {
    let _ = procscript::os::write_all(procscript::os::StdFd::Err, text.as_bytes());
}
