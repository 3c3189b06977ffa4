//! The driver's side of one remote host: a link process, forked by a remote pool, that starts the launcher (ssh or srun) once, greets `procscript --worker` once, and multiplexes the host's workers over that connection, each relay talking to it over a socket of its own.
//!
//! The pool sends the link each new relay's socket over the link's control
//! socket (descriptor passing); the link numbers it, asks the worker host to
//! open a worker with that number, and from then on tags the relay's frames
//! with the number and passes back the frames tagged with it. The link
//! writes on its control socket only when it failed (the connection could not
//! be made, was refused, or was lost): the pool then starts another.

use super::outbox::Outbox;
use super::protocol::{self, kind, Greeting};
use super::relay_table::RelayTable;
use super::Launcher;
use crate::front::ast::Span;
use crate::os;
use crate::process::pool_answer as answer;
use crate::process::waits::Waiting;
use crate::process::{Forked, NewChild, Runner};
use crate::views::record::{MadeAt, Note};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// One relay of this host: its number on the connection, its socket, what
/// was read from it and not passed on yet, what is owed to it.
struct Relay {
    number: u32,
    socket: OwnedFd,
    reader: os::FrameReader,
    /// What the worker host sent it that it has not taken yet.
    out: Outbox,
    /// Its worker is gone (or never opened): it is let go once `out` is empty.
    closing: bool,
}

/// The link's life: start the connection to host `host` (the pool's host
/// index), then serve relays until the pool lets go (its control socket
/// closes) or the connection fails.
pub fn link_main(
    runner: &mut impl Runner,
    control: OwnedFd,
    launcher: &Launcher,
    host: usize,
) -> ! {
    let argv = launcher.argv(host);
    let place = launcher.place(host);
    let (pid, to_remote, from_remote) = match start_launcher(runner, &argv) {
        Ok(started) => started,
        Err(why) => {
            let why = format!("cannot start `{}`: {why}", argv.join(" "));
            refuse_all(runner, &control, Greeting::Refused(why))
        }
    };
    let hello = runner.hello();
    let greeting = match greet(hello, launcher, to_remote.as_fd(), from_remote.as_fd()) {
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
            refuse_all(runner, &control, greeting)
        }
    };
    let Greeting::Ready {
        host: name,
        pid: there,
    } = &greeting
    else {
        stop_launcher(runner, pid);
        refuse_all(runner, &control, named(greeting, launcher.host_alias(host)))
    };
    let name = launcher.host_alias(host).unwrap_or_else(|| name.clone());
    let words = argv.join(" ");
    runner.procs().note(|| Note::Links {
        place: format!("{name} (pid {there})"),
        launcher: words,
    });
    serve(runner, &control, pid, to_remote, &from_remote);
    let lost = format!("the connection to {name} was lost");
    let _ = os::send_signal(pid, os::Signal::SIGKILL);
    let _ = runner.procs().wait_child_status(pid);
    refuse_all(runner, &control, Greeting::Lost(lost))
}

