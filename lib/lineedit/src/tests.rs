//! The editor, fed byte strings: the lines it produces and the exact bytes
//! it echoes.

use super::*;
use alloc::string::String;
use alloc::vec::Vec;

const PROMPT: &str = "abide> ";
const COMMANDS: Commands = Commands(&["help", "mem", "poweroff", "ps", "spawn", "spawner"]);

const UP: &str = "\x1b[A";
const DOWN: &str = "\x1b[B";
const RIGHT: &str = "\x1b[C";
const LEFT: &str = "\x1b[D";
const HOME: &str = "\x1b[H";
const DELETE: &str = "\x1b[3~";

/// Completes the space-delimited word before the cursor from a fixed list.
struct Commands(&'static [&'static str]);

impl Completer for Commands {
    fn complete(&self, line: &str, cursor: usize) -> Completion {
        let start = word_start(line, cursor);
        Completion {
            start,
            candidates: complete_words(&line[start..cursor], self.0),
        }
    }
}

fn editor() -> Editor {
    Editor::new(PROMPT, 10)
}

/// Feeds `input` with [`COMMANDS`] as completer: the events other than
/// [`Event::None`], and the echo as text.
fn feed(editor: &mut Editor, input: &str) -> (Vec<Event>, String) {
    feed_bytes(editor, input.as_bytes(), &COMMANDS)
}

fn feed_bytes(
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
fn echo_of(input: &str) -> String {
    let (events, echo) = feed(&mut editor(), input);
    assert_eq!(events, [], "{input:?}");
    echo
}

/// The line being edited after `input` is fed to a fresh editor.
fn edited(input: &str) -> String {
    let mut editor = editor();
    let (events, _) = feed(&mut editor, input);
    assert_eq!(events, [], "{input:?}");
    String::from(editor.line())
}

fn line(text: &str) -> Event {
    Event::Line(String::from(text))
}

fn repeat(key: &str, times: usize) -> String {
    key.repeat(times)
}

#[test]
fn start_prints_the_prompt() {
    let mut editor = editor();
    assert_eq!(editor.start(), PROMPT.as_bytes());
    assert_eq!(editor.prompt(), PROMPT);
    editor.set_prompt("$ ");
    assert_eq!(editor.start(), b"$ ");
}

#[test]
fn typed_text_is_echoed_and_entered() {
    let mut editor = editor();
    let (events, echo) = feed(&mut editor, "ps -a\r");
    assert_eq!(events, [line("ps -a")]);
    assert_eq!(echo, "ps -a\r\n");
    assert_eq!(editor.line(), "");
    assert_eq!(editor.cursor(), 0);
}

#[test]
fn line_endings() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("ps\r", &["ps"], "ps\r\n"),
        ("ps\n", &["ps"], "ps\r\n"),
        ("ps\r\n", &["ps"], "ps\r\n"),
        ("ps\r\nmem\r\n", &["ps", "mem"], "ps\r\nmem\r\n"),
        ("ps\npoweroff\n", &["ps", "poweroff"], "ps\r\npoweroff\r\n"),
        ("\r\r", &["", ""], "\r\n\r\n"),
        ("\n\n", &["", ""], "\r\n\r\n"),
        ("\n\r", &["", ""], "\r\n\r\n"),
        ("\r\n\n", &["", ""], "\r\n\r\n"),
        ("a\rb\nc\r\n", &["a", "b", "c"], "a\r\nb\r\nc\r\n"),
    ];
    for &(input, lines, expected) in cases {
        let (events, echo) = feed(&mut editor(), input);
        let lines: Vec<Event> = lines.iter().map(|&text| line(text)).collect();
        assert_eq!(events, lines, "{input:?}");
        assert_eq!(echo, expected, "{input:?}");
    }
}

#[test]
fn a_crlf_split_across_feeds_is_one_enter() {
    let mut editor = editor();
    assert_eq!(feed(&mut editor, "ps\r").0, [line("ps")]);
    assert_eq!(editor.start(), PROMPT.as_bytes());
    assert_eq!(feed(&mut editor, "\n"), (Vec::new(), String::new()));
    assert_eq!(feed(&mut editor, "\n").0, [line("")]);
}

#[test]
fn only_a_crlf_right_after_the_cr_is_joined() {
    // Any byte between the \r and the \n, even one that is ignored, makes the
    // \n an Enter of its own.
    let (events, _) = feed(&mut editor(), "a\r\x07\n");
    assert_eq!(events, [line("a"), line("")]);
}

