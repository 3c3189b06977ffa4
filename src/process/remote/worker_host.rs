//! `procscript --worker` once the script is compiled: one connection that serves several workers, a local pool worker forked for each number the driver opens, their tasks, answers, printed lines and relayed calls multiplexed with that number; EOF on stdin ends it and every worker at once.

use super::protocol::{self, kind, Greeting};
use crate::front::ast::Span;
use crate::os;
use crate::process::pool::WorkerSetup;
use crate::process::{pool_worker, Forked, NewChild, Runner};
use crate::views::record::MadeAt;
use std::os::fd::{AsFd, OwnedFd};

/// How long an ending worker has after SIGTERM before SIGKILL.
const END_GRACE_SECONDS: f64 = 2.0;

/// How often workers told to end are looked at while some are still ending.
const ENDING_TICK_MS: i32 = 100;

/// Sends the greeting that refuses to serve (`why`), and gives the exit code.
pub fn refuse(why: String) -> i32 {
    let (_, stdout) = os::std_streams();
    let bytes = postcard::to_allocvec(&Greeting::Refused(why)).unwrap_or_default();
    let _ = os::write_stream_frame(stdout, &bytes);
    2
}

/// One pool worker this host forked: its number on the connection, its
/// pid, its task socket and what it prints.
struct HostWorker {
    number: u32,
    pid: i32,
    socket: OwnedFd,
    outputs: Outputs,
}

/// A worker's printed output, as pipes this host reads.
struct Outputs {
    out: OwnedFd,
    err: OwnedFd,
    /// The worker's calls on the driver's queues, locks... (see `relayed`).
    requests: OwnedFd,
    /// Bytes read but not yet sent: the end of a line not yet whole.
    pending: [Vec<u8>; 2],
}

/// The host's workers: those serving, and those told to end (pid, when
/// SIGKILL follows the SIGTERM they were sent).
#[derive(Default)]
struct Workers {
    serving: Vec<HostWorker>,
    ending: Vec<(i32, os::Deadline)>,
}

/// Serves the driver's workers until stdin ends; the exit code.
pub fn serve(runner: &mut impl Runner, host: &str, setup: &WorkerSetup) -> i32 {
    let (_, stdout) = os::std_streams();
    let ready = Greeting::Ready {
        host: host.to_string(),
        pid: os::getpid(),
    };
    let bytes = postcard::to_allocvec(&ready).unwrap_or_default();
    if os::write_stream_frame(stdout, &bytes).is_err() {
        return 1;
    }
    let mut workers = Workers::default();
    let code = relay(runner, host, setup, &mut workers);
    for worker in std::mem::take(&mut workers.serving) {
        let mut worker = worker;
        worker.outputs.flush_all(worker.number);
        workers.end(worker.pid);
    }
    workers.finish_ending(runner);
    code
}

/// Relays until stdin ends (0) or the driver cannot be written to (0 too).
fn relay(runner: &mut impl Runner, host: &str, setup: &WorkerSetup, workers: &mut Workers) -> i32 {
    let (stdin, _) = os::std_streams();
    let Ok(stdin_copy) = os::copy_of(stdin) else {
        return 1;
    };
    let mut reader = os::FrameReader::new();
    loop {
        if os::pending_stop().is_err() {
            return 0;
        }
        let mut watched = vec![&stdin_copy];
        for worker in &workers.serving {
            let o = &worker.outputs;
            watched.extend([&worker.socket, &o.requests, &o.out, &o.err]);
        }
        let tick = (!workers.ending.is_empty()).then_some(ENDING_TICK_MS);
        let event = os::wait_event(&watched, tick);
        drop(watched);
        workers.reap_ended(runner);
        match event {
            os::Event::Readable(0) => {
                // The end of stdin: the driver let go, or its connection was lost.
                if !matches!(reader.fill(stdin), Ok(true)) {
                    return 0;
                }
                if !from_driver(runner, host, setup, &mut reader, workers) {
                    return 0;
                }
            }
            os::Event::Readable(i) => {
                if !workers.pass_on((i - 1) / 4, (i - 1) % 4) {
                    return 0;
                }
            }
            os::Event::Timeout | os::Event::Woken => {}
        }
    }
}

/// Passes on the frames read from the driver: workers opened and closed,
/// tasks to each worker's socket (one write a worker), replies to its request
/// channel. False once the driver cannot be answered.
fn from_driver(
    runner: &mut impl Runner,
    host: &str,
    setup: &WorkerSetup,
    reader: &mut os::FrameReader,
    workers: &mut Workers,
) -> bool {
    let mut tasks: Vec<(u32, Vec<u8>)> = Vec::new();
    while let Ok(Some(frame)) = reader.buffered() {
        let Some((which, number, body)) = protocol::untag(&frame) else {
            continue;
        };
        match which {
            kind::TASK => match tasks.last_mut().filter(|(n, _)| *n == number) {
                Some((_, all)) => all.extend(os::frames_as_one([body])),
                None => tasks.push((number, os::frames_as_one([body]))),
            },
            kind::REPLY => {
                if let Some(worker) = workers.find(number) {
                    let _ = os::send_frame(&worker.outputs.requests, body, &[]);
                }
            }
            kind::OPEN => {
                let greeting = open_worker(runner, host, setup, number, workers);
                let bytes = postcard::to_allocvec(&greeting).unwrap_or_default();
                if !send(kind::OPENED, number, &bytes) {
                    return false;
                }
            }
            kind::CLOSE => {
                if let Some(i) = workers.serving.iter().position(|w| w.number == number) {
                    let mut worker = workers.serving.remove(i);
                    worker.outputs.flush_all(number);
                    workers.end(worker.pid);
                }
            }
            _ => {}
        }
    }
    for (number, all) in tasks {
        // A worker that is gone says so by its socket's end (and `CLOSED`).
        if let Some(worker) = workers.find(number) {
            let _ = os::write_stream(worker.socket.as_fd(), &all);
        }
    }
    true
}

