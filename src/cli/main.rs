//! The `procscript` command: reads a script, runs it, reports errors, exits with the right code.

#![deny(clippy::undocumented_unsafe_blocks)]

mod fmt_command;
#[cfg(feature = "prompt")]
mod prompt;
mod script_options;

use clap::Parser;
use procscript::{stderr_wants_color, Engine, Outcome, Source};
use script_options::ScriptOptions;
use std::io::IsTerminal;
use std::process::ExitCode;

/// Out of memory is one clear line and exit code 1, never an abort (docs/language.md, Limits).
#[global_allocator]
static ALLOCATOR: procscript::os::ExitOnOutOfMemory = procscript::os::ExitOnOutOfMemory;

/// Run procscript scripts: a small language whose statements are real OS process calls.
#[derive(Parser, Debug)]
#[command(
    name = "procscript",
    version,
    about,
    after_help = "Examples:\n  \
                  procscript                          an interactive prompt (on a terminal)\n  \
                  procscript hello.proc a b           run a script; `args` is [\"a\", \"b\"]\n  \
                  procscript x.proc --verbose -n 3    everything after the script goes to `args`\n  \
                  procscript -e 'print(pid)'          run code given inline\n  \
                  echo 'print(1)' | procscript -      read the script from stdin\n  \
                  procscript --check hello.proc       parse and check only\n  \
                  procscript fmt hello.proc           format a script in place (fmt --help)\n  \
                  procscript --max-procs 16 x.proc    allow at most 16 live processes\n  \
                  procscript --timeout 0.5 x.proc     stop everything after half a second\n  \
                  procscript --tree forks.proc        run, then draw the process tree\n  \
                  procscript --explain forks.proc     narrate each OS call as it happens\n  \
                  procscript --explain                the prompt, narrating each entry's OS calls\n  \
                  procscript --trace=t.json x.proc    also write a trace for Perfetto\n  \
                  procscript --timeline=t.svg x.proc  also draw a timeline picture\n  \
                  procscript lsp                      serve editors as a language server on stdio\n\n\
                  A script's first lines may give options for itself, such as\n  \
                  #! options: --max-procs 16 --timeout 5\n\
                  (only --max-procs, --timeout, --tree, --explain); the command line's win.\n\n\
                  Exit codes: the script's exit(n), else 0; 1 for an uncaught runtime error;\n\
                  2 for a parse error or bad usage (nothing is run); 130 after Ctrl-C,\n\
                  143 after SIGTERM, 124 after --timeout."
)]
struct Cli {
    /// Run CODE instead of a file; the words after the options go to `args`
    #[arg(short = 'e', value_name = "CODE")]
    eval: Option<String>,

    /// Parse and check the script without running it (exit 0, or 2 on an error)
    #[arg(long)]
    check: bool,

    /// Serve a remote pool's tasks over stdin/stdout (a driver's ssh or srun starts this; see docs/many_machines.md)
    #[arg(long, hide = true)]
    worker: bool,

    /// The options a script's `#! options:` lines may give too.
    #[command(flatten)]
    options: ScriptOptions,

    /// Write the run as a Chrome trace (open it in Perfetto or chrome://tracing);
    /// the `=` is required, so a script's name is never taken for the file
    #[arg(long, value_name = "OUT.json", require_equals = true)]
    trace: Option<std::path::PathBuf>,

    /// Write the run as an SVG timeline (one lane per process); the `=` is required
    #[arg(long, value_name = "OUT.svg", require_equals = true)]
    timeline: Option<std::path::PathBuf>,

