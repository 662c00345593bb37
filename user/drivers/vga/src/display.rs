//! The VGA text screen's hardware: video memory and the cursor registers.
//!
//! [`abide_textscreen::Screen`] decides what the screen shows; this module
//! is the only place that touches the card. `init` grants the 4 KiB of
//! video memory at 0xb8000 (`vga-text-memory`, mapped uncached) and the CRT
//! controller's index and data ports 0x3d4..=0x3d5 (`vga-crt-ports`). The
//! text mode (80 × 25, 16 colours) is the one the BIOS set; a cell is a
//! little-endian word, the CP437 glyph in the low byte and the colours in
//! the high one.

use alloc::vec::Vec;

use abide_abi::syscall::{Error, Handle};
use abide_rt::syscall::{self, MAP_WRITE};
use abide_textscreen::Screen;

/// Columns of the text mode.
pub const COLUMNS: usize = 80;
/// Rows of the text mode.
pub const ROWS: usize = 25;
/// Cells in video memory that the screen uses.
const CELLS: usize = COLUMNS * ROWS;
/// Words the granted video memory holds (4 KiB).
const WORDS: usize = 4096 / 2;
const _: () = assert!(CELLS <= WORDS);

const CRT_INDEX: u16 = 0x3d4;
const CRT_DATA: u16 = 0x3d5;
/// Cursor start register: bit 5 hides the cursor.
const CURSOR_START: u32 = 0x0a;
const CURSOR_DISABLE: u32 = 0x20;
/// Cursor location, high and low byte of the cell index.
const CURSOR_HIGH: u32 = 0x0e;
const CURSOR_LOW: u32 = 0x0f;

/// Video memory and the cursor, as last shown.
pub struct Display {
    memory: *mut u16,
    crt: Handle,
    /// The cursor's cell index and visibility as last set.
    cursor: Option<(usize, bool)>,
}

impl Display {
    /// Maps the video memory.
    pub fn new(memory: Handle, crt: Handle) -> Result<Display, Error> {
        let memory = syscall::memory_map(memory, MAP_WRITE)?.cast::<u16>();
        Ok(Display {
            memory,
            crt,
            cursor: None,
        })
    }

    /// The cells video memory holds now, row after row (what a new
    /// instance takes over from its predecessor).
    pub fn cells(&self) -> Vec<u16> {
        (0..CELLS)
            // SAFETY: `index` < CELLS <= WORDS: inside the mapped 4 KiB,
            // which stays mapped for the life of the process; device
            // memory is read with volatile reads only.
            .map(|index| unsafe { self.memory.add(index).read_volatile() })
            .collect()
    }

    /// Copies the rows `screen` changed into video memory and places the
    /// cursor.
    pub fn show(&mut self, screen: &mut Screen) -> Result<(), Error> {
        if let Some(rows) = screen.take_dirty() {
            for row in rows {
                for (column, cell) in screen.row_cells(row).iter().enumerate() {
                    self.put(row * COLUMNS + column, cell.to_vga());
                }
            }
        }
        let (row, column) = screen.cursor();
        let cursor = (row * COLUMNS + column, screen.cursor_visible());
        if self.cursor != Some(cursor) {
            self.set_cursor(cursor.0, cursor.1)?;
            self.cursor = Some(cursor);
        }
        Ok(())
    }

    fn put(&mut self, index: usize, word: u16) {
        if index < CELLS {
            // SAFETY: inside the mapped video memory (checked above), which
            // stays mapped for the life of the process; device memory is
            // written with volatile writes only.
            unsafe { self.memory.add(index).write_volatile(word) }
        }
    }

    fn set_cursor(&self, index: usize, visible: bool) -> Result<(), Error> {
        let start = self.crt_read(CURSOR_START)?;
        let start = if visible {
            start & !CURSOR_DISABLE
        } else {
            start | CURSOR_DISABLE
        };
        self.crt_write(CURSOR_START, start)?;
        let index = index as u32;
        self.crt_write(CURSOR_HIGH, (index >> 8) & 0xff)?;
        self.crt_write(CURSOR_LOW, index & 0xff)
    }

    fn crt_read(&self, register: u32) -> Result<u32, Error> {
        syscall::ioport_write(self.crt, CRT_INDEX, 1, register)?;
        syscall::ioport_read(self.crt, CRT_DATA, 1)
    }

    fn crt_write(&self, register: u32, value: u32) -> Result<(), Error> {
        syscall::ioport_write(self.crt, CRT_INDEX, 1, register)?;
        syscall::ioport_write(self.crt, CRT_DATA, 1, value)
    }
}
