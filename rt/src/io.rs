//! `print!` and `println!` through the kernel's debug console.
//!
//! Output is collected in a line buffer on the stack (up to [`LINE_LEN`]
//! bytes) and written with one `debug_write` per line, so lines of different
//! threads or processes do not interleave mid-line (up to that length).
//! Errors from the console are ignored, as `print!` has no way to report them.

use core::fmt;

use crate::syscall;

/// The largest write `print!` makes.
pub const LINE_LEN: usize = 256;

/// A `fmt::Write` that writes to the debug console a line (or [`LINE_LEN`]
/// bytes) at a time. Call [`LineWriter::flush`] at the end; dropping it
/// flushes too.
pub struct LineWriter {
    buf: [u8; LINE_LEN],
    len: usize,
}

impl LineWriter {
    pub const fn new() -> Self {
        LineWriter {
            buf: [0; LINE_LEN],
            len: 0,
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        if let Some(pending) = self.buf.get(..self.len) {
            if !pending.is_empty() {
                let _ = syscall::debug_write(pending);
            }
        }
        self.len = 0;
    }

    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = LINE_LEN - self.len;
            // Up to and including the next newline, as much as fits.
            let line = bytes
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| i + 1);
            let take = line.min(room);
            let (now, rest) = bytes.split_at(take);
            self.buf[self.len..self.len + take].copy_from_slice(now);
            self.len += take;
            if self.len == LINE_LEN || now.last() == Some(&b'\n') {
                self.flush();
            }
            bytes = rest;
        }
    }
}

impl Default for LineWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Write for LineWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let mut out = LineWriter::new();
    let _ = fmt::Write::write_fmt(&mut out, args);
}

#[doc(hidden)]
pub fn _print_line(args: fmt::Arguments) {
    let mut out = LineWriter::new();
    let _ = fmt::Write::write_fmt(&mut out, args);
    out.push(b"\n");
}

/// Prints to the debug console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print(format_args!($($arg)*))
    };
}

/// Prints a line to the debug console.
#[macro_export]
macro_rules! println {
    () => {
        $crate::io::_print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::io::_print_line(format_args!($($arg)*))
    };
}
