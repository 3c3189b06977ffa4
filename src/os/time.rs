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

/// Sleeps for a non-negative, finite number of seconds.
pub fn sleep(seconds: f64) {
    std::thread::sleep(std::time::Duration::from_secs_f64(seconds.min(1e9)));
}

/// Sleeps, returning early when SIGINT or SIGTERM arrives.
pub fn sleep_interruptible(seconds: f64) {
    let end = monotonic_seconds() + seconds.min(1e9);
    while pending_stop().is_ok() {
        let left = end - monotonic_seconds();
        if left <= 0.0 {
            return;
        }
        wait_event(&[], Some(ms_ceil(left)));
    }
}

/// Waits up to `seconds` for something to happen to a child (or a signal).
pub fn pause_for_children(seconds: f64) {
    wait_event(&[], Some(ms_ceil(seconds)));
}

pub fn ms_ceil(seconds: f64) -> i32 {
    (seconds * 1000.0).ceil().clamp(0.0, i32::MAX as f64) as i32
}
