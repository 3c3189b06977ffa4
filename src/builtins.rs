//! Built-in functions, registered from one table: name, argument counts, and the Rust function.

use crate::ast::Span;
use crate::diagnostic::Diag;
use crate::interp::{error, error_help, seconds_of, Interp, Unwind, R};
use crate::ops::range_list;
use crate::os;
use crate::value::{compare, equals, Value};
use std::rc::Rc;

/// Where a builtin was called from, for errors that point at an argument.
pub struct CallSite<'a> {
    pub span: Span,
    pub arg_spans: &'a [Span],
}

impl CallSite<'_> {
    pub fn arg(&self, i: usize) -> Span {
        self.arg_spans.get(i).copied().unwrap_or(self.span)
    }

    /// "`len` takes a string, list or map, not int", pointing at argument `i`.
    fn wrong_type(&self, name: &str, i: usize, wanted: &str, got: &Value) -> Unwind {
        error(
            format!("`{name}` takes {wanted}, not {}", got.type_name()),
            self.arg(i),
            format!("this is {}", got.type_name()),
        )
    }
}

type BuiltinFn = fn(&mut Interp, &[Value], &CallSite) -> R<Value>;

pub struct Builtin {
    pub name: &'static str,
    /// How the arguments are written, for errors and docs.
    pub signature: &'static str,
    pub min_args: usize,
    /// `usize::MAX` for any number.
    pub max_args: usize,
    run: BuiltinFn,
}

const ANY: usize = usize::MAX;

macro_rules! builtin {
    ($name:literal, $sig:literal, $min:expr, $max:expr, $run:expr) => {
        Builtin {
            name: $name,
            signature: $sig,
            min_args: $min,
            max_args: $max,
            run: $run,
        }
    };
}

/// Every builtin function.
static TABLE: &[Builtin] = &[
    builtin!("print", "print(values...)", 0, ANY, print),
    builtin!("eprint", "eprint(values...)", 0, ANY, eprint),
    builtin!("len", "len(string | list | map)", 1, 1, len),
    builtin!("str", "str(value)", 1, 1, to_str),
    builtin!("int", "int(number | string)", 1, 1, to_int),
    builtin!("float", "float(number | string)", 1, 1, to_float),
    builtin!("type", "type(value)", 1, 1, type_of),
    builtin!("keys", "keys(map)", 1, 1, keys),
    builtin!("values", "values(map)", 1, 1, values),
    builtin!("push", "push(list, value)", 2, 2, push),
    builtin!("pop", "pop(list)", 1, 1, pop),
    builtin!(
        "contains",
        "contains(list | map | string, value)",
        2,
        2,
        contains
    ),
    builtin!("split", "split(string, separator?)", 1, 2, split),
    builtin!("join_str", "join_str(list, separator?)", 1, 2, join_str),
    builtin!(
        "range",
        "range(end) | range(start, end, step?)",
        1,
        3,
        range
    ),
    builtin!("time", "time()", 0, 0, time),
    builtin!("get", "get(map | list, key, default)", 3, 3, get),
    builtin!("env", "env(name)", 1, 1, env),
    builtin!("error", "error(message)", 1, 1, raise),
    builtin!("exit", "exit(code?)", 0, 1, exit),
    builtin!("sleep", "sleep(seconds)", 1, 1, sleep),
    builtin!("abs", "abs(number)", 1, 1, abs),
    builtin!("min", "min(list) | min(a, b, ...)", 1, ANY, min),
    builtin!("max", "max(list) | max(a, b, ...)", 1, ANY, max),
    builtin!("sum", "sum(list)", 1, 1, sum),
    builtin!("sort", "sort(list)", 1, 1, sort),
    builtin!("reverse", "reverse(list | string)", 1, 1, reverse),
    builtin!("slice", "slice(list | string, start, end?)", 2, 3, slice),
    builtin!("trim", "trim(string)", 1, 1, trim),
    builtin!("upper", "upper(string)", 1, 1, upper),
    builtin!("lower", "lower(string)", 1, 1, lower),
    builtin!("replace", "replace(string, old, new)", 3, 3, replace),
    builtin!(
        "starts_with",
        "starts_with(string, prefix)",
        2,
        2,
        starts_with
    ),
    builtin!("ends_with", "ends_with(string, suffix)", 2, 2, ends_with),
    builtin!("round", "round(number)", 1, 1, round),
    builtin!("alive", "alive(process | pid)", 1, 1, alive),
    builtin!("state", "state(process | pid)", 1, 1, state),
    builtin!("kill", "kill(process | pid, signal?)", 1, 2, kill),
    builtin!("terminate", "terminate(process | pid)", 1, 1, terminate),
    builtin!("wait", "wait()", 0, 0, wait),
    builtin!("children", "children()", 0, 0, children),
    builtin!("queue", "queue(max_items?)", 0, 1, queue),
    builtin!("pool", "pool(workers)", 1, 1, pool),
    builtin!("exec", "exec(program, args...)", 1, ANY, exec),
    builtin!("run", "run(program, args...)", 1, ANY, run),
    builtin!("capture", "capture(program, args...)", 1, ANY, capture),
    builtin!("read_file", "read_file(path)", 1, 1, read_file),
    builtin!("write_file", "write_file(path, text)", 2, 2, write_file),
    builtin!("append_file", "append_file(path, text)", 2, 2, append_file),
    builtin!("list_dir", "list_dir(path)", 1, 1, list_dir),
    builtin!("mkdir", "mkdir(path)", 1, 1, mkdir),
    builtin!("copy_file", "copy_file(from, to)", 2, 2, copy_file),
    builtin!("remove_file", "remove_file(path)", 1, 1, remove_file),
    builtin!("exists", "exists(path)", 1, 1, exists),
    builtin!("is_dir", "is_dir(path)", 1, 1, is_dir),
    builtin!("file_size", "file_size(path)", 1, 1, file_size),
    builtin!(
        "files_equal",
        "files_equal(path_a, path_b)",
        2,
        2,
        files_equal
    ),
    builtin!("progress", "progress(done, total, label?)", 2, 3, progress),
];

