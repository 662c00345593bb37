//! The screen: a grid of character cells and a cursor, driven by the bytes
//! programs write to a terminal.
//!
//! Programs on a console write text and VT100/ANSI control sequences; the
//! VGA text mode shows a grid of cells (a CP437 byte and a colour
//! attribute each). [`Screen`] keeps that grid in memory and interprets
//! the bytes, one at a time, so a write may split a sequence anywhere; the
//! driver copies the rows it changed ([`Screen::take_dirty`]) into video
//! memory and moves the hardware cursor to [`Screen::cursor`].
//!
//! What it understands (the shell's line editor uses `\r`, `\n`, `ESC [ K`,
//! `ESC [ n D`, `ESC [ n C` and `ESC [ H ESC [ 2 J`):
//!
//! - printable characters, in UTF-8; one cell each, drawn with the CP437
//!   byte that shows them, or `?` when the font lacks them;
//! - `\n` (and VT, FF) goes to the start of the next line, as a serial
//!   console turning `\n` into `\r\n` does: programs write bare `\n`;
//!   `\r` to the start of the line; backspace one column left; tab to the
//!   next multiple of 8; other control characters are ignored;
//! - `ESC [` sequences: cursor up/down/forward/back (`A B C D`), next and
//!   previous line (`E F`), column and row (`G d`), position (`H f`),
//!   erase in display and in line (`J K`, modes 0, 1, 2), colours and
//!   bold/reverse (`m`), and hiding or showing the cursor (`ESC [ ? 25 l/h`);
//!   `ESC c` resets. Unknown sequences are consumed whole and ignored.
//!
//! Lines longer than the screen is wide wrap; a row the text wrapped out of
//! is joined to the next one into a *logical line*. The line editor counts
//! one column per character and moves across such a line with `ESC [ n D`
//! and `C`, so on this screen those moves follow the logical line across
//! rows, and `ESC [ K` also erases the rows the line continues on: a
//! command line longer than 80 columns is edited as a short one is. A
//! character written in the last column leaves the cursor past it, and the
//! next one starts the next row (deferred wrap, as VT100s do).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use crate::cp437;

/// Light grey on black, what the BIOS leaves.
pub const DEFAULT_ATTRIBUTE: u8 = 0x07;

/// The glyph shown for a character the font lacks.
const MISSING: u8 = b'?';

/// How many parameters of a control sequence are kept; further ones are
/// ignored.
const MAX_PARAMS: usize = 16;

/// The largest parameter value kept; larger ones count as this.
const MAX_PARAM: u16 = 9999;

/// One character cell: a CP437 byte and its colours, as video memory holds
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The character, in code page 437.
    pub glyph: u8,
    /// Foreground colour in bits 0..=3, background in 4..=6 (bit 7 blinks
    /// on most cards and is never set here).
    pub attribute: u8,
}

impl Cell {
    /// A space in `attribute`'s colours.
    pub const fn blank(attribute: u8) -> Cell {
        Cell {
            glyph: b' ',
            attribute,
        }
    }

    /// The 16-bit word video memory holds for this cell (the glyph in the
    /// low byte).
    pub const fn to_vga(self) -> u16 {
        (self.attribute as u16) << 8 | self.glyph as u16
    }

    /// The cell a video memory word holds.
    pub const fn from_vga(word: u16) -> Cell {
        Cell {
            glyph: word as u8,
            attribute: (word >> 8) as u8,
        }
    }
}

/// Colours and rendition, as `ESC [ ... m` sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pen {
    /// VGA colour index 0..=7 (not ANSI's order).
    foreground: u8,
    background: u8,
    bright: bool,
    reverse: bool,
}

impl Pen {
    const DEFAULT: Pen = Pen {
        foreground: DEFAULT_ATTRIBUTE & 0x07,
        background: 0,
        bright: false,
        reverse: false,
    };

    fn attribute(self) -> u8 {
        let foreground = self.foreground | if self.bright { 0x08 } else { 0 };
        let (foreground, background) = if self.reverse {
            (self.background, foreground & 0x07)
        } else {
            (foreground, self.background)
        };
        (background & 0x07) << 4 | foreground & 0x0f
    }

    /// Applies one SGR parameter.
    fn apply(&mut self, parameter: u16) {
        match parameter {
            0 => *self = Pen::DEFAULT,
            1 => self.bright = true,
            22 => self.bright = false,
            7 => self.reverse = true,
            27 => self.reverse = false,
            30..=37 => self.foreground = vga_colour(parameter - 30),
            39 => self.foreground = Pen::DEFAULT.foreground,
            40..=47 => self.background = vga_colour(parameter - 40),
            49 => self.background = Pen::DEFAULT.background,
            90..=97 => {
                self.foreground = vga_colour(parameter - 90);
                self.bright = true;
            }
            // The bright background would blink: the plain one it is.
            100..=107 => self.background = vga_colour(parameter - 100),
            _ => {}
        }
    }
}

