//! The driver's side of one remote worker: a relay process, forked as a pool worker, that starts the launcher (ssh or srun) on pipes, greets `procscript --worker` and relays tasks, answers and printed lines.

use super::protocol::{self, kind, Greeting};
use super::relay_table::RelayTable;
use super::relayed::{Reply, Request};
use super::Launcher;
use crate::error::diagnostic::Diag;
use crate::front::ast::Span;
use crate::os;
use crate::process::pool_answer as answer;
use crate::process::pool_slots::TaskSlots;
use crate::process::waits::Waiting;
use crate::process::{Forked, NewChild, Runner};
use crate::views::record::MadeAt;
use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};

/// The relay's exit code when the connection ended before the pool let it go
/// (the host, its worker or the launcher was lost).
pub const LOST_EXIT: i32 = 75;

/// The relay's life: start the connection, tell the pool whether it serves
/// (a `Greeting`, the first frame on `socket`), then relay until either side ends.
pub fn relay_main(
    runner: &mut impl Runner,
    socket: OwnedFd,
    launcher: &Launcher,
    slot: usize,
    slots: &TaskSlots,
) -> ! {
    let argv = launcher.argv(slot);
    let place = launcher.place(slot);
    let started = start_launcher(runner, &argv);
    let (pid, to_remote, from_remote) = match started {
        Ok(started) => started,
        Err(why) => refuse(&socket, format!("cannot start `{}`: {why}", argv.join(" "))),
    };
    let mut table = RelayTable::default();
    let greeting = greet(
        runner,
        launcher,
        &mut table,
        to_remote.as_fd(),
        from_remote.as_fd(),
    );
    let greeting = match greeting {
        Some(greeting) => greeting,
        None => {
            if let Err(sig) = os::pending_stop() {
                stop_launcher(runner, pid);
                os::die_by_signal(sig)
            }
            let slurm = matches!(launcher.engine, super::Engine::Slurm { .. });
            let (how, missing) = launcher_ended(runner, pid, slurm);
            let why = format!(
                "no worker started on {place} with `{}`: {how} before the worker answered \
                 (its own message, if any, is above)",
                argv.join(" ")
            );
            // A missing procscript stays missing; a connection that failed may work again.
            let greeting = match missing {
                true => Greeting::Refused(why),
                false => Greeting::Lost(why),
            };
            let bytes = postcard::to_allocvec(&greeting).unwrap_or_default();
            let _ = os::send_frame(&socket, &bytes, &[]);
            os::exit_now(1)
        }
    };
    let refused = !matches!(greeting, Greeting::Ready { .. });
    let bytes = postcard::to_allocvec(&greeting).unwrap_or_default();
    if os::send_frame(&socket, &bytes, &[]).is_err() || refused {
        stop_launcher(runner, pid);
        os::exit_now(1);
    }
    if let Greeting::Ready { host, pid: there } = &greeting {
        let host = launcher.host_alias(slot).unwrap_or_else(|| host.clone());
        let place = format!("{host} (pid {there})");
        let words = argv.join(" ");
        runner.procs().note(|| crate::views::record::Note::Serves {
            place,
            launcher: words,
        });
    }
    let link = Link {
        table,
        to_remote,
        unanswered: 0,
        held: VecDeque::new(),
        slots,
    };
    relay(runner, &socket, pid, link, &from_remote)
}

/// Starts the launcher with its stdin and stdout on pipes; its pid and this side's ends.
fn start_launcher(
    runner: &mut impl Runner,
    argv: &[String],
) -> Result<(i32, OwnedFd, OwnedFd), String> {
    let (their_stdin, to_remote) = os::pipe().map_err(|e| e.to_string())?;
    let (from_remote, their_stdout) = os::pipe().map_err(|e| e.to_string())?;
    let mut launch = os::Launch::plain(&argv[0], &argv[1..]);
    launch.stdin = Some(their_stdin.as_fd());
    launch.stdout = Some(their_stdout.as_fd());
    // Its own group: Ctrl-C at the terminal reaches the tree, which stops it.
    launch.group = os::GroupOf::Own;
    let new = NewChild::Program {
        launch: &launch,
        at: Span::default(),
    };
    let forked = runner
        .procs()
        .fork_child(new, Span::default(), MadeAt::default());
    match forked {
        Ok(Forked::Parent(pid, _)) => Ok((pid, to_remote, from_remote)),
        Ok(Forked::Child(_)) => os::exit_now(127),
        Err(unwind) => Err(unwind
            .diag()
            .map_or_else(|| "stopped".to_string(), |d| d.message.clone())),
    }
}

