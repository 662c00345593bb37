//! Output processing: what a program's writes become on the wire.

use abide_linux::termios::*;
use abide_tty::*;

fn with_oflag(oflag: u32) -> Terminal {
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_oflag = oflag;
    t.set_termios(termios);
    t
}

#[test]
fn onlcr_turns_newlines_into_crlf() {
    let mut t = Terminal::new();
    assert_eq!(t.write(b"a\nb\n"), b"a\r\nb\r\n");
}

#[test]
fn without_opost_bytes_pass_unchanged() {
    let mut t = with_oflag(ONLCR);
    assert_eq!(t.write(b"a\n\t"), b"a\n\t");
}

#[test]
fn the_other_output_flags() {
    assert_eq!(with_oflag(OPOST | OCRNL).write(b"a\rb"), b"a\nb");
    assert_eq!(with_oflag(OPOST | ONOCR).write(b"\rab\r"), b"ab\r");
    assert_eq!(with_oflag(OPOST | OLCUC).write(b"abc"), b"ABC");
    assert_eq!(with_oflag(OPOST | XTABS).write(b"ab\tc"), b"ab      c");
}
