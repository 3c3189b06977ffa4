//! `procscript --worker` once the script is compiled: forks one local pool worker and relays, between stdin/stdout and the worker's socket, its tasks, answers and printed lines; EOF on stdin ends it and its worker at once.

use super::protocol::{self, kind, Greeting};
use crate::front::ast::Span;
use crate::os;
use crate::process::pool::WorkerSetup;
use crate::process::{pool_worker, Forked, NewChild, Runner};
use crate::views::record::MadeAt;
use std::os::fd::{AsFd, OwnedFd};

/// How long an ending worker has after SIGTERM before SIGKILL.
const END_GRACE_MS: u64 = 2000;

/// Sends the greeting that refuses to serve (`why`), and gives the exit code.
pub fn refuse(why: String) -> i32 {
    let (_, stdout) = os::std_streams();
    let bytes = postcard::to_allocvec(&Greeting::Refused(why)).unwrap_or_default();
    let _ = os::write_stream_frame(stdout, &bytes);
    2
}

/// The worker's printed output, as pipes this host reads.
struct Outputs {
    out: OwnedFd,
    err: OwnedFd,
    /// The worker's calls on the driver's queues, locks... (see `relayed`).
    requests: OwnedFd,
    /// Bytes read but not yet sent: the end of a line not yet whole.
    pending: [Vec<u8>; 2],
}

/// Serves tasks until stdin ends; the exit code.
pub fn serve(runner: &mut impl Runner, host: &str, setup: &WorkerSetup) -> i32 {
    let pipes = os::pipe().and_then(|out| Ok((out, os::pipe()?, os::socket_pair()?)));
    let Ok(((out_read, out_write), (err_read, err_write), (requests, worker_end))) = pipes else {
        return refuse(format!("cannot make the worker's pipes on {host}"));
    };
    let forked =
        runner
            .procs()
            .fork_child(NewChild::PoolWorker, Span::default(), MadeAt::default());
    let (pid, socket) = match forked {
        Ok(Forked::Child(Some(socket))) => {
            become_worker(&out_write, &err_write);
            drop((out_read, err_read, out_write, err_write, requests));
            super::relayed::set_channel(worker_end);
            // The driver's relay sends tasks as its pool does, each claimed
            // already there: no slot here is shared with it, every task sent is run.
            let slots = crate::process::pool_slots::TaskSlots::unshared();
            pool_worker::worker_main(runner, socket, setup, &slots)
        }
        Ok(Forked::Child(None)) => os::exit_now(1),
        Ok(Forked::Parent(pid, Some(socket))) => (pid, socket),
        _ => return refuse(format!("cannot fork a worker on {host}")),
    };
    drop((out_write, err_write, worker_end));
    let (_, stdout) = os::std_streams();
    let ready = Greeting::Ready {
        host: host.to_string(),
        pid,
    };
    let bytes = postcard::to_allocvec(&ready).unwrap_or_default();
    if os::write_stream_frame(stdout, &bytes).is_err() {
        return end_worker(runner, pid, 1);
    }
    let _ = os::set_nonblocking(&out_read);
    let _ = os::set_nonblocking(&err_read);
    let mut outputs = Outputs {
        out: out_read,
        err: err_read,
        requests,
        pending: [Vec::new(), Vec::new()],
    };
    let code = relay(&socket, &mut outputs);
    outputs.flush_all();
    end_worker(runner, pid, code)
}

/// In the forked worker: stdin reads nothing (the stream is the host's), and
/// what it prints goes into the pipes the host relays.
fn become_worker(out: &OwnedFd, err: &OwnedFd) {
    if let Ok(empty) = os::text_as_stdin(b"") {
        let _ = os::move_onto_std(&empty, 0);
    }
    let _ = os::move_onto_std(out, 1);
    let _ = os::move_onto_std(err, 2);
}

