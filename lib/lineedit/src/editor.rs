//! The editor: the line being edited, its cursor, the history walk and
//! completion state, and the echo each key produces.
//!
//! The echo assumes a VT100-compatible terminal whose cursor sits right after
//! the prompt and line as last drawn, and counts one column per character.
//! It uses only `\r`, `\n`, `\x1b[K` (erase to the end of the line),
//! `\x1b[<n>D` / `\x1b[<n>C` (cursor left / right) and, for Ctrl-L,
//! `\x1b[H\x1b[2J` (clear the screen). Lines longer than the terminal is wide
//! are not handled specially: moving the cursor across a wrap is up to the
//! terminal.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem;
use core::ops::Range;

use crate::complete::{common_prefix, Completer};
use crate::history::History;
use crate::input::{Decoder, Key};

/// The longest line the editor accepts, in bytes; keys that would make it
/// longer are dropped.
pub const MAX_LINE_BYTES: usize = 4096;

/// What a byte fed to the [`Editor`] completed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Nothing for the caller to do beyond sending the echo.
    None,
    /// Enter was pressed: the line entered (without its line ending).
    Line(String),
    /// Ctrl-D on an empty line: the user is done.
    Eof,
    /// Ctrl-C: the line was discarded.
    Interrupt,
}

/// A line editor for a serial terminal, as a state machine without I/O.
///
/// The caller prints [`Editor::start`]'s bytes, then feeds each byte read
/// from the terminal to [`Editor::feed`] and sends the echo it produces back
/// to the terminal. When `feed` returns [`Event::Line`] (or `Eof`,
/// `Interrupt`) the editor has already moved to a new line; the caller prints
/// the command's output and calls `start` again for the next prompt.
#[derive(Clone, Debug)]
pub struct Editor {
    prompt: String,
    /// The line being edited.
    line: String,
    /// The cursor as a byte offset into `line`, on a character boundary.
    cursor: usize,
    decoder: Decoder,
    history: History,
    /// While walking the history: how many steps back from the newest line.
    browsing: Option<usize>,
    /// While walking the history: the line being edited before the walk.
    draft: String,
    /// The last byte was a `\r` that ended a line, so a `\n` now is the
    /// second half of a `\r\n`.
    after_return: bool,
    /// The last key was a Tab that left several candidates: another Tab
    /// lists them.
    tab_pending: bool,
}

impl Editor {
    /// An editor that prints `prompt` and remembers up to
    /// `history_capacity` lines.
    pub fn new(prompt: &str, history_capacity: usize) -> Editor {
        Editor {
            prompt: String::from(prompt),
            line: String::new(),
            cursor: 0,
            decoder: Decoder::default(),
            history: History::new(history_capacity),
            browsing: None,
            draft: String::new(),
            after_return: false,
            tab_pending: false,
        }
    }

    /// The bytes that show the prompt for a new line: the prompt, and the
    /// line as edited so far (normally empty, unless bytes were fed since
    /// the last line ended) with the cursor placed in it.
    pub fn start(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.draw(&mut out);
        out
    }

    /// Takes one byte from the terminal, appends its echo to `out`, and
    /// says whether it completed a line. `completer` answers Tab.
    pub fn feed(&mut self, byte: u8, completer: &dyn Completer, out: &mut Vec<u8>) -> Event {
        let after_return = mem::take(&mut self.after_return);
        let Some(key) = self.decoder.feed(byte) else {
            return Event::None;
        };
        if key != Key::Tab {
            self.tab_pending = false;
        }
        match key {
            Key::Char(c) => self.insert(c.encode_utf8(&mut [0; 4]), out),
            Key::Return => {
                self.after_return = true;
                return self.enter(out);
            }
            Key::LineFeed if after_return => {}
            Key::LineFeed => return self.enter(out),
            Key::Interrupt => return self.interrupt(out),
            Key::CtrlD if self.line.is_empty() => {
                out.extend_from_slice(b"\r\n");
                return Event::Eof;
            }
            Key::CtrlD | Key::Delete => self.delete(self.cursor..self.next_boundary(), out),
            Key::Backspace => self.delete(self.previous_boundary()..self.cursor, out),
            Key::KillToStart => self.delete(0..self.cursor, out),
            Key::KillToEnd => self.delete(self.cursor..self.line.len(), out),
            Key::KillWord => self.delete(self.word_before_cursor()..self.cursor, out),
            Key::Left => self.move_to(self.previous_boundary(), out),
            Key::Right => self.move_to(self.next_boundary(), out),
            Key::Home => self.move_to(0, out),
            Key::End => self.move_to(self.line.len(), out),
            Key::Up => self.history_back(out),
            Key::Down => self.history_forward(out),
            Key::Tab => self.complete(completer, out),
            Key::Redraw => {
                out.extend_from_slice(b"\x1b[H\x1b[2J");
                self.draw(out);
            }
        }
        Event::None
    }

