//! The logic of Abide's VGA text console, as pure state machines.
//!
//! The `vga` driver (`user/drivers/vga`) shows a console on the VGA text
//! screen and takes its input from the PS/2 keyboard, so that a person at a
//! machine's (or QEMU's) screen gets a shell as a person at the serial line
//! does. The programs on a console speak to a terminal: the shell's line
//! editor (`abide_lineedit`) writes VT100/ANSI bytes and expects the bytes
//! a terminal sends for each key. This crate is everything in between that
//! needs no hardware, so that it is tested on the host:
//!
//! - [`Screen`]: a grid of character cells with a cursor that interprets
//!   what programs write (`\n`, `\r`, backspace, tab, UTF-8, the escape
//!   sequences the line editor uses, colours), wraps and scrolls, and says
//!   which rows changed; the driver copies them into video memory.
//! - [`Keyboard`]: scancodes in, terminal bytes out (printable characters,
//!   Enter as `\r`, Backspace as DEL, arrows as `ESC [ A`..., Ctrl-letter
//!   as control characters), decoded with the `pc-keyboard` crate.
//! - [`Journal`]: the few bytes the driver keeps in its stash, memory that
//!   outlives its restarts: where the cursor was, and the requests it had
//!   taken but not answered, so a new instance can answer them `Restarted`
//!   and the clients ask again.
//!
//! The crate is `no_std` (it needs `alloc`), has no `unsafe`, and is
//! unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod cp437;
mod journal;
mod keyboard;
mod screen;

pub use journal::{Journal, Noted, JOURNAL_BYTES};
pub use keyboard::{layout_names, Keyboard};
pub use screen::{Cell, Screen, DEFAULT_ATTRIBUTE};