/// A refusal names the machine by its own name (`the worker on vm is...`),
/// which several of the pool's ssh hosts may share: it is told by the name
/// the pool gives it too.
fn named(greeting: Greeting, alias: Option<String>) -> Greeting {
    match (greeting, alias) {
        (Greeting::Refused(why), Some(alias)) => {
            Greeting::Refused(format!("ssh host {alias}: {why}"))
        }
        (greeting, _) => greeting,
    }
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

/// Sends the hello and reads the worker host's greeting; None if the stream ended first.
fn greet(
    mut hello: protocol::Hello,
    launcher: &Launcher,
    to_remote: BorrowedFd,
    from_remote: BorrowedFd,
) -> Option<Greeting> {
    // The init's queues, locks... become relayed objects, as a task's do: each
    // relay's table names them with the same numbers (`init_objects`).
    hello.init = launcher.init.as_ref().and_then(|init| {
        let mut table = RelayTable::default();
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

/// The link failed: it says so on its control socket (the pool starts another
/// for the next relay), answers every relay it was given or is given with
/// `greeting`, and ends when the pool lets go.
fn refuse_all(runner: &mut impl Runner, control: &OwnedFd, greeting: Greeting) -> ! {
    let _ = os::send_frame(control, b"failed", &[]);
    let bytes = postcard::to_allocvec(&greeting).unwrap_or_default();
    let waits = runner.procs().waits.clone();
    loop {
        if let Err(sig) = os::pending_stop() {
            os::die_by_signal(sig)
        }
        waits.publish(Waiting::Task(os::getppid()), "pool worker");
        let event = os::wait_event(&[control], None);
        waits.clear();
        if event != os::Event::Readable(0) {
            continue;
        }
        match os::recv_frame(control) {
            Ok(Some((_, relays))) => {
                for relay in relays {
                    let _ = os::write_stream_frame(relay.as_fd(), &bytes);
                }
            }
            _ => os::exit_now(1),
        }
    }
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

/// Multiplexes until the pool lets go (the process ends here, with its
/// launcher: the worker host reads EOF and ends every worker) or the
/// connection is lost (it returns). It never blocks on a write: what a peer
/// does not take now waits in its outbox while the link goes on reading
/// (the worker host may be blocked writing answers to it meanwhile).
fn serve(
    runner: &mut impl Runner,
    control: &OwnedFd,
    pid: i32,
    to_remote: OwnedFd,
    from_remote: &OwnedFd,
) {
    let mut relays: Vec<Relay> = Vec::new();
    let mut next_number: u32 = 0;
    let mut reader = os::FrameReader::new();
    let mut to_host = Outbox::default();
    if os::set_nonblocking(&to_remote).is_err() {
        return;
    }
    let waits = runner.procs().waits.clone();
    loop {
        if let Err(sig) = os::pending_stop() {
            stop_launcher(runner, pid);
            os::die_by_signal(sig)
        }
        let mut watched = vec![control, from_remote];
        watched.extend(relays.iter().map(|r| &r.socket));
        let owed: Vec<&OwnedFd> = std::iter::once(&to_remote)
            .filter(|_| to_host.owes())
            .chain(relays.iter().filter(|r| r.out.owes()).map(|r| &r.socket))
            .collect();
        // It waits for its relays and the connection, never for the script:
        // deadlock detection counts it as an idle worker.
        waits.publish(Waiting::Task(os::getppid()), "pool worker");
        let event = os::wait_event_or_writable(&watched, &owed, None);
        let readable = watched.len();
        drop((watched, owed));
        waits.clear();
        let mut out: Vec<Vec<u8>> = Vec::new();
        match event {
            os::Event::Readable(0) => match os::recv_frame(control) {
                Ok(Some((_, sockets))) => {
                    for socket in sockets {
                        out.push(protocol::tagged(kind::OPEN, next_number, &[]));
                        let _ = os::set_nonblocking(&socket);
                        relays.push(Relay {
                            number: next_number,
                            socket,
                            reader: os::FrameReader::new(),
                            out: Outbox::default(),
                            closing: false,
                        });
                        next_number = next_number.wrapping_add(1);
                    }
                }
                _ => {
                    // The pool let go: the worker host reads EOF and ends.
                    drop(relays);
                    drop(to_remote);
                    let _ = runner.procs().wait_child_status(pid);
                    os::exit_now(0)
                }
            },
            os::Event::Readable(1) => {
                if !matches!(reader.fill(from_remote.as_fd()), Ok(true)) {
                    return;
                }
                if !from_host(&mut reader, &mut relays) {
                    return;
                }
            }
            os::Event::Readable(i) if i < readable => from_relay(&mut relays, i - 2, &mut out),
            // A peer takes more of what it is owed: written below.
            os::Event::Readable(_) | os::Event::Timeout | os::Event::Woken => {}
        }
        for frame in &out {
            to_host.push(&(frame.len() as u32).to_le_bytes());
            to_host.push(frame);
        }
        if to_host.flush(&to_remote).is_err() {
            return;
        }
        flush_relays(&mut relays);
    }
}

/// Writes what each relay takes now of what it is owed; a relay that cannot
/// be written to, or is let go and has had all it was owed, is dropped (it
/// sees its socket end).
fn flush_relays(relays: &mut Vec<Relay>) {
    relays.retain_mut(|relay| {
        let written = relay.out.flush(&relay.socket).is_ok();
        written && (relay.out.owes() || !relay.closing)
    });
}

/// Passes the frames read from the worker host to their relays' outboxes (a
/// relay the host says is gone is let go once it has them all). False when
/// the stream is broken.
fn from_host(reader: &mut os::FrameReader, relays: &mut [Relay]) -> bool {
    loop {
        let frame = match reader.buffered() {
            Ok(Some(frame)) => frame,
            Ok(None) => return true,
            Err(_) => return false,
        };
        let Some((which, number, body)) = protocol::untag(&frame) else {
            return false;
        };
        let Some(relay) = relays.iter_mut().find(|r| r.number == number && !r.closing) else {
            continue;
        };
        let framed = match which {
            kind::OPENED => {
                relay.closing = !matches!(
                    postcard::from_bytes::<Greeting>(body),
                    Ok(Greeting::Ready { .. })
                );
                body.to_vec()
            }
            kind::CLOSED => {
                relay.closing = true;
                continue;
            }
            _ => protocol::frame(which, body),
        };
        relay.out.push(&(framed.len() as u32).to_le_bytes());
        relay.out.push(&framed);
    }
}

/// Relay `i` has frames (or ended): each goes to the worker host tagged with
/// its number; at its end the host is told to end its worker.
fn from_relay(relays: &mut Vec<Relay>, i: usize, out: &mut Vec<Vec<u8>>) {
    let Some(relay) = relays.get_mut(i) else {
        return;
    };
    let open = matches!(relay.reader.fill(relay.socket.as_fd()), Ok(true));
    while let Ok(Some(frame)) = relay.reader.buffered() {
        if let Some((&which, body)) = frame.split_first() {
            out.push(protocol::tagged(which, relay.number, body));
        }
    }
    if !open {
        out.push(protocol::tagged(kind::CLOSE, relay.number, &[]));
        relays.remove(i);
    }
}