#[test]
fn inserting_in_the_middle_redraws_the_rest() {
    let mut editor = editor();
    let (events, echo) = feed(&mut editor, &["ac", LEFT, "b"].concat());
    assert_eq!(events, []);
    assert_eq!(echo, "ac\x1b[1Dbc\x1b[1D");
    assert_eq!(editor.line(), "abc");
    assert_eq!(editor.cursor(), 2);
    let (events, echo) = feed(&mut editor, &[HOME, ">"].concat());
    assert_eq!(echo, "\x1b[2D>abc\x1b[3D");
    assert_eq!(events, []);
    assert_eq!(feed(&mut editor, "\r").0, [line(">abc")]);
}

#[test]
fn backspace() {
    let cases: &[(&str, &str, &str)] = &[
        ("ab\x7f", "a", "ab\x1b[1D\x1b[K"),
        ("ab\x08", "a", "ab\x1b[1D\x1b[K"),
        ("\x7f", "", ""),
        // In the middle: the rest moves left.
        (
            "abc\x1b[D\x1b[D\x7f",
            "bc",
            "abc\x1b[1D\x1b[1D\x1b[1Dbc\x1b[K\x1b[2D",
        ),
        // At the start: nothing.
        ("ab\x01\x7f", "ab", "ab\x1b[2D"),
    ];
    for &(input, line, expected) in cases {
        assert_eq!(edited(input), line, "{input:?}");
        assert_eq!(echo_of(input), expected, "{input:?}");
    }
}

#[test]
fn delete() {
    let cases: &[(String, &str, &str)] = &[
        (
            ["abc", HOME, DELETE].concat(),
            "bc",
            "abc\x1b[3Dbc\x1b[K\x1b[2D",
        ),
        (["abc", LEFT, DELETE].concat(), "ab", "abc\x1b[1D\x1b[K"),
        (["abc", DELETE].concat(), "abc", "abc"),
        // Ctrl-D on a non-empty line deletes too.
        (
            ["abc", HOME, "\x04"].concat(),
            "bc",
            "abc\x1b[3Dbc\x1b[K\x1b[2D",
        ),
        (["abc", "\x04"].concat(), "abc", "abc"),
    ];
    for (input, line, expected) in cases {
        assert_eq!(edited(input), *line, "{input:?}");
        assert_eq!(echo_of(input), *expected, "{input:?}");
    }
}

#[test]
fn cursor_movement() {
    let homes = ["\x1b[H", "\x1b[1~", "\x1b[7~", "\x1bOH", "\x01"];
    let ends = ["\x1b[F", "\x1b[4~", "\x1b[8~", "\x1bOF", "\x05"];
    for home in homes {
        let input = ["abc", home, "x"].concat();
        assert_eq!(edited(&input), "xabc", "{home:?}");
        assert_eq!(echo_of(&input), "abc\x1b[3Dxabc\x1b[3D", "{home:?}");
        for end in ends {
            let input = ["abc", home, end, "y"].concat();
            assert_eq!(edited(&input), "abcy", "{end:?}");
            assert_eq!(echo_of(&input), "abc\x1b[3D\x1b[3Cy", "{end:?}");
        }
    }
    let cases: &[(String, &str, &str)] = &[
        (
            [LEFT, "a", LEFT, LEFT, "b"].concat(),
            "ba",
            "a\x1b[1Dba\x1b[1D",
        ),
        (["a", RIGHT, "b"].concat(), "ab", "ab"),
        (
            ["ab", LEFT, LEFT, RIGHT, "x"].concat(),
            "axb",
            "ab\x1b[1D\x1b[1D\x1b[1Cxb\x1b[1D",
        ),
        (
            ["ab", "\x02", "\x02", "\x06", "x"].concat(),
            "axb",
            "ab\x1b[1D\x1b[1D\x1b[1Cxb\x1b[1D",
        ),
        (["", HOME, "\x05"].concat(), "", ""),
    ];
    for (input, line, expected) in cases {
        assert_eq!(edited(input), *line, "{input:?}");
        assert_eq!(echo_of(input), *expected, "{input:?}");
    }
}

