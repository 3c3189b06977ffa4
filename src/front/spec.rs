//! What each built-in function and method is (name, argument counts, usage, one reference line) and the one arity check; no implementations, so the resolver reads it without the evaluator.

use crate::error::diagnostic::Diag;
use crate::error::ErrorKind;
use crate::front::ast::Span;

/// `max_args` of a function that takes any number of arguments.
pub const ANY: usize = usize::MAX;

/// One built-in function. Its id is its place in [`all`]; the implementations
/// (in the topic files beside this one) are registered under the same ids.
pub struct Builtin {
    pub name: &'static str,
    /// How the arguments are written, for errors and docs.
    pub signature: &'static str,
    pub min_args: usize,
    /// [`ANY`] for any number.
    pub max_args: usize,
    /// What it does, in one line of the reference.
    pub about: &'static str,
}

/// One method of a queue, pool, lock... (`q.put(v)`); found by its type and name.
pub struct Method {
    /// The type it belongs to, as `type()` names it.
    pub on: &'static str,
    pub name: &'static str,
    pub signature: &'static str,
    pub min_args: usize,
    pub max_args: usize,
    pub about: &'static str,
}

macro_rules! builtin {
    ($name:literal, $sig:literal, $min:expr, $max:expr, $about:literal) => {
        Builtin {
            name: $name,
            signature: $sig,
            min_args: $min,
            max_args: $max,
            about: $about,
        }
    };
}

macro_rules! method {
    ($on:literal, $name:literal, $sig:literal, $min:expr, $max:expr, $about:literal) => {
        Method {
            on: $on,
            name: $name,
            signature: $sig,
            min_args: $min,
            max_args: $max,
            about: $about,
        }
    };
}

