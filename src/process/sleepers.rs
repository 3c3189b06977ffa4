//! Whether any process sleeps on a futex word: a count of sleepers with a deadline, so that a sleeper killed in its sleep is forgotten by itself; and a short spin before sleeping.
//!
//! A bare count of sleepers (add one, sleep, take one) stays raised for good
//! when a sleeper is SIGKILLed asleep: every later change then pays a wake-up
//! call for nobody. So the word holds the count and a deadline: each sleeper
//! pushes the deadline to past the end of its sleep (a sleep is at most one
//! tick; it sets it again for the next), and a waker wakes only while the count
//! is not zero and the deadline has not passed; once it passed, the first waker
//! clears the word. A deadline alone (as before) made every change pay a wake-up
//! call for a quarter of a second after the last sleep, even with nobody asleep:
//! a producer feeding a consumer that spins made one futex call per message.
//!
//! The word: the deadline's low 22 bits of monotonic milliseconds (it wraps
//! every 70 minutes; deadlines are compared within a few hundred ms) above a
//! 10-bit count (saturating). 0: nobody sleeps.

use crate::os;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// Added to a sleep's end: a sleeper delayed between setting the deadline and
/// sleeping past this would miss a wake-up and sleep out its tick (late, not lost).
const MARGIN_MS: u32 = 250;

/// Before sleeping, on a machine with more than one processor: a short spin
/// (pauses, looking at the word between them). The change waited for (a
/// message, a released lock, a reply) often comes within microseconds from a
/// process on another processor, and a sleep and its wake-up cost system
/// calls on both sides and a reschedule: tens of microseconds on a virtual
/// machine. The spin is bounded by time, not by a number of pauses: a pause
/// takes 10 ns on some processors and 40 on others, and 64 pauses of 10 ns
/// were too short for the other side to receive and answer, so a ping-pong
/// slept at every message (benches/README.md, "Spins bounded by time"). The
/// bound adapts (as glibc's adaptive mutexes' spin count does): doubled
/// after a spin that saw the change or a wait that ended soon after it,
/// halved after a long wait (`learn_from_a_sleep`), so a process whose waits
/// are long (a reply that needs the other side to compute) soon spins only
/// `MIN_SPIN_NS`. (Giving the processor away with `sched_yield` instead
/// made a wait beside busy loops wait a whole time slice behind them at each
/// turn: tests/waits_on_a_busy_machine.rs.)
const MAX_SPIN_NS: u32 = 16_000;
const MIN_SPIN_NS: u32 = 500;

/// A wait that ended within this (spin and sleep) was short enough to be
/// worth a spin: a few wake-ups of a process on a virtual machine.
const SHORT_WAIT_NS: u64 = 100_000;

/// Pauses between two looks at the clock.
const PAUSES_A_LOOK: u32 = 16;

/// This process's current bound of a spin (each process has its own copy).
static SPIN_NS: AtomicU32 = AtomicU32::new(MAX_SPIN_NS);

const COUNT_BITS: u32 = 10;
const COUNT_MAX: u32 = (1 << COUNT_BITS) - 1;
const CLOCK_BITS: u32 = 32 - COUNT_BITS;
const CLOCK_MASK: u32 = (1 << CLOCK_BITS) - 1;

/// The sleepers word (in shared memory) of one futex word.
pub struct Sleepers<'a>(pub &'a AtomicU32);