    /// The line as edited so far.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The cursor, as a byte offset into [`Editor::line`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Changes the prompt, from the next [`Editor::start`] on.
    pub fn set_prompt(&mut self, prompt: &str) {
        self.prompt = String::from(prompt);
    }

    /// The history, oldest line first.
    pub fn history(&self) -> impl Iterator<Item = &str> {
        self.history.iter()
    }

    /// Adds `line` to the history as if it had been entered (blank lines and
    /// repeats of the newest line are not added).
    pub fn add_history(&mut self, line: &str) {
        self.history.push(line);
    }

    /// Enter: the line is done.
    fn enter(&mut self, out: &mut Vec<u8>) -> Event {
        out.extend_from_slice(b"\r\n");
        let line = self.finish_line();
        self.history.push(&line);
        Event::Line(line)
    }

    /// Ctrl-C: the line is dropped.
    fn interrupt(&mut self, out: &mut Vec<u8>) -> Event {
        out.extend_from_slice(b"^C\r\n");
        self.finish_line();
        Event::Interrupt
    }

    /// Empties the editor for the next line and returns the line.
    fn finish_line(&mut self) -> String {
        self.cursor = 0;
        self.browsing = None;
        self.draft.clear();
        mem::take(&mut self.line)
    }

    /// Inserts `text` at the cursor, unless the line would grow too long.
    fn insert(&mut self, text: &str, out: &mut Vec<u8>) {
        if self.line.len() + text.len() > MAX_LINE_BYTES {
            return;
        }
        self.line.insert_str(self.cursor, text);
        self.cursor += text.len();
        let tail = &self.line[self.cursor..];
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(tail.as_bytes());
        move_left(out, columns(tail));
    }

    /// Deletes `range` of the line, which starts or ends at the cursor, and
    /// leaves the cursor at its start.
    fn delete(&mut self, range: Range<usize>, out: &mut Vec<u8>) {
        if range.is_empty() {
            return;
        }
        move_left(out, columns(&self.line[range.start..self.cursor]));
        self.cursor = range.start;
        self.line.replace_range(range, "");
        // Redraw what followed the deleted text, and erase the rest.
        let tail = &self.line[self.cursor..];
        out.extend_from_slice(tail.as_bytes());
        out.extend_from_slice(b"\x1b[K");
        move_left(out, columns(tail));
    }

    /// Moves the cursor to byte offset `to`.
    fn move_to(&mut self, to: usize, out: &mut Vec<u8>) {
        if to < self.cursor {
            move_left(out, columns(&self.line[to..self.cursor]));
        } else {
            move_right(out, columns(&self.line[self.cursor..to]));
        }
        self.cursor = to;
    }

    /// Replaces the whole line with `text`, the cursor at its end.
    fn replace_line(&mut self, text: String, out: &mut Vec<u8>) {
        move_left(out, columns(&self.line[..self.cursor]));
        self.line = text;
        self.cursor = self.line.len();
        out.extend_from_slice(self.line.as_bytes());
        out.extend_from_slice(b"\x1b[K");
    }

