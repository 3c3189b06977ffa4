//! The options map of `run`, `capture`, `start`, `exec` and the pipelines, read in one place into one typed value before anything runs.

use super::args::{seconds, CallSite};
use crate::error::{ErrorKind, Unwind, R};
use crate::front::ast::Span;
use crate::values::Value;
use std::rc::Rc;

/// The built-in a program's options belong to: each takes its own set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Caller {
    Run,
    Capture,
    Start,
    Exec,
    Pipeline,
    CapturePipeline,
}

/// Every option, with what it takes (for errors and their help).
const OPTIONS: &[(&str, &str)] = &[
    ("cwd", "a string: the folder the program starts in"),
    (
        "env",
        "a map of names to strings: variables added to the environment",
    ),
    ("clear_env", "a bool: start from an empty environment"),
    ("stdin", "a string: the text the program reads"),
    ("stdin_file", "a string: the file the program reads"),
    ("stdout", "a string: the file its output goes to"),
    (
        "append",
        "a bool: add to the stdout file instead of replacing it",
    ),
    (
        "stderr",
        "\"stdout\", \"null\", \"capture\" or a file's path",
    ),
    ("timeout", "a number of seconds"),
    ("check", "a bool: whether a failure is an error"),
    ("group", "a bool: run in a process group of its own"),
];

impl Caller {
    pub(super) fn name(self) -> &'static str {
        match self {
            Caller::Run => "run",
            Caller::Capture => "capture",
            Caller::Start => "start",
            Caller::Exec => "exec",
            Caller::Pipeline => "pipeline",
            Caller::CapturePipeline => "capture_pipeline",
        }
    }

    /// Whether its output is captured (it takes `check`, and `stderr: "capture"`,
    /// but not `stdout`).
    fn captures(self) -> bool {
        matches!(self, Caller::Capture | Caller::CapturePipeline)
    }

    fn accepts(self, key: &str) -> bool {
        match key {
            "check" => self.captures(),
            "stdout" | "append" => !self.captures(),
            // A started program runs on while the script does: no call waits
            // for it, so none could stop it on time (`join(h, seconds)` and
            // `kill(h)` do it instead).
            "timeout" => self != Caller::Start,
            // `exec` replaces this process: it has no group of its own to lead.
            "group" => self != Caller::Exec,
            _ => OPTIONS.iter().any(|(k, _)| *k == key),
        }
    }

    /// "cwd, env, ...": the options this built-in takes.
    fn known(self) -> String {
        OPTIONS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| self.accepts(k))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where a program's stdin comes from.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum StdinFrom {
    Inherit,
    Text(Rc<str>),
    File(String),
}

/// Where a program's stderr goes.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum StderrTo {
    Inherit,
    /// Wherever its stdout goes (`2>&1`).
    Stdout,
    Null,
    File(String),
    /// Into the result of `capture` (`"err"`).
    Capture,
}

/// A program's options, read and checked.
#[derive(Clone, Debug)]
pub(super) struct ProgramOptions {
    pub cwd: Option<String>,
    pub env: Vec<(String, String)>,
    pub clear_env: bool,
    pub stdin: StdinFrom,
    pub stdout: Option<String>,
    pub append: bool,
    pub stderr: StderrTo,
    pub timeout: Option<f64>,
    pub check: bool,
    pub group: bool,
    /// How many of `stdin` and `stdin_file` were given: both is an error,
    /// since either would silently replace the other.
    stdin_given: u8,
    /// Where the options map stands (the call, when there is none).
    pub span: Span,
}

impl ProgramOptions {
    fn defaults(span: Span) -> ProgramOptions {
        ProgramOptions {
            cwd: None,
            env: Vec::new(),
            clear_env: false,
            stdin: StdinFrom::Inherit,
            stdout: None,
            append: false,
            stderr: StderrTo::Inherit,
            timeout: None,
            check: true,
            group: false,
            stdin_given: 0,
            span,
        }
    }

    /// Whether the program runs in a process group of its own: asked for, or
    /// needed so that a timeout reaches the program's own children too.
    pub(super) fn own_group(&self) -> bool {
        self.group || self.timeout.is_some()
    }
}

/// Splits a trailing options map off the arguments: the arguments before it
/// and the options read from it (the defaults when the last argument is not a map).
pub(super) fn split_options<'v>(
    caller: Caller,
    args: &'v [Value],
    site: &CallSite,
) -> R<(&'v [Value], ProgramOptions)> {
    let (Some(Value::Map(map)), true) = (args.last(), args.len() > 1) else {
        return Ok((args, ProgramOptions::defaults(site.span)));
    };
    let span = site.arg(args.len() - 1);
    let mut options = ProgramOptions::defaults(span);
    let reader = Reader { caller, span };
    for (key, value) in map.borrow().iter() {
        reader.read(&mut options, key, value)?;
    }
    reader.check_together(&options)?;
    Ok((&args[..args.len() - 1], options))
}

/// Reads one options map, with the place to point errors at.
struct Reader {
    caller: Caller,
    span: Span,
}