/// The VGA colour index of ANSI colour `ansi` (0 black, 1 red, 2 green,
/// 3 yellow, 4 blue, 5 magenta, 6 cyan, 7 white).
fn vga_colour(ansi: u16) -> u8 {
    const VGA: [u8; 8] = [0, 4, 2, 6, 1, 5, 3, 7];
    VGA[usize::from(ansi & 7)]
}

/// Where the interpreter is within a multi-byte sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ground,
    /// After ESC.
    Escape,
    /// After ESC and intermediate bytes (`ESC ( B`): waits for the final.
    EscapeIntermediate,
    /// After `ESC [`.
    Csi(Csi),
    /// Inside a UTF-8 character: the bytes so far and how many it has.
    Utf8 {
        bytes: [u8; 4],
        len: usize,
        need: usize,
    },
}

/// A control sequence being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Csi {
    params: [u16; MAX_PARAMS],
    /// Parameters started (a sequence without digits has none).
    count: usize,
    /// `ESC [ ?` (or `< = >`): a private sequence.
    private: bool,
    /// Intermediate bytes were seen: a sequence this screen does not know.
    unknown: bool,
}

impl Csi {
    const EMPTY: Csi = Csi {
        params: [0; MAX_PARAMS],
        count: 0,
        private: false,
        unknown: false,
    };

    /// Parameter `index`, or `default` when it is absent or 0.
    fn param(&self, index: usize, default: u16) -> u16 {
        match self.params.get(index) {
            Some(&value) if index < self.count && value != 0 => value,
            _ => default,
        }
    }

    /// A count parameter (at least 1).
    fn count_param(&self, index: usize) -> usize {
        usize::from(self.param(index, 1))
    }
}

/// A text screen of `columns` × `rows` cells, driven by terminal output.
#[derive(Clone, Debug)]
pub struct Screen {
    columns: usize,
    rows: usize,
    /// Row after row.
    cells: Vec<Cell>,
    /// `wrapped[r]`: the text of row `r` wrapped on into row `r + 1`.
    wrapped: Vec<bool>,
    row: usize,
    /// `0..=columns`; `columns` is past the last column, where a character
    /// just written there left the cursor (the next one wraps).
    column: usize,
    pen: Pen,
    cursor_visible: bool,
    state: State,
    /// The rows changed since [`Screen::take_dirty`] last said.
    dirty: Option<Range<usize>>,
}

impl Screen {
    /// A blank screen (at least 1 × 1), the cursor at the top left.
    pub fn new(columns: usize, rows: usize) -> Screen {
        let columns = columns.max(1);
        let rows = rows.max(1);
        Screen {
            columns,
            rows,
            cells: vec![Cell::blank(DEFAULT_ATTRIBUTE); columns * rows],
            wrapped: vec![false; rows],
            row: 0,
            column: 0,
            pen: Pen::DEFAULT,
            cursor_visible: true,
            state: State::Ground,
            dirty: Some(0..rows),
        }
    }

    /// A screen showing `cells` (row after row, as video memory holds them;
    /// missing ones blank) with the cursor at `row`, `column` (clamped):
    /// what a new instance of the driver takes over from its predecessor.
    pub fn restore(
        columns: usize,
        rows: usize,
        cells: &[u16],
        row: usize,
        column: usize,
    ) -> Screen {
        let mut screen = Screen::new(columns, rows);
        for (cell, &word) in screen.cells.iter_mut().zip(cells) {
            *cell = Cell::from_vga(word);
        }
        screen.row = row.min(screen.rows - 1);
        screen.column = column.min(screen.columns);
        screen
    }

    /// Columns per row.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The cells of `row` (empty past the last row).
    pub fn row_cells(&self, row: usize) -> &[Cell] {
        let start = row.saturating_mul(self.columns);
        self.cells
            .get(start..start.saturating_add(self.columns))
            .unwrap_or(&[])
    }

    /// The cell at `row`, `column`.
    pub fn cell(&self, row: usize, column: usize) -> Option<Cell> {
        self.row_cells(row).get(column).copied()
    }

    /// Row `row` as text, without trailing blanks.
    pub fn row_text(&self, row: usize) -> String {
        let text: String = self
            .row_cells(row)
            .iter()
            .map(|cell| cp437::to_char(cell.glyph))
            .collect();
        String::from(text.trim_end_matches(' '))
    }

