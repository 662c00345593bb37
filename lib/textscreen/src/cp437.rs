//! Code page 437, the character set of the VGA text mode's font.
//!
//! Programs write UTF-8; a VGA text cell holds one byte that indexes the
//! font in the card's ROM, which on every PC is code page 437: ASCII in
//! the middle, symbols below, accented letters, box drawing and Greek
//! above. [`from_char`] finds the byte that shows a character, if the font
//! has one; [`to_char`] is the way back (for tests and for reading a screen
//! as text).

/// What CP437's bytes 0x00..=0x1f show (the font draws symbols where ASCII
/// has control characters). 0x00 is blank.
const LOW: [char; 32] = [
    ' ', '☺', '☻', '♥', '♦', '♣', '♠', '•', '◘', '○', '◙', '♂', '♀', '♪', '♫', '☼', //
    '►', '◄', '↕', '‼', '¶', '§', '▬', '↨', '↑', '↓', '→', '←', '∟', '↔', '▲', '▼',
];

/// What CP437's bytes 0x80..=0xff show.
const HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// The byte the VGA font shows `c` with, if it has `c`.
pub fn from_char(c: char) -> Option<u8> {
    if (' '..='~').contains(&c) {
        return u8::try_from(c).ok();
    }
    if c == '⌂' {
        return Some(0x7f);
    }
    let index = |table: &[char]| table.iter().position(|&shown| shown == c);
    if let Some(at) = index(&HIGH) {
        return u8::try_from(0x80 + at).ok();
    }
    // 0x00 and 0x20 both look blank; a space is 0x20 (found above).
    index(&LOW[1..]).and_then(|at| u8::try_from(at + 1).ok())
}

/// The character the VGA font shows for `byte`.
pub fn to_char(byte: u8) -> char {
    match byte {
        0x00..=0x1f => LOW[usize::from(byte)],
        0x7f => '⌂',
        0x20..=0x7e => char::from(byte),
        0x80..=0xff => HIGH[usize::from(byte - 0x80)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_itself() {
        for byte in 0x20..=0x7e_u8 {
            assert_eq!(from_char(char::from(byte)), Some(byte));
            assert_eq!(to_char(byte), char::from(byte));
        }
    }

    #[test]
    fn every_byte_but_the_blank_zero_goes_there_and_back() {
        for byte in 1..=0xff_u8 {
            assert_eq!(from_char(to_char(byte)), Some(byte), "{byte:#04x}");
        }
        assert_eq!(to_char(0), ' ');
    }

    #[test]
    fn known_characters() {
        assert_eq!(from_char('é'), Some(0x82));
        assert_eq!(from_char('├'), Some(0xc3));
        assert_eq!(from_char('─'), Some(0xc4));
        assert_eq!(from_char('█'), Some(0xdb));
        assert_eq!(from_char('µ'), Some(0xe6));
        assert_eq!(from_char('°'), Some(0xf8));
    }

    #[test]
    fn what_the_font_lacks_is_none() {
        for c in ['€', '漢', '😀', '\n', '\u{1b}', '\u{7f}', '\u{85}'] {
            assert_eq!(from_char(c), None, "{c:?}");
        }
    }
}