/// Sends the hello and reads the worker's greeting; None if the stream ended first.
fn greet(
    runner: &mut impl Runner,
    launcher: &Launcher,
    table: &mut RelayTable,
    to_remote: std::os::fd::BorrowedFd,
    from_remote: std::os::fd::BorrowedFd,
) -> Option<Greeting> {
    let mut hello = runner.hello();
    // The init's queues, locks... become relayed objects, as a task's do.
    hello.init = launcher.init.as_ref().and_then(|init| {
        let fds: Result<Vec<_>, _> = init.fds.iter().map(|&fd| os::copy_of_raw(fd)).collect();
        let frame = answer::task_frame(0, 0, &init.bytes);
        let frame = table.rewrite(&frame, fds.ok()?).ok()?;
        answer::read_task_frame(&frame).map(|(_, _, task)| task.to_vec())
    });
    let hello = postcard::to_allocvec(&hello).ok()?;
    // A launcher that failed at once has closed its stdin: its reason comes below.
    let _ = os::write_stream_frame(to_remote, &hello);
    let answer = os::read_stream_frame(from_remote).ok()??;
    postcard::from_bytes(&answer).ok()
}

/// Tells the pool this worker will not serve, and ends.
fn refuse(socket: &OwnedFd, why: String) -> ! {
    let bytes = postcard::to_allocvec(&Greeting::Refused(why)).unwrap_or_default();
    let _ = os::send_frame(socket, &bytes, &[]);
    os::exit_now(1)
}

/// How the launcher ended, in words, once it has; and whether it said the
/// command was not found (or not runnable) there: a shell's 126 or 127 over
/// ssh; on Slurm, slurmstepd ends a task it cannot exec with the errno
/// (ENOENT 2, EACCES 13). (A procscript too old to know `--worker` exits 2
/// as well: "is procscript installed there?" still points the right way.)
fn launcher_ended(runner: &mut impl Runner, pid: i32, slurm: bool) -> (String, bool) {
    let not_found = |code: i32| matches!(code, 126 | 127) || (slurm && matches!(code, 2 | 13));
    match runner.procs().wait_child_status(pid) {
        Ok(Some(os::ExitStatus::Exited(code))) if not_found(code) => (
            format!(
                "the launcher exited with code {code} (command not found: \
                 is procscript installed there? \"command\" names its path)"
            ),
            true,
        ),
        Ok(Some(os::ExitStatus::Exited(code))) => {
            (format!("the launcher exited with code {code}"), false)
        }
        Ok(Some(os::ExitStatus::Signaled(sig))) => (
            format!("the launcher was killed by {}", os::signal_name(sig)),
            false,
        ),
        _ => ("the launcher ended".to_string(), false),
    }
}

/// Ends the launcher now (ssh closes the connection; srun cancels the step).
fn stop_launcher(runner: &mut impl Runner, pid: i32) {
    let _ = os::send_signal(pid, os::Signal::SIGTERM);
    let _ = runner.procs().wait_child_status(pid);
}

/// Relays until the pool lets the worker go (its socket closes: the remote
/// end gets EOF and ends) or the connection is lost (this relay ends with
/// `LOST_EXIT`, which the pool sees as a lost worker). Tasks that wait in the
/// socket together go out in one write, and answers come in large reads.
fn relay(
    runner: &mut impl Runner,
    socket: &OwnedFd,
    pid: i32,
    mut link: Link,
    from_remote: &OwnedFd,
) -> ! {
    let mut reader = os::FrameReader::new();
    let waits = runner.procs().waits.clone();
    let owner = os::getppid();
    loop {
        if let Err(sig) = os::pending_stop() {
            stop_launcher(runner, pid);
            os::die_by_signal(sig)
        }
        // With no task out, this relay waits for the pool, as an idle local
        // worker does (deadlock detection counts on it).
        if link.unanswered == 0 {
            waits.publish(Waiting::Task(owner), "pool worker");
        }
        let event = os::wait_event(&[socket, from_remote], None);
        waits.clear();
        match event {
            os::Event::Readable(0) => {
                let (tasks, ended) = super::take_frames(socket);
                for (task, fds) in tasks {
                    // A task that cannot be rewritten goes as it is: the worker says why it cannot read it.
                    let task = link.table.rewrite(&task, fds).unwrap_or(task);
                    link.held.push_back(task);
                }
                if ended {
                    // The pool let the worker go: the remote end reads EOF and ends.
                    drop(link);
                    let _ = runner.procs().wait_child_status(pid);
                    os::exit_now(0)
                }
            }
            os::Event::Readable(_) => {
                if !matches!(reader.fill(from_remote.as_fd()), Ok(true)) {
                    lost(runner, pid);
                }
                loop {
                    match reader.buffered() {
                        Ok(Some(frame)) => pass_on(runner, socket, pid, &frame, &mut link),
                        Ok(None) => break,
                        Err(_) => lost(runner, pid),
                    }
                }
            }
            os::Event::Timeout | os::Event::Woken => {}
        }
        if !link.send_held(socket) {
            lost(runner, pid);
        }
    }
}

