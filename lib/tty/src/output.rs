//! Output processing (`c_oflag`, Linux's `do_output_char`): what a byte a
//! program writes, or the line discipline echoes, becomes on the wire, and
//! the cursor column that tab expansion and erasing tabs need.

use abide_linux::termios::{
    Termios, IUTF8, OCRNL, OLCUC, ONLCR, ONLRET, ONOCR, OPOST, TABDLY, XTABS,
};
use alloc::vec::Vec;

/// The column the terminal's cursor is at, as far as output processing
/// can tell.
#[derive(Debug, Clone, Default)]
pub struct Output {
    column: usize,
}

impl Output {
    /// The current column (0 after a carriage return).
    pub fn column(&self) -> usize {
        self.column
    }

    /// Appends `byte`, processed under `termios`, to `out`.
    pub fn put(&mut self, termios: &Termios, byte: u8, out: &mut Vec<u8>) {
        if termios.c_oflag & OPOST == 0 {
            out.push(byte);
            return;
        }
        let oflag = termios.c_oflag;
        match byte {
            b'\n' => {
                if oflag & ONLRET != 0 {
                    self.column = 0;
                }
                if oflag & ONLCR != 0 {
                    self.column = 0;
                    out.extend_from_slice(b"\r\n");
                } else {
                    out.push(b'\n');
                }
            }
            b'\r' => {
                if oflag & ONOCR != 0 && self.column == 0 {
                    return;
                }
                if oflag & OCRNL != 0 {
                    if oflag & ONLRET != 0 {
                        self.column = 0;
                    }
                    out.push(b'\n');
                } else {
                    self.column = 0;
                    out.push(b'\r');
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                if oflag & TABDLY == XTABS {
                    out.extend(core::iter::repeat_n(b' ', spaces));
                } else {
                    out.push(b'\t');
                }
                self.column += spaces;
            }
            0x08 => {
                self.column = self.column.saturating_sub(1);
                out.push(byte);
            }
            _ => {
                if is_control(byte) {
                    out.push(byte);
                } else {
                    if !is_continuation(termios, byte) {
                        self.column += 1;
                    }
                    out.push(if oflag & OLCUC != 0 {
                        byte.to_ascii_uppercase()
                    } else {
                        byte
                    });
                }
            }
        }
    }

    /// Processes every byte of `bytes`.
    pub fn put_all(&mut self, termios: &Termios, bytes: &[u8], out: &mut Vec<u8>) {
        for &byte in bytes {
            self.put(termios, byte, out);
        }
    }
}

/// C's `iscntrl`: the C0 controls and DEL.
pub fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

/// A UTF-8 continuation byte, when the terminal is in UTF-8 mode (`IUTF8`).
pub fn is_continuation(termios: &Termios, byte: u8) -> bool {
    termios.c_iflag & IUTF8 != 0 && byte & 0xc0 == 0x80
}
