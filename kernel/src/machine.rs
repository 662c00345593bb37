//! Bringing up the machine the kernel runs on: which boot protocol started it,
//! what the ACPI tables say, and the interrupt hardware and clocks.
//!
//! The parsing is pure logic in `abide_boot` (host-tested); this module reads
//! physical memory for it and programs the hardware with what it returns.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use abide_boot::acpi::{self, AcpiError, Platform};
use abide_boot::{multiboot2, pvh, BootInfo, BootInfoError};

use crate::arch::idt::{self, TrapFrame};
use crate::arch::{apic, cpu, ioapic, power};
use crate::mm::{self, DirectMap};
use crate::{serial, time};

/// Reads the boot information of whichever protocol started the kernel.
pub fn read_boot_info(magic: u32, info_phys: u64) -> Result<BootInfo, BootInfoError> {
    if magic == multiboot2::BOOTLOADER_MAGIC {
        multiboot2::read_boot_info(&DirectMap, info_phys)
    } else {
        pvh::read_boot_info(&DirectMap, info_phys)
    }
}

/// Reads the MADT and FADT, and remembers how to power off.
pub fn read_acpi(info: &BootInfo) -> Result<Platform, AcpiError> {
    let platform = acpi::read_platform(&DirectMap, info.rsdp)?;
    log::debug!(
        "acpi: RSDP at {:#x}, local APIC at {:#x}, {} I/O APIC(s), {} CPU(s), power-off {:?}",
        platform.rsdp,
        platform.madt.local_apic_address,
        platform.madt.ioapics().len(),
        platform.madt.cpu_apic_ids().len(),
        platform.power_off
    );
    match platform.power_off {
        Some(power_off) => power::set_acpi_power_off(power_off),
        None => {
            log::warn!("acpi: no S5 power-off information; poweroff will use the debug-exit device")
        }
    }
    Ok(platform)
}

/// Why interrupts could not be started.
#[derive(Debug)]
pub enum InterruptError {
    Map(mm::MapError),
    Route(ioapic::RouteError),
}

impl fmt::Display for InterruptError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            InterruptError::Map(error) => write!(f, "mapping APIC registers: {error}"),
            InterruptError::Route(error) => write!(f, "routing an interrupt: {error:?}"),
        }
    }
}

/// PIT window used to calibrate the TSC and APIC timer.
const CALIBRATION_US: u64 = 10_000;
/// Calibration rounds; the median is kept.
const CALIBRATION_ROUNDS: usize = 5;

/// Set by the FPU kernel test: the timer handler then overwrites every SSE
/// register, to prove the entry path preserves the interrupted code's state.
pub static CLOBBER_SSE_IN_TIMER: AtomicBool = AtomicBool::new(false);

fn timer_interrupt(_frame: &mut TrapFrame) {
    time::tick();
    if CLOBBER_SSE_IN_TIMER.load(Ordering::Relaxed) {
        clobber_sse();
    }
}

fn clobber_sse() {
    // SAFETY: only writes SSE registers, which the interrupt entry saved.
    unsafe {
        core::arch::asm!(
            "pcmpeqd xmm0, xmm0", "pcmpeqd xmm1, xmm1", "pcmpeqd xmm2, xmm2", "pcmpeqd xmm3, xmm3",
            "pcmpeqd xmm4, xmm4", "pcmpeqd xmm5, xmm5", "pcmpeqd xmm6, xmm6", "pcmpeqd xmm7, xmm7",
            "pcmpeqd xmm8, xmm8", "pcmpeqd xmm9, xmm9", "pcmpeqd xmm10, xmm10", "pcmpeqd xmm11, xmm11",
            "pcmpeqd xmm12, xmm12", "pcmpeqd xmm13, xmm13", "pcmpeqd xmm14, xmm14", "pcmpeqd xmm15, xmm15",
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _, out("xmm4") _, out("xmm5") _,
            out("xmm6") _, out("xmm7") _, out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
            out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
            options(nomem, nostack)
        );
    }
}

/// Calibrates the clocks, programs the local APIC timer and the I/O APIC,
/// routes the serial port, and enables interrupts.
pub fn start_interrupts(platform: &Platform) -> Result<(), InterruptError> {
    apic::init(platform.madt.local_apic_address, |phys| {
        mm::map_mmio(phys, 4096)
    })
    .map_err(InterruptError::Map)?;
    let mut apic_rates = [0u64; CALIBRATION_ROUNDS];
    let mut tsc_rates = [0u64; CALIBRATION_ROUNDS];
    for (apic_rate, tsc_rate) in apic_rates.iter_mut().zip(tsc_rates.iter_mut()) {
        (*apic_rate, *tsc_rate) = apic::calibrate(CALIBRATION_US);
    }
    let (apic_hz, tsc_hz) = (median(&mut apic_rates), median(&mut tsc_rates));
    time::set_tsc_hz(tsc_hz);
    log::debug!(
        "clocks: TSC {} MHz, APIC timer {} kHz (/16)",
        tsc_hz / 1_000_000,
        apic_hz / 1000
    );

    ioapic::init(&platform.madt, |phys| mm::map_mmio(phys, 4096)).map_err(InterruptError::Map)?;
    idt::set_irq_handler(idt::TIMER_VECTOR, timer_interrupt);
    let serial_vector = ioapic::route_isa_irq(&platform.madt, serial::IRQ, apic::id())
        .map_err(InterruptError::Route)?;
    idt::set_irq_handler(serial_vector, serial_interrupt);
    crate::object::hardware::route_user_irqs(&platform.madt, apic::id());
    apic::start_periodic_timer(apic_hz, time::TICK_HZ);
    serial::enable_input_interrupt();
    cpu::enable_interrupts();
    Ok(())
}

/// The median of `rates` (sorted in place); 0 for none.
fn median(rates: &mut [u64]) -> u64 {
    rates.sort_unstable();
    rates.get(rates.len() / 2).copied().unwrap_or(0)
}

/// The COM1 interrupt handler: the kernel's while it owns the console,
/// afterwards the driver's.
fn serial_interrupt(frame: &mut TrapFrame) {
    if serial::handed_over() {
        crate::object::hardware::irq_fired(frame);
    } else {
        serial::drain_receiver();
    }
}