/// Every built-in function, by id.
#[rustfmt::skip]
static BUILTINS: &[Builtin] = &[
    builtin!("print", "print(values...)", 0, ANY, "writes the values and a newline to stdout in one write"),
    builtin!("eprint", "eprint(values...)", 0, ANY, "writes the values and a newline to stderr in one write"),
    builtin!("len", "len(string | list | map)", 1, 1, "characters of a string, items of a list, entries of a map"),
    builtin!("str", "str(value)", 1, 1, "the text `print` would show"),
    builtin!("int", "int(number | string)", 1, 1, "an int from a number, a bool or a string of digits"),
    builtin!("float", "float(number | string)", 1, 1, "a float from a number or a numeric string"),
    builtin!("type", "type(value)", 1, 1, "the name of the value's type"),
    builtin!("keys", "keys(map)", 1, 1, "a map's keys, in insertion order"),
    builtin!("values", "values(map)", 1, 1, "a map's values, in insertion order"),
    builtin!("push", "push(list, value)", 2, 2, "appends the value to the list"),
    builtin!("pop", "pop(list)", 1, 1, "removes and returns the last item"),
    builtin!("contains", "contains(list | map | string, value)", 2, 2, "an item of a list, a key of a map, or a substring"),
    builtin!("split", "split(string, separator?)", 1, 2, "the parts of a string; without a separator, split on whitespace"),
    builtin!("join_str", "join_str(list, separator?)", 1, 2, "the items' text joined by the separator"),
    builtin!("range", "range(end) | range(start, end, step?)", 1, 3, "a list of ints"),
    builtin!("time", "time()", 0, 0, "seconds on the monotonic clock"),
    builtin!("get", "get(map | list, key, default)", 3, 3, "the item at the key, or the default when it is missing"),
    builtin!("env", "env(name)", 1, 1, "an environment variable's value, or nil"),
    builtin!("error", "error(message)", 1, 1, "raises a runtime error"),
    builtin!("exit", "exit(code?)", 0, 1, "ends this process with the code, after joining its children"),
    builtin!("sleep", "sleep(seconds)", 1, 1, "sleeps for the seconds, 0 or more"),
    builtin!("abs", "abs(number)", 1, 1, "the absolute value"),
    builtin!("min", "min(list) | min(a, b, ...)", 1, ANY, "the smallest of a list or of the arguments"),
    builtin!("max", "max(list) | max(a, b, ...)", 1, ANY, "the largest of a list or of the arguments"),
    builtin!("sum", "sum(list)", 1, 1, "the sum of a list of numbers"),
    builtin!("sort", "sort(list)", 1, 1, "a new sorted list"),
    builtin!("reverse", "reverse(list | string)", 1, 1, "a new list or string in reverse order"),
    builtin!("slice", "slice(list | string, start, end?)", 2, 3, "part of a list or string"),
    builtin!("trim", "trim(string)", 1, 1, "the string without surrounding whitespace"),
    builtin!("upper", "upper(string)", 1, 1, "an upper-case copy"),
    builtin!("lower", "lower(string)", 1, 1, "a lower-case copy"),
    builtin!("replace", "replace(string, old, new)", 3, 3, "every `old` replaced by `new`"),
    builtin!("starts_with", "starts_with(string, prefix)", 2, 2, "whether the string starts with the prefix"),
    builtin!("ends_with", "ends_with(string, suffix)", 2, 2, "whether the string ends with the suffix"),
    builtin!("round", "round(number)", 1, 1, "the nearest int (halves away from zero)"),
    builtin!("alive", "alive(process | pid | task)", 1, 1, "whether a child still runs (a task: queued or running)"),
    builtin!("done", "done(process | pid | task)", 1, 1, "whether a child has ended (so `join` will not wait)"),
    builtin!("state", "state(process | pid | task)", 1, 1, "a child's state, as the OS reports it (a task: queued, running, done, failed, cancelled)"),
    builtin!("kill", "kill(process | pid, signal?)", 1, 2, "sends a child a signal (TERM by default)"),
    builtin!("terminate", "terminate(process | pid)", 1, 1, "sends a child SIGTERM"),
    builtin!("wait", "wait()", 0, 0, "waits for any child to end"),
    builtin!("children", "children()", 0, 0, "this process's live children"),
    builtin!("queue", "queue(max_items?)", 0, 1, "a queue shared with the processes made after it"),
    builtin!("pool", "pool(workers, options?)", 1, 2, "a pool of worker processes (options: init, max_tasks; on: ssh or slurm for other machines)"),
    builtin!("lock", "lock()", 0, 0, "a lock shared with the processes made after it"),
    builtin!("event", "event()", 0, 0, "an event (a flag processes wait for), shared like a lock"),
    builtin!("semaphore", "semaphore(permits)", 1, 1, "a semaphore with that many permits, shared like a lock"),
    builtin!("barrier", "barrier(parties)", 1, 1, "a barrier that many processes meet at, shared like a lock"),
    builtin!("value", "value(number)", 1, 1, "an int or float shared between processes, changed atomically"),
    builtin!("pipe", "pipe()", 0, 0, "a list of two connected pipe ends, shared like a queue"),
    builtin!("wait_any", "wait_any(items, seconds?)", 1, 2, "waits until a process or task ends, a queue or pipe end has a message or an event is set; the ready items"),
    builtin!("exec", "exec(program, args..., options?)", 1, ANY, "replaces this process with the program"),
    builtin!("run", "run(program, args..., options?)", 1, ANY, "runs a program to its end; its exit code"),
    builtin!("capture", "capture(program, args..., options?)", 1, ANY, "runs a program; its stdout as a string"),
    builtin!("read_file", "read_file(path)", 1, 1, "the file's text"),
    builtin!("write_file", "write_file(path, text)", 2, 2, "writes the text to the file"),
    builtin!("append_file", "append_file(path, text)", 2, 2, "appends the text to the file"),
    builtin!("list_dir", "list_dir(path)", 1, 1, "the names in a folder, sorted"),
    builtin!("mkdir", "mkdir(path)", 1, 1, "makes a folder and any missing parents"),
    builtin!("copy_file", "copy_file(from, to)", 2, 2, "copies a file (a symbolic link as a link); the bytes copied"),
    builtin!("remove_file", "remove_file(path)", 1, 1, "deletes a file"),
    builtin!("exists", "exists(path)", 1, 1, "whether the path exists"),
    builtin!("is_dir", "is_dir(path)", 1, 1, "whether the path is a folder"),
    builtin!("file_size", "file_size(path)", 1, 1, "the file's size in bytes"),
    builtin!("files_equal", "files_equal(path_a, path_b)", 2, 2, "whether two files hold the same bytes"),
    builtin!("progress", "progress(done, total, label?)", 2, 3, "draws a progress bar on stderr"),
    builtin!("is_link", "is_link(path)", 1, 1, "whether the path is a symbolic link (not followed)"),
    builtin!("read_link", "read_link(path)", 1, 1, "the target a symbolic link holds"),
    builtin!("on_signal", "on_signal(signal, handler | \"ignore\" | \"default\")", 2, 2, "what this process does when the signal arrives"),
    builtin!("name", "name()", 0, 0, "this process's name: \"main\", or its spawn's name"),
    builtin!("start", "start(program, args..., options?)", 1, ANY, "starts a program that runs on; its process handle"),
    builtin!("pipeline", "pipeline([[program, args...], ...], options?)", 1, 2, "runs programs joined by pipes; their exit codes"),
    builtin!("capture_pipeline", "capture_pipeline([[program, args...], ...], options?)", 1, 2, "runs programs joined by pipes; the last one's stdout"),
];