/// Relays until stdin ends (0) or the worker does (1). Tasks read together
/// go to the worker in one write, answers waiting together to the driver.
fn relay(socket: &OwnedFd, outputs: &mut Outputs) -> i32 {
    let (stdin, stdout) = os::std_streams();
    let Ok(stdin_copy) = os::copy_of(stdin) else {
        return 1;
    };
    let mut reader = os::FrameReader::new();
    loop {
        if os::pending_stop().is_err() {
            return 0;
        }
        let watched = [
            &stdin_copy,
            socket,
            &outputs.requests,
            &outputs.out,
            &outputs.err,
        ];
        match os::wait_event(&watched, None) {
            os::Event::Readable(0) => {
                // The end of stdin: the driver let go, or its connection was lost.
                if !matches!(reader.fill(stdin), Ok(true)) {
                    return 0;
                }
                if !from_driver(&mut reader, socket, &outputs.requests) {
                    return 1;
                }
            }
            os::Event::Readable(1) => {
                let (answers, ended) = super::take_frames(socket);
                // What the tasks printed was written before their answers: it goes first.
                outputs.flush_all();
                let framed: Vec<Vec<u8>> = answers
                    .iter()
                    .map(|(answer, _)| protocol::frame(kind::ANSWER, answer))
                    .collect();
                let all = os::frames_as_one(framed.iter().map(Vec::as_slice));
                if !all.is_empty() && os::write_stream(stdout, &all).is_err() {
                    return 0;
                }
                if ended {
                    return 1;
                }
            }
            os::Event::Readable(2) => {
                // A call on the driver's objects: what the task printed before it goes first.
                outputs.flush_all();
                match os::recv_frame(&outputs.requests) {
                    Ok(Some((request, _))) if !send(kind::REQUEST, &request) => return 0,
                    Ok(Some(_)) => {}
                    // The worker ended: its task socket says so too.
                    _ => {}
                }
            }
            os::Event::Readable(i) => {
                if !outputs.relay(i - 3, false) {
                    return 0;
                }
            }
            os::Event::Timeout | os::Event::Woken => {}
        }
    }
}

/// Passes on the frames read from the driver: tasks to the worker's socket in
/// one write, replies to its request channel. False once the worker is gone.
fn from_driver(reader: &mut os::FrameReader, socket: &OwnedFd, requests: &OwnedFd) -> bool {
    let mut tasks = Vec::new();
    while let Ok(Some(frame)) = reader.buffered() {
        match frame.split_first() {
            Some((&kind::TASK, task)) => tasks.push(task.to_vec()),
            Some((&kind::REPLY, reply)) => {
                let _ = os::send_frame(requests, reply, &[]);
            }
            _ => {}
        }
    }
    let all = os::frames_as_one(tasks.iter().map(Vec::as_slice));
    all.is_empty() || os::write_stream(socket.as_fd(), &all).is_ok()
}

impl Outputs {
    /// Sends the whole lines of stream `which` (0: stdout, 1: stderr); with
    /// `all`, the unfinished end too. False once the driver is gone.
    fn relay(&mut self, which: usize, all: bool) -> bool {
        let fd = if which == 0 { &self.out } else { &self.err };
        if let Some(bytes) = os::read_available(fd) {
            self.pending[which].extend_from_slice(&bytes);
        }
        let pending = &mut self.pending[which];
        let cut = match all {
            true => pending.len(),
            false => pending
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1),
        };
        if cut == 0 {
            return true;
        }
        let lines: Vec<u8> = pending.drain(..cut).collect();
        let which = if which == 0 {
            kind::STDOUT
        } else {
            kind::STDERR
        };
        send(which, &lines)
    }

    fn flush_all(&mut self) {
        self.relay(0, true);
        self.relay(1, true);
    }
}

/// Sends one frame to the driver; false once it is gone.
fn send(which: u8, body: &[u8]) -> bool {
    let (_, stdout) = os::std_streams();
    os::write_stream_frame(stdout, &protocol::frame(which, body)).is_ok()
}

/// Ends the worker (and with it everything it started): SIGTERM, then SIGKILL
/// after a grace period; gives `code` back.
fn end_worker(runner: &mut impl Runner, pid: i32, code: i32) -> i32 {
    let _ = os::send_signal(pid, os::Signal::SIGTERM);
    let deadline = os::Deadline::after(Some(END_GRACE_MS as f64 / 1000.0));
    while os::process_alive(pid) && !deadline.passed() {
        runner.procs().collect_ended();
        if !os::process_alive(pid) {
            break;
        }
        os::sleep(0.01);
    }
    let _ = os::send_signal(pid, os::Signal::SIGKILL);
    let _ = runner.procs().wait_child_status(pid);
    code
}
