//! The editor's history: walked with Up and Down, keeping the draft, and
//! bounded.

mod support;

use abide_lineedit::*;
use support::*;

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
