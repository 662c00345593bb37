//! Helpers shared by the terminal's tests: reading everything a terminal
//! holds, callers in a session, and a fixed table of process groups.
#![allow(dead_code)]

use abide_tty::*;

/// Reads once with a buffer of `len` bytes.
pub fn read(terminal: &mut Terminal, len: usize) -> (Read, Vec<u8>) {
    let mut buf = vec![0; len];
    let result = terminal.read(&mut buf);
    let n = match result {
        Read::Data(n) => n,
        _ => 0,
    };
    buf.truncate(n);
    (result, buf)
}

/// Reads one line (or whatever one read gives) as text.
pub fn read_text(terminal: &mut Terminal) -> String {
    let (_, bytes) = read(terminal, 4096);
    String::from_utf8(bytes).unwrap()
}

/// Types `text` and returns the echo as text.
pub fn typed(terminal: &mut Terminal, text: &str) -> String {
    String::from_utf8(terminal.input(text.as_bytes()).echo).unwrap()
}

/// Session 100 with the shell (pid 100, its own group) in front and job
/// 200 in the background.
pub const SHELL: Caller = Caller {
    pid: 100,
    pgrp: 100,
    sid: 100,
    other_ctty: false,
    ignores_ttin: false,
    ignores_ttou: false,
    orphaned: false,
    privileged: true,
};
pub const JOB: Caller = Caller {
    pid: 201,
    pgrp: 200,
    ..SHELL
};
/// A process of another session.
pub const STRANGER: Caller = Caller {
    pid: 300,
    pgrp: 300,
    sid: 300,
    ..SHELL
};

/// Groups 100 and 200 in session 100, 300 in session 300.
pub struct Table;

impl Groups for Table {
    fn session_of(&self, pgrp: i32) -> Option<i32> {
        match pgrp {
            100 | 200 | 201 => Some(100),
            300 => Some(300),
            _ => None,
        }
    }
}

/// A terminal controlling session 100 with the shell in front.
pub fn controlled() -> Terminal {
    let mut terminal = Terminal::new();
    terminal.set_controlling(100, 100);
    terminal
}
