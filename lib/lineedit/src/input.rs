//! Decoding the terminal's bytes into keys: control characters, VT100/ANSI
//! escape sequences and UTF-8 characters, one byte at a time.
//!
//! A serial line delivers a key as one to several bytes, possibly split
//! across reads, so the [`Decoder`] keeps the partial sequence between
//! bytes. Escape sequences it does not know are consumed whole and dropped,
//! never turned into text; so are malformed UTF-8 sequences.

/// A key the editor acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A character to insert (never a control character).
    Char(char),
    /// Carriage return (`\r`, Enter on a terminal).
    Return,
    /// Line feed (`\n`, Enter in piped input or after `\r`).
    LineFeed,
    /// Backspace (0x7f or 0x08): delete before the cursor.
    Backspace,
    /// Delete (`ESC [ 3 ~`): delete at the cursor.
    Delete,
    /// Ctrl-D: end of input on an empty line, otherwise Delete.
    CtrlD,
    /// Ctrl-C.
    Interrupt,
    /// Tab.
    Tab,
    /// Left arrow, Ctrl-B.
    Left,
    /// Right arrow, Ctrl-F.
    Right,
    /// Home, Ctrl-A.
    Home,
    /// End, Ctrl-E.
    End,
    /// Up arrow, Ctrl-P.
    Up,
    /// Down arrow, Ctrl-N.
    Down,
    /// Ctrl-U: kill to the start of the line.
    KillToStart,
    /// Ctrl-K: kill to the end of the line.
    KillToEnd,
    /// Ctrl-W: delete the word before the cursor.
    KillWord,
    /// Ctrl-L: clear the screen and redraw.
    Redraw,
}

/// How many parameter bytes of a control sequence are kept; longer ones are
/// consumed but ignored.
const MAX_PARAMS: usize = 8;

/// Where the decoder is within a multi-byte key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between keys.
    Ground,
    /// After ESC.
    Escape,
    /// After `ESC [`: parameter and intermediate bytes so far.
    Csi {
        params: [u8; MAX_PARAMS],
        len: usize,
        overflow: bool,
    },
    /// After `ESC O` (the arrows of a terminal in application mode).
    Ss3,
    /// Inside a UTF-8 character: the bytes so far and how many it has.
    Utf8 {
        bytes: [u8; 4],
        len: usize,
        need: usize,
    },
}

/// Turns bytes into [`Key`]s.
#[derive(Clone, Debug)]
pub struct Decoder {
    state: State,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder {
            state: State::Ground,
        }
    }
}

impl Decoder {
    /// The key `byte` completes, if it completes one.
    pub fn feed(&mut self, byte: u8) -> Option<Key> {
        match self.state {
            State::Ground => self.ground(byte),
            State::Escape => self.escape(byte),
            State::Csi { .. } => self.csi(byte),
            State::Ss3 => self.ss3(byte),
            State::Utf8 { .. } => self.utf8(byte),
        }
    }

    fn ground(&mut self, byte: u8) -> Option<Key> {
        match byte {
            0x1b => {
                self.state = State::Escape;
                None
            }
            0x00..=0x1f | 0x7f => control(byte),
            0x20..=0x7e => Some(Key::Char(char::from(byte))),
            _ => {
                let need = match byte {
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf4 => 4,
                    // A stray continuation byte or one that never starts UTF-8.
                    _ => return None,
                };
                let mut bytes = [0; 4];
                bytes[0] = byte;
                self.state = State::Utf8 {
                    bytes,
                    len: 1,
                    need,
                };
                None
            }
        }
    }

    fn escape(&mut self, byte: u8) -> Option<Key> {
        self.state = State::Ground;
        match byte {
            b'[' => {
                self.state = State::Csi {
                    params: [0; MAX_PARAMS],
                    len: 0,
                    overflow: false,
                };
                None
            }
            b'O' => {
                self.state = State::Ss3;
                None
            }
            // ESC ESC: the first was alone; the second starts a sequence.
            0x1b => {
                self.state = State::Escape;
                None
            }
            // Alt + a key: ignored.
            0x20..=0x7e => None,
            // An ESC alone before a control character or other byte.
            _ => self.ground(byte),
        }
    }

