//! Ending the machine: ACPI power-off (S5) for `poweroff`, and QEMU's
//! `isa-debug-exit` device for a verdict (kernel tests, fatal errors).
//!
//! The host tool maps QEMU's exit status back (see `abide_abi::host`). On a
//! machine without the debug-exit device the write is ignored and the kernel
//! halts after saying so.

use core::fmt::Write;

use abide_abi::host::{DEBUG_EXIT_FAILURE, DEBUG_EXIT_PORT, DEBUG_EXIT_SUCCESS};
use abide_boot::acpi::PowerOff;
use spin::Once;

use super::cpu;
use super::upcalls::{self, emergency_writer};

static ACPI_POWER_OFF: Once<PowerOff> = Once::new();

/// Remembers how ACPI powers this machine off (from the FADT and DSDT).
pub fn set_acpi_power_off(power_off: PowerOff) {
    ACPI_POWER_OFF.call_once(|| power_off);
}

/// Writes `code` to the debug-exit device; QEMU exits with `(code << 1) | 1`.
fn debug_exit(code: u32) {
    upcalls::flush_output();
    cpu::outl(DEBUG_EXIT_PORT, code);
}

/// Ends the run with success (kernel tests passed).
pub fn exit_success() -> ! {
    debug_exit(DEBUG_EXIT_SUCCESS);
    halted("success")
}

/// Ends the run with failure (a test failed, a panic, an unexpected exception).
pub fn exit_failure() -> ! {
    debug_exit(DEBUG_EXIT_FAILURE);
    halted("failure")
}

/// How long ACPI power-off may take before the kernel falls back (the
/// hypervisor acts on the request asynchronously).
const ACPI_POWER_OFF_WAIT_NS: u64 = 1_000_000_000;

/// Powers the machine off through ACPI S5; falls back to the debug-exit device
/// (reported as a clean exit by the host tool).
pub fn power_off() -> ! {
    cpu::disable_interrupts();
    upcalls::flush_output();
    if let Some(p) = ACPI_POWER_OFF.get() {
        const SLP_EN: u16 = 1 << 13;
        cpu::outw(p.pm1a_control, (p.slp_typ_a << 10) | SLP_EN);
        if let Some(port) = p.pm1b_control {
            cpu::outw(port, (p.slp_typ_b << 10) | SLP_EN);
        }
        if let Some(start) = upcalls::now_ns() {
            while upcalls::now_ns().unwrap_or(u64::MAX).saturating_sub(start)
                < ACPI_POWER_OFF_WAIT_NS
            {
                core::hint::spin_loop();
            }
        }
        let _ = writeln!(
            emergency_writer(),
            "abide: ACPI power-off did not take effect"
        );
    }
    debug_exit(DEBUG_EXIT_SUCCESS);
    halted("power-off")
}

fn halted(what: &str) -> ! {
    let _ = writeln!(
        emergency_writer(),
        "abide: {what}: this machine has no way to power off; halted"
    );
    cpu::halt_forever()
}
