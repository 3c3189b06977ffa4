//! A remote pool's side of its workers: each one's greeting awaited, a task refused that cannot leave this machine, a lost worker's task sent again elsewhere (twice at most), and what waits failed when no worker is left.

use super::protocol::Greeting;
use super::Launcher;
use crate::error::{ErrorKind, Unwind, R};
use crate::front::ast::Span;
use crate::os;
use crate::process::pool::{Pool, PoolState, SentTask, Worker};
use crate::process::{Failure, Forked, NewChild, Runner};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;

/// A remote pool's link to one host (see `link`): its pid, and the control
/// socket that gives it new relays' sockets (and tells it, by closing, that
/// the pool let go).
#[derive(Debug)]
pub(in crate::process) struct LinkProc {
    pid: i32,
    control: OwnedFd,
}

/// A new relay's socket to the link of the host of the pool's `slot`th
/// worker: the other end goes to the link. A host without a link, or whose
/// link failed, gets a new one first (a new connection).
pub(in crate::process) fn link_socket(
    pool: &Pool,
    runner: &mut impl Runner,
    slot: usize,
    span: Span,
) -> R<OwnedFd> {
    let launcher = pool.setup.remote.as_ref().expect("a remote pool");
    let host = launcher.link_of(slot, pool.size);
    let failed = |e: os::OsError| -> Unwind {
        refused(
            span,
            format!("cannot make a socket to a remote host's link: {e}"),
        )
    };
    loop {
        let failed_link = pool.state.borrow().links.get(&host).map(|link| {
            // A link writes on its control socket only when it failed (or ended).
            os::wait_event(&[&link.control], Some(0)) == os::Event::Readable(0)
        });
        if failed_link != Some(false) {
            end_link(pool, runner, host)?;
            start_link(pool, runner, host, span)?;
        }
        let (ours, theirs) = os::socket_pair().map_err(failed)?;
        let sent = {
            let state = pool.state.borrow();
            let link = state.links.get(&host).expect("just started");
            os::send_frame(&link.control, b"relay", &[theirs.as_raw_fd()])
        };
        match sent {
            Ok(()) => return Ok(ours),
            // The link ended meanwhile: the next round starts another.
            Err(_) => os::pending_stop()?,
        }
    }
}

/// Forks the link to host `host`.
fn start_link(pool: &Pool, runner: &mut impl Runner, host: usize, span: Span) -> R<()> {
    let at = runner.made_at(span);
    match runner.procs().fork_child(NewChild::PoolWorker, span, at)? {
        Forked::Child(Some(control)) => {
            let launcher = pool.setup.remote.as_ref().expect("a remote pool");
            super::link::link_main(runner, control, launcher, host)
        }
        Forked::Child(None) => os::exit_now(1),
        Forked::Parent(pid, control) => {
            let control = control.expect("a pool worker's socket");
            let link = LinkProc { pid, control };
            pool.state.borrow_mut().links.insert(host, link);
            Ok(())
        }
    }
}

/// Lets the link to host `host` go (if there is one) and waits for its end.
fn end_link(pool: &Pool, runner: &mut impl Runner, host: usize) -> R<()> {
    let link = pool.state.borrow_mut().links.remove(&host);
    if let Some(LinkProc { pid, control }) = link {
        drop(control);
        runner.procs().wait_ending_child(pid)?;
    }
    Ok(())
}

/// The pool let go of its workers: each link closes its connection (the
/// worker host there ends) and ends.
pub(in crate::process) fn end_links(pool: &Pool, runner: &mut impl Runner) -> R<()> {
    let hosts: Vec<usize> = pool.state.borrow().links.keys().copied().collect();
    for host in hosts {
        end_link(pool, runner, host)?;
    }
    Ok(())
}

/// The pids of the pool's links, taken out of the pool (`p.terminate()` stops them).
pub(in crate::process) fn take_link_pids(state: &mut PoolState) -> Vec<i32> {
    state.links.drain().map(|(_, link)| link.pid).collect()
}

/// How often a task whose worker was lost is sent again before it fails.
pub const MAX_RETRIES: u32 = 2;

/// Waits for each new worker's greeting; the first refusal is the pool's
/// error. A worker whose launcher ended before it answered is started again
/// (twice at most), as a lost worker is.
pub(in crate::process) fn await_all(
    pool: &Rc<Pool>,
    runner: &mut impl Runner,
    span: Span,
) -> R<()> {
    let launcher = pool.setup.remote.clone().expect("a remote pool");
    let count = pool.state.borrow().workers.len();
    for i in 0..count {
        let mut tries = 0;
        loop {
            let answer = {
                let workers = &mut pool.state.borrow_mut().workers;
                await_one(&mut workers[i], &launcher)
            };
            match answer {
                Ok(()) => break,
                Err(Answer::Lost(_)) if tries < MAX_RETRIES => {
                    tries += 1;
                    // A host that refused the connection may be back in a moment.
                    os::sleep_interruptible(0.5 * f64::from(tries));
                    os::pending_stop()?;
                    let slot = pool.state.borrow().workers[i].slot;
                    let replacement = pool.start_worker(runner, slot, span)?;
                    let old =
                        std::mem::replace(&mut pool.state.borrow_mut().workers[i], replacement);
                    let pid = old.pid();
                    drop(old);
                    runner.procs().wait_ending_child(pid)?;
                }
                Err(Answer::Lost(why) | Answer::Refused(why)) => return Err(refused(span, why)),
                Err(Answer::Stopped(unwind)) => return Err(unwind),
            }
        }
    }
    Ok(())
}