pub fn lookup(name: &str) -> Option<u16> {
    TABLE.iter().position(|b| b.name == name).map(|i| i as u16)
}

pub fn name(id: u16) -> &'static str {
    TABLE[id as usize].name
}

pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|b| b.name)
}

pub fn all() -> &'static [Builtin] {
    TABLE
}

/// Checks the argument count; `name_span` is where the function's name stands.
pub fn check_arity(id: u16, given: usize, span: Span, name_span: Span) -> Result<(), Diag> {
    let b = &TABLE[id as usize];
    if given >= b.min_args && given <= b.max_args {
        return Ok(());
    }
    Err(arity_error(b.name, b.min_args, b.max_args, given, span)
        .with_note(name_span, format!("usage: {}", b.signature)))
}

/// "`name` takes 1 to 2 arguments, but 3 were given" (`max` is `usize::MAX` for any number).
pub(crate) fn arity_error(name: &str, min: usize, max: usize, given: usize, span: Span) -> Diag {
    let wanted = match (min, max) {
        (min, ANY) => format!("at least {min} argument{}", plural(min)),
        (min, max) if min == max => format!("{min} argument{}", plural(min)),
        (min, max) => format!("{min} to {max} arguments"),
    };
    Diag::new(
        format!(
            "`{name}` takes {wanted}, but {given} {} given",
            if given == 1 { "was" } else { "were" }
        ),
        span,
        format!("{given} given here"),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub fn call(interp: &mut Interp, id: u16, args: &[Value], site: &CallSite) -> R<Value> {
    (TABLE[id as usize].run)(interp, args, site)
}

// ---------------------------------------------------------------- output

fn line_of(args: &[Value]) -> String {
    let mut line = String::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        v.write_display(&mut line);
    }
    line.push('\n');
    line
}

/// Writes one whole line with a single write(2), so concurrent lines never mix.
fn write_line(fd: os::StdFd, args: &[Value], site: &CallSite) -> R<Value> {
    match os::write_all(fd, line_of(args).as_bytes()) {
        Ok(()) => Ok(Value::Nil),
        // The reader went away (`procscript x | head -1`): end quietly, like a shell tool.
        Err(os::WriteError::BrokenPipe) => Err(Unwind::exit(141)),
        Err(os::WriteError::Other(reason)) => Err(error(
            format!("cannot write to {}: {reason}", fd.name()),
            site.span,
            "this write failed",
        )),
    }
}

fn print(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_line(os::StdFd::Out, args, site)
}

fn eprint(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_line(os::StdFd::Err, args, site)
}

// ---------------------------------------------------------------- conversions

fn len(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let n = match &args[0] {
        Value::Str(s) => s.chars().count(),
        Value::List(items) => items.borrow().len(),
        Value::Map(entries) => entries.borrow().len(),
        other => return Err(site.wrong_type("len", 0, "a string, list or map", other)),
    };
    Ok(Value::Int(n as i64))
}

fn to_str(_: &mut Interp, args: &[Value], _: &CallSite) -> R<Value> {
    Ok(match &args[0] {
        Value::Str(s) => Value::Str(s.clone()),
        other => Value::Str(other.to_display().into()),
    })
}

fn to_int(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Float(x) => float_to_int(x.trunc(), site.arg(0)).map(Value::Int),
        Value::Str(s) => s.trim().parse::<i64>().map(Value::Int).map_err(|_| {
            error(
                format!("cannot convert \"{s}\" to an int"),
                site.arg(0),
                "not a whole number",
            )
        }),
        other => Err(site.wrong_type("int", 0, "a number or string", other)),
    }
}

