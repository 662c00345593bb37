//! The line being edited in canonical mode, and the echo that editing
//! shows: Linux's `eraser` (ERASE, WERASE, KILL with `ECHOE`, `ECHOK`,
//! `ECHOKE`, `ECHOCTL`, tabs and UTF-8 characters erased whole) and
//! `echo_char` (control characters shown as `^X`).

use crate::output::{is_continuation, is_control, Output};
use abide_linux::termios::{Termios, ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, VERASE, VKILL};
use alloc::vec::Vec;

/// Where echoed bytes go: through output processing into a buffer.
pub(crate) struct Echo<'a> {
    pub termios: &'a Termios,
    pub output: &'a mut Output,
    pub out: &'a mut Vec<u8>,
}

impl Echo<'_> {
    /// Echoes `byte` as it is.
    pub fn raw(&mut self, byte: u8) {
        self.output.put(self.termios, byte, self.out);
    }

    /// Echoes `byte`, a control character as `^X` under `ECHOCTL` (but a
    /// tab as itself).
    pub fn char(&mut self, byte: u8) {
        if self.termios.c_lflag & ECHOCTL != 0 && is_control(byte) && byte != b'\t' {
            self.raw(b'^');
            self.raw(byte ^ 0x40);
        } else {
            self.raw(byte);
        }
    }

    fn rubout(&mut self) {
        self.raw(0x08);
        self.raw(b' ');
        self.raw(0x08);
    }
}

/// What an erasing character erases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Erase {
    /// One character (VERASE).
    Char,
    /// The word before the cursor and the blanks after it (VWERASE).
    Word,
    /// The whole line (VKILL).
    Line,
}

/// The canonical line being edited: its bytes and the column its first
/// character was echoed at (to erase tabs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Line {
    pub bytes: Vec<u8>,
    pub start_column: usize,
}

impl Line {
    /// Erases under `kind`, echoing what the terminal's flags ask for.
    pub fn erase(&mut self, kind: Erase, echo: &mut Echo<'_>) {
        if self.bytes.is_empty() {
            return;
        }
        let termios = *echo.termios;
        let lflag = termios.c_lflag;
        if kind == Erase::Line {
            if lflag & ECHO == 0 {
                self.bytes.clear();
                return;
            }
            if lflag & ECHOK == 0 || lflag & ECHOKE == 0 || lflag & ECHOE == 0 {
                self.bytes.clear();
                echo.char(termios.c_cc[VKILL]);
                if lflag & ECHOK != 0 {
                    echo.raw(b'\n');
                }
                return;
            }
        }
        let mut seen_alnums = 0;
        while !self.bytes.is_empty() {
            // One character, all of its UTF-8 bytes.
            let mut start = self.bytes.len() - 1;
            while start > 0 && is_continuation(&termios, self.bytes[start]) {
                start -= 1;
            }
            let c = self.bytes[start];
            if is_continuation(&termios, c) {
                break;
            }
            if kind == Erase::Word {
                if c.is_ascii_alphanumeric() || c == b'_' {
                    seen_alnums += 1;
                } else if seen_alnums > 0 {
                    break;
                }
            }
            self.bytes.truncate(start);
            if lflag & ECHO != 0 {
                if kind == Erase::Char && lflag & ECHOE == 0 {
                    echo.char(termios.c_cc[VERASE]);
                } else if c == b'\t' {
                    let back = self.tab_width(&termios, echo.output.column());
                    for _ in 0..back {
                        echo.raw(0x08);
                    }
                } else {
                    if is_control(c) && lflag & ECHOCTL != 0 {
                        echo.rubout();
                    }
                    if !is_control(c) || lflag & ECHOCTL != 0 {
                        echo.rubout();
                    }
                }
            }
            if kind == Erase::Char {
                break;
            }
        }
    }

    /// How many columns to back up over a tab just erased from the end of
    /// the line (Linux's `ECHO_OP_ERASE_TAB`).
    fn tab_width(&self, termios: &Termios, column: usize) -> usize {
        let mut chars = 0;
        let mut after_tab = false;
        for &c in self.bytes.iter().rev() {
            if c == b'\t' {
                after_tab = true;
                break;
            } else if is_control(c) {
                if termios.c_lflag & ECHOCTL != 0 {
                    chars += 2;
                }
            } else if !is_continuation(termios, c) {
                chars += 1;
            }
        }
        if !after_tab {
            chars += self.start_column;
        }
        (8 - (chars & 7)).min(column)
    }
}