    fn csi(&mut self, byte: u8) -> Option<Key> {
        let State::Csi {
            mut params,
            mut len,
            mut overflow,
        } = self.state
        else {
            return None;
        };
        match byte {
            // Parameter and intermediate bytes.
            0x20..=0x3f => {
                if len < MAX_PARAMS {
                    params[len] = byte;
                    len += 1;
                } else {
                    overflow = true;
                }
                self.state = State::Csi {
                    params,
                    len,
                    overflow,
                };
                None
            }
            // The final byte.
            0x40..=0x7e => {
                self.state = State::Ground;
                if overflow {
                    None
                } else {
                    csi_key(&params[..len], byte)
                }
            }
            // Not part of a sequence: the sequence is abandoned.
            _ => {
                self.state = State::Ground;
                self.ground(byte)
            }
        }
    }

    fn ss3(&mut self, byte: u8) -> Option<Key> {
        self.state = State::Ground;
        match byte {
            0x20..=0x7e => arrow(byte),
            _ => self.ground(byte),
        }
    }

    fn utf8(&mut self, byte: u8) -> Option<Key> {
        let State::Utf8 {
            mut bytes,
            len,
            need,
        } = self.state
        else {
            return None;
        };
        if !(0x80..=0xbf).contains(&byte) {
            // The character was cut short: drop it and start again.
            self.state = State::Ground;
            return self.ground(byte);
        }
        bytes[len] = byte;
        if len + 1 < need {
            self.state = State::Utf8 {
                bytes,
                len: len + 1,
                need,
            };
            return None;
        }
        self.state = State::Ground;
        // Rejects overlong forms, surrogates and values past U+10FFFF.
        let text = core::str::from_utf8(&bytes[..need]).ok()?;
        text.chars()
            .next()
            .filter(|c| !c.is_control())
            .map(Key::Char)
    }
}

/// The key of a control byte (C0 or DEL), if it is one the editor uses.
fn control(byte: u8) -> Option<Key> {
    Some(match byte {
        0x01 => Key::Home,
        0x02 => Key::Left,
        0x03 => Key::Interrupt,
        0x04 => Key::CtrlD,
        0x05 => Key::End,
        0x06 => Key::Right,
        0x08 | 0x7f => Key::Backspace,
        0x09 => Key::Tab,
        0x0a => Key::LineFeed,
        0x0b => Key::KillToEnd,
        0x0c => Key::Redraw,
        0x0d => Key::Return,
        0x0e => Key::Down,
        0x10 => Key::Up,
        0x15 => Key::KillToStart,
        0x17 => Key::KillWord,
        _ => return None,
    })
}

/// The key of a control sequence `ESC [ <params> <last>`.
fn csi_key(params: &[u8], last: u8) -> Option<Key> {
    match (params, last) {
        ([] | [b'1'], _) if last != b'~' => arrow(last),
        ([b'1'] | [b'7'], b'~') => Some(Key::Home),
        ([b'4'] | [b'8'], b'~') => Some(Key::End),
        ([b'3'], b'~') => Some(Key::Delete),
        _ => None,
    }
}

