//! Splitting a command line into words and a pipeline into its stages, both
//! respecting double quotes, the one quoting the shell has; and splitting
//! a line for a Unix shell ([`split_sh_words`], the shell's `sh`), with the
//! quoting `/bin/sh` has.
//!
//! The rules: words are separated by spaces and tabs; `"..."` makes its
//! contents part of the word, spaces and `|` included (`"a b"` is one word,
//! `x"y z"` is the word `xy z`, `""` an empty word); inside quotes `\"` is a
//! quote and `\\` a backslash, any other backslash is kept as is. Outside
//! quotes a backslash is an ordinary character.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Display, Formatter};

/// A `"` was opened but never closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnterminatedQuote;

impl Display for UnterminatedQuote {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("unterminated quote (a \" without its closing \")")
    }
}

/// The words of `line` (see the module documentation for the quoting rules):
/// `split_words(r#"echo "a b" c"#)` is `["echo", "a b", "c"]`.
pub fn split_words(line: &str) -> Result<Vec<String>, UnterminatedQuote> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            '"' => {
                in_word = true;
                read_quoted(&mut chars, &mut word)?;
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Appends the rest of a quoted string (after its opening `"`) to `word`,
/// unescaped, and consumes its closing `"`.
fn read_quoted(
    chars: &mut core::str::Chars<'_>,
    word: &mut String,
) -> Result<(), UnterminatedQuote> {
    loop {
        match chars.next().ok_or(UnterminatedQuote)? {
            '"' => return Ok(()),
            '\\' => match chars.next().ok_or(UnterminatedQuote)? {
                c @ ('"' | '\\') => word.push(c),
                c => {
                    word.push('\\');
                    word.push(c);
                }
            },
            c => word.push(c),
        }
    }
}

/// `text` cut at every `|` outside quotes; the pieces are not trimmed.
/// `a | "b|c"` gives `["a ", " \"b|c\""]`.
pub fn split_pipes(text: &str) -> Result<Vec<&str>, UnterminatedQuote> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes {
            match c {
                '\\' => escaped = true,
                '"' => in_quotes = false,
                _ => {}
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == '|' {
            pieces.push(&text[start..at]);
            start = at + 1;
        }
    }
    if in_quotes {
        return Err(UnterminatedQuote);
    }
    pieces.push(&text[start..]);
    Ok(pieces)
}

/// One word of a line split by [`split_sh_words`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShWord {
    /// The word, its quotes removed.
    pub text: String,
    /// Whether it is a lone `&` outside quotes (a background command).
    pub unquoted_amp: bool,
}

/// The words of `line` quoted as `/bin/sh` quotes them, for the shell's
/// `sh` (whose script must reach `/bin/sh` as one word): `'...'` keeps
/// everything up to the next `'` as it is; `"..."` keeps everything up to
/// the next unescaped `"`, where `\"`, `\\`, `\$` and `` \` `` are that
/// character (any other backslash is kept); outside quotes a backslash
/// makes the next character ordinary. Words are separated by spaces and
/// tabs; `|` and `&` are ordinary characters.
/// `split_sh_words("sh -c 'echo a | wc -c' &")` is `sh`, `-c`,
/// `echo a | wc -c` and `&` (marked [`ShWord::unquoted_amp`]).
pub fn split_sh_words(line: &str) -> Result<Vec<ShWord>, UnterminatedQuote> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    let mut push = |word: &mut String, quoted: bool| {
        let text = core::mem::take(word);
        let unquoted_amp = !quoted && text == "&";
        words.push(ShWord { text, unquoted_amp });
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    push(&mut word, quoted);
                    in_word = false;
                    quoted = false;
                }
            }
            '\'' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next().ok_or(UnterminatedQuote)? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                quoted = true;
                loop {
                    match chars.next().ok_or(UnterminatedQuote)? {
                        '"' => break,
                        '\\' => match chars.next().ok_or(UnterminatedQuote)? {
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                quoted = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        push(&mut word, quoted);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn splits_words() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   \t ", &[]),
            ("ps", &["ps"]),
            ("  spawn  hello\tworld ", &["spawn", "hello", "world"]),
            (r#"echo "a b" c"#, &["echo", "a b", "c"]),
            (r#"x"y z"w"#, &["xy zw"]),
            (r#"a "" b"#, &["a", "", "b"]),
            (r#""""#, &[""]),
            (r#""a|b""#, &["a|b"]),
            (r#""say \"hi\"""#, &[r#"say "hi""#]),
            (r#""back\\slash""#, &[r"back\slash"]),
            (r#""keep\n""#, &[r"keep\n"]),
            (r"out\side", &[r"out\side"]),
            ("µs ünïcode", &["µs", "ünïcode"]),
        ];
        for &(line, words) in cases {
            assert_eq!(split_words(line).unwrap(), words, "{line:?}");
        }
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        for line in [
            r#"echo "a b"#,
            r#"""#,
            r#""ends in backslash\"#,
            r#""escaped \""#,
        ] {
            assert_eq!(split_words(line), Err(UnterminatedQuote), "{line:?}");
            assert_eq!(split_pipes(line), Err(UnterminatedQuote), "{line:?}");
        }
        assert_eq!(
            UnterminatedQuote.to_string(),
            "unterminated quote (a \" without its closing \")"
        );
    }

    #[test]
    fn splits_pipes_outside_quotes() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[""]),
            ("ps", &["ps"]),
            ("ps | first 5", &["ps ", " first 5"]),
            ("a||b", &["a", "", "b"]),
            ("a |", &["a ", ""]),
            (r#"a | "b|c""#, &["a ", r#" "b|c""#]),
            (r#"a "\"|" | b"#, &[r#"a "\"|" "#, " b"]),
            ("µ|é", &["µ", "é"]),
        ];
        for &(text, pieces) in cases {
            assert_eq!(split_pipes(text).unwrap(), pieces, "{text:?}");
        }
    }
}