/// Every method, by id.
#[rustfmt::skip]
static METHODS: &[Method] = &[
    method!("queue", "put", "q.put(value, seconds?)", 1, 2, "adds a message, waiting for room"),
    method!("queue", "get", "q.get(seconds?)", 0, 1, "takes the oldest message, waiting for one"),
    method!("queue", "try_put", "q.try_put(value)", 1, 1, "adds a message if there is room; whether it did"),
    method!("queue", "try_get", "q.try_get()", 0, 0, "takes the oldest message, or nil when there is none"),
    method!("queue", "size", "q.size()", 0, 0, "the number of messages waiting"),
    method!("queue", "empty", "q.empty()", 0, 0, "whether no message is waiting"),
    method!("queue", "full", "q.full()", 0, 0, "whether a put would wait"),
    method!("queue", "task_done", "q.task_done()", 0, 0, "marks one message taken as done (for `q.join()`)"),
    method!("queue", "join", "q.join(seconds?)", 0, 1, "waits until every message put is marked done; false when the timeout passed first"),
    method!("queue", "close", "q.close()", 0, 0, "no more puts; gets take what is left, then fail with \"closed\""),
    method!("pipe end", "send", "e.send(value)", 1, 1, "sends a message to the other end"),
    method!("pipe end", "recv", "e.recv(seconds?)", 0, 1, "the oldest message the other end sent, waiting for one"),
    method!("pipe end", "poll", "e.poll(seconds?)", 0, 1, "whether a message waits; with seconds, waits at most that long for one"),
    method!("lock", "acquire", "l.acquire(seconds?)", 0, 1, "takes the lock, waiting for it; false when the timeout passed first"),
    method!("lock", "release", "l.release()", 0, 0, "frees the lock this process holds"),
    method!("lock", "locked", "l.locked()", 0, 0, "whether some process holds the lock"),
    method!("lock", "with", "l.with(f)", 1, 1, "acquires, calls `f()`, releases even when `f` fails; its result"),
    method!("lock", "owner_died", "l.owner_died()", 0, 0, "true once after the lock was taken back from a holder that died"),
    method!("event", "set", "e.set()", 0, 0, "sets the flag and wakes every waiter"),
    method!("event", "clear", "e.clear()", 0, 0, "clears the flag"),
    method!("event", "is_set", "e.is_set()", 0, 0, "whether the flag is set"),
    method!("event", "wait", "e.wait(seconds?)", 0, 1, "waits for the flag; false when the timeout passed first"),
    method!("semaphore", "acquire", "s.acquire(seconds?)", 0, 1, "takes a permit, waiting for one; false when the timeout passed first"),
    method!("semaphore", "release", "s.release()", 0, 0, "gives a permit back"),
    method!("semaphore", "value", "s.value()", 0, 0, "the number of free permits"),
    method!("barrier", "wait", "b.wait(seconds?)", 0, 1, "waits for all parties; this one's arrival index, 0 to n-1"),
    method!("value", "get", "c.get()", 0, 0, "the number now"),
    method!("value", "set", "c.set(number)", 1, 1, "stores the number"),
    method!("value", "add", "c.add(number)", 1, 1, "adds atomically; the new number"),
    method!("value", "compare_set", "c.compare_set(old, new)", 2, 2, "stores `new` if the number is `old` now; whether it did"),
    method!("pool", "map", "p.map(f, items)", 2, 2, "`f(item)` for every item, run by the workers"),
    method!("pool", "apply", "p.apply(f, [args])", 1, 2, "runs `f(args...)` in a worker; its result"),
    method!("pool", "submit", "p.submit(f, [args])", 1, 2, "starts `f(args...)` in a worker; a task to join"),
    method!("pool", "close", "p.close()", 0, 0, "waits for the tasks given and ends the workers"),
    method!("pool", "imap", "p.imap(f, items)", 2, 2, "a task stream for `for`: `f(item)` results in item order, as they come"),
    method!("pool", "imap_unordered", "p.imap_unordered(f, items)", 2, 2, "a task stream for `for`: `f(item)` results as they finish"),
    method!("pool", "starmap", "p.starmap(f, [[args], ...])", 2, 2, "`f(args...)` for every list of arguments, run by the workers"),
    method!("pool", "terminate", "p.terminate()", 0, 0, "stops the workers now; tasks not finished fail with \"pool terminated\""),
    method!("task", "cancel", "t.cancel()", 0, 0, "takes back a task no worker started (true); a started one goes on (false)"),
];