/// A whole float as an int, or an error when it is outside the int range.
fn float_to_int(x: f64, span: Span) -> R<i64> {
    // 2^63 is exactly representable; everything below it fits.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        Ok(x as i64)
    } else {
        Err(error(
            format!("cannot convert {} to an int", Value::Float(x).to_display()),
            span,
            "out of the int range",
        ))
    }
}

fn to_float(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Float(*n as f64)),
        Value::Float(x) => Ok(Value::Float(*x)),
        Value::Str(s) => s.trim().parse::<f64>().map(Value::Float).map_err(|_| {
            error(
                format!("cannot convert \"{s}\" to a float"),
                site.arg(0),
                "not a number",
            )
        }),
        other => Err(site.wrong_type("float", 0, "a number or string", other)),
    }
}

fn type_of(_: &mut Interp, args: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::str(args[0].type_name()))
}

// ---------------------------------------------------------------- collections

fn keys(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Map(m) => Ok(Value::list(
            m.borrow().keys().map(|k| Value::Str(k.clone())).collect(),
        )),
        other => Err(site.wrong_type("keys", 0, "a map", other)),
    }
}

fn values(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Map(m) => Ok(Value::list(m.borrow().values().cloned().collect())),
        other => Err(site.wrong_type("values", 0, "a map", other)),
    }
}

fn push(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => {
            let len = items.borrow().len();
            crate::ops::check_len(len + 1, "list")
                .map_err(|e| error(e.message, site.span, e.label))?;
            items.borrow_mut().push(args[1].clone());
            Ok(Value::Nil)
        }
        other => Err(site.wrong_type("push", 0, "a list", other)),
    }
}

fn pop(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => items
            .borrow_mut()
            .pop()
            .ok_or_else(|| error("pop from an empty list", site.arg(0), "this list is empty")),
        other => Err(site.wrong_type("pop", 0, "a list", other)),
    }
}

fn contains(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let found = match (&args[0], &args[1]) {
        (Value::List(items), x) => items.borrow().iter().any(|v| equals(v, x)),
        (Value::Map(m), Value::Str(k)) => m.borrow().contains_key(k),
        (Value::Map(_), _) => false,
        (Value::Str(s), Value::Str(part)) => s.contains(&**part),
        (Value::Str(_), other) => {
            return Err(site.wrong_type("contains", 1, "a string to find in a string", other))
        }
        (other, _) => return Err(site.wrong_type("contains", 0, "a list, map or string", other)),
    };
    Ok(Value::Bool(found))
}

