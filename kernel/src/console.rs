//! Kernel text output: `print!`/`println!` to the serial console, and an
//! emergency writer for crash reports that never waits for a lock.

use core::fmt::{self, Write};

use crate::serial;
use crate::sync::IrqSpinLock;

/// Serializes whole messages so lines from different contexts do not mix.
static OUTPUT: IrqSpinLock<()> = IrqSpinLock::new(());

struct SerialWriter;

impl Write for SerialWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console (used by the print macros).
pub fn print_fmt(args: fmt::Arguments) {
    let _guard = OUTPUT.lock();
    let _ = SerialWriter.write_fmt(args);
}

/// Writes raw bytes (a process's output) as one piece.
pub fn write_bytes(bytes: &[u8]) {
    let _guard = OUTPUT.lock();
    serial::write_bytes(bytes);
}

/// A writer that bypasses the console lock, for panic and exception reports
/// (the interrupted code may hold the lock forever).
pub fn emergency_writer() -> impl Write {
    SerialWriter
}

/// Prints to the serial console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print_fmt(format_args!($($arg)*)) };
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