impl Reader {
    fn read(&self, options: &mut ProgramOptions, key: &str, value: &Value) -> R<()> {
        if !self.caller.accepts(key) {
            return Err(self.unknown(key));
        }
        match key {
            "cwd" => options.cwd = Some(self.path(key, value)?.to_string()),
            "env" => options.env = self.env(value)?,
            "clear_env" => options.clear_env = self.boolean(key, value)?,
            "stdin" => {
                options.stdin = StdinFrom::Text(self.string(key, value)?.clone());
                options.stdin_given += 1;
            }
            "stdin_file" => {
                options.stdin = StdinFrom::File(self.path(key, value)?.to_string());
                options.stdin_given += 1;
            }
            "stdout" => options.stdout = Some(self.path(key, value)?.to_string()),
            "append" => options.append = self.boolean(key, value)?,
            "stderr" => options.stderr = self.stderr(value)?,
            "timeout" => options.timeout = Some(seconds(value, "the option `timeout`", self.span)?),
            "check" => options.check = self.boolean(key, value)?,
            _ => options.group = self.boolean(key, value)?,
        }
        Ok(())
    }

    /// Options that make no sense together: an error naming both.
    fn check_together(&self, options: &ProgramOptions) -> R<()> {
        if options.stdin_given > 1 {
            return Err(self.invalid(
                "the options `stdin` and `stdin_file` cannot be given together",
                "a program has one stdin: \"stdin\" gives it a text, \"stdin_file\" a file",
            ));
        }
        if options.append && options.stdout.is_none() {
            return Err(self.invalid(
                "the option `append` needs `stdout`, the file to append to",
                "\"append\": true adds to the file named by \"stdout\"",
            ));
        }
        Ok(())
    }

    fn unknown(&self, key: &str) -> Unwind {
        let elsewhere = OPTIONS.iter().any(|(k, _)| *k == key);
        let message = if elsewhere {
            format!("`{}` does not take the option `{key}`", self.caller.name())
        } else {
            format!("`{}` has no option `{key}`", self.caller.name())
        };
        ErrorKind::ProgramOption
            .at(self.span, message, format!("`{key}` is not an option here"))
            .with_help(format!(
                "the options of `{}` are: {}",
                self.caller.name(),
                self.caller.known()
            ))
            .into()
    }

    fn wrong_type(&self, key: &str, value: &Value) -> Unwind {
        let wanted = OPTIONS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("", |(_, what)| *what);
        ErrorKind::ProgramOption
            .at(
                self.span,
                format!(
                    "the option `{key}` of `{}` must be {}, not {}",
                    self.caller.name(),
                    wanted.split(':').next().unwrap_or(wanted),
                    value.type_name()
                ),
                format!("`{key}` is {} here", value.type_name()),
            )
            .with_help(format!("`{key}` takes {wanted}"))
            .into()
    }

    fn invalid(&self, message: &str, help: &str) -> Unwind {
        ErrorKind::ProgramOption
            .at(self.span, message, "in these options")
            .with_help(help)
            .into()
    }

    fn string<'v>(&self, key: &str, value: &'v Value) -> R<&'v Rc<str>> {
        match value {
            Value::Str(s) => Ok(s),
            other => Err(self.wrong_type(key, other)),
        }
    }

    /// A path: a string without a NUL byte, which no path can hold.
    fn path<'v>(&self, key: &str, value: &'v Value) -> R<&'v Rc<str>> {
        let path = self.string(key, value)?;
        if path.contains('\0') {
            return Err(self.invalid(
                &format!(
                    "the option `{key}` of `{}` holds a NUL byte, which no path can hold",
                    self.caller.name()
                ),
                "a path is a string without \"\\0\"",
            ));
        }
        Ok(path)
    }

    fn boolean(&self, key: &str, value: &Value) -> R<bool> {
        match value {
            Value::Bool(b) => Ok(*b),
            other => Err(self.wrong_type(key, other)),
        }
    }

    /// `env`: names to strings (numbers are written out, as for arguments).
    fn env(&self, value: &Value) -> R<Vec<(String, String)>> {
        let Value::Map(map) = value else {
            return Err(self.wrong_type("env", value));
        };
        let mut vars = Vec::new();
        for (name, value) in map.borrow().iter() {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(self.invalid(
                    &format!(
                        "the environment variable name {:?} is not valid",
                        name.as_ref()
                    ),
                    "a variable's name is not empty and holds no `=` and no NUL byte",
                ));
            }
            let text = match value {
                Value::Str(s) if s.contains('\0') => {
                    return Err(self.invalid(
                        &format!(
                            "the environment variable {:?} holds a NUL byte",
                            name.as_ref()
                        ),
                        "a variable's value is a string without \"\\0\"",
                    ))
                }
                Value::Str(s) => s.to_string(),
                Value::Int(_) | Value::Float(_) => value.to_display(),
                other => return Err(self.wrong_type("env", other)),
            };
            vars.push((name.to_string(), text));
        }
        Ok(vars)
    }

    fn stderr(&self, value: &Value) -> R<StderrTo> {
        let to = match self.path("stderr", value)?.as_ref() {
            "stdout" => StderrTo::Stdout,
            "null" => StderrTo::Null,
            "capture" if self.caller.captures() => StderrTo::Capture,
            "capture" => {
                return Err(self.invalid(
                    &format!("`{}` cannot capture stderr", self.caller.name()),
                    "\"stderr\": \"capture\" is for capture(...) and capture_pipeline(...); \
                     here give a file's path, \"stdout\" or \"null\"",
                ))
            }
            "" => {
                return Err(self.invalid(
                    "the option `stderr` is empty",
                    "give \"stdout\", \"null\", \"capture\" or a file's path",
                ))
            }
            path => StderrTo::File(path.to_string()),
        };
        Ok(to)
    }
}
