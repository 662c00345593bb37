//! Signals from the keyboard (ISIG): Ctrl-C, Ctrl-\ and Ctrl-Z reach the
//! foreground process group, flush input unless NOFLSH, and echo.

mod support;

use abide_linux::signal::*;
use abide_linux::termios::*;
use abide_tty::*;
use support::*;

#[test]
fn ctrl_c_signals_the_foreground_group_and_flushes() {
    let mut t = controlled();
    t.input(b"half a line");
    let input = t.input(b"\x03");
    assert_eq!(input.echo, b"^C");
    assert_eq!(
        input.signals,
        vec![GroupSignal {
            pgrp: 100,
            signal: SIGINT
        }]
    );
    t.input(b"\n");
    assert_eq!(read_text(&mut t), "\n");
}

#[test]
fn quit_and_suspend_signal_too() {
    let mut t = controlled();
    let mut termios = *t.termios();
    termios.c_lflag |= NOFLSH;
    t.set_termios(termios);
    t.input(b"keep\n");
    let input = t.input(b"\x1c\x1a");
    assert_eq!(input.echo, b"^\\^Z");
    assert_eq!(
        input.signals,
        vec![
            GroupSignal {
                pgrp: 100,
                signal: SIGQUIT
            },
            GroupSignal {
                pgrp: 100,
                signal: SIGTSTP
            }
        ]
    );
    assert_eq!(read_text(&mut t), "keep\n");
}

#[test]
fn without_isig_or_a_session_no_signal_is_sent() {
    let mut t = Terminal::new();
    assert_eq!(t.input(b"\x03").signals, vec![]);
    let mut t = controlled();
    let mut termios = *t.termios();
    termios.c_lflag &= !ISIG;
    t.set_termios(termios);
    assert_eq!(t.input(b"\x03").signals, vec![]);
}

#[test]
fn ixon_stops_and_starts_output_and_swallows_the_characters() {
    let mut t = controlled();
    t.input(b"\x13");
    assert!(t.output_stopped());
    t.input(b"\x11");
    assert!(!t.output_stopped());
    assert_eq!(t.pending(), 0);
    t.input(b"\n");
    assert_eq!(read_text(&mut t), "\n");
}