/// Every built-in function; a builtin's id is its index here.
pub fn all() -> &'static [Builtin] {
    BUILTINS
}

pub fn lookup(name: &str) -> Option<u16> {
    BUILTINS
        .iter()
        .position(|b| b.name == name)
        .map(|i| i as u16)
}

pub fn name(id: u16) -> &'static str {
    BUILTINS[id as usize].name
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.name)
}

/// Every method; a method's id is its index here.
pub fn methods() -> &'static [Method] {
    METHODS
}

/// The id of method `name` of type `on` (as `type()` names it).
pub fn method_id(on: &str, name: &str) -> Option<u16> {
    METHODS
        .iter()
        .position(|m| m.on == on && m.name == name)
        .map(|i| i as u16)
}

/// Checks a builtin's argument count; `name_span` is where the function's name stands.
pub fn check_arity(id: u16, given: usize, span: Span, name_span: Span) -> Result<(), Diag> {
    let b = &BUILTINS[id as usize];
    check_count(b.name, b.min_args, b.max_args, given, span)
        .map_err(|d| d.with_note(name_span, format!("usage: {}", b.signature)))
}

/// Checks a method's argument count; `name_span` is where the method's name stands.
/// Inlined at each call: the count fits on every call but a wrong one, whose
/// message is built apart, out of the hot path.
#[inline]
pub fn check_method_arity(id: u16, given: usize, span: Span, name_span: Span) -> Result<(), Diag> {
    let m = &METHODS[id as usize];
    if (m.min_args..=m.max_args).contains(&given) {
        return Ok(());
    }
    method_arity_error(m, given, span, name_span)
}

