//! The options map of `pool(n, {...})`: `init` and `max_tasks`, and where the workers run (`on` and its keys, see `process::remote`), read into the pool's worker setup; an unknown key or a wrong type is an error that names the known ones.

use super::args::CallSite;
use crate::error::{ErrorKind, Unwind, R};
use crate::process::pool::WorkerSetup;
use crate::process::remote::{self, Launcher};
use crate::values::Value;

/// Every option of `pool`, with what it takes (for errors and their help).
const OPTIONS: &[(&str, &str)] = &[
    (
        "init",
        "a function of no arguments: each worker calls it once when it starts",
    ),
    (
        "max_tasks",
        "an int, 1 or more: a worker is replaced after running that many tasks",
    ),
];

/// The worker setup that `pool`'s second argument (if any) asks for.
pub(super) fn read(args: &[Value], site: &CallSite) -> R<WorkerSetup> {
    let mut setup = WorkerSetup::default();
    let Some(options) = args.get(1) else {
        return Ok(setup);
    };
    let Value::Map(map) = options else {
        return Err(site.wrong_type("pool", 1, "a map of options", options));
    };
    for (key, value) in map.borrow().iter() {
        match &**key {
            "init" => match value {
                // Every worker calls it with no arguments: a function that
                // needs some would fail in each worker, for each task.
                Value::Func(f) if !f.proto.params.is_empty() => {
                    let count = f.proto.params.len();
                    let diag = ErrorKind::PoolOption
                        .at(
                            site.arg(1),
                            format!(
                                "the option `init` of `pool` must be a function of no arguments, \
                                 not one of {count}"
                            ),
                            "this init takes arguments",
                        )
                        .with_help("a worker calls init() with no arguments; read what it needs from variables it captures");
                    return Err(diag.into());
                }
                Value::Func(_) | Value::Builtin(_) | Value::Host(_) => {
                    setup.init = Some(value.clone())
                }
                other => return Err(wrong_type(key, other, site)),
            },
            "max_tasks" => match value {
                Value::Int(n) if *n >= 1 => setup.max_tasks = Some(*n as u64),
                other => return Err(wrong_type(key, other, site)),
            },
            key if remote::OPTIONS.iter().any(|(k, _)| *k == key) => {}
            _ => return Err(unknown(key, site)),
        }
    }
    setup.remote = Launcher::from_options(options, site.arg(1))?;
    if let (Some(launcher), Some(init)) = (&setup.remote, &setup.init) {
        setup.remote = Some(launcher.clone().with_init(init, site.arg(1))?);
    }
    if setup.remote.is_some() && setup.max_tasks.is_some() {
        let diag = ErrorKind::PoolOption
            .at(
                site.arg(1),
                "`max_tasks` is not available with \"on\"",
                "a remote pool here",
            )
            .with_help(
                "a remote worker serves its connection's tasks for the pool's life; \
                 a task that leaves state behind can clean it up itself",
            );
        return Err(diag.into());
    }
    Ok(setup)
}

fn known() -> String {
    OPTIONS
        .iter()
        .chain(remote::OPTIONS)
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown(key: &str, site: &CallSite) -> Unwind {
    let python = match key {
        "initializer" => " (Python's `initializer` is `init` here)",
        "maxtasksperchild" => " (Python's `maxtasksperchild` is `max_tasks` here)",
        _ => "",
    };
    ErrorKind::PoolOption
        .at(
            site.arg(1),
            format!("`pool` has no option `{key}`"),
            format!("`{key}` is not an option here"),
        )
        .with_help(format!("the options of `pool` are: {}{python}", known()))
        .into()
}

fn wrong_type(key: &str, value: &Value, site: &CallSite) -> Unwind {
    let wanted = OPTIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, what)| *what);
    let got = match value {
        Value::Int(n) => format!("{n}"),
        other => other.type_name().to_string(),
    };
    ErrorKind::PoolOption
        .at(
            site.arg(1),
            format!(
                "the option `{key}` of `pool` must be {}, not {got}",
                wanted.split(':').next().unwrap_or(wanted)
            ),
            format!("`{key}` is {got} here"),
        )
        .with_help(format!("`{key}` takes {wanted}"))
        .into()
}
