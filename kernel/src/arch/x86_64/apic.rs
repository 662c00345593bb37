//! The local APIC: interrupt acknowledgement and the periodic timer that
//! drives time slices and timer ticks.
//!
//! The timer's rate is unknown until measured, so it is calibrated against the
//! PIT (together with the TSC, see `time`).

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::model_specific::Msr;

use super::{idt, pit};
use abide_mm::paging::MapError;

const REG_ID: usize = 0x20;
const REG_TPR: usize = 0x80;
const REG_EOI: usize = 0xb0;
const REG_SPURIOUS: usize = 0xf0;
const REG_ESR: usize = 0x280;
const REG_LVT_TIMER: usize = 0x320;
const REG_TIMER_INITIAL: usize = 0x380;
const REG_TIMER_CURRENT: usize = 0x390;
const REG_TIMER_DIVIDE: usize = 0x3e0;

const APIC_BASE_MSR: u32 = 0x1b;
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
const SOFTWARE_ENABLE: u32 = 1 << 8;
const TIMER_PERIODIC: u32 = 1 << 17;
const TIMER_MASKED: u32 = 1 << 16;
const DIVIDE_BY_16: u32 = 0b0011;

/// Virtual address of the mapped local APIC registers (0 before `init`).
static BASE: AtomicU64 = AtomicU64::new(0);
/// Timer counts per second at divide-by-16, measured at boot.
static TIMER_HZ: AtomicU64 = AtomicU64::new(0);

fn read(reg: usize) -> u32 {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: `base` maps the 4 KiB APIC register page uncached (see `init`);
    // `reg` is one of the register offsets above.
    unsafe { core::ptr::read_volatile((base as usize + reg) as *const u32) }
}

fn write(reg: usize, value: u32) {
    let base = BASE.load(Ordering::Relaxed);
    // SAFETY: as for `read`.
    unsafe { core::ptr::write_volatile((base as usize + reg) as *mut u32, value) }
}

/// Maps (with `map_mmio`: physical address to virtual) and enables the
/// local APIC at physical address `phys`.
pub fn init(phys: u64, map_mmio: impl Fn(u64) -> Result<u64, MapError>) -> Result<(), MapError> {
    let virt = map_mmio(phys)?;
    BASE.store(virt, Ordering::Relaxed);
    let mut msr = Msr::new(APIC_BASE_MSR);
    // SAFETY: setting the global-enable bit of IA32_APIC_BASE keeps the base.
    unsafe {
        let value = msr.read();
        msr.write(value | APIC_GLOBAL_ENABLE);
    }
    write(REG_TPR, 0);
    write(REG_ESR, 0);
    write(REG_SPURIOUS, SOFTWARE_ENABLE | idt::SPURIOUS_VECTOR as u32);
    write(REG_LVT_TIMER, TIMER_MASKED);
    Ok(())
}

/// This CPU's local APIC id.
pub fn id() -> u8 {
    (read(REG_ID) >> 24) as u8
}

/// Acknowledges the interrupt being handled.
pub fn end_of_interrupt() {
    if BASE.load(Ordering::Relaxed) != 0 {
        write(REG_EOI, 0);
    }
}

/// Measures the timer rate and the TSC rate together over one PIT interval.
/// Returns (apic timer Hz, TSC Hz).
pub fn calibrate(interval_us: u64) -> (u64, u64) {
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    let mut tsc_start = 0;
    let mut tsc_end = 0;
    let mut apic_end = 0;
    pit::timed_interval(
        interval_us,
        || {
            write(REG_TIMER_INITIAL, u32::MAX);
            tsc_start = super::cpu::rdtsc();
        },
        || {
            apic_end = read(REG_TIMER_CURRENT);
            tsc_end = super::cpu::rdtsc();
        },
    );
    write(REG_TIMER_INITIAL, 0);
    let elapsed_apic = (u32::MAX - apic_end) as u64;
    let elapsed_tsc = tsc_end.saturating_sub(tsc_start);
    (
        elapsed_apic * 1_000_000 / interval_us,
        elapsed_tsc * 1_000_000 / interval_us,
    )
}

/// Starts the periodic timer at `hz` interrupts per second on [`idt::TIMER_VECTOR`].
pub fn start_periodic_timer(timer_hz: u64, hz: u64) {
    TIMER_HZ.store(timer_hz, Ordering::Relaxed);
    let count = (timer_hz / hz.max(1)).clamp(1, u32::MAX as u64) as u32;
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write(REG_LVT_TIMER, TIMER_PERIODIC | idt::TIMER_VECTOR as u32);
    write(REG_TIMER_INITIAL, count);
}

/// The measured timer rate (counts per second at divide-by-16).
pub fn timer_hz() -> u64 {
    TIMER_HZ.load(Ordering::Relaxed)
}
