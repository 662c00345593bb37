//! The keyboard: PS/2 scancodes in, the bytes a terminal sends out.
//!
//! The programs on a console read what a terminal would send them: text in
//! UTF-8 and, for the keys that are not text, the control characters and
//! VT100/ANSI escape sequences the shell's line editor (`abide_lineedit`)
//! decodes. [`Keyboard`] takes the bytes the i8042 controller delivers —
//! scancode set 1, which the controller produces from the keyboard's set 2
//! when its translation is on, as the driver sets it — decodes them with
//! the `pc-keyboard` crate (make and break codes, `E0` prefixes, Shift,
//! Ctrl, Caps Lock and Num Lock, the layout) and maps each key press:
//!
//! | key | bytes |
//! |---|---|
//! | a character (with Shift, Caps Lock, AltGr as the layout says) | its UTF-8 |
//! | Enter, keypad Enter | `\r` |
//! | Backspace | DEL (0x7f) |
//! | Tab | `\t` |
//! | Ctrl + a letter | its control character: Ctrl-C 0x03, Ctrl-D 0x04, ... |
//! | Up, Down, Right, Left | `ESC [ A`, `B`, `C`, `D` |
//! | Home, End | `ESC [ H`, `ESC [ F` |
//! | Insert, Delete, Page Up, Page Down | `ESC [ 2 ~`, `3 ~`, `5 ~`, `6 ~` |
//! | Escape, function keys, modifiers alone | nothing |
//!
//! Escape sends nothing because a lone ESC would make the line editor take
//! the next key as the end of an escape sequence and drop it. The
//! keyboard's own replies to commands (ACK 0xFA, Resend 0xFE) are not keys
//! and are dropped; other codes it does not know are ignored.

use alloc::vec::Vec;

use pc_keyboard::layouts::{
    AnyLayout, Azerty, Colemak, DVP104Key, De105Key, Dvorak104Key, FiSe105Key, Jis109Key, No105Key,
    Uk105Key, Us104Key,
};
use pc_keyboard::{DecodedKey, HandleControl, KeyCode, PS2Keyboard, ScancodeSet1};

/// The keyboard's acknowledgement of a command.
const ACK: u8 = 0xfa;
/// The keyboard asks for a command again.
const RESEND: u8 = 0xfe;

/// The layouts [`Keyboard::with_layout`] knows, by name.
const LAYOUTS: &[&str] = &[
    "us",
    "uk",
    "de",
    "fr",
    "no",
    "fi-se",
    "jis",
    "colemak",
    "dvorak",
    "dvorak-programmer",
];

/// The names of the keyboard layouts, for `--layout`.
pub fn layout_names() -> &'static [&'static str] {
    LAYOUTS
}

fn layout(name: &str) -> Option<AnyLayout> {
    Some(match name {
        "us" => AnyLayout::Us104Key(Us104Key),
        "uk" => AnyLayout::Uk105Key(Uk105Key),
        "de" => AnyLayout::De105Key(De105Key),
        "fr" => AnyLayout::Azerty(Azerty),
        "no" => AnyLayout::No105Key(No105Key),
        "fi-se" => AnyLayout::FiSe105Key(FiSe105Key),
        "jis" => AnyLayout::Jis109Key(Jis109Key),
        "colemak" => AnyLayout::Colemak(Colemak),
        "dvorak" => AnyLayout::Dvorak104Key(Dvorak104Key),
        "dvorak-programmer" => AnyLayout::DVP104Key(DVP104Key),
        _ => return None,
    })
}

/// Turns scancodes (set 1) into terminal bytes.
pub struct Keyboard {
    decoder: PS2Keyboard<AnyLayout, ScancodeSet1>,
}

impl Default for Keyboard {
    fn default() -> Keyboard {
        Keyboard::new()
    }
}

impl core::fmt::Debug for Keyboard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keyboard")
            .field("modifiers", self.decoder.get_modifiers())
            .finish()
    }
}

impl Keyboard {
    /// A keyboard with the US layout.
    pub fn new() -> Keyboard {
        Keyboard::from_layout(AnyLayout::Us104Key(Us104Key))
    }

    /// A keyboard with the layout called `name` (one of
    /// [`layout_names`]), or `None` if there is no such layout.
    pub fn with_layout(name: &str) -> Option<Keyboard> {
        layout(name).map(Keyboard::from_layout)
    }

