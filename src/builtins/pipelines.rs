//! Pipelines of programs: `pipeline` and `capture_pipeline`, real pipes between programs that run at once.

use super::args::CallSite;
use super::program_options::{split_options, Caller, ProgramOptions};
use super::program_output::{read_outputs, Captured, Reading};
use super::program_streams::Streams;
use super::programs::{
    program_words, timed_out, timed_out_capture, too_much_output, TIMED_OUT_CODE,
};
use crate::error::{ErrorKind, Unwind, R};
use crate::eval::Interp;
use crate::os::{self, Deadline, GroupOf};
use crate::process::{ProgramEnd, BROKEN_PIPE_EXIT};
use crate::values::Value;
use std::os::fd::{AsFd, OwnedFd};

/// One program of a pipeline: its name and arguments.
type Stage = (String, Vec<String>);

/// The programs of `pipeline([[prog, args...], ...])`: a list of at least one
/// non-empty list of strings.
fn stages(caller: Caller, args: &[Value], site: &CallSite) -> R<Vec<Stage>> {
    let name = caller.name();
    let Value::List(list) = &args[0] else {
        return Err(site.wrong_type(
            name,
            0,
            "a list of programs, each a list [program, args...]",
            &args[0],
        ));
    };
    let items = list.borrow();
    if items.is_empty() {
        let diag = ErrorKind::InvalidValue
            .at(
                site.arg(0),
                format!("`{name}` needs at least one program"),
                "an empty list",
            )
            .with_help("write each program as a list: [[\"ls\"], [\"sort\", \"-r\"]]");
        return Err(diag.into());
    }
    items
        .iter()
        .map(|item| match item {
            Value::List(words) => {
                let words = words.borrow();
                program_words(
                    name,
                    &words,
                    &CallSite {
                        span: site.arg(0),
                        arg_spans: &[],
                    },
                )
            }
            other => Err(site.wrong_type(
                name,
                0,
                "a list of programs, each a list [program, args...]",
                other,
            )),
        })
        .collect()
}

/// "cat | grep | wc": the pipeline's programs.
fn programs(stages: &[Stage]) -> String {
    let names: Vec<&str> = stages.iter().map(|(prog, _)| prog.as_str()).collect();
    names.join(" | ")
}

/// "`cat | grep | wc`", as messages name a pipeline.
fn describe(stages: &[Stage]) -> String {
    format!("`{}`", programs(stages))
}

/// Every program is found before any starts: one that cannot run fails the
/// pipeline with nothing started.
fn find_all(stages: &[Stage], site: &CallSite) -> R<()> {
    for (i, (prog, _)) in stages.iter().enumerate() {
        if let Err(reason) = os::find_program(prog) {
            let diag = ErrorKind::ProgramStart
                .at(
                    site.arg(0),
                    format!(
                        "cannot run `{prog}` (program {} of {} in the pipeline): {reason}",
                        i + 1,
                        stages.len()
                    ),
                    "in this pipeline",
                )
                .with_help("no program of the pipeline was started; programs are looked up in the folders of PATH");
            return Err(diag.into());
        }
    }
    Ok(())
}

/// Starts every program, each one's stdout piped into the next one's stdin;
/// the pids, in order. If one fails to start, those started are stopped.
fn start_all(
    interp: &mut Interp,
    stages: &[Stage],
    options: &ProgramOptions,
    streams: &mut Streams,
    site: &CallSite,
) -> R<Vec<i32>> {
    let mut pids: Vec<i32> = Vec::new();
    let mut previous: Option<OwnedFd> = None;
    for (i, (prog, rest)) in stages.iter().enumerate() {
        let last = i + 1 == stages.len();
        let (next, write) = if last {
            (None, None)
        } else {
            let (read, write) = os::pipe().map_err(|reason| {
                Unwind::from(ErrorKind::Os.at(
                    site.span,
                    format!("cannot make a pipe: {reason}"),
                    "here",
                ))
            })?;
            (Some(read), Some(write))
        };
        let mut launch = streams.launch(prog, rest, options);
        if i > 0 {
            launch.stdin = previous.as_ref().map(AsFd::as_fd);
        }
        if let Some(write) = &write {
            launch.stdout = Some(write.as_fd());
        }
        if let (Some(&leader), true) = (pids.first(), options.own_group()) {
            launch.group = GroupOf::Join(leader);
        }
        match interp.start_program(&launch, site) {
            Ok(pid) => pids.push(pid),
            Err(stop) => {
                interp.procs.kill_programs(&pids)?;
                return Err(stop);
            }
        }
        // This process's copies of the pipe's ends close here: the programs hold theirs.
        previous = next;
    }
    streams.close_program_ends();
    Ok(pids)
}

