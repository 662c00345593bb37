//! The terminal: its termios and window size, the input the line
//! discipline has taken (a canonical line being edited, completed lines,
//! or raw bytes) and what reading it returns, and output processing for
//! what programs write. Linux's `n_tty`, as plain data: the component
//! feeds it the keyboard's bytes and sends on the echo it returns.

use crate::line::{Echo, Erase, Line};
use crate::output::Output;
use abide_linux::signal::{SIGINT, SIGQUIT, SIGTSTP};
use abide_linux::termios::*;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// The most bytes of input a terminal holds unread (Linux's
/// `N_TTY_BUF_SIZE` less the byte it keeps for a line's end).
pub const MAX_INPUT: usize = 4095;

/// A signal for every process of a process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSignal {
    pub pgrp: i32,
    pub signal: u32,
}

/// What [`Terminal::input`] gives back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    /// The bytes to send to the terminal (the echo, output-processed).
    pub echo: Vec<u8>,
    /// Signals the keyboard raised (`VINTR`, `VQUIT`, `VSUSP` under
    /// `ISIG`), for the foreground process group, in the order typed.
    pub signals: Vec<GroupSignal>,
}

/// What [`Terminal::read`] gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// `n` bytes were copied (0 only for a non-blocking, `VMIN` = 0 read,
    /// or an empty buffer).
    Data(usize),
    /// Nothing to return yet: park the reader until input comes (or
    /// [`Terminal::read_timeout`] passes).
    WouldBlock,
    /// End of file: `VEOF` on an empty line (`read` returns 0).
    Eof,
}

/// A terminal with Linux's line discipline.
#[derive(Debug, Clone)]
pub struct Terminal {
    pub(crate) termios: Termios,
    pub(crate) winsize: Winsize,
    output: Output,
    /// The canonical line being edited.
    line: Line,
    /// Completed canonical lines, with their `\n`/`VEOL` (not `VEOF`); an
    /// empty one is an end of file.
    lines: VecDeque<Vec<u8>>,
    /// Non-canonical input.
    raw: VecDeque<u8>,
    /// `VLNEXT` was typed: the next byte is taken literally.
    literal_next: bool,
    /// Output stopped by `VSTOP` or `tcflow(TCOOFF)`.
    pub(crate) flow_stopped: bool,
    /// The session this is the controlling terminal of.
    pub(crate) session: Option<i32>,
    /// The foreground process group.
    pub(crate) foreground: Option<i32>,
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal::new()
    }
}