fn expect_str<'v>(name: &str, args: &'v [Value], i: usize, site: &CallSite) -> R<&'v Rc<str>> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        other => Err(site.wrong_type(name, i, "a string", other)),
    }
}

fn expect_int(name: &str, args: &[Value], i: usize, site: &CallSite) -> R<i64> {
    match &args[i] {
        Value::Int(n) => Ok(*n),
        other => Err(site.wrong_type(name, i, "an int", other)),
    }
}

fn expect_list<'v>(
    name: &str,
    args: &'v [Value],
    i: usize,
    site: &CallSite,
) -> R<&'v crate::value::List> {
    match &args[i] {
        Value::List(items) => Ok(items),
        other => Err(site.wrong_type(name, i, "a list", other)),
    }
}

fn split(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("split", args, 0, site)?;
    let parts: Vec<Value> = match args.get(1) {
        None | Some(Value::Nil) => s.split_whitespace().map(Value::str).collect(),
        Some(_) => {
            let sep = expect_str("split", args, 1, site)?;
            if sep.is_empty() {
                return Err(error("split with an empty separator", site.arg(1), "empty"));
            }
            let mut chars = sep.chars();
            match (chars.next(), chars.next()) {
                // One character (a newline, a comma): a byte search, much faster.
                (Some(c), None) => s.split(c).map(Value::str).collect(),
                _ => s.split(&**sep).map(Value::str).collect(),
            }
        }
    };
    Ok(Value::list(parts))
}

fn join_str(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let items = expect_list("join_str", args, 0, site)?;
    let sep = match args.get(1) {
        Some(_) => expect_str("join_str", args, 1, site)?.to_string(),
        None => String::new(),
    };
    let mut out = String::new();
    for (i, item) in items.borrow().iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        item.write_display(&mut out);
        crate::ops::check_len(out.len(), "string")
            .map_err(|e| error(e.message, site.span, e.label))?;
    }
    Ok(Value::Str(out.into()))
}

fn range(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let ints: Vec<i64> = (0..args.len())
        .map(|i| expect_int("range", args, i, site))
        .collect::<R<_>>()?;
    let (start, end, step) = match ints[..] {
        [end] => (0, end, 1),
        [start, end] => (start, end, 1),
        [start, end, step] => (start, end, step),
        _ => unreachable!("arity checked"),
    };
    if step == 1 {
        return range_list(start, end).map_err(|e| error(e.message, site.span, e.label));
    }
    if step == 0 {
        return Err(error(
            "range step is zero",
            site.arg(2),
            "the step must not be 0",
        ));
    }
    let count = if step > 0 {
        (end.saturating_sub(start).max(0) as u64).div_ceil(step as u64)
    } else {
        (start.saturating_sub(end).max(0) as u64).div_ceil(step.unsigned_abs())
    };
    if count > crate::limits::MAX_LIST_LEN as u64 {
        return Err(error(
            "range too large to build as a list",
            site.span,
            format!("{count} elements"),
        ));
    }
    Ok(Value::list(
        (0..count as i64)
            .map(|k| Value::Int(start + k * step))
            .collect(),
    ))
}

fn get(_: &mut Interp, args: &[Value], _: &CallSite) -> R<Value> {
    let found = match (&args[0], &args[1]) {
        (Value::Map(m), Value::Str(k)) => m.borrow().get(k).cloned(),
        (Value::List(items), Value::Int(i)) => {
            let items = items.borrow();
            let pos = if *i < 0 { *i + items.len() as i64 } else { *i };
            usize::try_from(pos)
                .ok()
                .and_then(|p| items.get(p).cloned())
        }
        _ => None,
    };
    Ok(found.unwrap_or_else(|| args[2].clone()))
}

// ---------------------------------------------------------------- system

fn time(_: &mut Interp, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(Value::Float(os::monotonic_seconds()))
}

