//! Helpers shared by the line editor's tests: an editor with a fixed list of
//! commands to complete, fed byte strings, and the key sequences.
#![allow(dead_code)]

use abide_lineedit::*;

pub const PROMPT: &str = "abide> ";
pub const COMMANDS: Commands = Commands(&["help", "mem", "poweroff", "ps", "spawn", "spawner"]);

pub const UP: &str = "\x1b[A";
pub const DOWN: &str = "\x1b[B";
pub const RIGHT: &str = "\x1b[C";
pub const LEFT: &str = "\x1b[D";
pub const HOME: &str = "\x1b[H";
pub const DELETE: &str = "\x1b[3~";

/// Completes the space-delimited word before the cursor from a fixed list.
pub struct Commands(pub &'static [&'static str]);

impl Completer for Commands {
    fn complete(&self, line: &str, cursor: usize) -> Completion {
        let start = word_start(line, cursor);
        Completion {
            start,
            candidates: complete_words(&line[start..cursor], self.0),
        }
    }
}

pub fn editor() -> Editor {
    Editor::new(PROMPT, 10)
}

/// Feeds `input` with [`COMMANDS`] as completer: the events other than
/// [`Event::None`], and the echo as text.
pub fn feed(editor: &mut Editor, input: &str) -> (Vec<Event>, String) {
    feed_bytes(editor, input.as_bytes(), &COMMANDS)
}

pub fn feed_bytes(
    editor: &mut Editor,
    input: &[u8],
    completer: &dyn Completer,
) -> (Vec<Event>, String) {
    let mut out = Vec::new();
    let mut events = Vec::new();
    for &byte in input {
        match editor.feed(byte, completer, &mut out) {
            Event::None => {}
            event => events.push(event),
        }
    }
    (events, String::from_utf8(out).expect("echo is UTF-8"))
}

/// The echo of `input` fed to a fresh editor, which must not end a line.
pub fn echo_of(input: &str) -> String {
    let (events, echo) = feed(&mut editor(), input);
    assert_eq!(events, [], "{input:?}");
    echo
}

/// The line being edited after `input` is fed to a fresh editor.
pub fn edited(input: &str) -> String {
    let mut editor = editor();
    let (events, _) = feed(&mut editor, input);
    assert_eq!(events, [], "{input:?}");
    String::from(editor.line())
}

pub fn line(text: &str) -> Event {
    Event::Line(String::from(text))
}

pub fn repeat(key: &str, times: usize) -> String {
    key.repeat(times)
}

pub fn editor_with(text: &str, keys: &[&str]) -> Editor {
    let mut editor = editor();
    feed(&mut editor, text);
    feed(&mut editor, &keys.concat());
    editor
}
