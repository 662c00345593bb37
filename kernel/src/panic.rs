//! Kernel panics (a kernel bug) and boot failures: print the message (and
//! for a panic a backtrace), then end the machine with a failure exit code.

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::{backtrace, cpu, power};
use crate::console::emergency_writer;

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    cpu::disable_interrupts();
    let mut out = emergency_writer();
    if PANICKING.swap(true, Ordering::SeqCst) {
        let _ = writeln!(
            out,
            "\r\n{} (nested): {}",
            abide_abi::host::PANIC_REPORT_PREFIX,
            info.message()
        );
        power::exit_failure();
    }
    let _ = writeln!(
        out,
        "\r\n{}: {}",
        abide_abi::host::PANIC_REPORT_PREFIX,
        info.message()
    );
    if let Some(location) = info.location() {
        let _ = writeln!(
            out,
            "  at {}:{}:{}",
            location.file(),
            location.line(),
            location.column()
        );
    }
    backtrace::print_here(&mut out);
    power::exit_failure()
}

/// Reports a boot failure and ends the machine.
pub fn fail(reason: core::fmt::Arguments) -> ! {
    let _ = writeln!(emergency_writer(), "abide: boot failed: {reason}");
    power::exit_failure()
}