fn env(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let name = expect_str("env", args, 0, site)?;
    Ok(std::env::var(&**name)
        .map(|v| Value::str(&v))
        .unwrap_or(Value::Nil))
}

fn raise(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let message = args[0].to_display();
    Err(error(message, site.span, "raised here"))
}

fn exit(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let code = match args.first() {
        None => 0,
        Some(_) => expect_int("exit", args, 0, site)?,
    };
    if !(0..=255).contains(&code) {
        return Err(error_help(
            format!("exit code {code} is out of range"),
            site.arg(0),
            "not between 0 and 255",
            "the OS keeps only 8 bits of an exit code",
        ));
    }
    Err(Unwind::exit(code as i32))
}

fn sleep(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let Some(seconds) = seconds_of(&args[0]) else {
        if !matches!(args[0], Value::Int(_) | Value::Float(_)) {
            return Err(site.wrong_type("sleep", 0, "a number of seconds", &args[0]));
        }
        return Err(error(
            format!("cannot sleep for {} seconds", args[0].to_display()),
            site.arg(0),
            "must be a finite number, 0 or more",
        ));
    };
    interp.waiting("sleep", |_| os::sleep_interruptible(seconds));
    interp.check_signal()?;
    Ok(Value::Nil)
}

// ---------------------------------------------------------------- processes

fn alive(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    interp.is_alive(&args[0], site.arg(0)).map(Value::Bool)
}

fn state(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    interp.child_state(&args[0], site.arg(0)).map(Value::str)
}

fn kill(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let sig = match args.get(1) {
        None => os::Signal::SIGTERM,
        Some(Value::Str(name)) => os::signal_by_name(name).ok_or_else(|| {
            error_help(
                format!("unknown signal \"{name}\""),
                site.arg(1),
                "not a signal name",
                format!("signal names: {}", os::signal_names().join(", ")),
            )
        })?,
        Some(other) => {
            return Err(site.wrong_type("kill", 1, "a signal name such as \"TERM\"", other))
        }
    };
    interp
        .signal_child(&args[0], sig, site.arg(0))
        .map(Value::Bool)
}

fn terminate(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    interp
        .signal_child(&args[0], os::Signal::SIGTERM, site.arg(0))
        .map(Value::Bool)
}

fn wait(interp: &mut Interp, _: &[Value], _: &CallSite) -> R<Value> {
    interp.wait_any()
}

fn children(interp: &mut Interp, _: &[Value], _: &CallSite) -> R<Value> {
    Ok(interp.live_children())
}

// ---------------------------------------------------------------- numbers

fn abs(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => n.checked_abs().map(Value::Int).ok_or_else(|| {
            error(
                "integer overflow in `abs`",
                site.arg(0),
                "has no positive int",
            )
        }),
        Value::Float(x) => Ok(Value::Float(x.abs())),
        other => Err(site.wrong_type("abs", 0, "a number", other)),
    }
}

fn round(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Float(x) => float_to_int(x.round(), site.arg(0)).map(Value::Int),
        other => Err(site.wrong_type("round", 0, "a number", other)),
    }
}

fn extreme(name: &str, args: &[Value], site: &CallSite, want: std::cmp::Ordering) -> R<Value> {
    let items: Vec<Value> = match args {
        [Value::List(items)] => items.borrow().clone(),
        _ => args.to_vec(),
    };
    let mut best: Option<Value> = None;
    for item in items {
        best = Some(match best {
            None => item,
            Some(b) => match compare(&item, &b) {
                Some(ord) if ord == want => item,
                Some(_) => b,
                None => {
                    return Err(error(
                        format!(
                            "`{name}` cannot compare {} and {}",
                            item.type_name(),
                            b.type_name()
                        ),
                        site.span,
                        "mixed types",
                    ))
                }
            },
        });
    }
    best.ok_or_else(|| error(format!("`{name}` of an empty list"), site.arg(0), "empty"))
}

fn min(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    extreme("min", args, site, std::cmp::Ordering::Less)
}