impl Sleepers<'_> {
    /// Sleeps on `word` while it holds `seen`, at most `tick_ms`, told to wakers.
    /// May return early (a change, a signal): callers look again and loop.
    pub fn sleep(&self, word: &AtomicU32, seen: u32, tick_ms: u32) {
        let spins = os::several_processors();
        let began = os::monotonic_ns();
        if spins && spin_saw_a_change(word, seen, began) {
            return;
        }
        let until = clock(os::monotonic_ms().wrapping_add(tick_ms.saturating_add(MARGIN_MS)));
        let _ = self.0.fetch_update(SeqCst, SeqCst, |known| {
            let (deadline, count) = split(known);
            let deadline = match count == 0 || is_before(deadline, until) {
                true => until,
                false => deadline,
            };
            Some(join(deadline, (count + 1).min(COUNT_MAX)))
        });
        os::futex_wait(word, seen, tick_ms);
        if spins {
            learn_from_a_sleep(word.load(Relaxed) != seen, began);
        }
        // Told: one fewer. A word cleared meanwhile (this sleep outlived its
        // deadline) stays cleared.
        let _ = self.0.fetch_update(SeqCst, SeqCst, |known| {
            let (deadline, count) = split(known);
            match count {
                0 => None,
                1 => Some(0),
                COUNT_MAX => Some(known),
                _ => Some(join(deadline, count - 1)),
            }
        });
    }

    /// Whether some process may sleep now (clearing a deadline that passed).
    pub fn any(&self) -> bool {
        let known = self.0.load(SeqCst);
        if known == 0 {
            return false;
        }
        let (deadline, _) = split(known);
        if !is_before(deadline, clock(os::monotonic_ms())) {
            return true;
        }
        // Every sleep counted here has ended, or its sleeper died: forget them.
        let _ = self.0.compare_exchange(known, 0, SeqCst, Relaxed);
        false
    }

    /// Wakes up to `count` processes sleeping on `word`, if any may be.
    pub fn wake(&self, word: &AtomicU32, count: i32) {
        if self.any() {
            os::futex_wake(word, count);
        }
    }
}

/// Spins while `word` holds `seen`, from `began` for this process's bound of
/// time: whether the word changed meanwhile (then the bound doubles).
fn spin_saw_a_change(word: &AtomicU32, seen: u32, began: u64) -> bool {
    let bound = SPIN_NS.load(Relaxed);
    loop {
        for _ in 0..PAUSES_A_LOOK {
            if word.load(Relaxed) != seen {
                SPIN_NS.store(bound.saturating_mul(2).min(MAX_SPIN_NS), Relaxed);
                return true;
            }
            std::hint::spin_loop();
        }
        if os::monotonic_ns().saturating_sub(began) >= u64::from(bound) {
            return false;
        }
    }
}

/// After a spin that saw nothing and a sleep: a wait that still ended soon
/// (a change within `SHORT_WAIT_NS` of its start) doubles the bound, a longer
/// one (or none) halves it. A spin that failed does not lower the bound by
/// itself: when both sides of a ping-pong sleep, each reply waits for the
/// other's wake-up and no spin within the bound could see it, so halving on
/// every failed spin kept both sleeping for good once a few waits (the
/// other side starting) had lowered it; the length of the whole wait tells
/// whether spinning is worth it.
fn learn_from_a_sleep(changed: bool, began: u64) {
    let waited = os::monotonic_ns().saturating_sub(began);
    let bound = bound_after_a_sleep(SPIN_NS.load(Relaxed), changed, waited);
    SPIN_NS.store(bound, Relaxed);
}

/// The spin's bound after a sleep that ended `waited` ns after the wait
/// began, by a change or not (a tick that passed).
fn bound_after_a_sleep(bound: u32, changed: bool, waited: u64) -> u32 {
    match changed && waited <= SHORT_WAIT_NS {
        true => bound.saturating_mul(2).min(MAX_SPIN_NS),
        false => (bound / 2).max(MIN_SPIN_NS),
    }
}

/// Milliseconds on the word's wrapping clock (never 0, so a word with a
/// deadline is never 0).
fn clock(ms: u32) -> u32 {
    (ms & CLOCK_MASK).max(1)
}

fn split(word: u32) -> (u32, u32) {
    (word >> COUNT_BITS, word & COUNT_MAX)
}

fn join(deadline: u32, count: u32) -> u32 {
    (deadline << COUNT_BITS) | count
}