    /// The script file (`-` reads it from stdin), then the script's arguments:
    /// everything after the file goes to the script untouched
    #[arg(value_name = "FILE [ARGS]", trailing_var_arg = true)]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    // `procscript fmt ...` and `procscript lsp` are commands of their own (a
    // script named `fmt` or `lsp` runs as `./fmt`, `./lsp`).
    let mut words = std::env::args_os().skip(1).peekable();
    if words.peek().is_some_and(|word| word == "fmt") {
        return ExitCode::from(fmt_command::run(words.collect()));
    }
    // The words after `lsp` are not read: clients add `--stdio`, and stdio is all it speaks.
    if words.peek().is_some_and(|word| word == "lsp") {
        return ExitCode::from(procscript::lsp::serve() as u8);
    }
    procscript::os::keep_freed_memory();
    let cli = Cli::parse();
    procscript::os::export_interpreter_path();
    if cli.worker {
        return ExitCode::from(procscript::api::worker::serve_worker() as u8);
    }
    let color = stderr_wants_color();
    let wants_prompt = cli.eval.is_none() && cli.rest.is_empty() && !cli.check;
    if wants_prompt && std::io::stdin().is_terminal() {
        if let Err(message) = views(&cli, &cli.options).check_files() {
            tell(&format!("procscript: {message}\n"));
            return ExitCode::from(2);
        }
        return interactive(&cli, color);
    }
    let loaded = load(&cli).and_then(|(source, args)| {
        let header = ScriptOptions::from_header(&source.text)
            .map_err(|message| format!("{}: {message}", source.name))?;
        let options = header.overridden_by(&cli.options);
        let views = views(&cli, &options);
        views.check_files()?;
        Ok((source, args, options, views))
    });
    let (source, args, options, views) = match loaded {
        Ok(loaded) => loaded,
        Err(message) => {
            tell(&format!("procscript: {message}\n"));
            return ExitCode::from(2);
        }
    };
    let engine = Engine::new()
        .args(args)
        .max_procs(max_procs(&options))
        .color(color)
        .timeout_after(options.timeout.map(std::time::Duration::from_secs_f64))
        .views(views);
    if cli.check {
        return match engine.check(&source) {
            Ok(()) => ExitCode::SUCCESS,
            Err(diag) => {
                tell(&diag.render(&source, color));
                ExitCode::from(2)
            }
        };
    }
    let outcome = engine.run(&source);
    match &outcome {
        // A process limit met all over a tree is reported once, maybe by another process.
        Outcome::Failed(diag) if diag.told => {}
        Outcome::Invalid(diag) | Outcome::Failed(diag) => tell(&report(diag, &source, color)),
        Outcome::TimedOut => {
            let seconds = options.timeout.unwrap_or_default();
            let unit = if seconds == 1.0 { "second" } else { "seconds" };
            tell(&format!(
                "procscript: stopped after --timeout {seconds} {unit}; every process of the script was stopped\n"
            ))
        }
        _ => {}
    }
    ExitCode::from(outcome.exit_code() as u8)
}

/// Writes `text` on stderr. A stderr that cannot take it (full, closed) is
/// no reason to panic: the exit code still says how the run ended.
fn tell(text: &str) {
    let _ = procscript::os::write_all(procscript::os::StdFd::Err, text.as_bytes());
}

/// The text for an error: a plain line for one that has no place in the
/// script (a view that could not be written), else the report with the source.
fn report(diag: &procscript::Diag, source: &Source, color: bool) -> String {
    if diag.label.is_empty() && diag.span == procscript::front::ast::Span::default() {
        return format!("procscript: {}\n", diag.message);
    }
    diag.render(source, color)
}

/// The interactive prompt, when the command was built with it.
#[cfg(feature = "prompt")]
fn interactive(cli: &Cli, color: bool) -> ExitCode {
    let engine = Engine::new()
        .max_procs(max_procs(&cli.options))
        .color(color)
        .views(views(cli, &cli.options));
    ExitCode::from(prompt::run(&engine, color) as u8)
}

#[cfg(not(feature = "prompt"))]
fn interactive(_: &Cli, _: bool) -> ExitCode {
    tell("procscript: this build has no interactive prompt (feature `prompt`); give a script\n");
    ExitCode::from(2)
}

/// The views of the run the options ask for.
fn views(cli: &Cli, options: &ScriptOptions) -> procscript::Views {
    procscript::Views {
        tree: options.tree,
        trace: cli.trace.clone(),
        timeline: cli.timeline.clone(),
        explain: options.explain,
    }
}

fn max_procs(options: &ScriptOptions) -> usize {
    options
        .max_procs
        .map_or(procscript::DEFAULT_MAX_PROCS, |n| n as usize)
}

/// Finds the script text and its arguments from the command line.
fn load(cli: &Cli) -> Result<(Source, Vec<String>), String> {
    if let Some(code) = &cli.eval {
        return Ok((Source::new("-e", code.as_str()), cli.rest.clone()));
    }
    let Some((path, args)) = cli.rest.split_first() else {
        if std::io::stdin().is_terminal() {
            return Err("no script given to check; try `procscript --help`".to_string());
        }
        return Ok((Source::new("<stdin>", read_stdin()?), Vec::new()));
    };
    if path == "-" {
        return Ok((Source::new("<stdin>", read_stdin()?), args.to_vec()));
    }
    Ok((Source::from_file(path)?, args.to_vec()))
}

fn read_stdin() -> Result<String, String> {
    procscript::os::read_stdin_at_most(procscript::limits::MAX_SOURCE_BYTES)
        .map_err(|e| format!("cannot read the script from stdin: {e}"))
}
