//! Piped input to `cargo run`, as a new user pipes it: the harness that
//! runs the `abide` binary with a script on its standard input and keeps
//! what it printed (tests/input.rs, tests/unix_shell.rs).

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// One boot, its commands and its power-off, under TCG on a loaded machine
/// (the first one may build the kernel).
pub const PIPED_RUN: Duration = Duration::from_secs(600);

/// What one run printed and how it ended.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fails the test, with both outputs, unless the run ended in success
    /// (`context` says which run).
    pub fn assert_success(&self, context: &str) {
        assert!(
            self.status.success(),
            "{context}{:?}\n{}\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }
}

/// Runs `abide run --no-store` (the `abide` binary itself, as a user's
/// `cargo run`) with `input` on its standard input (a pipe
/// closed after it); kills it after [`PIPED_RUN`].
pub fn run_with_input(input: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_abide"))
        .args(["run", "--no-store"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start abide");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
        // Dropped here: the end of the input.
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + PIPED_RUN;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "abide did not end within {PIPED_RUN:?}; output:\n{}",
                out.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    writer.join().unwrap();
    Run {
        status,
        stdout: out.join().unwrap().replace('\r', ""),
        stderr: err.join().unwrap(),
    }
}