#[test]
fn kill_keys() {
    let five_left = repeat(LEFT, 5);
    let five_back = repeat("\x1b[1D", 5);
    let cases: &[(String, &str, String)] = &[
        // Ctrl-U: kill to the start.
        (
            ["hello world", &five_left, "\x15"].concat(),
            "world",
            ["hello world", &five_back, "\x1b[6Dworld\x1b[K\x1b[5D"].concat(),
        ),
        ("hello\x15".into(), "", "hello\x1b[5D\x1b[K".into()),
        (
            ["hello", HOME, "\x15"].concat(),
            "hello",
            "hello\x1b[5D".into(),
        ),
        // Ctrl-K: kill to the end.
        (
            ["hello world", &five_left, "\x0b"].concat(),
            "hello ",
            ["hello world", &five_back, "\x1b[K"].concat(),
        ),
        ("hello\x0b".into(), "hello", "hello".into()),
        // Ctrl-W: the word before the cursor, and the spaces after it.
        (
            "spawn hello\x17".into(),
            "spawn ",
            "spawn hello\x1b[5D\x1b[K".into(),
        ),
        (
            "spawn hello  \x17".into(),
            "spawn ",
            "spawn hello  \x1b[7D\x1b[K".into(),
        ),
        (
            "spawn hello\x17\x17".into(),
            "",
            "spawn hello\x1b[5D\x1b[K\x1b[6D\x1b[K".into(),
        ),
        (
            ["one two three", &five_left, "\x17"].concat(),
            "one three",
            ["one two three", &five_back, "\x1b[4Dthree\x1b[K\x1b[5D"].concat(),
        ),
        ("   \x17".into(), "", "   \x1b[3D\x1b[K".into()),
        ("\x17".into(), "", "".into()),
    ];
    for (input, line, expected) in cases {
        assert_eq!(edited(input), *line, "{input:?}");
        assert_eq!(echo_of(input), *expected, "{input:?}");
    }
}

#[test]
fn ctrl_l_clears_and_redraws() {
    let mut editor = editor();
    let (events, echo) = feed(&mut editor, &["ab", LEFT, "\x0c"].concat());
    assert_eq!(events, []);
    assert_eq!(echo, "ab\x1b[1D\x1b[H\x1b[2Jabide> ab\x1b[1D");
    assert_eq!(editor.line(), "ab");
    assert_eq!(editor.cursor(), 1);
}

#[test]
fn ctrl_c_discards_the_line() {
    let mut editor = editor();
    let (events, echo) = feed(&mut editor, "abc\x03");
    assert_eq!(events, [Event::Interrupt]);
    assert_eq!(echo, "abc^C\r\n");
    assert_eq!(editor.line(), "");
    assert_eq!(editor.history().count(), 0);
    assert_eq!(feed(&mut editor, "x\r").0, [line("x")]);
}

#[test]
fn ctrl_d_on_an_empty_line_is_the_end() {
    let mut editor = editor();
    let (events, echo) = feed(&mut editor, "\x04");
    assert_eq!(events, [Event::Eof]);
    assert_eq!(echo, "\r\n");
    let (events, _) = feed(&mut editor, "ab\x7f\x7f\x04");
    assert_eq!(events, [Event::Eof]);
}

#[test]
fn history_walk_keeps_the_draft() {
    let mut editor = editor();
    let (events, _) = feed(&mut editor, "one\rtwo\rtwo\r\r  \rthree\r");
    assert_eq!(events.len(), 6);
    assert_eq!(
        editor.history().collect::<Vec<_>>(),
        ["one", "two", "three"]
    );

    feed(&mut editor, "dr");
    let steps: &[(&str, &str, &str)] = &[
        (UP, "three", "\x1b[2Dthree\x1b[K"),
        (UP, "two", "\x1b[5Dtwo\x1b[K"),
        (UP, "one", "\x1b[3Done\x1b[K"),
        // Past the oldest: nothing.
        (UP, "one", ""),
        (DOWN, "two", "\x1b[3Dtwo\x1b[K"),
        (DOWN, "three", "\x1b[3Dthree\x1b[K"),
        // Past the newest: the draft comes back.
        (DOWN, "dr", "\x1b[5Ddr\x1b[K"),
        (DOWN, "dr", ""),
        ("\x10", "three", "\x1b[2Dthree\x1b[K"),
        ("\x0e", "dr", "\x1b[5Ddr\x1b[K"),
    ];
    for &(key, line, expected) in steps {
        let (events, echo) = feed(&mut editor, key);
        assert_eq!(events, [], "{key:?} to {line}");
        assert_eq!(editor.line(), line, "{key:?}");
        assert_eq!(editor.cursor(), line.len(), "{key:?}");
        assert_eq!(echo, expected, "{key:?} to {line}");
    }
}

