//! Kernel text output: `print!`/`println!`, and an emergency writer for
//! crash reports that never waits for a lock.
//!
//! Everything the kernel prints (and what programs pass to `debug_write`)
//! goes into the kernel log ring, which the log service reads with
//! `kernel_log_read` (with the `kernel-log` capability). A process's output
//! is tagged line by line with its id and name ([`write_tagged`], the
//! format is `abide_abi::host::USER_TAG_OPEN`) and never shares a line
//! with anyone else's, so no process can print a line that reads as the
//! kernel's or another process's. Until a user-space driver takes the serial port
//! ([`hand_over`]), it also goes to the serial console; afterwards the
//! kernel writes to the serial port only when it panics or a CPU exception
//! hits the kernel ([`emergency_writer`]), so it never interleaves with the
//! driver's output.

use core::fmt::{self, Write};

use abide_abi::host;

use crate::serial;
use crate::sync::IrqSpinLock;

/// Bytes of kernel output the ring keeps.
const RING_BYTES: usize = 16 * 1024;

/// [`Ring::writer`] for the kernel's own text.
const KERNEL_WRITER: u64 = 0;

/// The most recent kernel output, and how many bytes were ever written.
struct Ring {
    bytes: [u8; RING_BYTES],
    /// Bytes written since boot: the position after the newest byte.
    written: u64,
    /// Who wrote the newest byte: a process id, or [`KERNEL_WRITER`].
    writer: u64,
    /// The newest byte did not end a line.
    mid_line: bool,
}

impl Ring {
    fn push(&mut self, data: &[u8]) {
        for &byte in data {
            if let Some(slot) = self
                .bytes
                .get_mut((self.written % RING_BYTES as u64) as usize)
            {
                *slot = byte;
            }
            self.written += 1;
        }
        if let Some(&last) = data.last() {
            self.mid_line = last != b'\n';
        }
    }

    /// Appends `data` to the ring and, before the hand-over, to the serial
    /// port.
    fn emit(&mut self, data: &[u8]) {
        self.push(data);
        if !handed_over() {
            serial::write_bytes(data);
        }
    }

    /// `writer` is about to write: if someone else left a line unfinished,
    /// end it, so that no line holds two writers' text.
    fn take_line(&mut self, writer: u64) {
        if self.mid_line && self.writer != writer {
            self.emit(b"\n");
        }
        self.writer = writer;
    }

    /// Copies bytes from position `from` (or the oldest kept) into `out`;
    /// returns the position of the first byte copied and how many.
    fn read(&self, from: u64, out: &mut [u8]) -> (u64, usize) {
        let oldest = self.written.saturating_sub(RING_BYTES as u64);
        let start = from.clamp(oldest, self.written);
        let count = ((self.written - start) as usize).min(out.len());
        for (offset, slot) in out.iter_mut().take(count).enumerate() {
            let at = ((start + offset as u64) % RING_BYTES as u64) as usize;
            *slot = self.bytes.get(at).copied().unwrap_or(0);
        }
        (start, count)
    }
}

/// Serializes whole messages so lines from different contexts do not mix,
/// and holds the ring.
static OUTPUT: IrqSpinLock<Ring> = IrqSpinLock::new(Ring {
    bytes: [0; RING_BYTES],
    written: 0,
    writer: KERNEL_WRITER,
    mid_line: false,
});

/// Appends to the ring and, before the hand-over, to the serial port.
struct KernelWriter<'a>(&'a mut Ring);

impl Write for KernelWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.emit(s.as_bytes());
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
    ring.take_line(KERNEL_WRITER);
    let _ = KernelWriter(&mut ring).write_fmt(args);
}

/// Writes a process's output (`debug_write`) as one piece, each of its
/// lines tagged `<process name> ` (`abide_abi::host::USER_TAG_OPEN`).
/// A process may write a line in several pieces: the tag comes once, as
/// long as nobody else wrote in between.
pub fn write_tagged(process: u64, name: &str, bytes: &[u8]) {
    let mut tag = heapless::String::<TAG_BYTES>::new();
    let _ = write!(tag, "{}{process} ", host::USER_TAG_OPEN);
    // `>` would end the tag early, a control character could end the line.
    for c in name.chars().take(MAX_TAG_NAME) {
        let shown = if c == '>' || c.is_control() { '?' } else { c };
        let _ = tag.push(shown);
    }
    let _ = tag.push_str(host::USER_TAG_CLOSE);
    let mut ring = OUTPUT.lock();
    ring.take_line(process);
    for line in bytes.split_inclusive(|&byte| byte == b'\n') {
        if !ring.mid_line {
            ring.emit(tag.as_bytes());
        }
        ring.emit(line);
    }
}

/// Room for a tag: `<`, a 20-digit id, a space, [`MAX_TAG_NAME`]
/// characters of up to 4 bytes, `> `.
const TAG_BYTES: usize = 1 + 20 + 1 + 4 * MAX_TAG_NAME + 2;
/// The most characters of a process's name its tag shows.
const MAX_TAG_NAME: usize = 32;

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
    this_boot.truncate(count);
    ring.push(&this_boot);
}

/// A user-space driver took the serial port: stop writing to it.
pub fn hand_over() {
    serial::hand_over();
}

/// True once a driver owns the serial port.
pub fn handed_over() -> bool {
    serial::handed_over()
}

/// A writer that bypasses the console lock, for panic and exception reports
/// (the interrupted code may hold the lock forever). It always writes to
/// the serial port: a dying kernel has no driver to rely on.
pub fn emergency_writer() -> impl Write {
    SerialWriter
}

/// Writes `text` as [`emergency_writer`] does (the crash reports of `arch`
/// reach the serial port through this).
pub fn emergency_write(text: &str) {
    let _ = SerialWriter.write_str(text);
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
