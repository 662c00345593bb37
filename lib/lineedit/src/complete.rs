//! Tab completion: what the editor asks of the shell, and helpers for
//! answering.

use alloc::string::String;
use alloc::vec::Vec;

/// The shell's side of tab completion.
pub trait Completer {
    /// The completions of the word before `cursor` (a byte offset into
    /// `line`, on a character boundary): where that word starts and what it
    /// could become. Candidates must start with the word (those that do not
    /// are ignored); an empty list means there is nothing to complete.
    fn complete(&self, line: &str, cursor: usize) -> Completion;
}

/// A [`Completer`]'s answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// The byte offset in the line where the word being completed starts.
    pub start: usize,
    /// The whole words the word could become, in the order to list them.
    pub candidates: Vec<String>,
}

/// A completer that never completes anything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCompletion;

impl Completer for NoCompletion {
    fn complete(&self, _line: &str, cursor: usize) -> Completion {
        Completion {
            start: cursor,
            candidates: Vec::new(),
        }
    }
}

impl<F: Fn(&str, usize) -> Completion> Completer for F {
    fn complete(&self, line: &str, cursor: usize) -> Completion {
        self(line, cursor)
    }
}

/// The `candidates` that start with `word`, in order, without duplicates:
/// `complete_words("p", &["ps", "poweroff", "mem"])` is `["ps", "poweroff"]`.
pub fn complete_words(word: &str, candidates: &[&str]) -> Vec<String> {
    let mut matches: Vec<String> = Vec::new();
    for &candidate in candidates {
        if candidate.starts_with(word) && !matches.iter().any(|m| m == candidate) {
            matches.push(String::from(candidate));
        }
    }
    matches
}

/// Where the space-delimited word that ends at `cursor` starts: the usual
/// [`Completion::start`] for a shell.
pub fn word_start(line: &str, cursor: usize) -> usize {
    line[..cursor]
        .rfind([' ', '\t'])
        .map_or(0, |space| space + 1)
}

/// The longest prefix all of `words` share (whole characters), or `""` if
/// there are none.
pub fn common_prefix<S: AsRef<str>>(words: &[S]) -> &str {
    let Some((first, rest)) = words.split_first() else {
        return "";
    };
    let first = first.as_ref();
    let mut end = first.len();
    for word in rest {
        let shared = first
            .char_indices()
            .zip(word.as_ref().chars())
            .find(|&((_, a), b)| a != b)
            .map_or_else(|| first.len().min(word.as_ref().len()), |((at, _), _)| at);
        end = end.min(shared);
    }
    &first[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_prefix() {
        let commands = ["ps", "poweroff", "mem", "ps", "help"];
        let cases: &[(&str, &[&str])] = &[
            ("", &["ps", "poweroff", "mem", "help"]),
            ("p", &["ps", "poweroff"]),
            ("po", &["poweroff"]),
            ("ps", &["ps"]),
            ("x", &[]),
            ("psx", &[]),
        ];
        for &(word, expected) in cases {
            assert_eq!(complete_words(word, &commands), expected, "{word:?}");
        }
    }

    #[test]
    fn common_prefixes() {
        let cases: &[(&[&str], &str)] = &[
            (&[], ""),
            (&["ps"], "ps"),
            (&["poweroff", "power", "powder"], "pow"),
            (&["spawn", "spawner"], "spawn"),
            (&["a", "b"], ""),
            (&["µs", "µm"], "µ"),
            (&["é", "è"], ""),
        ];
        for &(words, prefix) in cases {
            assert_eq!(common_prefix(words), prefix, "{words:?}");
        }
    }

    #[test]
    fn word_starts() {
        let cases = [
            ("", 0, 0),
            ("ps", 2, 0),
            ("spawn he", 8, 6),
            ("spawn he", 5, 0),
            ("spawn ", 6, 6),
            ("a\tb", 3, 2),
        ];
        for (line, cursor, start) in cases {
            assert_eq!(word_start(line, cursor), start, "{line:?} at {cursor}");
        }
    }

    #[test]
    fn no_completion_and_closures() {
        assert_eq!(
            NoCompletion.complete("ps", 2),
            Completion {
                start: 2,
                candidates: Vec::new()
            }
        );
        let closure = |line: &str, cursor: usize| Completion {
            start: word_start(line, cursor),
            candidates: complete_words(&line[word_start(line, cursor)..cursor], &["help"]),
        };
        let completion = closure.complete("x he", 4);
        assert_eq!(completion.start, 2);
        assert_eq!(completion.candidates, ["help"]);
    }
}
