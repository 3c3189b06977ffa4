//! The driver's side of one remote worker: a relay process, forked as a pool worker, that talks to its host's link (see `link`) and relays tasks, answers, printed lines and the remote task's calls on the driver's queues, locks...

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
use crate::process::Runner;
use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};

/// The relay's exit code when the connection ended before the pool let it go
/// (the host, its worker or the launcher was lost).
pub const LOST_EXIT: i32 = 75;

/// The relay's life: tell the pool whether its worker serves (a `Greeting`,
/// the first frame on `socket`, as its host's link passed it on), then relay
/// until either side ends. `link` is this relay's socket to its host's link.
pub fn relay_main(
    runner: &mut impl Runner,
    socket: OwnedFd,
    link: OwnedFd,
    launcher: &Launcher,
    host: usize,
    slots: &TaskSlots,
) -> ! {
    let mut table = RelayTable::default();
    init_objects(launcher, &mut table);
    let greeting = match os::read_stream_frame(link.as_fd()) {
        Ok(Some(bytes)) => postcard::from_bytes::<Greeting>(&bytes).ok(),
        _ => None,
    };
    let greeting = greeting.unwrap_or_else(|| {
        if let Err(sig) = os::pending_stop() {
            os::die_by_signal(sig)
        }
        Greeting::Lost(format!(
            "no worker started on {}: the connection ended before the worker answered",
            launcher.place(host)
        ))
    });
    let refused = !matches!(greeting, Greeting::Ready { .. });
    let bytes = postcard::to_allocvec(&greeting).unwrap_or_default();
    if os::send_frame(&socket, &bytes, &[]).is_err() || refused {
        os::exit_now(1);
    }
    if let Greeting::Ready {
        host: name,
        pid: there,
    } = &greeting
    {
        let name = launcher.host_alias(host).unwrap_or_else(|| name.clone());
        let place = format!("{name} (pid {there})");
        let words = launcher.argv(host).join(" ");
        runner.procs().note(|| crate::views::record::Note::Serves {
            place,
            launcher: words,
        });
    }
    let Ok(from_remote) = os::copy_of(link.as_fd()) else {
        os::exit_now(LOST_EXIT)
    };
    let link = Link {
        table,
        to_remote: link,
        unanswered: 0,
        held: VecDeque::new(),
        slots,
    };
    relay(runner, &socket, link, &from_remote)
}

/// Enters the objects of the pool's `init` in a new relay's table, first, as
/// the link did for the hello: the worker's init names them by these numbers.
fn init_objects(launcher: &Launcher, table: &mut RelayTable) {
    let Some(init) = &launcher.init else {
        return;
    };
    let fds: Result<Vec<_>, _> = init.fds.iter().map(|&fd| os::copy_of_raw(fd)).collect();
    if let Ok(fds) = fds {
        let _ = table.rewrite(&answer::task_frame(0, 0, &init.bytes), fds);
    }
}

/// Relays until the pool lets the worker go (its socket closes: the remote
/// end gets EOF and ends) or the connection is lost (this relay ends with
/// `LOST_EXIT`, which the pool sees as a lost worker). Tasks that wait in the
/// socket together go out in one write, and answers come in large reads.
fn relay(runner: &mut impl Runner, socket: &OwnedFd, mut link: Link, from_remote: &OwnedFd) -> ! {
    let mut reader = os::FrameReader::new();
    let waits = runner.procs().waits.clone();
    let owner = os::getppid();
    loop {
        if let Err(sig) = os::pending_stop() {
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
                    // The pool let the worker go: the link tells the worker host to end it.
                    drop(link);
                    os::exit_now(0)
                }
            }
            os::Event::Readable(_) => {
                if !matches!(reader.fill(from_remote.as_fd()), Ok(true)) {
                    lost();
                }
                loop {
                    match reader.buffered() {
                        Ok(Some(frame)) => pass_on(runner, socket, &frame, &mut link),
                        Ok(None) => break,
                        Err(_) => lost(),
                    }
                }
            }
            os::Event::Timeout | os::Event::Woken => {}
        }
        if !link.send_held(socket) {
            lost();
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
fn pass_on(runner: &mut impl Runner, socket: &OwnedFd, frame: &[u8], link: &mut Link) {
    let Some((&which, body)) = frame.split_first() else {
        return;
    };
    match which {
        kind::ANSWER => {
            link.unanswered = link.unanswered.saturating_sub(1);
            if os::send_frame(socket, body, &[]).is_err() {
                lost()
            }
        }
        kind::REQUEST => {
            let reply = answer_call(runner, &link.table, body);
            let bytes = postcard::to_allocvec(&reply).unwrap_or_default();
            let framed = protocol::frame(kind::REPLY, &bytes);
            if os::write_stream_frame(link.to_remote.as_fd(), &framed).is_err() {
                lost();
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

/// The connection is lost: tell the pool by this exit code.
fn lost() -> ! {
    os::exit_now(LOST_EXIT)
}

/// Makes a remote task's call on one of the driver's objects, here, as the
/// task would have made it locally (it may wait: this relay waits for it, not
/// the driver). A stop signal while it waits ends the relay as any.
fn answer_call(runner: &mut impl Runner, table: &RelayTable, body: &[u8]) -> Reply {
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
                os::die_by_signal(sig)
            }
        },
    }
}
