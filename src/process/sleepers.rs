//! Whether any process sleeps on a futex word, told by a deadline instead of a count, so that a sleeper killed in its sleep is forgotten by itself.
//!
//! A count of sleepers (add one, sleep, take one) stays raised for good when a
//! sleeper is SIGKILLed asleep: every later change then pays a wake-up call for
//! nobody. Instead each sleeper pushes the word's deadline to past the end of its
//! sleep (a sleep is at most one tick; it sets it again for the next), and a waker
//! wakes only before that deadline; once it passed, the first waker clears it.

use crate::os;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

/// Added to a sleep's end: a sleeper delayed between setting the deadline and
/// sleeping past this would miss a wake-up and sleep out its tick (late, not lost).
const MARGIN_MS: u32 = 250;

/// The deadline word (in shared memory) of one futex word: 0 when no process
/// sleeps on it, else the monotonic millisecond (wrapping) until which some may.
pub struct Sleepers<'a>(pub &'a AtomicU32);

impl Sleepers<'_> {
    /// Sleeps on `word` while it holds `seen`, at most `tick_ms`, told to wakers.
    pub fn sleep(&self, word: &AtomicU32, seen: u32, tick_ms: u32) {
        let until = os::monotonic_ms()
            .wrapping_add(tick_ms.saturating_add(MARGIN_MS))
            .max(1);
        let _ = self.0.fetch_update(SeqCst, SeqCst, |known| {
            (known == 0 || is_before(known, until)).then_some(until)
        });
        os::futex_wait(word, seen, tick_ms);
    }

    /// Whether some process may sleep now (clearing a deadline that passed).
    pub fn any(&self) -> bool {
        let until = self.0.load(SeqCst);
        if until == 0 {
            return false;
        }
        if !is_before(until, os::monotonic_ms()) {
            return true;
        }
        // Every sleep counted here has ended, or its sleeper died: forget them.
        let _ = self.0.compare_exchange(until, 0, SeqCst, Relaxed);
        false
    }

    /// Wakes up to `count` processes sleeping on `word`, if any may be.
    pub fn wake(&self, word: &AtomicU32, count: i32) {
        if self.any() {
            os::futex_wake(word, count);
        }
    }
}

/// `a` comes before `b` on the wrapping millisecond clock.
fn is_before(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleeper_that_never_came_back_is_forgotten_after_its_tick() {
        let (deadline, word) = (AtomicU32::new(0), AtomicU32::new(0));
        let sleepers = Sleepers(&deadline);
        assert!(!sleepers.any());
        // A sleep that ends at once (the word is not 5) still counts until its end.
        sleepers.sleep(&word, 5, 10);
        assert!(sleepers.any());
        std::thread::sleep(std::time::Duration::from_millis(
            (10 + MARGIN_MS + 50) as u64,
        ));
        assert!(!sleepers.any(), "a sleeper past its tick is forgotten");
        assert_eq!(deadline.load(SeqCst), 0, "and the word cleared");
    }

    #[test]
    fn the_clock_may_wrap() {
        assert!(is_before(u32::MAX - 5, 3));
        assert!(!is_before(3, u32::MAX - 5));
        assert!(is_before(1, 2) && !is_before(2, 2));
    }
}
