//! The options a script may ask for itself in `#! options:` lines, merged with the command line's.

use clap::Parser;

/// The options allowed both on the command line and in a script's
/// `#! options:` lines: the limits a script knows it needs and the views that
/// only write to stderr. Options that write files (`--trace`, `--timeline`)
/// or change the mode (`-e`, `--check`) are for the command line alone.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ScriptOptions {
    /// Most processes the script's whole tree may have alive at once (default
    /// 512); a fork or spawn past it is a catchable error
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_procs: Option<u32>,

    /// Stop the whole tree after SECONDS, a positive decimal such as 0.5 (exit code 124)
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<f64>,

    /// After the run, draw the tree of every process that ran on stderr
    #[arg(long)]
    pub tree: bool,

    /// Narrate each OS call (fork, waitpid, kill, exit...) on stderr as it happens
    #[arg(long)]
    pub explain: bool,
}

/// The command's options that a script may not give itself: they write
/// files the person running it did not name, or change what the command does.
const COMMAND_LINE_ONLY: [&str; 8] = [
    "--trace",
    "--timeline",
    "--check",
    "-e",
    "--help",
    "-h",
    "--version",
    "-V",
];

/// The words of `#! options:` lines, parsed as the command line would be.
#[derive(Parser)]
#[command(
    name = "#! options:",
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true
)]
struct Header {
    #[command(flatten)]
    options: ScriptOptions,
}

impl ScriptOptions {
    /// The options of the `#! options:` lines at the very top of `text`
    /// (the first lines, each starting with `#!`; other `#!` lines, such as a
    /// `#!/usr/bin/env procscript` first line, are comments).
    pub fn from_header(text: &str) -> Result<ScriptOptions, String> {
        let mut words = Vec::new();
        let header = text.lines().take_while(|line| line.starts_with("#!"));
        for line in header {
            if let Some(options) = line["#!".len()..].trim_start().strip_prefix("options:") {
                words.extend(options.split_whitespace());
            }
        }
        let line = "in the script's `#! options:` line";
        let allowed = "a script may give only --max-procs, --timeout, --tree and --explain";
        let option_of = |word: &&str| word.split('=').next().unwrap_or_default().to_string();
        if let Some(word) = words
            .iter()
            .find(|w| COMMAND_LINE_ONLY.contains(&&*option_of(w)))
        {
            return Err(format!(
                "{line}: {} may be given on the command line only; {allowed}",
                option_of(word)
            ));
        }
        let header = Header::try_parse_from(words).map_err(|e| {
            // clap's words without its usage lines: "unexpected argument
            // '--tre' found", then a tip when one fits.
            let text = e.to_string();
            let kept: Vec<&str> = text
                .lines()
                .take_while(|line| !line.starts_with("Usage:"))
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with("tip: to pass"))
                .collect();
            let kept = kept.join("; ");
            let words = kept.strip_prefix("error: ").unwrap_or(&kept);
            match e.kind() {
                clap::error::ErrorKind::UnknownArgument => format!("{line}: {words}; {allowed}"),
                _ => format!("{line}: {words}"),
            }
        })?;
        Ok(header.options)
    }

    /// These options, where the command line's win: a limit given there
    /// replaces the script's, and a view asked for in either place is drawn.
    pub fn overridden_by(self, command_line: &ScriptOptions) -> ScriptOptions {
        ScriptOptions {
            // A script may only lower the limit below the default: a script
            // someone downloaded must not switch off the fork-bomb safety net.
            // The person at the command line may set any limit.
            max_procs: command_line.max_procs.or(self
                .max_procs
                .map(|n| n.min(procscript::DEFAULT_MAX_PROCS as u32))),
            timeout: command_line.timeout.or(self.timeout),
            tree: command_line.tree || self.tree,
            explain: command_line.explain || self.explain,
        }
    }
}

/// Seconds as a positive decimal (`2`, `0.5`, `1e-3`), at most a billion.
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 1e9 => Ok(seconds),
        Ok(_) => Err("seconds must be more than 0 and at most 1e9".to_string()),
        Err(_) => Err("expected seconds as a number, such as 2 or 0.5".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::ScriptOptions;

    fn limit(script: Option<u32>, command_line: Option<u32>) -> Option<u32> {
        let script = ScriptOptions {
            max_procs: script,
            ..ScriptOptions::default()
        };
        let command_line = ScriptOptions {
            max_procs: command_line,
            ..ScriptOptions::default()
        };
        script.overridden_by(&command_line).max_procs
    }

    #[test]
    fn a_script_can_lower_the_process_limit_but_not_raise_it() {
        assert_eq!(limit(Some(16), None), Some(16));
        assert_eq!(limit(Some(4_294_967_295), None), Some(512));
        assert_eq!(limit(Some(4_294_967_295), Some(2000)), Some(2000));
        assert_eq!(limit(None, Some(100_000)), Some(100_000));
        assert_eq!(limit(None, None), None);
    }
}
