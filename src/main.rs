//! The `procscript` command: reads a script, runs it, reports errors, exits with the right code.

#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "prompt")]
mod prompt;

use clap::Parser;
use procscript::{stderr_wants_color, Engine, Outcome, Source};
use std::io::IsTerminal;
use std::io::Read;
use std::process::ExitCode;

/// Run procscript scripts: a small language whose statements are real OS process calls.
#[derive(Parser, Debug)]
#[command(
    name = "procscript",
    version,
    about,
    after_help = "Examples:\n  \
                  procscript                          an interactive prompt (on a terminal)\n  \
                  procscript hello.proc a b           run a script; `args` is [\"a\", \"b\"]\n  \
                  procscript -e 'print(pid)'          run code given inline\n  \
                  echo 'print(1)' | procscript -      read the script from stdin\n  \
                  procscript --check hello.proc       parse and check only\n  \
                  procscript --max-procs 16 x.proc    allow at most 16 live processes\n  \
                  procscript --timeout 60 x.proc      stop everything after a minute\n  \
                  procscript --tree forks.proc        run, then draw the process tree\n  \
                  procscript --explain forks.proc     narrate each OS call as it happens\n  \
                  procscript --explain                the prompt, narrating each entry's OS calls\n  \
                  procscript --trace t.json x.proc    also write a trace for Perfetto\n  \
                  procscript --timeline t.svg x.proc  also draw a timeline picture\n\n\
                  Exit codes: the script's exit(n), else 0; 1 for an uncaught runtime error;\n\
                  2 for a parse error or bad usage (nothing is run); 130 after Ctrl-C,\n\
                  143 after SIGTERM, 124 after --timeout."
)]
struct Cli {
    /// Run CODE instead of a file; every positional argument goes to `args`
    #[arg(short = 'e', value_name = "CODE")]
    eval: Option<String>,

    /// Parse and check the script without running it (exit 0, or 2 on an error)
    #[arg(long)]
    check: bool,

    /// Most processes the script's whole tree may have alive at once; a fork
    /// or spawn past it is a catchable error
    #[arg(long, value_name = "N", default_value_t = procscript::DEFAULT_MAX_PROCS as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_procs: u32,

    /// Stop the whole tree after SECONDS (exit code 124)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    timeout: Option<u32>,

    /// After the run, draw the tree of every process that ran on stderr
    #[arg(long)]
    tree: bool,

    /// Write the run as a Chrome trace (open it in Perfetto or chrome://tracing)
    #[arg(long, value_name = "OUT.json")]
    trace: Option<std::path::PathBuf>,

    /// Write the run as an SVG timeline (one lane per process)
    #[arg(long, value_name = "OUT.svg")]
    timeline: Option<std::path::PathBuf>,

    /// Narrate each OS call (fork, waitpid, kill, exit...) on stderr as it happens
    #[arg(long)]
    explain: bool,

    /// The script file (`-` reads it from stdin), then the script's arguments
    #[arg(
        value_name = "FILE [ARGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = stderr_wants_color();
    let wants_prompt = cli.eval.is_none() && cli.rest.is_empty() && !cli.check;
    if wants_prompt && std::io::stdin().is_terminal() {
        return interactive(&cli, color);
    }
    let (source, args) = match load(&cli) {
        Ok(loaded) => loaded,
        Err(message) => {
            eprintln!("procscript: {message}");
            return ExitCode::from(2);
        }
    };
    let engine = Engine::new()
        .args(args)
        .max_procs(cli.max_procs as usize)
        .color(color)
        .timeout(cli.timeout)
        .views(views(&cli));
    if cli.check {
        return match engine.check(&source) {
            Ok(()) => ExitCode::SUCCESS,
            Err(diag) => {
                eprint!("{}", diag.render(&source, color));
                ExitCode::from(2)
            }
        };
    }
    let outcome = engine.run(&source);
    match &outcome {
        Outcome::Invalid(diag) | Outcome::Failed(diag) => eprint!("{}", diag.render(&source, color)),
        Outcome::TimedOut => eprintln!(
            "procscript: stopped after --timeout {} seconds; every process of the script was stopped",
            cli.timeout.unwrap_or_default()
        ),
        _ => {}
    }
    ExitCode::from(outcome.exit_code() as u8)
}

/// The interactive prompt, when the command was built with it.
#[cfg(feature = "prompt")]
fn interactive(cli: &Cli, color: bool) -> ExitCode {
    let engine = Engine::new()
        .max_procs(cli.max_procs as usize)
        .color(color)
        .views(views(cli));
    ExitCode::from(prompt::run(&engine, color) as u8)
}

#[cfg(not(feature = "prompt"))]
fn interactive(_: &Cli, _: bool) -> ExitCode {
    eprintln!("procscript: this build has no interactive prompt (feature `prompt`); give a script");
    ExitCode::from(2)
}

/// The views of the run the options ask for.
fn views(cli: &Cli) -> procscript::Views {
    procscript::Views {
        tree: cli.tree,
        trace: cli.trace.clone(),
        timeline: cli.timeline.clone(),
        explain: cli.explain,
    }
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
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the script from stdin: {e}"))?;
    Ok(text)
}