fn max(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    extreme("max", args, site, std::cmp::Ordering::Greater)
}

fn sum(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let items = expect_list("sum", args, 0, site)?.borrow().clone();
    let mut total = Value::Int(0);
    for item in &items {
        total = crate::ops::binary(crate::ast::BinOp::Add, &total, item).map_err(|e| {
            error(
                format!("`sum`: {}", e.message),
                site.arg(0),
                "the list holds a value that is not a number",
            )
        })?;
    }
    Ok(total)
}

// ---------------------------------------------------------------- ordering and slicing

fn sort(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let mut items = expect_list("sort", args, 0, site)?.borrow().clone();
    let mut failed = None;
    items.sort_by(|a, b| {
        compare(a, b).unwrap_or_else(|| {
            failed.get_or_insert((a.type_name(), b.type_name()));
            std::cmp::Ordering::Equal
        })
    });
    if let Some((a, b)) = failed {
        return Err(error(
            format!("`sort` cannot compare {a} and {b}"),
            site.arg(0),
            "the list mixes types that have no order",
        ));
    }
    Ok(Value::list(items))
}

fn reverse(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => Ok(Value::list(items.borrow().iter().rev().cloned().collect())),
        Value::Str(s) => Ok(Value::Str(s.chars().rev().collect::<String>().into())),
        other => Err(site.wrong_type("reverse", 0, "a list or string", other)),
    }
}

/// Clamps Python-style slice bounds (negative counts from the end).
fn bounds(args: &[Value], len: usize, site: &CallSite) -> R<(usize, usize)> {
    let clamp = |i: i64| -> usize {
        let i = if i < 0 { i + len as i64 } else { i };
        i.clamp(0, len as i64) as usize
    };
    let start = clamp(expect_int("slice", args, 1, site)?);
    let end = match args.get(2) {
        None | Some(Value::Nil) => len,
        Some(_) => clamp(expect_int("slice", args, 2, site)?),
    };
    Ok((start, end.max(start)))
}

fn slice(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    match &args[0] {
        Value::List(items) => {
            let items = items.borrow();
            let (start, end) = bounds(args, items.len(), site)?;
            Ok(Value::list(items[start..end].to_vec()))
        }
        Value::Str(s) => {
            let (start, end) = bounds(args, s.chars().count(), site)?;
            Ok(Value::Str(
                s.chars()
                    .skip(start)
                    .take(end - start)
                    .collect::<String>()
                    .into(),
            ))
        }
        other => Err(site.wrong_type("slice", 0, "a list or string", other)),
    }
}

// ---------------------------------------------------------------- strings

fn trim(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::str(expect_str("trim", args, 0, site)?.trim()))
}

fn upper(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Str(
        expect_str("upper", args, 0, site)?.to_uppercase().into(),
    ))
}

fn lower(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Str(
        expect_str("lower", args, 0, site)?.to_lowercase().into(),
    ))
}

fn replace(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("replace", args, 0, site)?;
    let old = expect_str("replace", args, 1, site)?;
    let new = expect_str("replace", args, 2, site)?;
    if old.is_empty() {
        return Err(error("`replace` of an empty string", site.arg(1), "empty"));
    }
    let grows = new.len().saturating_sub(old.len()) * s.matches(&**old).count();
    crate::ops::check_len(s.len() + grows, "string")
        .map_err(|e| error(e.message, site.span, e.label))?;
    Ok(Value::Str(s.replace(&**old, new).into()))
}

fn starts_with(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("starts_with", args, 0, site)?;
    Ok(Value::Bool(s.starts_with(&**expect_str(
        "starts_with",
        args,
        1,
        site,
    )?)))
}

fn ends_with(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let s = expect_str("ends_with", args, 0, site)?;
    Ok(Value::Bool(s.ends_with(&**expect_str(
        "ends_with",
        args,
        1,
        site,
    )?)))
}

// ---------------------------------------------------------------- queues and pools

