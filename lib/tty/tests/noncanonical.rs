//! Non-canonical mode: VMIN and VTIME, echo, and switching modes with
//! input pending (as busybox's line editing does around every command).

mod support;

use abide_linux::termios::*;
use abide_tty::*;
use support::*;

fn raw(min: u8, time: u8) -> Terminal {
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_lflag &= !(ICANON | ECHO | ECHONL);
    termios.c_cc[VMIN] = min;
    termios.c_cc[VTIME] = time;
    t.set_termios(termios);
    t
}

#[test]
fn vmin_one_returns_each_byte_as_it_comes() {
    let mut t = raw(1, 0);
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
    assert!(!t.readable());
    assert_eq!(t.input(b"\x7f\x15a").echo, b"");
    assert!(t.readable());
    assert_eq!(read(&mut t, 10).1, b"\x7f\x15a");
    assert_eq!(t.read_timeout(), None);
}

#[test]
fn vmin_waits_for_that_many_bytes_or_the_buffer() {
    let mut t = raw(3, 0);
    t.input(b"ab");
    assert!(!t.readable());
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
    assert_eq!(read(&mut t, 2).1, b"ab");
    t.input(b"cde");
    assert_eq!(read(&mut t, 10).1, b"cde");
}

#[test]
fn vmin_zero_vtime_zero_never_blocks() {
    let mut t = raw(0, 0);
    assert_eq!(read(&mut t, 10).0, Read::Data(0));
    t.input(b"x");
    assert_eq!(read(&mut t, 10).1, b"x");
}

#[test]
fn vtime_is_a_timer_the_component_runs() {
    let mut t = raw(0, 5);
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
    assert_eq!(t.read_timeout(), Some(5));
    assert_eq!(t.read_timed_out(&mut [0; 10]), Read::Data(0));
    // With VMIN > 0 the timer runs only once a byte came.
    let mut t = raw(4, 2);
    assert_eq!(t.read_timeout(), None);
    t.input(b"a");
    assert_eq!(t.read_timeout(), Some(2));
    assert_eq!(read(&mut t, 10).0, Read::WouldBlock);
    let mut buf = [0; 10];
    assert_eq!(t.read_timed_out(&mut buf), Read::Data(1));
}

#[test]
fn echo_in_raw_mode_shows_controls_but_a_newline_as_itself() {
    let mut t = Terminal::new();
    let mut termios = *t.termios();
    termios.c_lflag &= !ICANON;
    t.set_termios(termios);
    assert_eq!(typed(&mut t, "a\x01\r"), "a^A\r\n");
    assert_eq!(read(&mut t, 10).1, b"a\x01\n");
}

#[test]
fn leaving_canonical_mode_makes_the_edited_line_readable() {
    let mut t = Terminal::new();
    t.input(b"one\ntw");
    let mut termios = *t.termios();
    termios.c_lflag &= !ICANON;
    t.set_termios(termios);
    assert_eq!(t.pending(), 6);
    assert_eq!(read(&mut t, 10).1, b"one\ntw");
}

#[test]
fn entering_canonical_mode_makes_raw_bytes_the_start_of_the_line() {
    let mut t = raw(1, 0);
    t.input(b"ab");
    t.set_termios(Termios::linux_default());
    assert!(!t.readable());
    t.input(b"c\n");
    assert_eq!(read_text(&mut t), "abc\n");
}

#[test]
fn busybox_line_editing_disables_intr_through_c_cc() {
    // read_line_input: ~(ICANON|ECHO|ECHONL), VMIN 1, VTIME 0, VINTR disabled.
    let mut t = controlled();
    let mut termios = *t.termios();
    termios.c_lflag &= !(ICANON | ECHO | ECHONL);
    termios.c_cc[VMIN] = 1;
    termios.c_cc[VTIME] = 0;
    termios.c_cc[VINTR] = VDISABLE;
    t.set_termios(termios);
    let input = t.input(b"\x03\x00");
    assert!(input.signals.is_empty());
    assert_eq!(read(&mut t, 10).1, b"\x03\x00");
}