#[test]
fn history_from_the_middle_of_a_line() {
    let mut editor = editor();
    feed(&mut editor, "ps\r");
    let (_, echo) = feed(&mut editor, &["abc", LEFT, LEFT, UP].concat());
    assert_eq!(echo, "abc\x1b[1D\x1b[1D\x1b[1Dps\x1b[K");
    let (_, echo) = feed(&mut editor, DOWN);
    assert_eq!(echo, "\x1b[2Dabc\x1b[K");
    assert_eq!(editor.cursor(), 3);
}

#[test]
fn entering_a_recalled_line_ends_the_walk() {
    let mut editor = editor();
    feed(&mut editor, "a\rb\r");
    let (events, _) = feed(&mut editor, &[UP, UP, "\r"].concat());
    assert_eq!(events, [line("a")]);
    assert_eq!(editor.history().collect::<Vec<_>>(), ["a", "b", "a"]);
    feed(&mut editor, UP);
    assert_eq!(editor.line(), "a");
    feed(&mut editor, "\x03");
    feed(&mut editor, DOWN);
    assert_eq!(editor.line(), "");
}

#[test]
fn history_is_bounded() {
    let mut editor = Editor::new(PROMPT, 2);
    feed(&mut editor, "a\rb\rc\r");
    assert_eq!(editor.history().collect::<Vec<_>>(), ["b", "c"]);
    feed(&mut editor, &[UP, UP, UP].concat());
    assert_eq!(editor.line(), "b");
    editor.add_history("d");
    editor.add_history("d");
    assert_eq!(editor.history().collect::<Vec<_>>(), ["c", "d"]);

    let mut editor = Editor::new(PROMPT, 0);
    feed(&mut editor, "a\r");
    let (_, echo) = feed(&mut editor, UP);
    assert_eq!((editor.line(), echo.as_str()), ("", ""));
}

#[test]
fn tab_completes_a_unique_candidate_with_a_space() {
    let mut editor = editor();
    let (events, echo) = feed(&mut editor, "he\t");
    assert_eq!(events, []);
    assert_eq!(echo, "help ");
    assert_eq!(editor.line(), "help ");
    // A word already complete gets its space.
    assert_eq!(echo_of("mem\t"), "mem ");
    // In the middle, before a space: no second space.
    let input = ["he world", HOME, RIGHT, RIGHT, "\t"].concat();
    assert_eq!(edited(&input), "help world");
    assert_eq!(
        echo_of(&input),
        "he world\x1b[8D\x1b[1C\x1b[1Clp world\x1b[6D"
    );
    // In the middle of a word: the rest of the line moves right.
    let input = ["hex", LEFT, "\t"].concat();
    assert_eq!(edited(&input), "help x");
    assert_eq!(echo_of(&input), "hex\x1b[1Dlp x\x1b[1D");
}

#[test]
fn tab_inserts_the_common_prefix_then_lists() {
    let mut editor = editor();
    let (events, echo) = feed(&mut editor, "sp\t");
    assert_eq!(events, []);
    assert_eq!(echo, "spawn");
    let (_, echo) = feed(&mut editor, "\t");
    assert_eq!(echo, "\r\nspawn spawner\r\nabide> spawn");
    // Every further Tab lists again.
    let (_, echo) = feed(&mut editor, "\t");
    assert_eq!(echo, "\r\nspawn spawner\r\nabide> spawn");
    assert_eq!(editor.line(), "spawn");
}

#[test]
fn a_second_tab_lists_the_candidates() {
    let mut editor = editor();
    let (_, echo) = feed(&mut editor, "p\t");
    assert_eq!(echo, "p");
    let (_, echo) = feed(&mut editor, "\t");
    assert_eq!(echo, "\r\npoweroff ps\r\nabide> p");
    assert_eq!(editor.line(), "p");
    // The list redraws the whole line and puts the cursor back.
    let mut editor = editor_with("x p", &[]);
    let (_, echo) = feed(&mut editor, "\t\t");
    assert_eq!(echo, "\r\npoweroff ps\r\nabide> x p");
    let mut editor = editor_with("p q", &[LEFT, LEFT]);
    let (_, echo) = feed(&mut editor, "\t\t");
    assert_eq!(echo, "\r\npoweroff ps\r\nabide> p q\x1b[2D");
}

fn editor_with(text: &str, keys: &[&str]) -> Editor {
    let mut editor = editor();
    feed(&mut editor, text);
    feed(&mut editor, &keys.concat());
    editor
}

#[test]
fn another_key_between_tabs_starts_over() {
    let (_, echo) = feed(&mut editor(), "p\tx\x7f\t");
    assert_eq!(echo, "px\x1b[1D\x1b[K");
    let (_, echo) = feed(&mut editor(), &["p\t", LEFT, RIGHT, "\t"].concat());
    assert_eq!(echo, "p\x1b[1D\x1b[1C");
}

