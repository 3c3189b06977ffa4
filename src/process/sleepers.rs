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
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU32};

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

/// Sleeps that ended soon after a spin that saw nothing, in a process that
/// had woken nobody before the wait (fewer one for each spin that saw the
/// change): the bound doubles for the first of them only. A consumer fed
/// every 60 us by a producer that does not wait for it misses at every
/// message whatever the bound, and doubling on each kept it spinning 16 us
/// for nothing at every message (2.4 times its cpu of 64 pauses). A wait
/// after waking a sleeper (a request, then its reply: a ping-pong) is not
/// counted: its two sides come to spin at once by chance, after hundreds of
/// misses at times, and only if both keep spinning their longest meanwhile
/// (benches/README.md, "Spins that keep missing").
const MISSES_BEFORE_GIVING_UP: u32 = 16;

/// Once given up, the bound climbs again for `MISSES_BEFORE_GIVING_UP` sleeps
/// in every this many misses, in case the other side has come to answer
/// within a spin (a few microseconds of cpu a message at most).
const MISSES_A_PROBE: u32 = 1024;

/// This process's current bound of a spin (each process has its own copy).
static SPIN_NS: AtomicU32 = AtomicU32::new(MAX_SPIN_NS);

/// This process's count of misses in a row (`MISSES_BEFORE_GIVING_UP`).
static MISSES: AtomicU32 = AtomicU32::new(0);

/// Whether this process woke a sleeper since its last wait.
static WOKE_A_SLEEPER: AtomicBool = AtomicBool::new(false);

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
        let after_a_wake = WOKE_A_SLEEPER.swap(false, Relaxed);
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
            learn_from_a_sleep(word.load(Relaxed) != seen, after_a_wake, began);
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
            WOKE_A_SLEEPER.store(true, Relaxed);
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
                SPIN_NS.store(longer(bound), Relaxed);
                // One miss fewer: spins that see the change less than half
                // the time give up all the same.
                MISSES.store(MISSES.load(Relaxed).saturating_sub(1), Relaxed);
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
/// whether spinning is worth it, until the misses in a row say it is not.
fn learn_from_a_sleep(changed: bool, after_a_wake: bool, began: u64) {
    let waited = os::monotonic_ns().saturating_sub(began);
    let known = (SPIN_NS.load(Relaxed), MISSES.load(Relaxed));
    let soon = changed && waited <= SHORT_WAIT_NS;
    let (bound, misses) = bound_after_a_sleep(known, soon, after_a_wake);
    SPIN_NS.store(bound, Relaxed);
    MISSES.store(misses, Relaxed);
}

/// The spin's bound and the count of misses after a sleep: one that ended
/// `soon` (by a change within `SHORT_WAIT_NS` of the wait's start) or not (a
/// longer wait, or a tick that passed), in a wait begun `after_a_wake`.
fn bound_after_a_sleep((bound, misses): (u32, u32), soon: bool, after_a_wake: bool) -> (u32, u32) {
    let (lower, higher) = ((bound / 2).max(MIN_SPIN_NS), longer(bound));
    match (soon, after_a_wake) {
        // Misses still counted: a producer every 100 us gives waits on both
        // sides of `SHORT_WAIT_NS`.
        (false, _) => return (lower, misses),
        (true, true) => return (higher, misses),
        (true, false) => {}
    }
    let misses = misses.wrapping_add(1);
    match misses % MISSES_A_PROBE <= MISSES_BEFORE_GIVING_UP {
        true => (higher, misses),
        false => (lower, misses),
    }
}

/// The spin's bound doubled, at most `MAX_SPIN_NS`.
fn longer(bound: u32) -> u32 {
    bound.saturating_mul(2).min(MAX_SPIN_NS)
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

    /// The bound and misses after `sleeps` sleeps in a row that each ended
    /// `waited` ns after their wait began (`after_a_wake` or not), from `known`.
    fn after_sleeps(known: (u32, u32), sleeps: u32, waited: u64, after_a_wake: bool) -> (u32, u32) {
        let soon = waited <= SHORT_WAIT_NS;
        (0..sleeps).fold(known, |known, _| {
            bound_after_a_sleep(known, soon, after_a_wake)
        })
    }

    #[test]
    fn the_spin_comes_back_to_its_longest_once_waits_end_soon_again() {
        // A ping-pong's first waits are long (the other side starting): the
        // bound falls to its least. Then every reply comes within tens of
        // microseconds, though after a sleep (the other side slept too): the
        // bound must climb back, or both sides sleep at every message.
        let (bound, misses) = after_sleeps((MAX_SPIN_NS, 0), 10, 5_000_000, true);
        assert_eq!((bound, misses), (MIN_SPIN_NS, 0));
        let (bound, misses) = after_sleeps((bound, misses), 6, 60_000, true);
        assert_eq!((bound, misses), (MAX_SPIN_NS, 0));
        // And stays there however long both sides keep sleeping: each side's
        // wait follows its wake-up of the other, and the two come to spin
        // together only by chance.
        let (bound, misses) = after_sleeps((bound, misses), 5_000, 60_000, true);
        assert_eq!((bound, misses), (MAX_SPIN_NS, 0));
        // A tick that passed with no change halves it, however soon.
        let halved = bound_after_a_sleep((bound, misses), false, true);
        assert_eq!(halved, (MAX_SPIN_NS / 2, 0));
    }

    #[test]
    fn a_spin_that_keeps_missing_waits_that_end_soon_falls_to_its_least() {
        // A consumer fed every 60 us: each spin of 16 us sees nothing, the
        // sleep after it ends within 100 us of the wait's start, and doubling
        // on that kept the bound at 16 us for good: 16 us of cpu burnt for
        // nothing at every message (2.4 times the consumer's cpu of 64 pauses).
        let (bound, misses) = after_sleeps((MAX_SPIN_NS, 0), 40, 60_000, false);
        assert_eq!((bound, misses), (MIN_SPIN_NS, 40));
        // It stays there, but for a climb once in a while (the other side may
        // have come to answer within a spin): about a microsecond of spin a
        // message over a whole round of misses.
        let mut known = (bound, misses);
        let mut spun = 0;
        for _ in 0..MISSES_A_PROBE {
            spun += u64::from(known.0);
            known = bound_after_a_sleep(known, true, false);
        }
        assert_eq!(known, (MIN_SPIN_NS, 40 + MISSES_A_PROBE));
        assert!(spun / u64::from(MISSES_A_PROBE) < 1_500, "{spun}");
        // Nor does a long wait now and then (a producer every 100 us) climb
        // it again.
        let mut known = after_sleeps((MAX_SPIN_NS, 0), 20, 60_000, false);
        for _ in 0..20 {
            known = bound_after_a_sleep(known, false, false);
            known = after_sleeps(known, 3, 60_000, false);
        }
        assert_eq!(known.0, MIN_SPIN_NS);
    }

    #[test]
    fn the_clock_may_wrap() {
        assert!(is_before(CLOCK_MASK - 5, 3));
        assert!(!is_before(3, CLOCK_MASK - 5));
        assert!(is_before(1, 2) && !is_before(2, 2));
        assert_eq!(split(join(clock(u32::MAX), 3)), (CLOCK_MASK, 3));
    }
}
