//! Canonical mode: lines, the editing characters and their echo, end of
//! file.

mod support;

use abide_tty::*;
use support::*;

#[test]
fn a_line_is_readable_once_complete_with_its_newline() {
    let mut t = Terminal::new();
    assert_eq!(typed(&mut t, "echo hi"), "echo hi");
    assert!(!t.readable());
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
    // Enter is a carriage return: ICRNL makes it a newline, ONLCR echoes CRLF.
    assert_eq!(typed(&mut t, "\r"), "\r\n");
    assert!(t.readable());
    assert_eq!(t.pending(), 8);
    assert_eq!(read_text(&mut t), "echo hi\n");
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
}

#[test]
fn a_read_returns_at_most_one_line_and_resumes_a_partial_one() {
    let mut t = Terminal::new();
    t.input(b"one\ntwo\n");
    assert_eq!(read(&mut t, 2).1, b"on");
    assert_eq!(read(&mut t, 100).1, b"e\n");
    assert_eq!(read(&mut t, 100).1, b"two\n");
}

#[test]
fn erase_rubs_out_one_character() {
    let mut t = Terminal::new();
    assert_eq!(typed(&mut t, "ab\x7f"), "ab\x08 \x08");
    t.input(b"c\n");
    assert_eq!(read_text(&mut t), "ac\n");
    // Nothing to erase: nothing echoed.
    assert_eq!(typed(&mut t, "\x7f"), "");
}

#[test]
fn a_control_character_echoes_as_caret_and_erases_two_columns() {
    let mut t = Terminal::new();
    assert_eq!(typed(&mut t, "\x01"), "^A");
    assert_eq!(typed(&mut t, "\x7f"), "\x08 \x08\x08 \x08");
}

#[test]
fn kill_erases_the_line_and_werase_a_word() {
    let mut t = Terminal::new();
    assert_eq!(typed(&mut t, "ab\x15"), "ab\x08 \x08\x08 \x08");
    assert_eq!(
        typed(&mut t, "ls foo_1 \x17"),
        "ls foo_1 \x08 \x08\x08 \x08\x08 \x08\x08 \x08\x08 \x08\x08 \x08"
    );
    t.input(b"bar\n");
    assert_eq!(read_text(&mut t), "ls bar\n");
}

#[test]
fn kill_without_echoke_echoes_the_character_and_a_newline() {
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_lflag &= !abide_linux::termios::ECHOKE;
    t.set_termios(termios);
    assert_eq!(typed(&mut t, "ab\x15"), "ab^U\r\n");
}

#[test]
fn erasing_a_tab_backs_up_to_where_it_started() {
    let mut t = Terminal::new();
    t.write(b"$ ");
    assert_eq!(typed(&mut t, "a\t"), "a\t");
    // The line started at column 2; "a" ends at 3; the tab went to 8.
    assert_eq!(typed(&mut t, "\x7f"), "\x08\x08\x08\x08\x08");
}

#[test]
fn utf8_characters_are_erased_whole_under_iutf8() {
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_iflag |= abide_linux::termios::IUTF8;
    t.set_termios(termios);
    assert_eq!(typed(&mut t, "é\x7f"), "é\x08 \x08");
    t.input(b"\n");
    assert_eq!(read_text(&mut t), "\n");
}

#[test]
fn eof_ends_a_line_without_newline_and_on_an_empty_line_is_end_of_file() {
    let mut t = Terminal::new();
    assert_eq!(typed(&mut t, "abc\x04"), "abc");
    assert_eq!(read_text(&mut t), "abc");
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
    assert_eq!(typed(&mut t, "\x04"), "");
    assert!(t.readable());
    assert_eq!(read(&mut t, 10).0, Read::Eof);
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
}

#[test]
fn lnext_quotes_the_next_character() {
    let mut t = Terminal::new();
    assert_eq!(typed(&mut t, "\x16"), "^\x08");
    assert_eq!(typed(&mut t, "\x03"), "^C");
    t.input(b"\n");
    assert_eq!(read(&mut t, 10).1, b"\x03\n");
}

#[test]
fn reprint_shows_the_line_again() {
    let mut t = Terminal::new();
    t.input(b"ab");
    assert_eq!(typed(&mut t, "\x12"), "^R\r\nab");
}

#[test]
fn without_echo_nothing_is_echoed_but_lines_still_form() {
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_lflag &= !abide_linux::termios::ECHO;
    t.set_termios(termios);
    assert_eq!(typed(&mut t, "secret\x7f\r"), "");
    assert_eq!(read_text(&mut t), "secre\n");
}

#[test]
fn input_flags_translate_carriage_returns_and_strip() {
    use abide_linux::termios::*;
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_iflag = IGNCR | ISTRIP;
    t.set_termios(termios);
    t.input(b"a\rb\xe1\n");
    assert_eq!(read(&mut t, 10).1, b"aba\n");
    termios.c_iflag = INLCR;
    termios.c_lflag &= !ICANON;
    t.set_termios(termios);
    t.input(b"\n\r");
    assert_eq!(read(&mut t, 10).1, b"\r\r");
}

#[test]
fn a_full_line_drops_what_does_not_fit() {
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_lflag &= !abide_linux::termios::ECHO;
    t.set_termios(termios);
    t.input(&vec![b'x'; MAX_INPUT + 10]);
    assert_eq!(t.pending(), 0);
    t.input(b"\x7f\n");
    assert_eq!(read(&mut t, 8192).1.len(), MAX_INPUT);
}