#[test]
fn tab_without_candidates_does_nothing() {
    assert_eq!(echo_of("zz\t\t"), "zz");
    assert_eq!(edited("zz\t\t"), "zz");
    let mut editor = editor();
    let (_, echo) = feed_bytes(&mut editor, b"ps\t\t", &NoCompletion);
    assert_eq!(echo, "ps");
}

#[test]
fn tab_ignores_bad_answers() {
    // A start past the cursor, a start inside a character, and candidates
    // that do not start with the word.
    let past = |_: &str, cursor: usize| Completion {
        start: cursor + 1,
        candidates: alloc::vec![String::from("x")],
    };
    let inside = |_: &str, _: usize| Completion {
        start: 1,
        candidates: alloc::vec![String::from("x")],
    };
    let unrelated = |_: &str, _: usize| Completion {
        start: 0,
        candidates: alloc::vec![String::from("zzz"), String::from("e")],
    };
    let mixed = |_: &str, _: usize| Completion {
        start: 0,
        candidates: alloc::vec![String::from("zzz"), String::from("éa")],
    };
    let control = |_: &str, _: usize| Completion {
        start: 0,
        candidates: alloc::vec![String::from("é\n"), String::from("é\x1b[2J")],
    };
    let completers: [&dyn Completer; 4] = [&past, &inside, &unrelated, &control];
    for completer in completers {
        let mut editor = editor();
        let (_, echo) = feed_bytes(&mut editor, "é\t\t".as_bytes(), completer);
        assert_eq!(echo, "é");
    }
    let repeated = |_: &str, _: usize| Completion {
        start: 0,
        candidates: alloc::vec![String::from("éa"), String::from("éa"), String::from("éb")],
    };
    let (_, echo) = feed_bytes(&mut editor(), "é\t\t".as_bytes(), &repeated);
    assert_eq!(echo, "é\r\néa éb\r\nabide> é");
    let mut editor = editor();
    let (_, echo) = feed_bytes(&mut editor, "é\t".as_bytes(), &mixed);
    assert_eq!((echo.as_str(), editor.line()), ("éa ", "éa "));
}

#[test]
fn unknown_escape_sequences_are_not_text() {
    let input = "a\x1b[2~b\x1b[1;5Cc\x1bOPd\x1b[200~e\x1b[201~\x1bxf";
    assert_eq!(edited(input), "abcdef");
    assert_eq!(echo_of(input), "abcdef");
    // Other control characters are ignored too.
    assert_eq!(edited("a\x00\x07\x1f\x12b"), "ab");
}

#[test]
fn utf8_is_inserted_and_edited_by_character() {
    let mut editor = editor();
    let (_, echo) = feed(&mut editor, &["aé", LEFT, "µ"].concat());
    assert_eq!(editor.line(), "aµé");
    assert_eq!(echo, "aé\x1b[1Dµé\x1b[1D");
    assert_eq!(editor.cursor(), "aµ".len());
    let (_, echo) = feed(&mut editor, "\x7f");
    assert_eq!(editor.line(), "aé");
    assert_eq!(echo, "\x1b[1Dé\x1b[K\x1b[1D");
    let (_, echo) = feed(&mut editor, &[RIGHT, "😀", HOME].concat());
    assert_eq!(echo, "\x1b[1C😀\x1b[3D");
    let (events, _) = feed(&mut editor, "\r");
    assert_eq!(events, [line("aé😀")]);
    // A character cut short by another byte is dropped.
    let mut editor = Editor::new(PROMPT, 0);
    let (_, echo) = feed_bytes(&mut editor, b"a\xc3b\xff", &NoCompletion);
    assert_eq!((editor.line(), echo.as_str()), ("ab", "ab"));
}

#[test]
fn lines_are_bounded() {
    let mut editor = editor();
    let long = "a".repeat(MAX_LINE_BYTES + 10);
    let (_, echo) = feed(&mut editor, &long);
    assert_eq!(editor.line().len(), MAX_LINE_BYTES);
    assert_eq!(echo.len(), MAX_LINE_BYTES);
    let (_, echo) = feed(&mut editor, "é");
    assert_eq!(echo, "");
}

#[test]
fn start_redraws_a_line_typed_ahead() {
    let mut editor = editor();
    let (events, _) = feed(&mut editor, &["ps\rme", "m", LEFT].concat());
    assert_eq!(events, [line("ps")]);
    assert_eq!(editor.start(), b"abide> mem\x1b[1D");
}