#[cold]
#[inline(never)]
fn method_arity_error(m: &Method, given: usize, span: Span, name_span: Span) -> Result<(), Diag> {
    // "q.put", as the signature writes the call.
    let called = m.signature.split('(').next().unwrap_or(m.name);
    check_count(called, m.min_args, m.max_args, given, span)
        .map_err(|d| d.with_note(name_span, format!("usage: {}", m.signature)))
}

/// The one argument-count check of builtins, methods and host functions:
/// "`exit` takes at most 1 argument, but 2 were given" (`max` is [`ANY`] for any number).
pub fn check_count(
    name: &str,
    min: usize,
    max: usize,
    given: usize,
    span: Span,
) -> Result<(), Diag> {
    if (min..=max).contains(&given) {
        return Ok(());
    }
    let wanted = match (min, max) {
        (min, ANY) => format!("at least {}", arguments(min)),
        (min, max) if min == max => arguments(min),
        (0, max) => format!("at most {}", arguments(max)),
        (min, max) => format!("{min} to {max} arguments"),
    };
    let verb = if given == 1 { "was" } else { "were" };
    Err(ErrorKind::Arity.at(
        span,
        format!("`{name}` takes {wanted}, but {given} {verb} given"),
        format!("{given} given here"),
    ))
}

/// "1 argument", "2 arguments".
fn arguments(n: usize) -> String {
    format!("{n} argument{}", if n == 1 { "" } else { "s" })
}

/// The functions a host program registered, as the resolver sees them: names,
/// indexes and argument counts. The runtime side (`values::host`) implements
/// it, so the front end needs no runtime values.
pub trait HostTable {
    /// The index of the host function called `name`, if one is registered.
    fn index_of(&self, name: &str) -> Option<u32>;
    /// Checks a call's argument count; `name_span` is where the name stands.
    fn check_arity(
        &self,
        index: u32,
        given: usize,
        span: Span,
        name_span: Span,
    ) -> Result<(), Diag>;
    /// Every registered name (for "did you mean" hints).
    fn names(&self) -> Vec<String>;
}

/// No host functions: a script run without an embedding program's functions.
pub struct NoHosts;

impl HostTable for NoHosts {
    fn index_of(&self, _: &str) -> Option<u32> {
        None
    }

    fn check_arity(&self, _: u32, _: usize, _: Span, _: Span) -> Result<(), Diag> {
        Ok(())
    }

    fn names(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(min: usize, max: usize, given: usize) -> String {
        check_count("f", min, max, given, Span::new(0, 0))
            .unwrap_err()
            .message
            .clone()
    }

    #[test]
    fn one_wording_for_every_kind_of_count() {
        assert_eq!(message(1, 1, 2), "`f` takes 1 argument, but 2 were given");
        assert_eq!(message(2, 2, 1), "`f` takes 2 arguments, but 1 was given");
        assert_eq!(
            message(0, 1, 2),
            "`f` takes at most 1 argument, but 2 were given"
        );
        assert_eq!(
            message(1, ANY, 0),
            "`f` takes at least 1 argument, but 0 were given"
        );
        assert_eq!(
            message(1, 3, 4),
            "`f` takes 1 to 3 arguments, but 4 were given"
        );
        assert!(check_count("f", 0, ANY, 9, Span::new(0, 0)).is_ok());
    }

    #[test]
    fn names_are_unique() {
        for (i, b) in BUILTINS.iter().enumerate() {
            assert_eq!(lookup(b.name), Some(i as u16), "{} twice", b.name);
            assert!(b.signature.starts_with(b.name), "{}", b.signature);
            assert!(!b.about.is_empty());
        }
        for (i, m) in METHODS.iter().enumerate() {
            assert_eq!(method_id(m.on, m.name), Some(i as u16), "{} twice", m.name);
            assert!(
                m.signature.contains(&format!(".{}(", m.name)),
                "{}",
                m.signature
            );
        }
    }
}
