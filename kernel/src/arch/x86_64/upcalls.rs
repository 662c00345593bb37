//! What the architecture code calls in the kernel above it, as function
//! pointers the kernel's `trap` module registers once at boot (before
//! interrupts are enabled): so `arch` imports nothing of the generic
//! kernel, and every way up from it is listed here.
//!
//! Until they are registered, the entry path hands nothing up (no system
//! call or interrupt can arrive that early) and the services fall back to
//! doing nothing: no output, no symbol names, and a failure ends the
//! machine silently.

use core::fmt::{self, Write};

use spin::Once;

use super::context::FpuState;
use super::idt::TrapFrame;
use super::power;

/// The kernel's entry points and the services `arch` uses.
pub struct Upcalls {
    /// A system call, with the caller's registers and FPU state.
    pub syscall: fn(&mut TrapFrame, &mut FpuState),
    /// A CPU exception in user mode (not NMI, double fault, machine check).
    pub user_fault: fn(&mut TrapFrame, &mut FpuState),
    /// The end of a hardware interrupt, after its handler and EOI.
    pub interrupt_end: fn(&mut TrapFrame, &mut FpuState),
    /// A write to user address `virt` faulted on a present page: true if
    /// the page was one a checkpoint protects and is writable again.
    pub write_fault: fn(u64) -> bool,
    /// Reports a failure during boot and ends the machine.
    pub fail: fn(fmt::Arguments) -> !,
    /// Writes text for a crash report, bypassing every lock.
    pub emergency_write: fn(&str),
    /// Waits until the kernel's console output has left the machine.
    pub flush_output: fn(),
    /// The monotonic clock, in nanoseconds since boot.
    pub now_ns: fn() -> u64,
    /// The function containing a code address, and the offset into it.
    pub symbol: fn(u64) -> Option<(&'static str, u64)>,
}

static UPCALLS: Once<Upcalls> = Once::new();

/// Installs the kernel's upcalls (once; later calls change nothing).
pub fn register(upcalls: Upcalls) {
    UPCALLS.call_once(|| upcalls);
}

/// The kernel's upcalls, once registered.
pub(super) fn get() -> Option<&'static Upcalls> {
    UPCALLS.get()
}

/// Reports a boot failure and ends the machine.
pub(super) fn fail(reason: fmt::Arguments) -> ! {
    match get() {
        Some(up) => (up.fail)(reason),
        None => power::exit_failure(),
    }
}

/// Waits for the console output to leave the machine.
pub(super) fn flush_output() {
    if let Some(up) = get() {
        (up.flush_output)();
    }
}

/// Nanoseconds since boot (`None` before the clock is registered).
pub(super) fn now_ns() -> Option<u64> {
    Some((get()?.now_ns)())
}

/// The function containing `addr` and the offset into it.
pub(super) fn symbol(addr: u64) -> Option<(&'static str, u64)> {
    (get()?.symbol)(addr)
}

/// A writer for crash reports (see [`Upcalls::emergency_write`]).
pub(super) fn emergency_writer() -> impl Write {
    EmergencyWriter
}

struct EmergencyWriter;

impl Write for EmergencyWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(up) = get() {
            (up.emergency_write)(s);
        }
        Ok(())
    }
}