    /// The whole screen as text: rows without trailing blanks, one a line.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for row in 0..self.rows {
            text.push_str(&self.row_text(row));
            text.push('\n');
        }
        text
    }

    /// Where the cursor is shown: row and column, in the grid (a cursor
    /// past the last column shows on it).
    pub fn cursor(&self) -> (usize, usize) {
        (self.row, self.column.min(self.columns - 1))
    }

    /// Where the cursor is, with the column `columns` when it is past the
    /// last column (the next character wraps): what a new instance
    /// restores.
    pub fn position(&self) -> (usize, usize) {
        (self.row, self.column)
    }

    /// Whether the cursor is shown (`ESC [ ? 25 l` hides it).
    pub fn cursor_visible(&self) -> bool {
        self.cursor_visible
    }

    /// The rows changed since the last call (a range, possibly with
    /// unchanged rows inside), or `None`.
    pub fn take_dirty(&mut self) -> Option<Range<usize>> {
        self.dirty.take()
    }

    /// Interprets `bytes` as a terminal would.
    pub fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.feed(byte);
        }
    }

    /// Interprets one byte.
    pub fn feed(&mut self, byte: u8) {
        match self.state {
            State::Ground => self.ground(byte),
            State::Escape => self.escape(byte),
            State::EscapeIntermediate => self.escape_intermediate(byte),
            State::Csi(csi) => self.csi(csi, byte),
            State::Utf8 { bytes, len, need } => self.utf8(bytes, len, need, byte),
        }
    }

    fn ground(&mut self, byte: u8) {
        match byte {
            0x1b => self.state = State::Escape,
            b'\n' | 0x0b | 0x0c => self.new_line(),
            b'\r' => self.column = 0,
            0x08 => self.back(1),
            b'\t' => self.tab(),
            0x20..=0x7e => self.put(byte),
            0x80..=0xff => self.utf8_start(byte),
            // Bell, DEL and the other control characters.
            _ => {}
        }
    }

    fn escape(&mut self, byte: u8) {
        self.state = State::Ground;
        match byte {
            b'[' => self.state = State::Csi(Csi::EMPTY),
            b'c' => self.reset(),
            0x1b => self.state = State::Escape,
            0x20..=0x2f => self.state = State::EscapeIntermediate,
            // Other final bytes: sequences this screen does not know.
            0x30..=0x7e => {}
            // A control character cuts the sequence short and counts.
            _ => self.ground(byte),
        }
    }

    fn escape_intermediate(&mut self, byte: u8) {
        match byte {
            0x20..=0x2f => {}
            0x30..=0x7e => self.state = State::Ground,
            _ => {
                self.state = State::Ground;
                self.ground(byte);
            }
        }
    }

    fn csi(&mut self, mut csi: Csi, byte: u8) {
        match byte {
            b'0'..=b'9' => {
                if csi.count == 0 {
                    csi.count = 1;
                }
                if let Some(param) = csi.params.get_mut(csi.count - 1) {
                    *param = param
                        .saturating_mul(10)
                        .saturating_add(u16::from(byte - b'0'))
                        .min(MAX_PARAM);
                }
                self.state = State::Csi(csi);
            }
            b';' | b':' => {
                // An empty first parameter counts too: `ESC [ ; 5 H`.
                csi.count = (csi.count.max(1) + 1).min(MAX_PARAMS + 1);
                self.state = State::Csi(csi);
            }
            b'<'..=b'?' => {
                if csi.count == 0 && !csi.private {
                    csi.private = true;
                } else {
                    csi.unknown = true;
                }
                self.state = State::Csi(csi);
            }
            0x20..=0x2f => {
                csi.unknown = true;
                self.state = State::Csi(csi);
            }
            0x40..=0x7e => {
                self.state = State::Ground;
                if !csi.unknown {
                    self.dispatch(&csi, byte);
                }
            }
            // A control character abandons the sequence and counts.
            _ => {
                self.state = State::Ground;
                self.ground(byte);
            }
        }
    }

    fn dispatch(&mut self, csi: &Csi, last: u8) {
        if csi.private {
            if csi.param(0, 0) == 25 {
                match last {
                    b'h' => self.cursor_visible = true,
                    b'l' => self.cursor_visible = false,
                    _ => {}
                }
            }
            return;
        }
        let n = csi.count_param(0);
        match last {
            b'A' => self.move_to(self.row.saturating_sub(n), self.column),
            b'B' => self.move_to(self.row.saturating_add(n), self.column),
            b'C' => self.forward(n),
            b'D' => self.back(n),
            b'E' => self.move_to(self.row.saturating_add(n), 0),
            b'F' => self.move_to(self.row.saturating_sub(n), 0),
            b'G' => self.move_to(self.row, n - 1),
            b'd' => self.move_to(n - 1, self.column),
            b'H' | b'f' => self.move_to(n - 1, csi.count_param(1) - 1),
            b'J' => self.erase_display(csi.param(0, 0)),
            b'K' => self.erase_line(csi.param(0, 0)),
            b'm' => {
                if csi.count == 0 {
                    self.pen = Pen::DEFAULT;
                }
                for index in 0..csi.count.min(MAX_PARAMS) {
                    self.pen.apply(csi.params[index]);
                }
            }
            _ => {}
        }
    }

    fn utf8_start(&mut self, byte: u8) {
        let need = match byte {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            // A stray continuation byte, or one that never starts UTF-8.
            _ => return self.put(MISSING),
        };
        let mut bytes = [0; 4];
        bytes[0] = byte;
        self.state = State::Utf8 {
            bytes,
            len: 1,
            need,
        };
    }

    fn utf8(&mut self, mut bytes: [u8; 4], len: usize, need: usize, byte: u8) {
        self.state = State::Ground;
        if !(0x80..=0xbf).contains(&byte) {
            // Cut short: one cell for what came, and the byte counts.
            self.put(MISSING);
            return self.ground(byte);
        }
        bytes[len] = byte;
        if len + 1 < need {
            self.state = State::Utf8 {
                bytes,
                len: len + 1,
                need,
            };
            return;
        }
        let glyph = core::str::from_utf8(&bytes[..need])
            .ok()
            .and_then(|text| text.chars().next())
            .and_then(cp437::from_char)
            .unwrap_or(MISSING);
        self.put(glyph);
    }

    /// Draws `glyph` at the cursor and moves it right, wrapping first if
    /// the cursor is past the last column.
    fn put(&mut self, glyph: u8) {
        if self.column >= self.columns {
            self.wrapped[self.row] = true;
            self.down_or_scroll();
            self.column = 0;
        }
        let index = self.row * self.columns + self.column;
        self.cells[index] = Cell {
            glyph,
            attribute: self.pen.attribute(),
        };
        self.mark(self.row..self.row + 1);
        self.column += 1;
    }

    /// `\n`: the logical line ends; the cursor goes to the start of the
    /// next row.
    fn new_line(&mut self) {
        self.wrapped[self.row] = false;
        self.down_or_scroll();
        self.column = 0;
    }

    fn down_or_scroll(&mut self) {
        if self.row + 1 < self.rows {
            self.row += 1;
        } else {
            self.scroll_up();
        }
    }

    /// Moves every row up by one; the top row is gone, the bottom one blank.
    fn scroll_up(&mut self) {
        self.cells.copy_within(self.columns.., 0);
        let blank = self.blank();
        let last = (self.rows - 1) * self.columns;
        self.cells[last..].fill(blank);
        self.wrapped.remove(0);
        self.wrapped.push(false);
        self.mark(0..self.rows);
    }

    fn tab(&mut self) {
        let next = (self.column / 8 + 1) * 8;
        self.column = next.min(self.columns - 1);
    }

    /// Moves to `row`, `column`, clamped to the grid.
    fn move_to(&mut self, row: usize, column: usize) {
        self.row = row.min(self.rows - 1);
        self.column = column.min(self.columns - 1);
    }

    /// The first and last row of the logical line the cursor is on.
    fn logical_line(&self) -> (usize, usize) {
        let mut first = self.row;
        while first > 0 && self.wrapped[first - 1] {
            first -= 1;
        }
        let mut last = self.row;
        while last + 1 < self.rows && self.wrapped[last] {
            last += 1;
        }
        (first, last)
    }

    /// Sets the cursor to offset `offset` within the logical line starting
    /// at row `first`.
    fn set_offset(&mut self, first: usize, offset: usize) {
        self.row = first + offset / self.columns;
        self.column = offset % self.columns;
    }

    /// `n` columns left, back across the rows of the logical line, not
    /// past its start.
    fn back(&mut self, n: usize) {
        let (first, _) = self.logical_line();
        let offset = (self.row - first) * self.columns + self.column;
        self.set_offset(first, offset.saturating_sub(n));
    }

    /// `n` columns right, on across the rows of the logical line, to past
    /// its last column at most.
    fn forward(&mut self, n: usize) {
        let (first, last) = self.logical_line();
        let offset = (self.row - first) * self.columns + self.column;
        let end = (last - first + 1) * self.columns;
        let offset = offset.saturating_add(n).min(end);
        if offset == end {
            self.row = last;
            self.column = self.columns;
        } else {
            self.set_offset(first, offset);
        }
    }

    /// `ESC [ n J`: 0 from the cursor to the end of the screen, 1 from the
    /// start to the cursor, 2 (and 3) all of it. The cursor stays.
    fn erase_display(&mut self, mode: u16) {
        let at = self.row * self.columns + self.column;
        match mode {
            0 => {
                self.erase(at..self.cells.len());
                self.wrapped[self.row..].fill(false);
            }
            1 => {
                let end = (at + 1).min(self.cells.len());
                self.erase(0..end);
                self.wrapped[..self.row].fill(false);
            }
            2 | 3 => {
                self.erase(0..self.cells.len());
                self.wrapped.fill(false);
            }
            _ => {}
        }
    }

    /// `ESC [ n K`: 0 from the cursor to the end of the line — and the rows
    /// the logical line continues on —, 1 from the start of the row to the
    /// cursor, 2 the whole row. The cursor stays.
    fn erase_line(&mut self, mode: u16) {
        let start = self.row * self.columns;
        let end = start + self.columns;
        match mode {
            0 => {
                self.erase(start + self.column.min(self.columns)..end);
                let mut row = self.row;
                while row + 1 < self.rows && self.wrapped[row] {
                    self.wrapped[row] = false;
                    row += 1;
                    self.erase(row * self.columns..(row + 1) * self.columns);
                }
                self.wrapped[row] = false;
            }
            1 => self.erase(start..(start + self.column + 1).min(end)),
            2 => {
                self.erase(start..end);
                self.wrapped[self.row] = false;
            }
            _ => {}
        }
    }

    /// Blanks the cells `range` (indexes into the grid).
    fn erase(&mut self, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        let blank = self.blank();
        let first_row = range.start / self.columns;
        let last_row = (range.end - 1) / self.columns;
        self.cells[range].fill(blank);
        self.mark(first_row..last_row + 1);
    }

    /// `ESC c`: a blank screen, the cursor at the top left, default colours.
    fn reset(&mut self) {
        let dirty = self.dirty.take();
        *self = Screen::new(self.columns, self.rows);
        self.dirty = dirty;
        self.mark(0..self.rows);
    }

    /// A blank in the current background.
    fn blank(&self) -> Cell {
        Cell::blank(self.pen.attribute())
    }

    fn mark(&mut self, rows: Range<usize>) {
        self.dirty = Some(match self.dirty.take() {
            Some(dirty) => dirty.start.min(rows.start)..dirty.end.max(rows.end),
            None => rows,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(columns: usize, rows: usize, bytes: &[u8]) -> Screen {
        let mut screen = Screen::new(columns, rows);
        screen.write(bytes);
        screen
    }

    fn lines(screen: &Screen) -> Vec<String> {
        (0..screen.rows()).map(|row| screen.row_text(row)).collect()
    }

    #[test]
    fn text_newlines_and_carriage_returns() {
        let s = screen(10, 4, b"ab\ncd\rX");
        assert_eq!(lines(&s), ["ab", "Xd", "", ""]);
        assert_eq!(s.cursor(), (1, 1));
    }

    #[test]
    fn a_new_screen_is_blank_and_dirty() {
        let mut s = Screen::new(80, 25);
        assert_eq!(s.text(), "\n".repeat(25));
        assert_eq!(s.cell(0, 0), Some(Cell::blank(DEFAULT_ATTRIBUTE)));
        assert_eq!(s.take_dirty(), Some(0..25));
        assert_eq!(s.take_dirty(), None);
        assert_eq!(s.cursor(), (0, 0));
        assert!(s.cursor_visible());
    }

    #[test]
    fn only_changed_rows_are_dirty() {
        let mut s = Screen::new(10, 5);
        s.take_dirty();
        s.write(b"\n\nab");
        assert_eq!(s.take_dirty(), Some(2..3));
        s.write(b"\x1b[1;1Hx");
        assert_eq!(s.take_dirty(), Some(0..1));
        s.write(b"\x1b[5;1Hy\x1b[2;1Hz");
        assert_eq!(s.take_dirty(), Some(1..5));
    }

    #[test]
    fn scrolls_at_the_bottom() {
        let mut s = screen(5, 3, b"1\n2\n3");
        s.take_dirty();
        s.write(b"\n4");
        assert_eq!(lines(&s), ["2", "3", "4"]);
        assert_eq!(s.cursor(), (2, 1));
        assert_eq!(s.take_dirty(), Some(0..3));
    }

    #[test]
    fn wraps_after_the_last_column() {
        let s = screen(4, 3, b"abcd");
        assert_eq!(lines(&s), ["abcd", "", ""]);
        // Past the last column; shown on it.
        assert_eq!(s.position(), (0, 4));
        assert_eq!(s.cursor(), (0, 3));
        let s = screen(4, 3, b"abcdef");
        assert_eq!(lines(&s), ["abcd", "ef", ""]);
        assert_eq!(s.cursor(), (1, 2));
        // A newline right after the last column makes one line break only.
        let s = screen(4, 3, b"abcd\nx");
        assert_eq!(lines(&s), ["abcd", "x", ""]);
        // Wrapping on the last row scrolls.
        let s = screen(4, 2, b"1\nabcdef");
        assert_eq!(lines(&s), ["abcd", "ef"]);
    }

    #[test]
    fn backspace_and_tab() {
        let s = screen(20, 2, b"abc\x08\x08X\tY\tZ");
        assert_eq!(lines(&s), ["aXc     Y       Z", ""]);
        let s = screen(20, 2, b"\x08\x08a");
        assert_eq!(lines(&s), ["a", ""]);
        // Tab stops at the last column.
        let s = screen(10, 2, b"\t\t\tx");
        assert_eq!(lines(&s), ["         x", ""]);
    }

    #[test]
    fn cursor_movement_and_clamping() {
        let mut s = Screen::new(10, 5);
        s.write(b"\x1b[3;4H");
        assert_eq!(s.cursor(), (2, 3));
        s.write(b"\x1b[A");
        assert_eq!(s.cursor(), (1, 3));
        s.write(b"\x1b[9B");
        assert_eq!(s.cursor(), (4, 3));
        s.write(b"\x1b[2D");
        assert_eq!(s.cursor(), (4, 1));
        s.write(b"\x1b[99D");
        assert_eq!(s.cursor(), (4, 0));
        s.write(b"\x1b[H");
        assert_eq!(s.cursor(), (0, 0));
        s.write(b"\x1b[99;99H");
        assert_eq!(s.cursor(), (4, 9));
        s.write(b"\x1b[;5H");
        assert_eq!(s.cursor(), (0, 4));
        s.write(b"\x1b[7G");
        assert_eq!(s.cursor(), (0, 6));
        s.write(b"\x1b[3d");
        assert_eq!(s.cursor(), (2, 6));
        s.write(b"\x1b[E");
        assert_eq!(s.cursor(), (3, 0));
        s.write(b"\x1b[2F");
        assert_eq!(s.cursor(), (1, 0));
        s.write(b"\x1b[0C");
        assert_eq!(s.cursor(), (1, 1));
    }

    #[test]
    fn erase_in_line() {
        let s = screen(10, 2, b"abcdef\x1b[3D\x1b[K");
        assert_eq!(lines(&s), ["abc", ""]);
        let s = screen(10, 2, b"abcdef\x1b[3D\x1b[1K");
        assert_eq!(lines(&s), ["    ef", ""]);
        let s = screen(10, 2, b"abcdef\x1b[3D\x1b[2K");
        assert_eq!(lines(&s), ["", ""]);
        assert_eq!(s.cursor(), (0, 3));
    }

    #[test]
    fn erase_in_display() {
        let all = b"aaaa\nbbbb\ncccc\x1b[2;3H";
        let mut s = screen(4, 3, all);
        s.write(b"\x1b[J");
        assert_eq!(lines(&s), ["aaaa", "bb", ""]);
        let mut s = screen(4, 3, all);
        s.write(b"\x1b[1J");
        assert_eq!(lines(&s), ["", "   b", "cccc"]);
        let mut s = screen(4, 3, all);
        s.write(b"\x1b[2J");
        assert_eq!(lines(&s), ["", "", ""]);
        assert_eq!(s.cursor(), (1, 2));
        // The line editor's Ctrl-L.
        let mut s = screen(4, 3, all);
        s.write(b"\x1b[H\x1b[2J$ ");
        assert_eq!(lines(&s), ["$", "", ""]);
        assert_eq!(s.cursor(), (0, 2));
    }

    #[test]
    fn colours() {
        let s = screen(
            10,
            1,
            b"a\x1b[31mb\x1b[1;44mc\x1b[7md\x1b[0me\x1b[92mf\x1b[mg",
        );
        let attributes: Vec<u8> = s.row_cells(0)[..7].iter().map(|c| c.attribute).collect();
        // a default, b red, c bright red on blue, d reversed (blue on red),
        // e default, f bright green, g default.
        assert_eq!(attributes, [0x07, 0x04, 0x1c, 0x41, 0x07, 0x0a, 0x07]);
        // Erasing uses the background.
        let s = screen(4, 1, b"\x1b[44m\x1b[2J");
        assert_eq!(s.cell(0, 3), Some(Cell::blank(0x17)));
        // The bright backgrounds would blink: never bit 7.
        let s = screen(4, 1, b"\x1b[107mx");
        assert_eq!(s.cell(0, 0).map(|c| c.attribute), Some(0x77));
    }

    #[test]
    fn cursor_visibility() {
        let mut s = Screen::new(4, 1);
        s.write(b"\x1b[?25l");
        assert!(!s.cursor_visible());
        s.write(b"\x1b[?25h");
        assert!(s.cursor_visible());
        // Other private modes are ignored.
        s.write(b"\x1b[?1049l\x1b[?7lx");
        assert!(s.cursor_visible());
        assert_eq!(lines(&s), ["x"]);
    }

    #[test]
    fn unknown_and_broken_sequences_draw_nothing() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x1b[200~x\x1b[201~", "x"),
            (b"\x1b[1 qx", "x"),
            (b"\x1b(Bx", "x"),
            (b"\x1b]x", "x"),
            (b"\x1b7x\x1b8", "x"),
            (
                b"\x1b[12345678901234567890;1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18mx",
                "x",
            ),
            (b"\x1b\x1b[Cx", " x"),
            (b"\x1b[3\rx", "x"),
            (b"\x1b[\x1b[Cx", " x"),
            (b"\x1bx", ""),
        ];
        for &(bytes, expected) in cases {
            let s = screen(40, 2, bytes);
            assert_eq!(s.row_text(0), expected, "{bytes:?}");
        }
    }

    #[test]
    fn sequences_split_anywhere() {
        let bytes = "ab\x1b[2D\x1b[1;31mé€\x1b[K".as_bytes();
        let whole = screen(10, 2, bytes);
        for split in 0..bytes.len() {
            let mut s = Screen::new(10, 2);
            s.write(&bytes[..split]);
            s.write(&bytes[split..]);
            assert_eq!(s.text(), whole.text(), "split at {split}");
            assert_eq!(s.cursor(), whole.cursor());
        }
        assert_eq!(whole.row_text(0), "é?");
    }

    #[test]
    fn utf8_and_cp437() {
        let s = screen(20, 1, "é├─█€".as_bytes());
        let glyphs: Vec<u8> = s.row_cells(0)[..5].iter().map(|c| c.glyph).collect();
        assert_eq!(glyphs, [0x82, 0xc3, 0xc4, 0xdb, b'?']);
        assert_eq!(s.row_text(0), "é├─█?");
        // Malformed: one cell per broken character, and the byte after counts.
        let s = screen(20, 1, b"\xc3a\x80b\xffc\xe2\x82d\xed\xa0\x80e");
        assert_eq!(s.row_text(0), "?a?b?c?d?e");
        // C1 controls are characters the font lacks.
        let s = screen(20, 1, b"\xc2\x9bx");
        assert_eq!(s.row_text(0), "?x");
    }

    #[test]
    fn reset() {
        let mut s = screen(4, 2, b"\x1b[31;?abc\ndef");
        s.take_dirty();
        s.write(b"\x1bcx");
        assert_eq!(lines(&s), ["x", ""]);
        assert_eq!(s.cell(0, 0).map(|c| c.attribute), Some(DEFAULT_ATTRIBUTE));
        assert_eq!(s.take_dirty(), Some(0..2));
    }

    #[test]
    fn restore_takes_cells_and_cursor() {
        let before = screen(4, 2, b"ab\ncd\x1b[32me");
        let words: Vec<u16> = (0..2)
            .flat_map(|row| before.row_cells(row).iter().map(|c| c.to_vga()))
            .collect();
        let (row, column) = before.position();
        let mut after = Screen::restore(4, 2, &words, row, column);
        assert_eq!(after.text(), before.text());
        assert_eq!(after.cursor(), (1, 3));
        assert_eq!(after.cell(1, 2).map(|c| c.attribute), Some(0x02));
        after.write(b"f");
        assert_eq!(lines(&after), ["ab", "cdef"]);
        // Out of range positions and short memory are clamped.
        let after = Screen::restore(4, 2, &[0x0741], 9, 9);
        assert_eq!(after.position(), (1, 4));
        assert_eq!(lines(&after), ["A", ""]);
    }

    #[test]
    fn cells_are_video_memory_words() {
        let cell = Cell {
            glyph: b'A',
            attribute: 0x1f,
        };
        assert_eq!(cell.to_vga(), 0x1f41);
        assert_eq!(Cell::from_vga(0x1f41), cell);
    }

    /// Feeds `keys` to the shell's line editor and its echo to a screen,
    /// as the shell and the driver do; returns the screen and the last
    /// line entered.
    fn edit(columns: usize, rows: usize, keys: &[u8]) -> (Screen, String) {
        use abide_lineedit::{Editor, Event, NoCompletion};
        let mut editor = Editor::new("$ ", 10);
        let mut s = Screen::new(columns, rows);
        s.write(&editor.start());
        let mut line = String::new();
        for &key in keys {
            let mut echo = Vec::new();
            let event = editor.feed(key, &NoCompletion, &mut echo);
            s.write(&echo);
            if let Event::Line(entered) = event {
                line = entered;
                // The shell prompts again.
                s.write(&editor.start());
            }
        }
        (s, line)
    }

    #[test]
    fn a_line_being_edited_shows_as_the_editor_holds_it() {
        let (s, line) = edit(20, 3, b"echxo\x1b[D\x7f\x1b[F hi\r");
        assert_eq!(line, "echo hi");
        assert_eq!(lines(&s), ["$ echo hi", "$", ""]);
        assert_eq!(s.cursor(), (1, 2));
    }

    #[test]
    fn a_line_longer_than_a_row_is_edited_across_rows() {
        // "$ " and 12 characters on rows of 8: rows 0 and 1 full-ish.
        let (s, _) = edit(8, 4, b"abcdefghijkl");
        assert_eq!(lines(&s), ["$ abcdef", "ghijkl", "", ""]);
        // Back across the row boundary and insert: the tail moves on.
        let (s, _) = edit(8, 4, b"abcdefghijkl\x1b[H\x1b[C\x1b[CX");
        assert_eq!(lines(&s), ["$ abXcde", "fghijkl", "", ""]);
        // Delete before the boundary: the second row shrinks.
        let (s, _) = edit(
            8,
            4,
            b"abcdefghijkl\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x7f",
        );
        assert_eq!(lines(&s), ["$ abcdfg", "hijkl", "", ""]);
        assert_eq!(s.cursor(), (0, 6));
        // Kill to the start: the continuation row is erased too.
        let (s, _) = edit(8, 4, b"abcdefghijkl\x15");
        assert_eq!(lines(&s), ["$", "", "", ""]);
        assert_eq!(s.cursor(), (0, 2));
        // Text filling a row exactly: Home then End comes back past it,
        // and the next character starts the next row.
        let (s, _) = edit(8, 4, b"abcdef\x1b[H\x1b[Fg");
        assert_eq!(lines(&s), ["$ abcdef", "g", "", ""]);
        // Backspace from the start of a continuation row.
        let (s, _) = edit(8, 4, b"abcdefg\x7f\x7fx");
        assert_eq!(lines(&s), ["$ abcdex", "", "", ""]);
        // Enter from a wrapped line starts a fresh row below it.
        let (s, line) = edit(8, 4, b"abcdefghij\r");
        assert_eq!(line, "abcdefghij");
        assert_eq!(lines(&s), ["$ abcdef", "ghij", "$", ""]);
        assert_eq!(s.cursor(), (2, 2));
    }

    #[test]
    fn history_walks_between_long_and_short_lines() {
        let (s, _) = edit(8, 6, b"abcdefghijkl\rxy\x1b[A");
        assert_eq!(
            lines(&s),
            ["$ abcdef", "ghijkl", "$ abcdef", "ghijkl", "", ""]
        );
        let (s, _) = edit(8, 6, b"abcdefghijkl\rxy\x1b[A\x1b[B");
        assert_eq!(lines(&s), ["$ abcdef", "ghijkl", "$ xy", "", "", ""]);
        assert_eq!(s.cursor(), (2, 4));
        // Ctrl-L clears the screen and draws the line again at the top.
        let (s, _) = edit(8, 6, b"abc\rxy\x0c");
        assert_eq!(lines(&s), ["$ xy", "", "", "", "", ""]);
    }

    #[test]
    fn moving_left_stops_at_the_start_of_an_unwrapped_row() {
        let mut s = screen(4, 3, b"abcd\nef");
        s.write(b"\x1b[9D");
        assert_eq!(s.cursor(), (1, 0));
        s.write(b"\x08");
        assert_eq!(s.cursor(), (1, 0));
        // Forward stops past the end of the logical line.
        s.write(b"\x1b[9C");
        assert_eq!(s.position(), (1, 4));
    }
}
