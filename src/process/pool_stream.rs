//! Task streams: `p.imap(f, items)` and `p.imap_unordered(f, items)`, read by a `for` loop,
//! result by result as the workers give them, with a bounded window of items in flight;
//! leaving the loop early takes back every item no worker has started.

use crate::error::{ErrorKind, R};
use crate::front::ast::Span;
use crate::process::pool::{Needed, Pool, PoolState};
use crate::process::pool_tasks::stream_items;
use crate::process::Runner;
use crate::values::{List, Value};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// Items in flight per worker: one running and one sent ahead, so that no worker
/// waits for this process between two items, and a `break` leaves little to take back.
const IN_FLIGHT_PER_WORKER: usize = 2;

/// A task stream as a script value (`type()` is "task stream").
#[derive(Debug)]
pub struct TaskStream {
    pub pool: Rc<Pool>,
    callee: Value,
    /// Results in item order (`imap`), or as they finish (`imap_unordered`).
    ordered: bool,
    /// The items, read in place one by one as workers have room (not copied:
    /// a counted range is never built, and a list changed meanwhile is read as changed).
    items: List,
    state: RefCell<StreamState>,
}

#[derive(Debug, Default)]
struct StreamState {
    /// The number of the next item to submit.
    next_item: usize,
    /// The loop ended early: no more items are submitted.
    cancelled: bool,
    /// Items submitted and not handed out, oldest first: their numbers and tasks.
    in_flight: VecDeque<(usize, u64)>,
    /// A `for` loop has begun reading it (a stream is read once).
    started: bool,
}

impl TaskStream {
    /// `p.imap(f, items)` (`ordered`) or `p.imap_unordered(f, items)`: nothing runs
    /// until a `for` loop reads it.
    pub fn new(
        pool: &Rc<Pool>,
        callee: &Value,
        items: &Value,
        ordered: bool,
        span: Span,
    ) -> R<TaskStream> {
        let what = if ordered { "imap" } else { "imap_unordered" };
        Ok(TaskStream {
            pool: pool.clone(),
            callee: callee.clone(),
            ordered,
            items: stream_items(what, items, span)?,
            state: RefCell::new(StreamState::default()),
        })
    }

    /// How many items it has in all.
    pub fn item_count(&self) -> usize {
        self.items.borrow().len()
    }

    /// A `for` loop begins: a stream is read once, by one loop.
    pub fn begin(&self, span: Span) -> R<()> {
        let mut state = self.state.borrow_mut();
        if state.started {
            let diag = ErrorKind::InvalidValue
                .at(
                    span,
                    "this task stream was already read",
                    "read a second time here",
                )
                .with_help(
                    "a task stream is read by one `for` loop; call p.imap(...) again for another",
                );
            return Err(diag.into());
        }
        state.started = true;
        Ok(())
    }

    /// The next result (None when every item's was handed out), waiting for it.
    /// Starting again after a signal handler loses nothing: the result is taken
    /// only once it is there.
    pub fn next(&self, runner: &mut impl Runner, span: Span) -> R<Option<Value>> {
        self.fill(runner, span)?;
        let in_flight: Vec<u64> = self
            .state
            .borrow()
            .in_flight
            .iter()
            .map(|(_, id)| *id)
            .collect();
        let Some(&first) = in_flight.first() else {
            return Ok(None);
        };
        let what = if self.ordered {
            "imap"
        } else {
            "imap_unordered"
        };
        if self.ordered {
            let done = move |s: &PoolState| s.results.contains_key(&first);
            self.pool
                .wait_until(runner, what, span, &done, Needed::All(&|t| t == first))?;
        } else {
            let ids = in_flight.clone();
            let done = move |s: &PoolState| ids.iter().any(|id| s.results.contains_key(id));
            self.pool.wait_until(
                runner,
                what,
                span,
                &done,
                Needed::Any(&|t| in_flight.contains(&t)),
            )?;
        }
        let (n, id) = self.take_ready();
        let result = self
            .pool
            .task_result(id, span, &format!("the task for item {n}"));
        self.pool.state.borrow_mut().forget(id);
        result.map(Some)
    }

    /// Submits items until the window is full.
    fn fill(&self, runner: &mut impl Runner, span: Span) -> R<()> {
        let window = self.pool.size * IN_FLIGHT_PER_WORKER;
        loop {
            let item = {
                let mut state = self.state.borrow_mut();
                if state.in_flight.len() >= window {
                    return Ok(());
                }
                let n = state.next_item;
                match self.items.borrow().item(n).filter(|_| !state.cancelled) {
                    Some(value) => {
                        state.next_item += 1;
                        (n, value)
                    }
                    None => return Ok(()),
                }
            };
            let (n, value) = item;
            let id = self.pool.submit(
                runner,
                &self.callee,
                std::slice::from_ref(&value),
                span,
                true,
            )?;
            self.state.borrow_mut().in_flight.push_back((n, id));
        }
    }

    /// The item to hand out now: the oldest (`imap`), or the first to finish.
    fn take_ready(&self) -> (usize, u64) {
        let mut state = self.state.borrow_mut();
        let at = if self.ordered {
            0
        } else {
            let pool = self.pool.state.borrow();
            (0..state.in_flight.len())
                .filter(|&i| pool.results.contains_key(&state.in_flight[i].1))
                .min_by_key(|&i| pool.finished_at.get(&state.in_flight[i].1).copied())
                .unwrap_or(0)
        };
        state.in_flight.remove(at).expect("a ready item")
    }

    /// The loop ended early (`break`, `return`, an error): the items not started are
    /// taken back and never run; those running finish, their results dropped.
    pub fn cancel_rest(&self) {
        let mut state = self.state.borrow_mut();
        state.cancelled = true;
        for (_, id) in state.in_flight.drain(..) {
            if !self.pool.take_back(id) {
                self.pool.state.borrow_mut().seen.insert(id);
            }
        }
    }
}