/// Why a worker does not serve.
pub(in crate::process) enum Answer {
    /// It refused, or cannot start there: trying again would not help.
    Refused(String),
    /// Its launcher ended first: another try may work.
    Lost(String),
    /// A stop request came while waiting.
    Stopped(Unwind),
}

/// Waits for one worker's greeting: it serves (and says where), or why not.
pub(in crate::process) fn await_one(
    worker: &mut Worker,
    launcher: &Launcher,
) -> Result<(), Answer> {
    let stopped = |sig| Answer::Stopped(Unwind::from(sig));
    let Some(socket) = &worker.socket else {
        return Err(Answer::Lost("the worker's relay has no socket".into()));
    };
    loop {
        match os::wait_event(&[socket], None) {
            os::Event::Readable(_) => break,
            _ => os::pending_stop().map_err(stopped)?,
        }
    }
    let frame = os::recv_frame(socket);
    let greeting = match frame {
        Ok(Some((bytes, _))) => postcard::from_bytes::<Greeting>(&bytes).ok(),
        _ => None,
    };
    match greeting {
        Some(Greeting::Ready { host, pid }) => {
            // An ssh host is named as the driver calls it (several may share one machine's name).
            let host = launcher.host_alias(worker.slot).unwrap_or(host);
            worker.place = Some(Rc::from(format!("{host} (pid {pid})")));
            Ok(())
        }
        Some(Greeting::Refused(why)) => Err(Answer::Refused(why)),
        Some(Greeting::Lost(why)) => Err(Answer::Lost(why)),
        None => {
            os::pending_stop().map_err(stopped)?;
            Err(Answer::Lost(
                "the worker's relay ended before it answered".into(),
            ))
        }
    }
}

fn refused(span: Span, why: String) -> Unwind {
    ErrorKind::RemoteWorker
        .at(span, why, "this pool's workers")
        .with_help(
            "a remote worker is `procscript --worker` on the other machine, the same version as here \
             (see docs/many_machines.md)",
        )
        .into()
}

/// A task that carries what lives on this machine only is refused before it is queued.
pub(in crate::process) fn check_task(task: &[u8], span: Span) -> R<()> {
    let Some(what) = super::refusal(task) else {
        return Ok(());
    };
    let diag = ErrorKind::NotSendable
        .at(
            span,
            format!("{what} cannot be sent to a remote worker: it lives on this machine only"),
            "in this task",
        )
        .with_help(
            "a remote pool's tasks carry plain values and functions; give data in the arguments \
             and take it back in the results",
        );
    Err(diag.into())
}

/// Every task still waiting fails: no worker is left to run it.
pub(in crate::process) fn fail_waiting(state: &mut PoolState) {
    let waiting: Vec<u64> = state.waiting.drain(..).map(|task| task.id).collect();
    for id in waiting {
        state.finish(
            id,
            Err(Failure {
                message: "no worker is left: every remote worker of the pool was lost".into(),
                cause: None,
                broken_pipe: false,
            }),
        );
    }
}

/// Worker `i` ended (its relay saw the connection end): its running task is
/// sent again (twice at most, then it fails naming the host), those behind it
/// go again, and a new connection takes its place; a worker that cannot be
/// started again leaves the pool.
pub(in crate::process) fn worker_lost(
    pool: &Rc<Pool>,
    runner: &mut impl Runner,
    i: usize,
    sent: VecDeque<SentTask>,
    span: Span,
) -> R<()> {
    let (pid, slot, place) = {
        let state = pool.state.borrow();
        let worker = &state.workers[i];
        (worker.pid(), worker.slot, worker.place.clone())
    };
    runner.procs().wait_child_status(pid)?;
    let launcher = pool.setup.remote.clone().expect("a remote pool");
    let host = launcher.link_of(slot, pool.size);
    // A host that could not be reached again leaves the pool with all its workers.
    let gone = pool.state.borrow().gone_hosts.contains(&host);
    let mut replacement = match gone {
        true => None,
        false => Some(pool.start_worker(runner, slot, span)?),
    };
    if let Some(worker) = replacement.as_mut() {
        if let Err(answer) = await_one(worker, &launcher) {
            if let Answer::Stopped(unwind) = answer {
                return Err(unwind);
            }
            pool.state.borrow_mut().gone_hosts.insert(host);
            let worker = replacement.take().expect("just checked");
            let pid = worker.pid();
            drop(worker);
            runner.procs().wait_ending_child(pid)?;
        }
    }
    let mut state = pool.state.borrow_mut();
    match replacement {
        Some(worker) => state.workers[i] = worker,
        None => {
            state.workers.remove(i);
        }
    }
    let mut again: Vec<u64> = Vec::new();
    let mut sent = sent.into_iter();
    if let Some(running) = sent.next().map(|t| t.id) {
        let tries = state.retries.entry(running).or_insert(0);
        *tries += 1;
        if *tries > MAX_RETRIES {
            let tries = *tries;
            state.resend.remove(&running);
            let place = place.unwrap_or_else(|| Rc::from("its host"));
            state.finish(
                running,
                Err(Failure {
                    message: format!(
                        "its worker was lost {tries} times while running it (the connection or the worker ended)"
                    ),
                    cause: None,
                    broken_pipe: false,
                }),
            );
            state.places.insert(running, place);
        } else {
            again.push(running);
        }
    }
    again.extend(sent.map(|t| t.id));
    for id in again.into_iter().rev() {
        if let Some(task) = state.resend.remove(&id) {
            state.waiting.push_front(task);
        }
    }
    Ok(())
}