fn queue(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let max_items = match args.first() {
        None => 0,
        Some(_) => {
            let n = expect_int("queue", args, 0, site)?;
            if n < 1 {
                return Err(error_help(
                    format!("a queue must hold at least 1 item, not {n}"),
                    site.arg(0),
                    "too small",
                    "queue() without a count has no count limit",
                ));
            }
            n as u64
        }
    };
    let queue = crate::queue::Queue::create(max_items)
        .map_err(|reason| error(format!("cannot make a queue: {reason}"), site.span, "here"))?;
    let queue = Rc::new(queue);
    interp.procs.track_queue(&queue);
    Ok(Value::Queue(queue))
}

fn pool(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let n = expect_int("pool", args, 0, site)?;
    interp.pool_new(n, site.arg(0))
}

// ---------------------------------------------------------------- programs

/// A program and its arguments as strings (numbers are written out).
fn program_args(name: &str, args: &[Value], site: &CallSite) -> R<(String, Vec<String>)> {
    let strings = args
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Str(s) => Ok(s.to_string()),
            Value::Int(_) | Value::Float(_) => Ok(v.to_display()),
            other => {
                Err(site.wrong_type(name, i, "strings (the program and its arguments)", other))
            }
        })
        .collect::<R<Vec<String>>>()?;
    let (prog, rest) = strings.split_first().expect("arity checked");
    Ok((prog.clone(), rest.to_vec()))
}

fn cannot_run(prog: &str, reason: &os::OsError, site: &CallSite) -> Unwind {
    error_help(
        format!("cannot run `{prog}`: {reason}"),
        site.arg(0),
        "this program",
        "the program is looked up in the folders of PATH, like a shell does",
    )
}

fn exec(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (prog, rest) = program_args("exec", args, site)?;
    interp.note(|| crate::record::Kind::Exec {
        program: std::iter::once(prog.as_str())
            .chain(rest.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
    });
    let reason = os::exec_program(&prog, &rest);
    Err(cannot_run(&prog, &reason, site))
}

fn run(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (prog, rest) = program_args("run", args, site)?;
    let (pid, _) = interp.start_program(&prog, &rest, false, site)?;
    let status = interp.wait_child_status(pid)?;
    Ok(Value::Int(status.map_or(0, |s| s.code()) as i64))
}

fn capture(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (prog, rest) = program_args("capture", args, site)?;
    let (pid, out) = interp.start_program(&prog, &rest, true, site)?;
    let mut text = Vec::new();
    if let Some(out) = out {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match os::read_fd(&out, &mut buf, None) {
                os::ReadResult::Data(n) => text.extend_from_slice(&buf[..n]),
                os::ReadResult::Eof | os::ReadResult::Timeout => break,
                os::ReadResult::Interrupted => interp.check_signal()?,
            }
        }
    }
    match interp.wait_child_status(pid)? {
        Some(os::ExitStatus::Exited(0)) | None => Ok(Value::Str(
            String::from_utf8_lossy(&text).into_owned().into(),
        )),
        Some(status) => Err(error_help(
            format!("`{prog}` failed with exit code {}", status.code()),
            site.span,
            "this program failed",
            "use run(...) to get the exit code of a program that may fail",
        )),
    }
}

impl Interp {
    /// Starts an external program as a child of this process (counted and reaped like any).
    fn start_program(
        &mut self,
        prog: &str,
        args: &[String],
        capture: bool,
        site: &CallSite,
    ) -> R<(i32, Option<std::os::fd::OwnedFd>)> {
        self.take_place(site.span, "start a program")?;
        match os::start_program(prog, args, capture) {
            Ok((pid, out)) => {
                self.procs.add_child(pid, prog.into());
                let line = self.line_of(site.span);
                let how = std::iter::once(prog)
                    .chain(args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.note(|| crate::record::Kind::Began {
                    child: pid,
                    how: format!("run {how}"),
                    name: String::new(),
                    line,
                });
                Ok((pid, out))
            }
            Err(reason) => {
                self.procs.live.release();
                Err(cannot_run(prog, &reason, site))
            }
        }
    }
}

// ---------------------------------------------------------------- files

fn file_error(name: &str, path: &str, reason: os::OsError, site: &CallSite) -> Unwind {
    error(
        format!("{name}(\"{path}\"): {reason}"),
        site.span,
        "this file operation failed",
    )
}

fn read_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("read_file", args, 0, site)?;
    let bytes = os::read_file(path).map_err(|r| file_error("read_file", path, r, site))?;
    String::from_utf8(bytes)
        .map(|text| Value::Str(text.into()))
        .map_err(|_| {
            error_help(
                format!("read_file(\"{path}\"): the file is not UTF-8 text"),
                site.span,
                "not text",
                "copy_file and files_equal work on any file",
            )
        })
}

