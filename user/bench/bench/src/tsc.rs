//! Reading the time stamp counter, and its rate.

use core::arch::x86_64::{_mm_lfence, _rdtsc};

use abide_rt::syscall::clock_ns;

/// The TSC, fenced on both sides: `lfence` before it waits until every
/// earlier instruction has finished, `lfence` after it keeps later ones from
/// starting before the read. The only place the suite reads the TSC.
#[inline(always)]
pub fn now() -> u64 {
    // SAFETY: `lfence` (SSE2) and `rdtsc` exist on every x86_64 CPU; neither
    // touches memory. User-mode `rdtsc` is allowed (the kernel leaves CR4.TSD
    // clear); if it were not, the program would fault, not misbehave.
    unsafe {
        _mm_lfence();
        let ticks = _rdtsc();
        _mm_lfence();
        ticks
    }
}

/// Cycles from `start` to `end`; 0 if the counter went backwards.
pub fn elapsed(start: u64, end: u64) -> u64 {
    end.saturating_sub(start)
}

/// How long [`rate_hz`] watches the clock.
const RATE_INTERVAL_NS: u64 = 100_000_000;

/// Gives up on the kernel's clock after this many cycles (a minute at 3 GHz
/// or so), so a clock that does not move cannot hang the suite.
const RATE_GIVE_UP_CYCLES: u64 = 200_000_000_000;

/// TSC ticks per second, measured against the kernel's monotonic clock over
/// [`RATE_INTERVAL_NS`]. `None` when the clock does not advance.
pub fn rate_hz() -> Option<u64> {
    let (clock_start, tsc_start) = (clock_ns(), now());
    loop {
        let (clock, tsc) = (clock_ns(), now());
        let ns = clock.saturating_sub(clock_start);
        let cycles = elapsed(tsc_start, tsc);
        if ns >= RATE_INTERVAL_NS {
            let hz = u128::from(cycles) * 1_000_000_000 / u128::from(ns);
            return u64::try_from(hz).ok().filter(|&hz| hz > 0);
        }
        if cycles > RATE_GIVE_UP_CYCLES {
            return None;
        }
    }
}
