//! Clocks and sleeping: the monotonic clock every process shares, and sleeps a signal cuts short.

use super::descriptors::wait_event;
use super::signals::pending_stop;
use nix::time::{clock_gettime, ClockId};

/// Seconds on the monotonic clock, the same clock in every process of the tree.
pub fn monotonic_seconds() -> f64 {
    match clock_gettime(ClockId::CLOCK_MONOTONIC) {
        Ok(t) => t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9,
        Err(_) => 0.0,
    }
}

/// Nanoseconds on the monotonic clock: for spans of a few microseconds.
pub fn monotonic_ns() -> u64 {
    match clock_gettime(ClockId::CLOCK_MONOTONIC) {
        Ok(t) => t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64,
        Err(_) => 0,
    }
}

/// Milliseconds on the monotonic clock, wrapping at 2^32 (about 49 days): for
/// short spans compared with `wrapping_sub`, in u32 words of shared memory.
pub fn monotonic_ms() -> u32 {
    (monotonic_seconds() * 1000.0) as u64 as u32
}

/// Sleeps for a non-negative, finite number of seconds.
pub fn sleep(seconds: f64) {
    std::thread::sleep(std::time::Duration::from_secs_f64(seconds.min(1e9)));
}

/// Sleeps, returning early when SIGINT or SIGTERM arrives.
pub fn sleep_interruptible(seconds: f64) {
    sleep_until(Deadline::after(Some(seconds.min(1e9))));
}

/// Sleeps until the deadline, returning early when SIGINT or SIGTERM
/// arrives (or a due script handler, where `pending_stop` says so).
pub fn sleep_until(deadline: Deadline) {
    while pending_stop().is_ok() && !deadline.passed() {
        wait_event(&[], deadline.left_ms());
    }
}

/// Waits up to `seconds` for something to happen to a child (or a signal).
pub fn pause_for_children(seconds: f64) {
    pause_for_child_or(None, seconds);
}

/// The same, and until `pipe` (a child's report, being read) is readable.
pub fn pause_for_child_or(pipe: Option<&std::os::fd::OwnedFd>, seconds: f64) {
    match pipe {
        Some(pipe) => wait_event(&[pipe], Some(ms_ceil(seconds))),
        None => wait_event(&[], Some(ms_ceil(seconds))),
    };
}

/// Milliseconds in `seconds`, rounded up, 0 or more.
fn ms_ceil(seconds: f64) -> i32 {
    (seconds * 1000.0).ceil().clamp(0.0, i32::MAX as f64) as i32
}

/// When a wait with a timeout gives up: the one place that turns a number of
/// seconds into a point on the monotonic clock, and back into time left.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Option<f64>);

impl Deadline {
    /// No limit: wait as long as it takes.
    pub const NEVER: Deadline = Deadline(None);

    /// `seconds` from now (None: no limit).
    pub fn after(seconds: Option<f64>) -> Deadline {
        Deadline(seconds.map(|s| monotonic_seconds() + s))
    }

    /// Already passed: a wait gets one look at what is ready, and no more.
    pub fn passed_already() -> Deadline {
        Deadline(Some(f64::NEG_INFINITY))
    }

    /// Milliseconds left, rounded up so a wait never ends early (None: no limit).
    pub fn left_ms(self) -> Option<i32> {
        self.0.map(|end| ms_ceil(end - monotonic_seconds()))
    }

    /// Seconds left, 0 or more (None: no limit).
    pub fn left(self) -> Option<f64> {
        self.0.map(|end| (end - monotonic_seconds()).max(0.0))
    }

    /// Whether this is no limit at all.
    pub fn is_never(self) -> bool {
        self.0.is_none()
    }

    /// Whether the time is up.
    pub fn passed(self) -> bool {
        self.0.is_some_and(|end| monotonic_seconds() >= end)
    }
}