fn write_text(name: &str, append: bool, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str(name, args, 0, site)?;
    let text = args[1].to_display();
    os::write_file(path, text.as_bytes(), append).map_err(|r| file_error(name, path, r, site))?;
    Ok(Value::Nil)
}

fn write_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_text("write_file", false, args, site)
}

fn append_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    write_text("append_file", true, args, site)
}

fn list_dir(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("list_dir", args, 0, site)?;
    let names = os::list_dir(path).map_err(|r| file_error("list_dir", path, r, site))?;
    Ok(Value::list(names.iter().map(|n| Value::str(n)).collect()))
}

fn mkdir(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("mkdir", args, 0, site)?;
    os::make_dir(path).map_err(|r| file_error("mkdir", path, r, site))?;
    Ok(Value::Nil)
}

fn copy_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let from = expect_str("copy_file", args, 0, site)?;
    let to = expect_str("copy_file", args, 1, site)?;
    let bytes = os::copy_file(from, to).map_err(|r| file_error("copy_file", from, r, site))?;
    Ok(Value::Int(bytes as i64))
}

fn remove_file(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("remove_file", args, 0, site)?;
    os::remove_file(path).map_err(|r| file_error("remove_file", path, r, site))?;
    Ok(Value::Nil)
}

fn exists(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Bool(os::path_exists(expect_str(
        "exists", args, 0, site,
    )?)))
}

fn is_dir(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    Ok(Value::Bool(os::is_dir(expect_str(
        "is_dir", args, 0, site,
    )?)))
}

fn file_size(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let path = expect_str("file_size", args, 0, site)?;
    let size = os::file_size(path).map_err(|r| file_error("file_size", path, r, site))?;
    Ok(Value::Int(size as i64))
}

fn files_equal(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let a = expect_str("files_equal", args, 0, site)?;
    let b = expect_str("files_equal", args, 1, site)?;
    let left = os::read_file(a).map_err(|r| file_error("files_equal", a, r, site))?;
    let right = os::read_file(b).map_err(|r| file_error("files_equal", b, r, site))?;
    Ok(Value::Bool(left == right))
}

// ---------------------------------------------------------------- progress

/// Draws `[#####.....] 50% label` on stderr, redrawn in place on a terminal;
/// elsewhere only the final line is written. Never touches stdout.
fn progress(_: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let done = expect_int("progress", args, 0, site)?;
    let total = expect_int("progress", args, 1, site)?;
    let label = args.get(2).map(Value::to_display).unwrap_or_default();
    let total_shown = total.max(1);
    let fraction = (done.clamp(0, total_shown) as f64) / total_shown as f64;
    const WIDTH: usize = 30;
    let filled = (fraction * WIDTH as f64).round() as usize;
    let bar = format!(
        "[{}{}] {:3}% {done}/{total} {label}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        (fraction * 100.0).round() as i64
    );
    let finished = done >= total;
    let text = if os::stderr_is_terminal() {
        // \r returns to the line's start; \x1b[K clears what a longer line left.
        format!("\r{bar}\x1b[K{}", if finished { "\n" } else { "" })
    } else if finished {
        format!("{bar}\n")
    } else {
        return Ok(Value::Nil);
    };
    let _ = os::write_all(os::StdFd::Err, text.as_bytes());
    Ok(Value::Nil)
}