    fn from_layout(layout: AnyLayout) -> Keyboard {
        Keyboard {
            decoder: PS2Keyboard::new(
                ScancodeSet1::new(),
                layout,
                HandleControl::MapLettersToUnicode,
            ),
        }
    }

    /// Takes one byte from the controller and appends the bytes of the key
    /// it completes, if any, to `out`.
    pub fn feed(&mut self, scancode: u8, out: &mut Vec<u8>) {
        if scancode == ACK || scancode == RESEND {
            return;
        }
        let Ok(Some(event)) = self.decoder.add_byte(scancode) else {
            return;
        };
        let Some(key) = self.decoder.process_keyevent(event) else {
            return;
        };
        match key {
            DecodedKey::Unicode(c) => unicode(c, out),
            DecodedKey::RawKey(code) => raw(code, out),
        }
    }
}

/// The bytes for a key the layout turned into a character.
fn unicode(c: char, out: &mut Vec<u8>) {
    match c {
        // Enter (and Ctrl-J, Ctrl-M): what a terminal sends.
        '\n' | '\r' => out.push(b'\r'),
        // Backspace (and Ctrl-H): DEL, as terminals send it.
        '\u{8}' => out.push(0x7f),
        // The layouts give DEL for Delete (and keypad `.` without Num Lock).
        '\u{7f}' => out.extend_from_slice(b"\x1b[3~"),
        '\u{1b}' => {}
        c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
    }
}

