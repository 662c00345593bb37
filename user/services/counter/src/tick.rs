//! The count and the task that advances it: one more every [`PERIOD_NS`],
//! on the runtime's timers.
//!
//! Missed ticks are not made up: after the process was stopped for a while
//! (a checkpoint's pause, a restore) the count goes on by one per period
//! from where it was, and a clock that moved backwards (a restore onto a
//! fresh boot) only restarts the schedule.

use core::sync::atomic::{AtomicU64, Ordering};

use abide_rt::executor::sleep_until;
use abide_rt::syscall;

/// Time between two increments, in nanoseconds (10 ms).
pub const PERIOD_NS: u64 = 10_000_000;

/// The count: ordinary memory, part of the process's checkpointed state.
static COUNT: AtomicU64 = AtomicU64::new(0);

/// The count now.
pub fn count() -> u64 {
    COUNT.load(Ordering::Relaxed)
}

/// Adds one to the count every period, forever.
pub async fn run() {
    let mut deadline = syscall::clock_ns();
    loop {
        deadline = next_deadline(deadline, syscall::clock_ns());
        sleep_until(deadline).await;
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
}

/// The deadline after `previous`, seen at `now`: one period later, unless
/// that is already past (ticks were missed) or more than a period ahead
/// (the clock went back), when it is one period from now.
fn next_deadline(previous: u64, now: u64) -> u64 {
    let next = previous.saturating_add(PERIOD_NS);
    if next < now || next > now.saturating_add(PERIOD_NS) {
        now.saturating_add(PERIOD_NS)
    } else {
        next
    }
}