/// This relay's side of the connection: the objects relayed, the way to the
/// worker, how many tasks sent there have no answer yet, and the tasks not
/// sent yet with the pool's slots they are claimed in.
struct Link<'a> {
    table: RelayTable,
    to_remote: OwnedFd,
    unanswered: usize,
    held: VecDeque<Vec<u8>>,
    slots: &'a TaskSlots,
}

impl Link<'_> {
    /// Sends the held tasks that may go now, in one write: each is claimed
    /// for the worker as it goes (from then on it counts as started); a task
    /// a handle may take back goes only when the worker has no other task
    /// out, and one already taken back is answered as skipped instead, here,
    /// in its turn. False when the connection or the pool is gone.
    fn send_held(&mut self, socket: &OwnedFd) -> bool {
        let mut frames = Vec::new();
        while let Some(task) = self.held.front() {
            let Some((slot, id, _)) = answer::read_task_frame(task) else {
                self.held.pop_front();
                continue;
            };
            let (slot, held) = super::split_slot(slot);
            if held && (self.unanswered > 0 || !frames.is_empty()) {
                break;
            }
            let mut task = self.held.pop_front().expect("the front exists");
            task[..4].copy_from_slice(&slot.to_le_bytes());
            if !self.slots.claim(slot, id) && held {
                if os::send_frame(socket, &answer::skipped(), &[]).is_err() {
                    return false;
                }
                continue;
            }
            self.unanswered += 1;
            frames.push(protocol::frame(kind::TASK, &task));
        }
        let all = os::frames_as_one(frames.iter().map(Vec::as_slice));
        all.is_empty() || os::write_stream(self.to_remote.as_fd(), &all).is_ok()
    }
}

/// One frame from the worker: printed lines go out here, answers to the
/// pool, calls on the driver's objects are made here and answered.
fn pass_on(runner: &mut impl Runner, socket: &OwnedFd, pid: i32, frame: &[u8], link: &mut Link) {
    let Some((&which, body)) = frame.split_first() else {
        return;
    };
    match which {
        kind::ANSWER => {
            link.unanswered = link.unanswered.saturating_sub(1);
            if os::send_frame(socket, body, &[]).is_err() {
                lost(runner, pid)
            }
        }
        kind::REQUEST => {
            let reply = answer_call(runner, pid, &link.table, body);
            let bytes = postcard::to_allocvec(&reply).unwrap_or_default();
            let framed = protocol::frame(kind::REPLY, &bytes);
            if os::write_stream_frame(link.to_remote.as_fd(), &framed).is_err() {
                lost(runner, pid);
            }
        }
        kind::STDOUT => write_lines(os::StdFd::Out, body),
        kind::STDERR => write_lines(os::StdFd::Err, body),
        _ => {}
    }
}

/// Writes lines printed on the other host, whole (under the tree's output lock when long).
fn write_lines(to: os::StdFd, lines: &[u8]) {
    let _ = os::with_output_lock(lines.len(), || os::write_all(to, lines));
}

/// The connection is lost: end the launcher and tell the pool by this exit code.
fn lost(runner: &mut impl Runner, pid: i32) -> ! {
    let _ = os::send_signal(pid, os::Signal::SIGKILL);
    let _ = runner.procs().wait_child_status(pid);
    os::exit_now(LOST_EXIT)
}

/// Makes a remote task's call on one of the driver's objects, here, as the
/// task would have made it locally (it may wait: this relay waits for it, not
/// the driver). A stop signal while it waits ends the relay as any.
fn answer_call(runner: &mut impl Runner, pid: i32, table: &RelayTable, body: &[u8]) -> Reply {
    let failed = |message: &str, span| Reply::Failed(Diag::new(message, span, "here"));
    let Ok(request) = postcard::from_bytes::<Request>(body) else {
        return failed(
            "a call from a remote task could not be read",
            Span::default(),
        );
    };
    let Some(target) = table.object(request.object).cloned() else {
        return failed(
            "a remote task named an object it was not given",
            request.span,
        );
    };
    let args: Option<Vec<_>> = request
        .args
        .iter()
        .map(|a| crate::process::wire::decode_message(a))
        .collect();
    let Some(args) = args else {
        return failed("a call from a remote task could not be read", request.span);
    };
    let result = runner.call_method(
        &target,
        request.method,
        &args,
        request.span,
        &request.arg_spans,
    );
    match result {
        Ok(value) => match crate::process::wire::encode_message(&value) {
            Ok(bytes) => Reply::Returned(bytes),
            Err(not) => failed(&not.message(), request.span),
        },
        Err(unwind) => match unwind.diag() {
            Some(diag) => Reply::Failed(diag.clone()),
            None => {
                let sig = os::pending_stop().err().unwrap_or(os::Signal::SIGTERM);
                stop_launcher(runner, pid);
                os::die_by_signal(sig)
            }
        },
    }
}