/// The key of an arrow-like final byte (`A B C D H F`).
fn arrow(last: u8) -> Option<Key> {
    match last {
        b'A' => Some(Key::Up),
        b'B' => Some(Key::Down),
        b'C' => Some(Key::Right),
        b'D' => Some(Key::Left),
        b'H' => Some(Key::Home),
        b'F' => Some(Key::End),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut decoder = Decoder::default();
        bytes
            .iter()
            .filter_map(|&byte| decoder.feed(byte))
            .collect()
    }

    #[test]
    fn printable_ascii_is_text() {
        assert_eq!(
            keys(b"a Z~"),
            [
                Key::Char('a'),
                Key::Char(' '),
                Key::Char('Z'),
                Key::Char('~')
            ]
        );
    }

    #[test]
    fn control_bytes() {
        let cases: &[(u8, Option<Key>)] = &[
            (0x01, Some(Key::Home)),
            (0x02, Some(Key::Left)),
            (0x03, Some(Key::Interrupt)),
            (0x04, Some(Key::CtrlD)),
            (0x05, Some(Key::End)),
            (0x06, Some(Key::Right)),
            (0x07, None),
            (0x08, Some(Key::Backspace)),
            (0x09, Some(Key::Tab)),
            (0x0a, Some(Key::LineFeed)),
            (0x0b, Some(Key::KillToEnd)),
            (0x0c, Some(Key::Redraw)),
            (0x0d, Some(Key::Return)),
            (0x0e, Some(Key::Down)),
            (0x10, Some(Key::Up)),
            (0x15, Some(Key::KillToStart)),
            (0x17, Some(Key::KillWord)),
            (0x00, None),
            (0x1f, None),
            (0x7f, Some(Key::Backspace)),
        ];
        for &(byte, key) in cases {
            assert_eq!(
                keys(&[byte]),
                key.into_iter().collect::<Vec<_>>(),
                "{byte:#04x}"
            );
        }
    }

    #[test]
    fn escape_sequences() {
        let cases: &[(&[u8], &[Key])] = &[
            (b"\x1b[A", &[Key::Up]),
            (b"\x1b[B", &[Key::Down]),
            (b"\x1b[C", &[Key::Right]),
            (b"\x1b[D", &[Key::Left]),
            (b"\x1b[H", &[Key::Home]),
            (b"\x1b[F", &[Key::End]),
            (b"\x1b[1~", &[Key::Home]),
            (b"\x1b[7~", &[Key::Home]),
            (b"\x1b[4~", &[Key::End]),
            (b"\x1b[8~", &[Key::End]),
            (b"\x1b[3~", &[Key::Delete]),
            (b"\x1bOA", &[Key::Up]),
            (b"\x1bOH", &[Key::Home]),
            (b"\x1b[1A", &[Key::Up]),
            // Unknown sequences vanish whole.
            (b"\x1b[2~x", &[Key::Char('x')]),
            (b"\x1b[5~x", &[Key::Char('x')]),
            (b"\x1b[200~x\x1b[201~", &[Key::Char('x')]),
            (b"\x1b[1;5Cx", &[Key::Char('x')]),
            (b"\x1b[?25hx", &[Key::Char('x')]),
            (b"\x1b[Zx", &[Key::Char('x')]),
            (b"\x1b[123456789012~x", &[Key::Char('x')]),
            (b"\x1bOPx", &[Key::Char('x')]),
            (b"\x1bbx", &[Key::Char('x')]),
            // ESC ESC [ A: the lone ESC is dropped, the arrow kept.
            (b"\x1b\x1b[A", &[Key::Up]),
            // A control byte abandons a sequence and still counts.
            (b"\x1b\r", &[Key::Return]),
            (b"\x1b[\r", &[Key::Return]),
            (b"\x1b[1\x03", &[Key::Interrupt]),
            (b"\x1bO\n", &[Key::LineFeed]),
        ];
        for &(bytes, expected) in cases {
            assert_eq!(keys(bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn utf8_characters() {
        let cases: &[(&[u8], &[Key])] = &[
            ("é".as_bytes(), &[Key::Char('é')]),
            ("€".as_bytes(), &[Key::Char('€')]),
            ("😀".as_bytes(), &[Key::Char('😀')]),
            (
                "aµb".as_bytes(),
                &[Key::Char('a'), Key::Char('µ'), Key::Char('b')],
            ),
            // Cut short by an ASCII byte: dropped, the byte kept.
            (b"\xc3a", &[Key::Char('a')]),
            (b"\xe2\x82a", &[Key::Char('a')]),
            // Cut short by another lead byte.
            (b"\xe2\xc3\xa9", &[Key::Char('é')]),
            // Stray continuation bytes and impossible lead bytes.
            (b"\x80\xbfa", &[Key::Char('a')]),
            (b"\xc0\xafa", &[Key::Char('a')]),
            (b"\xff\xfea", &[Key::Char('a')]),
            // Overlong, surrogate and too large forms.
            (b"\xe0\x80\xafa", &[Key::Char('a')]),
            (b"\xed\xa0\x80a", &[Key::Char('a')]),
            (b"\xf4\x90\x80\x80a", &[Key::Char('a')]),
            // C1 control characters are not text.
            (b"\xc2\x9ba", &[Key::Char('a')]),
        ];
        for &(bytes, expected) in cases {
            assert_eq!(keys(bytes), expected, "{bytes:?}");
        }
    }
}
