//! The editor, fed byte strings: the lines it produces and the exact bytes
//! it echoes as text is typed, edited with the cursor and control keys,
//! and bounded.

mod support;

use abide_lineedit::*;
use support::*;

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