/// Waits for every program until the deadline (a signal with a script
/// handler runs it meanwhile); when it passes, the whole pipeline is
/// stopped and those it stopped get 124.
fn wait_all(
    interp: &mut Interp,
    pids: &[i32],
    deadline: Deadline,
    site: &CallSite,
) -> R<Vec<ProgramEnd>> {
    let mut ends = Vec::new();
    for &pid in pids {
        let end = interp.wait_program(pid, deadline, site)?;
        if end == ProgramEnd::TimedOut {
            interp.procs.stop_timed_out_all(pids)?;
            ends.resize(pids.len(), ProgramEnd::TimedOut);
            break;
        }
        ends.push(end);
    }
    Ok(ends)
}

fn codes(ends: &[ProgramEnd]) -> Vec<i32> {
    ends.iter()
        .map(|end| match end {
            ProgramEnd::Ended(status) => status.code(),
            ProgramEnd::TimedOut => TIMED_OUT_CODE,
        })
        .collect()
}

fn code_list(codes: &[i32]) -> Value {
    Value::list(codes.iter().map(|&c| Value::Int(c as i64)).collect())
}

pub(super) fn pipeline(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (args, options) = split_options(Caller::Pipeline, args, site)?;
    let stages = stages(Caller::Pipeline, args, site)?;
    find_all(&stages, site)?;
    let mut streams = Streams::open(&programs(&stages), &options, false, site)?;
    let pids = start_all(interp, &stages, &options, &mut streams, site)?;
    let ends = wait_all(interp, &pids, Deadline::after(options.timeout), site);
    let ends = interp.stop_programs_on_error(&pids, ends)?;
    Ok(code_list(&codes(&ends)))
}

pub(super) fn capture_pipeline(interp: &mut Interp, args: &[Value], site: &CallSite) -> R<Value> {
    let (args, options) = split_options(Caller::CapturePipeline, args, site)?;
    let stages = stages(Caller::CapturePipeline, args, site)?;
    find_all(&stages, site)?;
    let what = describe(&stages);
    let mut streams = Streams::open(&programs(&stages), &options, true, site)?;
    let pids = start_all(interp, &stages, &options, &mut streams, site)?;
    let pipes = streams.read_pipes();
    let deadline = Deadline::after(options.timeout);
    let captured = read_outputs(interp, &mut streams, deadline, site.span);
    let captured = interp.stop_programs_on_error(&pids, captured)?;
    let ends = match captured.ended {
        Reading::TooLarge => {
            interp.procs.kill_programs(&pids)?;
            return Err(too_much_output(&what, site));
        }
        Reading::TimedOut => {
            let ended = interp.stop_captured(&pids, &pipes)?;
            let what = format!("the pipeline {what}");
            return Err(timed_out_capture(&what, ended, options.timeout, site));
        }
        Reading::Done => {
            let ends = wait_all(interp, &pids, deadline, site);
            interp.stop_programs_on_error(&pids, ends)?
        }
    };
    if ends.contains(&ProgramEnd::TimedOut) {
        return Err(timed_out(
            &format!("the pipeline {what}"),
            options.timeout.unwrap_or(0.0),
            site,
        ));
    }
    pipeline_result(&stages, &ends, captured, &options, site)
}

/// What `capture_pipeline` returns: the last program's output; or, with
/// `"check": false` or `"stderr": "capture"`, `{"codes": [..], "out": ..,
/// "err": ..}`. With `check` (the default), any program's failure is an error,
/// except SIGPIPE (141) in a program before the last: a later program that
/// ended early (`head`) cut it off, as a shell pipeline means it to, and
/// whether the writer still had output to write is a race of timing.
fn pipeline_result(
    stages: &[Stage],
    ends: &[ProgramEnd],
    captured: Captured,
    options: &ProgramOptions,
    site: &CallSite,
) -> R<Value> {
    let codes = codes(ends);
    let last = codes.len().saturating_sub(1);
    let failed = codes
        .iter()
        .enumerate()
        .position(|(i, &code)| code != 0 && !(i < last && code == BROKEN_PIPE_EXIT));
    if let (true, Some(i)) = (options.check, failed) {
        let diag = ErrorKind::ProgramFailed
            .at(
                site.span,
                format!(
                    "the pipeline {} failed: `{}` (program {} of {}) {}",
                    describe(stages),
                    stages[i].0,
                    i + 1,
                    stages.len(),
                    match ends[i] {
                        ProgramEnd::Ended(status) =>
                            super::programs::how_it_ended(status, "ended with"),
                        ProgramEnd::TimedOut => format!("ended with exit code {}", codes[i]),
                    }
                ),
                "this pipeline failed",
            )
            .with_help(
                "pass {\"check\": false} to get every exit code and the output instead of an error",
            );
        return Err(diag.into());
    }
    Ok(captured.result(options, "codes", code_list(&codes)))
}
