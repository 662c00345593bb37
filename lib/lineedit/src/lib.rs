//! A line editor for Abide's serial console, as a pure state machine.
//!
//! The shell reads its commands from a serial line, one byte at a time, from
//! a terminal that expects the program to echo what is typed. This crate
//! holds everything between those bytes and the command line: inserting
//! and deleting at a cursor, the arrow, Home/End and Delete keys' escape
//! sequences, the Emacs-style control keys, a bounded history walked with
//! Up and Down, and tab completion from candidates the shell supplies. It
//! does no I/O: the [`Editor`] takes one byte and returns the exact bytes to
//! echo (VT100/ANSI) and whether a line is complete, so it is tested on the
//! host by feeding it byte strings.
//!
//! ```text
//! let mut editor = Editor::new("abide> ", 100);
//! send(&editor.start());
//! loop {
//!     let mut echo = Vec::new();
//!     let event = editor.feed(read_byte(), &completer, &mut echo);
//!     send(&echo);
//!     match event {
//!         Event::Line(line) => { run(&line); send(&editor.start()); }
//!         Event::Interrupt => send(&editor.start()),
//!         Event::Eof => break,
//!         Event::None => {}
//!     }
//! }
//! ```
//!
//! Keys: printable ASCII and UTF-8 characters insert; Enter is `\r` or `\n`
//! (a `\r\n` pair counts once, so piped input such as
//! `printf 'ps\npoweroff\n'` works as typed input does); Backspace (0x7f,
//! 0x08), Delete (`ESC [ 3 ~`), Left/Right (`ESC [ D`/`C`, Ctrl-B/F),
//! Home/End (`ESC [ H`/`F`, `ESC [ 1 ~`/`4 ~`, `ESC O H`/`F`, Ctrl-A/E),
//! Up/Down (`ESC [ A`/`B`, Ctrl-P/N); Ctrl-U kills to the start of the line,
//! Ctrl-K to the end, Ctrl-W the word before the cursor; Ctrl-L clears the
//! screen and redraws; Ctrl-C discards the line; Ctrl-D ends input on an
//! empty line and deletes at the cursor otherwise; Tab completes. Other
//! control characters are ignored, and unknown escape sequences are
//! consumed whole and ignored.
//!
//! The crate is `no_std` (it needs `alloc`), has no `unsafe` and no
//! dependencies, and is unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod complete;
mod editor;
mod history;
mod input;

pub use complete::{
    common_prefix, complete_words, word_start, Completer, Completion, NoCompletion,
};
pub use editor::{Editor, Event, MAX_LINE_BYTES};