/// `a` comes before `b` on the wrapping clock of `CLOCK_BITS` bits.
fn is_before(a: u32, b: u32) -> bool {
    let diff = b.wrapping_sub(a) & CLOCK_MASK;
    diff != 0 && diff < (1 << (CLOCK_BITS - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_sleeper_that_never_came_back_is_forgotten_after_its_deadline() {
        // What a sleeper killed in its sleep leaves: a count and a deadline.
        let until = clock(os::monotonic_ms().wrapping_add(20));
        let word = AtomicU32::new(join(until, 1));
        let sleepers = Sleepers(&word);
        assert!(sleepers.any());
        std::thread::sleep(Duration::from_millis(60));
        assert!(!sleepers.any(), "a sleeper past its deadline is forgotten");
        assert_eq!(word.load(SeqCst), 0, "and the word cleared");
    }

    #[test]
    fn a_sleeper_that_woke_is_no_longer_counted() {
        let (sleepers_word, word) = (AtomicU32::new(0), AtomicU32::new(5));
        let sleepers = Sleepers(&sleepers_word);
        // Nobody changes the word: the sleep lasts its tick.
        sleepers.sleep(&word, 5, 10);
        assert!(!sleepers.any());
        assert_eq!(sleepers_word.load(SeqCst), 0);
    }

    #[test]
    fn a_sleeper_is_counted_while_it_sleeps_and_a_wake_ends_its_sleep() {
        let sleepers_word: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(0)));
        let word: &'static AtomicU32 = Box::leak(Box::new(AtomicU32::new(7)));
        let sleeper = std::thread::spawn(move || {
            let started = Instant::now();
            while word.load(SeqCst) == 7 {
                Sleepers(sleepers_word).sleep(word, 7, 5_000);
            }
            started.elapsed()
        });
        let start = Instant::now();
        while !Sleepers(sleepers_word).any() {
            assert!(start.elapsed() < Duration::from_secs(20), "never counted");
            std::thread::sleep(Duration::from_millis(1));
        }
        word.store(8, SeqCst);
        Sleepers(sleepers_word).wake(word, 1);
        let slept = sleeper.join().unwrap();
        assert!(
            slept < Duration::from_secs(4),
            "woken, not timed out: {slept:?}"
        );
        assert!(!Sleepers(sleepers_word).any());
    }

    #[test]
    fn a_change_seen_while_spinning_needs_no_sleep() {
        let (sleepers_word, word) = (AtomicU32::new(0), AtomicU32::new(1));
        // The word no longer holds what was seen: back at once, never counted.
        Sleepers(&sleepers_word).sleep(&word, 0, 5_000);
        assert_eq!(sleepers_word.load(SeqCst), 0);
    }

    #[test]
    fn the_spin_comes_back_to_its_longest_once_waits_end_soon_again() {
        // A ping-pong's first waits are long (the other side starting): the
        // bound falls to its least. Then every reply comes within tens of
        // microseconds, though after a sleep (the other side slept too): the
        // bound must climb back, or both sides sleep at every message.
        let mut bound = MAX_SPIN_NS;
        for _ in 0..10 {
            bound = bound_after_a_sleep(bound, true, 5_000_000);
        }
        assert_eq!(bound, MIN_SPIN_NS);
        for _ in 0..6 {
            bound = bound_after_a_sleep(bound, true, 60_000);
        }
        assert_eq!(bound, MAX_SPIN_NS);
        // A tick that passed with no change halves it, however soon.
        assert_eq!(bound_after_a_sleep(bound, false, 1_000), MAX_SPIN_NS / 2);
    }

    #[test]
    fn the_clock_may_wrap() {
        assert!(is_before(CLOCK_MASK - 5, 3));
        assert!(!is_before(3, CLOCK_MASK - 5));
        assert!(is_before(1, 2) && !is_before(2, 2));
        assert_eq!(split(join(clock(u32::MAX), 3)), (CLOCK_MASK, 3));
    }
}