    /// Writes the prompt and the line, and places the cursor.
    fn draw(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.prompt.as_bytes());
        out.extend_from_slice(self.line.as_bytes());
        move_left(out, columns(&self.line[self.cursor..]));
    }

    /// Up: the line before the one shown, keeping the line being edited
    /// when the walk starts.
    fn history_back(&mut self, out: &mut Vec<u8>) {
        let back = self.browsing.map_or(0, |back| back + 1);
        let Some(entry) = self.history.newest(back) else {
            return;
        };
        let entry = String::from(entry);
        if self.browsing.is_none() {
            self.draft = self.line.clone();
        }
        self.browsing = Some(back);
        self.replace_line(entry, out);
    }

    /// Down: the line after the one shown; past the newest, the line that
    /// was being edited.
    fn history_forward(&mut self, out: &mut Vec<u8>) {
        let text = match self.browsing {
            None => return,
            Some(0) => {
                self.browsing = None;
                mem::take(&mut self.draft)
            }
            Some(back) => {
                self.browsing = Some(back - 1);
                String::from(self.history.newest(back - 1).unwrap_or_default())
            }
        };
        self.replace_line(text, out);
    }

    /// Tab: inserts what all candidates share; a unique candidate is
    /// completed and followed by a space; a second Tab with nothing to
    /// insert lists the candidates. Candidates that do not start with the
    /// word, or hold control characters, are ignored; repeats are listed
    /// once.
    fn complete(&mut self, completer: &dyn Completer, out: &mut Vec<u8>) {
        let pending = mem::take(&mut self.tab_pending);
        let completion = completer.complete(&self.line, self.cursor);
        let start = completion.start;
        if start > self.cursor || !self.line.is_char_boundary(start) {
            return;
        }
        let word = &self.line[start..self.cursor];
        let mut candidates: Vec<String> = completion
            .candidates
            .into_iter()
            .filter(|candidate| {
                candidate.starts_with(word) && !candidate.contains(char::is_control)
            })
            .collect();
        candidates.dedup();
        // Every candidate starts with the word, so their common prefix does.
        let prefix = common_prefix(&candidates);
        let rest = String::from(prefix.get(word.len()..).unwrap_or_default());
        match candidates.len() {
            0 => {}
            1 => {
                let mut rest = rest;
                if !self.line[self.cursor..].starts_with(' ') {
                    rest.push(' ');
                }
                self.insert(&rest, out);
            }
            _ if !rest.is_empty() => {
                self.insert(&rest, out);
                self.tab_pending = true;
            }
            _ => {
                if pending {
                    self.list(&candidates, out);
                }
                self.tab_pending = true;
            }
        }
    }

    /// Prints `candidates` on a line of their own, then the prompt and line
    /// again.
    fn list(&self, candidates: &[String], out: &mut Vec<u8>) {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(candidates.join(" ").as_bytes());
        out.extend_from_slice(b"\r\n");
        self.draw(out);
    }

    /// The byte offset of the character before the cursor (0 at the start).
    fn previous_boundary(&self) -> usize {
        self.line[..self.cursor]
            .char_indices()
            .next_back()
            .map_or(0, |(at, _)| at)
    }

    /// The byte offset after the character at the cursor (the line's length
    /// at the end).
    fn next_boundary(&self) -> usize {
        self.line[self.cursor..]
            .chars()
            .next()
            .map_or(self.cursor, |c| self.cursor + c.len_utf8())
    }

    /// Where Ctrl-W's deletion starts: before the spaces before the cursor
    /// and the word before them.
    fn word_before_cursor(&self) -> usize {
        let before = self.line[..self.cursor].trim_end_matches([' ', '\t']);
        before.rfind([' ', '\t']).map_or(0, |space| space + 1)
    }
}

/// Width on the terminal, counting one column per character.
fn columns(text: &str) -> usize {
    text.chars().count()
}

fn move_left(out: &mut Vec<u8>, columns: usize) {
    if columns > 0 {
        out.extend_from_slice(format!("\x1b[{columns}D").as_bytes());
    }
}

fn move_right(out: &mut Vec<u8>, columns: usize) {
    if columns > 0 {
        out.extend_from_slice(format!("\x1b[{columns}C").as_bytes());
    }
}
