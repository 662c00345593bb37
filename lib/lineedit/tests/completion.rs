//! Tab completion in the editor: a unique candidate, the common prefix,
//! the list on a second Tab, and answers the editor must ignore.

mod support;

use abide_lineedit::*;
use support::*;

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
        candidates: vec![String::from("x")],
    };
    let inside = |_: &str, _: usize| Completion {
        start: 1,
        candidates: vec![String::from("x")],
    };
    let unrelated = |_: &str, _: usize| Completion {
        start: 0,
        candidates: vec![String::from("zzz"), String::from("e")],
    };
    let mixed = |_: &str, _: usize| Completion {
        start: 0,
        candidates: vec![String::from("zzz"), String::from("éa")],
    };
    let control = |_: &str, _: usize| Completion {
        start: 0,
        candidates: vec![String::from("é\n"), String::from("é\x1b[2J")],
    };
    let completers: [&dyn Completer; 4] = [&past, &inside, &unrelated, &control];
    for completer in completers {
        let mut editor = editor();
        let (_, echo) = feed_bytes(&mut editor, "é\t\t".as_bytes(), completer);
        assert_eq!(echo, "é");
    }
    let repeated = |_: &str, _: usize| Completion {
        start: 0,
        candidates: vec![String::from("éa"), String::from("éa"), String::from("éb")],
    };
    let (_, echo) = feed_bytes(&mut editor(), "é\t\t".as_bytes(), &repeated);
    assert_eq!(echo, "é\r\néa éb\r\nabide> é");
    let mut editor = editor();
    let (_, echo) = feed_bytes(&mut editor, "é\t".as_bytes(), &mixed);
    assert_eq!((echo.as_str(), editor.line()), ("éa ", "éa "));
}
