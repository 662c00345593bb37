//! Monotonic time in nanoseconds since boot, from the TSC, and the timer tick.
//!
//! The TSC rate is measured against the PIT at boot (see `arch::apic::calibrate`);
//! until then `now_ns` returns 0. Conversion uses a 32.32 fixed-point factor so
//! reading the clock costs one multiplication.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::cpu;

/// Timer interrupts per second.
pub const TICK_HZ: u64 = 100;

static BOOT_TSC: AtomicU64 = AtomicU64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick, times 2^32.
static NS_PER_TICK_FP: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);

/// Records the TSC value at kernel entry (time zero).
pub fn set_boot_tsc(tsc: u64) {
    BOOT_TSC.store(tsc, Ordering::Relaxed);
}

/// Records the measured TSC rate.
pub fn set_tsc_hz(hz: u64) {
    let hz = hz.max(1);
    TSC_HZ.store(hz, Ordering::Relaxed);
    NS_PER_TICK_FP.store(
        ((1_000_000_000u128 << 32) / hz as u128) as u64,
        Ordering::Relaxed,
    );
}

/// The measured TSC rate in Hz (0 before calibration).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts a TSC difference to nanoseconds.
pub fn tsc_delta_to_ns(delta: u64) -> u64 {
    ((delta as u128 * NS_PER_TICK_FP.load(Ordering::Relaxed) as u128) >> 32) as u64
}

/// Added to the time since kernel entry: after a restore, the system's
/// monotonic time continues from where the checkpoint left it.
static RESUMED_OFFSET_NS: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds of the system's monotonic time: since kernel entry, plus
/// the time the system had run before the checkpoint it resumed from.
pub fn now_ns() -> u64 {
    since_entry_ns().saturating_add(RESUMED_OFFSET_NS.load(Ordering::Relaxed))
}

/// Nanoseconds since this boot's kernel entry (for timing the boot itself).
pub fn since_entry_ns() -> u64 {
    tsc_delta_to_ns(cpu::rdtsc().saturating_sub(BOOT_TSC.load(Ordering::Relaxed)))
}

/// Makes the clock read at least `then_ns` from now on (a restore continues
/// the saved system's time; the clock never goes backwards).
pub fn continue_from(then_ns: u64) {
    let now = now_ns();
    if then_ns > now {
        RESUMED_OFFSET_NS.fetch_add(then_ns - now, Ordering::Relaxed);
    }
}

/// Timer interrupts since the timer started.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Address of the tick counter, for assembly that waits on it.
pub fn ticks_counter() -> *const u64 {
    TICKS.as_ptr()
}

/// Called by the timer interrupt.
pub fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}