/// The bytes for a key that is not a character.
fn raw(code: KeyCode, out: &mut Vec<u8>) {
    let bytes: &[u8] = match code {
        KeyCode::ArrowUp => b"\x1b[A",
        KeyCode::ArrowDown => b"\x1b[B",
        KeyCode::ArrowRight => b"\x1b[C",
        KeyCode::ArrowLeft => b"\x1b[D",
        KeyCode::Home => b"\x1b[H",
        KeyCode::End => b"\x1b[F",
        KeyCode::Insert => b"\x1b[2~",
        KeyCode::PageUp => b"\x1b[5~",
        KeyCode::PageDown => b"\x1b[6~",
        _ => b"",
    };
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Set 1 make codes; a break code is the make code | 0x80.
    const SHIFT: u8 = 0x2a;
    const CTRL: u8 = 0x1d;
    const CAPS: u16 = 0x3a;
    const NUM_LOCK: u16 = 0x45;

    /// Presses and releases each key of `keys` (make codes, `E0`-prefixed
    /// ones as `0xe0XX`).
    fn taps(keys: &[u16]) -> Vec<u8> {
        let mut scancodes = Vec::new();
        for &key in keys {
            let (prefix, code) = ((key >> 8) as u8, key as u8);
            for code in [code, code | 0x80] {
                if prefix != 0 {
                    scancodes.push(prefix);
                }
                scancodes.push(code);
            }
        }
        scancodes
    }

    fn bytes(scancodes: &[u8]) -> Vec<u8> {
        let mut keyboard = Keyboard::new();
        let mut out = Vec::new();
        for &scancode in scancodes {
            keyboard.feed(scancode, &mut out);
        }
        out
    }

    #[test]
    fn letters_digits_and_punctuation() {
        // e c h o space v g a - o k
        let keys = [
            0x12, 0x2e, 0x23, 0x18, 0x39, 0x2f, 0x22, 0x1e, 0x0c, 0x18, 0x25,
        ];
        assert_eq!(bytes(&taps(&keys)), b"echo vga-ok");
        // 1 2 0 = [ ] ; ' ` \ , . /
        let keys = [
            0x02, 0x03, 0x0b, 0x0d, 0x1a, 0x1b, 0x27, 0x28, 0x29, 0x2b, 0x33, 0x34, 0x35,
        ];
        assert_eq!(bytes(&taps(&keys)), b"120=[];'`\\,./");
    }

    #[test]
    fn shift_and_caps_lock() {
        let mut scancodes = vec![SHIFT];
        scancodes.extend(taps(&[0x2f, 0x02, 0x0c]));
        scancodes.push(SHIFT | 0x80);
        scancodes.extend(taps(&[0x2f]));
        assert_eq!(bytes(&scancodes), b"V!_v");
        let mut scancodes = taps(&[CAPS, 0x2f, 0x02]);
        scancodes.extend(taps(&[CAPS, 0x2f]));
        assert_eq!(bytes(&scancodes), b"V1v");
    }

    #[test]
    fn editing_keys_are_what_the_line_editor_reads() {
        let cases: &[(u16, &[u8])] = &[
            (0x1c, b"\r"),
            (0xe01c, b"\r"),
            (0x0e, b"\x7f"),
            (0x0f, b"\t"),
            (0xe048, b"\x1b[A"),
            (0xe050, b"\x1b[B"),
            (0xe04d, b"\x1b[C"),
            (0xe04b, b"\x1b[D"),
            (0xe047, b"\x1b[H"),
            (0xe04f, b"\x1b[F"),
            (0xe052, b"\x1b[2~"),
            (0xe053, b"\x1b[3~"),
            (0xe049, b"\x1b[5~"),
            (0xe051, b"\x1b[6~"),
            // Escape and F1 send nothing.
            (0x01, b""),
            (0x3b, b""),
        ];
        for &(key, expected) in cases {
            assert_eq!(bytes(&taps(&[key])), expected, "{key:#06x}");
        }
    }

    #[test]
    fn the_line_editor_decodes_every_key_as_meant() {
        use abide_lineedit::{Editor, Event, NoCompletion};
        // "echo vga-kx", Backspace, Left, "o", End, Enter.
        let keys = [
            0x12, 0x2e, 0x23, 0x18, 0x39, 0x2f, 0x22, 0x1e, 0x0c, 0x25, 0x2d, 0x0e, 0xe04b, 0x18,
            0xe04f, 0x1c,
        ];
        let mut editor = Editor::new("$ ", 10);
        let mut echo = Vec::new();
        let mut lines = Vec::new();
        for byte in bytes(&taps(&keys)) {
            if let Event::Line(line) = editor.feed(byte, &NoCompletion, &mut echo) {
                lines.push(line);
            }
        }
        assert_eq!(lines, ["echo vga-ok"]);
    }

    #[test]
    fn control_letters() {
        for (key, expected) in [(0x2e, 0x03), (0x20, 0x04), (0x16, 0x15), (0x1e, 0x01)] {
            let mut scancodes = vec![CTRL];
            scancodes.extend(taps(&[key]));
            scancodes.push(CTRL | 0x80);
            assert_eq!(bytes(&scancodes), [expected], "{key:#04x}");
        }
        // The right Ctrl (E0 1D) too.
        let mut scancodes = vec![0xe0, CTRL];
        scancodes.extend(taps(&[0x2e]));
        scancodes.extend([0xe0, CTRL | 0x80]);
        assert_eq!(bytes(&scancodes), [0x03]);
        // Released: plain letters again.
        let mut scancodes = vec![CTRL, CTRL | 0x80];
        scancodes.extend(taps(&[0x2e]));
        assert_eq!(bytes(&scancodes), b"c");
    }

    #[test]
    fn the_keypad_follows_num_lock() {
        // Num Lock starts on: digits.
        assert_eq!(bytes(&taps(&[0x48, 0x4b, 0x53, 0x37, 0x4e])), b"84.*+");
        // Off: arrows and Delete.
        let mut scancodes = taps(&[NUM_LOCK]);
        scancodes.extend(taps(&[0x48, 0x4b, 0x53]));
        assert_eq!(bytes(&scancodes), b"\x1b[A\x1b[D\x1b[3~");
    }

    #[test]
    fn replies_and_unknown_codes_are_dropped() {
        let mut scancodes = vec![ACK, RESEND, 0x00, 0x7f, 0xff, 0xe0, 0x7a, 0xe1, 0x00];
        scancodes.extend(taps(&[0x1e]));
        assert_eq!(bytes(&scancodes), b"a");
    }

    #[test]
    fn layouts() {
        assert_eq!(layout_names().len(), LAYOUTS.len());
        for name in layout_names() {
            assert!(Keyboard::with_layout(name).is_some(), "{name}");
        }
        assert!(Keyboard::with_layout("klingon").is_none());
        // Y and Z swap places on a German keyboard; Shift-2 is `"`.
        let Some(mut keyboard) = Keyboard::with_layout("de") else {
            panic!("no de layout");
        };
        let mut out = Vec::new();
        for scancode in taps(&[0x15, 0x2c]) {
            keyboard.feed(scancode, &mut out);
        }
        for scancode in [SHIFT, 0x03, 0x83, SHIFT | 0x80] {
            keyboard.feed(scancode, &mut out);
        }
        assert_eq!(out, "zy\"".as_bytes());
    }
}
