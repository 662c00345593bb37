//! Kernel text output: `print!`/`println!`, and an emergency writer for
//! crash reports that never waits for a lock.
//!
//! Everything the kernel prints (and what programs pass to `debug_write`)
//! goes into the kernel log ring, which the log service reads with
//! `kernel_log_read`. Until a user-space driver takes the serial port
//! ([`hand_over`]), it also goes to the serial console; afterwards the
//! kernel writes to the serial port only when it panics or a CPU exception
//! hits the kernel ([`emergency_writer`]), so it never interleaves with the
//! driver's output.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::serial;
use crate::sync::IrqSpinLock;

/// Bytes of kernel output the ring keeps.
const RING_BYTES: usize = 16 * 1024;

/// The most recent kernel output, and how many bytes were ever written.
struct Ring {
    bytes: [u8; RING_BYTES],
    /// Bytes written since boot: the position after the newest byte.
    written: u64,
}

impl Ring {
    fn push(&mut self, data: &[u8]) {
        for &byte in data {
            self.bytes[(self.written % RING_BYTES as u64) as usize] = byte;
            self.written += 1;
        }
    }

    /// Copies bytes from position `from` (or the oldest kept) into `out`;
    /// returns the position of the first byte copied and how many.
    fn read(&self, from: u64, out: &mut [u8]) -> (u64, usize) {
        let oldest = self.written.saturating_sub(RING_BYTES as u64);
        let start = from.clamp(oldest, self.written);
        let count = ((self.written - start) as usize).min(out.len());
        for (offset, slot) in out[..count].iter_mut().enumerate() {
            *slot = self.bytes[((start + offset as u64) % RING_BYTES as u64) as usize];
        }
        (start, count)
    }
}

/// Serializes whole messages so lines from different contexts do not mix,
/// and holds the ring.
static OUTPUT: IrqSpinLock<Ring> = IrqSpinLock::new(Ring {
    bytes: [0; RING_BYTES],
    written: 0,
});

/// Set once a driver owns the serial port.
static HANDED_OVER: AtomicBool = AtomicBool::new(false);

/// Appends to the ring and, before the hand-over, to the serial port.
struct KernelWriter<'a>(&'a mut Ring);

impl Write for KernelWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.push(s.as_bytes());
        if !handed_over() {
            serial::write_bytes(s.as_bytes());
        }
        Ok(())
    }
}

struct SerialWriter;

impl Write for SerialWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console (used by the print macros).
pub fn print_fmt(args: fmt::Arguments) {
    let mut ring = OUTPUT.lock();
    let _ = KernelWriter(&mut ring).write_fmt(args);
}

/// Writes raw bytes (a process's output) as one piece.
pub fn write_bytes(bytes: &[u8]) {
    let mut ring = OUTPUT.lock();
    ring.push(bytes);
    if !handed_over() {
        serial::write_bytes(bytes);
    }
}

/// Copies kernel output from position `from` into `out`: returns the
/// position of the first byte copied (later than `from` when the ring no
/// longer holds it) and how many were copied.
pub fn read_log(from: u64, out: &mut [u8]) -> (u64, usize) {
    OUTPUT.lock().read(from, out)
}

/// Bytes written to the log since the system first booted (a checkpoint
/// keeps it; see [`continue_log_after`]).
pub fn log_position() -> u64 {
    OUTPUT.lock().written
}

/// After a restore: readers of the log hold positions from before the
/// power cut, so this boot's lines move to just after `position`.
pub fn continue_log_after(position: u64) {
    let mut ring = OUTPUT.lock();
    if position <= ring.written {
        return;
    }
    let mut this_boot = alloc::vec![0u8; RING_BYTES];
    let (_, count) = ring.read(0, &mut this_boot);
    ring.written = position;
    ring.push(&this_boot[..count]);
}

/// A user-space driver took the serial port: stop writing to it.
pub fn hand_over() {
    if !HANDED_OVER.swap(true, Ordering::SeqCst) {
        serial::stop_input_interrupt();
    }
}

/// True once a driver owns the serial port.
pub fn handed_over() -> bool {
    HANDED_OVER.load(Ordering::SeqCst)
}

/// A writer that bypasses the console lock, for panic and exception reports
/// (the interrupted code may hold the lock forever). It always writes to
/// the serial port: a dying kernel has no driver to rely on.
pub fn emergency_writer() -> impl Write {
    SerialWriter
}

/// Prints to the kernel console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print_fmt(format_args!($($arg)*)) };
}

/// Prints a line to the kernel console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