/// Forks pool worker `number` with its own output pipes and request channel;
/// its greeting (its pid here, or why it could not start).
fn open_worker(
    runner: &mut impl Runner,
    host: &str,
    setup: &WorkerSetup,
    number: u32,
    workers: &mut Workers,
) -> Greeting {
    let pipes = os::pipe().and_then(|out| Ok((out, os::pipe()?, os::socket_pair()?)));
    let Ok(((out_read, out_write), (err_read, err_write), (requests, worker_end))) = pipes else {
        return Greeting::Refused(format!("cannot make a worker's pipes on {host}"));
    };
    let forked =
        runner
            .procs()
            .fork_child(NewChild::PoolWorker, Span::default(), MadeAt::default());
    let (pid, socket) = match forked {
        Ok(Forked::Child(Some(socket))) => {
            // The other workers' sockets and pipes are not this one's.
            workers.serving.clear();
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
        _ => return Greeting::Refused(format!("cannot fork a worker on {host}")),
    };
    drop((out_write, err_write, worker_end));
    let _ = os::set_nonblocking(&out_read);
    let _ = os::set_nonblocking(&err_read);
    workers.serving.push(HostWorker {
        number,
        pid,
        socket,
        outputs: Outputs {
            out: out_read,
            err: err_read,
            requests,
            pending: [Vec::new(), Vec::new()],
        },
    });
    Greeting::Ready {
        host: host.to_string(),
        pid,
    }
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

impl Workers {
    fn find(&self, number: u32) -> Option<&HostWorker> {
        self.serving.iter().find(|w| w.number == number)
    }

    /// Serving worker `i` has something on its descriptor `which` (0: its
    /// task socket, 1: its request channel, 2 and 3: its stdout and stderr).
    /// False once the driver cannot be written to.
    fn pass_on(&mut self, i: usize, which: usize) -> bool {
        let Some(worker) = self.serving.get_mut(i) else {
            return true;
        };
        let number = worker.number;
        match which {
            0 => {
                let (answers, ended) = super::take_frames(&worker.socket);
                // What the tasks printed was written before their answers: it goes first.
                worker.outputs.flush_all(number);
                let framed: Vec<Vec<u8>> = answers
                    .iter()
                    .map(|(answer, _)| protocol::tagged(kind::ANSWER, number, answer))
                    .collect();
                let all = os::frames_as_one(framed.iter().map(Vec::as_slice));
                if !all.is_empty() && os::write_stream(os::std_streams().1, &all).is_err() {
                    return false;
                }
                if ended {
                    // The worker died: the driver's relay learns it was lost.
                    let worker = self.serving.remove(i);
                    self.end(worker.pid);
                    return send(kind::CLOSED, number, &[]);
                }
                true
            }
            1 => {
                // A call on the driver's objects: what the task printed before it goes first.
                worker.outputs.flush_all(number);
                match os::recv_frame(&worker.outputs.requests) {
                    Ok(Some((request, _))) => send(kind::REQUEST, number, &request),
                    // The worker ended: its task socket says so too.
                    _ => true,
                }
            }
            stream => worker.outputs.relay(number, stream - 2, false),
        }
    }

    /// Tells a worker to end: SIGTERM now, SIGKILL after the grace period.
    fn end(&mut self, pid: i32) {
        let _ = os::send_signal(pid, os::Signal::SIGTERM);
        let deadline = os::Deadline::after(Some(END_GRACE_SECONDS));
        self.ending.push((pid, deadline));
    }

    /// Reaps the ending workers that have ended; SIGKILL to those past their grace.
    fn reap_ended(&mut self, runner: &mut impl Runner) {
        if self.ending.is_empty() {
            return;
        }
        runner.procs().collect_ended();
        let mut still = Vec::new();
        for (pid, deadline) in std::mem::take(&mut self.ending) {
            if !os::process_alive(pid) {
                let _ = runner.procs().wait_child_status(pid);
            } else if deadline.passed() {
                let _ = os::send_signal(pid, os::Signal::SIGKILL);
                let _ = runner.procs().wait_child_status(pid);
            } else {
                still.push((pid, deadline));
            }
        }
        self.ending = still;
    }

    /// Waits until every ending worker has ended (SIGKILL after its grace).
    fn finish_ending(&mut self, runner: &mut impl Runner) {
        while !self.ending.is_empty() {
            self.reap_ended(runner);
            if !self.ending.is_empty() {
                os::sleep(0.01);
            }
        }
    }
}

impl Outputs {
    /// Sends the whole lines of stream `which` (0: stdout, 1: stderr) of
    /// worker `number`; with `all`, the unfinished end too. False once the
    /// driver is gone.
    fn relay(&mut self, number: u32, which: usize, all: bool) -> bool {
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
        send(which, number, &lines)
    }

    fn flush_all(&mut self, number: u32) {
        self.relay(number, 0, true);
        self.relay(number, 1, true);
    }
}

/// Sends one frame of worker `number` to the driver; false once it is gone.
fn send(which: u8, number: u32, body: &[u8]) -> bool {
    let (_, stdout) = os::std_streams();
    os::write_stream_frame(stdout, &protocol::tagged(which, number, body)).is_ok()
}