impl Terminal {
    /// A terminal with Linux's default termios, 24 rows of 80 columns, and
    /// no session.
    pub fn new() -> Terminal {
        Terminal {
            termios: Termios::linux_default(),
            winsize: Winsize {
                ws_row: 24,
                ws_col: 80,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
            output: Output::default(),
            line: Line::default(),
            lines: VecDeque::new(),
            raw: VecDeque::new(),
            literal_next: false,
            flow_stopped: false,
            session: None,
            foreground: None,
        }
    }

    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    /// Changes the termios (`TCSETS`). Leaving canonical mode makes the
    /// line being edited (and completed lines) readable as raw bytes;
    /// entering it makes unread raw bytes the start of the line being
    /// edited, as Linux does.
    pub fn set_termios(&mut self, termios: Termios) {
        let was_canonical = self.canonical();
        self.termios = termios;
        let canonical = self.canonical();
        if was_canonical && !canonical {
            for line in self.lines.drain(..) {
                self.raw.extend(line);
            }
            self.raw.extend(self.line.bytes.drain(..));
        } else if !was_canonical && canonical {
            let mut bytes: Vec<u8> = self.raw.drain(..).collect();
            bytes.truncate(MAX_INPUT);
            self.line.bytes = bytes;
            self.line.start_column = self.output.column();
        }
        if termios.c_iflag & IXON == 0 {
            self.flow_stopped = false;
        }
    }

    pub fn winsize(&self) -> Winsize {
        self.winsize
    }

    /// The controlling terminal's session, if any.
    pub fn session(&self) -> Option<i32> {
        self.session
    }

    /// The foreground process group, if any.
    pub fn foreground(&self) -> Option<i32> {
        self.foreground
    }

    /// Whether output is stopped (`VSTOP` under `IXON`, or `tcflow`). The
    /// terminal still processes what is written; the component may hold
    /// it.
    pub fn output_stopped(&self) -> bool {
        self.flow_stopped
    }

    fn canonical(&self) -> bool {
        self.termios.c_lflag & ICANON != 0
    }

    /// Takes bytes typed on the terminal.
    pub fn input(&mut self, bytes: &[u8]) -> Input {
        let mut result = Input::default();
        for &byte in bytes {
            self.receive(byte, &mut result);
        }
        result
    }

    fn receive(&mut self, byte: u8, result: &mut Input) {
        let termios = self.termios;
        let (iflag, lflag) = (termios.c_iflag, termios.c_lflag);
        let mut c = byte;
        if iflag & ISTRIP != 0 {
            c &= 0x7f;
        }
        if iflag & IUCLC != 0 && lflag & IEXTEN != 0 {
            c = c.to_ascii_lowercase();
        }
        if self.literal_next {
            self.literal_next = false;
            self.put(c, result);
            return;
        }
        if iflag & IXON != 0 {
            if is(&termios, c, VSTART) {
                self.flow_stopped = false;
                return;
            }
            if is(&termios, c, VSTOP) {
                self.flow_stopped = true;
                return;
            }
        }
        if lflag & ISIG != 0 {
            for (index, signal) in [(VINTR, SIGINT), (VQUIT, SIGQUIT), (VSUSP, SIGTSTP)] {
                if is(&termios, c, index) {
                    self.signal(signal, c, result);
                    return;
                }
            }
        }
        if self.flow_stopped && iflag & IXON != 0 && iflag & IXANY != 0 {
            self.flow_stopped = false;
        }
        if c == b'\r' {
            if iflag & IGNCR != 0 {
                return;
            }
            if iflag & ICRNL != 0 {
                c = b'\n';
            }
        } else if c == b'\n' && iflag & INLCR != 0 {
            c = b'\r';
        }
        if self.canonical() && self.canonical_special(c, result) {
            return;
        }
        self.put(c, result);
    }

    /// The canonical mode's editing and line-ending characters; false
    /// when `c` is none of them.
    fn canonical_special(&mut self, c: u8, result: &mut Input) -> bool {
        let termios = self.termios;
        let lflag = termios.c_lflag;
        let erase = if is(&termios, c, VERASE) {
            Some(Erase::Char)
        } else if is(&termios, c, VKILL) {
            Some(Erase::Line)
        } else if is(&termios, c, VWERASE) && lflag & IEXTEN != 0 {
            Some(Erase::Word)
        } else {
            None
        };
        let mut echo = Echo {
            termios: &termios,
            output: &mut self.output,
            out: &mut result.echo,
        };
        if let Some(kind) = erase {
            self.line.erase(kind, &mut echo);
            return true;
        }
        if is(&termios, c, VLNEXT) && lflag & IEXTEN != 0 {
            self.literal_next = true;
            if lflag & ECHO != 0 && lflag & ECHOCTL != 0 {
                echo.raw(b'^');
                echo.raw(0x08);
            }
            return true;
        }
        if is(&termios, c, VREPRINT) && lflag & ECHO != 0 && lflag & IEXTEN != 0 {
            echo.char(c);
            echo.raw(b'\n');
            for &b in &self.line.bytes {
                echo.char(b);
            }
            return true;
        }
        if c == b'\n' {
            if lflag & (ECHO | ECHONL) != 0 {
                echo.raw(b'\n');
            }
            self.line.bytes.push(c);
            self.complete_line();
            return true;
        }
        if is(&termios, c, VEOF) {
            self.complete_line();
            return true;
        }
        if is(&termios, c, VEOL) || (is(&termios, c, VEOL2) && lflag & IEXTEN != 0) {
            if lflag & ECHO != 0 {
                if self.line.bytes.is_empty() {
                    self.line.start_column = echo.output.column();
                }
                echo.char(c);
            }
            self.line.bytes.push(c);
            self.complete_line();
            return true;
        }
        false
    }

    fn complete_line(&mut self) {
        self.lines.push_back(core::mem::take(&mut self.line.bytes));
    }

    /// The ordinary path: echo `c` and queue it.
    fn put(&mut self, c: u8, result: &mut Input) {
        if self.queued() >= MAX_INPUT {
            return;
        }
        let termios = self.termios;
        if termios.c_lflag & ECHO != 0 {
            let mut echo = Echo {
                termios: &termios,
                output: &mut self.output,
                out: &mut result.echo,
            };
            if c == b'\n' {
                echo.raw(c);
            } else {
                if self.line.bytes.is_empty() {
                    self.line.start_column = echo.output.column();
                }
                echo.char(c);
            }
        }
        if self.canonical() {
            self.line.bytes.push(c);
        } else {
            self.raw.push_back(c);
        }
    }

    /// Every byte of input held, read or not.
    fn queued(&self) -> usize {
        self.raw.len() + self.line.bytes.len() + self.lines.iter().map(Vec::len).sum::<usize>()
    }

    fn signal(&mut self, signal: u32, c: u8, result: &mut Input) {
        let termios = self.termios;
        if termios.c_lflag & NOFLSH == 0 {
            self.flush_input();
        }
        if termios.c_iflag & IXON != 0 {
            self.flow_stopped = false;
        }
        if termios.c_lflag & ECHO != 0 {
            Echo {
                termios: &termios,
                output: &mut self.output,
                out: &mut result.echo,
            }
            .char(c);
        }
        if let Some(pgrp) = self.foreground {
            result.signals.push(GroupSignal { pgrp, signal });
        }
    }

    /// Drops all input, read or being edited (`TCIFLUSH`, a signal
    /// character without `NOFLSH`).
    pub fn flush_input(&mut self) {
        self.line.bytes.clear();
        self.lines.clear();
        self.raw.clear();
        self.literal_next = false;
    }

    /// Reads into `buf`: in canonical mode at most one line (an empty line
    /// typed as `VEOF` is [`Read::Eof`]); otherwise as `VMIN` and `VTIME`
    /// say, the timer left to the caller ([`Terminal::read_timeout`]).
    pub fn read(&mut self, buf: &mut [u8]) -> Read {
        if buf.is_empty() {
            return Read::Data(0);
        }
        if self.canonical() {
            let Some(line) = self.lines.front_mut() else {
                return Read::WouldBlock;
            };
            if line.is_empty() {
                self.lines.pop_front();
                return Read::Eof;
            }
            let n = line.len().min(buf.len());
            for (slot, byte) in buf.iter_mut().zip(line.drain(..n)) {
                *slot = byte;
            }
            if line.is_empty() {
                self.lines.pop_front();
            }
            return Read::Data(n);
        }
        let min = usize::from(self.termios.c_cc[VMIN]);
        let time = self.termios.c_cc[VTIME];
        let enough = match (min, time) {
            (0, 0) => true,
            (0, _) => !self.raw.is_empty(),
            (min, _) => self.raw.len() >= min.min(buf.len()),
        };
        if enough {
            Read::Data(self.take_raw(buf))
        } else {
            Read::WouldBlock
        }
    }

    /// How long (in tenths of a second) a reader that got
    /// [`Read::WouldBlock`] waits before [`Terminal::read_timed_out`]:
    /// `VTIME` in non-canonical mode, once a byte came when `VMIN` > 0.
    /// `None`: wait for input only.
    pub fn read_timeout(&self) -> Option<u8> {
        let time = self.termios.c_cc[VTIME];
        let timed =
            !self.canonical() && time > 0 && (self.termios.c_cc[VMIN] == 0 || !self.raw.is_empty());
        timed.then_some(time)
    }

    /// The read after [`Terminal::read_timeout`] passed: what there is,
    /// maybe nothing.
    pub fn read_timed_out(&mut self, buf: &mut [u8]) -> Read {
        if self.canonical() {
            return self.read(buf);
        }
        Read::Data(self.take_raw(buf))
    }

    fn take_raw(&mut self, buf: &mut [u8]) -> usize {
        let n = self.raw.len().min(buf.len());
        for (slot, byte) in buf.iter_mut().zip(self.raw.drain(..n)) {
            *slot = byte;
        }
        n
    }

    /// Whether a read would return now (for `poll`): a complete line, or
    /// as many bytes as `VMIN` asks (one when `VTIME` is set).
    pub fn readable(&self) -> bool {
        if self.canonical() {
            return !self.lines.is_empty();
        }
        let min = usize::from(self.termios.c_cc[VMIN]);
        let need = if self.termios.c_cc[VTIME] == 0 && min > 0 {
            min
        } else {
            1
        };
        self.raw.len() >= need
    }

    /// The bytes a read could return (`FIONREAD`): those of complete lines
    /// in canonical mode.
    pub fn pending(&self) -> usize {
        if self.canonical() {
            self.lines.iter().map(Vec::len).sum()
        } else {
            self.raw.len()
        }
    }

    /// What writing `bytes` sends to the terminal (output processing).
    pub fn write(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 8);
        self.output.put_all(&self.termios, bytes, &mut out);
        out
    }
}

/// Whether `byte` is the (enabled) control character at `index`.
fn is(termios: &Termios, byte: u8, index: usize) -> bool {
    let c = termios.c_cc.get(index).copied().unwrap_or(VDISABLE);
    c != VDISABLE && c == byte
}
