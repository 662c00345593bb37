//! System test: the VGA text console. Keys pressed on the PS/2 keyboard
//! reach the second shell (`vga-shell` in `system/default.conf`) through
//! the `vga` driver, and what the shell answers is drawn in the VGA text
//! buffer; when the driver crashes, its supervisor restarts it, the screen
//! stays as it was and typing goes on.
//!
//! The test drives the machine as a person at its screen would, through
//! QEMU's monitor (QMP): `send-key` presses keys on the emulated keyboard,
//! and the text buffer at 0xb8000 is read back from guest memory.
//!
//! Drives: `user/drivers/vga` and `user/apps/shell` (as `vga-shell`) in the
//! default system: `user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter}`, `user/apps/shell`. Configs:
//! `system/default.conf`.

mod support;

use std::time::{Duration, Instant};

use support::qemu_monitor::Qmp;
use support::*;

/// The VGA text buffer: 80 × 25 cells of two bytes (character, colours).
const TEXT_BUFFER: u64 = 0xb8000;
const COLUMNS: usize = 80;
const ROWS: usize = 25;
/// Between key presses, so that the keyboard's queue never overflows.
const KEY_GAP: Duration = Duration::from_millis(50);

/// The shell's prompt as it shows on a row (without its trailing space).
fn prompt() -> &'static str {
    host::SHELL_PROMPT.trim_end()
}

/// The screen's rows as text, trailing blanks removed.
fn screen(qmp: &mut Qmp) -> Vec<String> {
    let bytes = step(qmp.read_physical(TEXT_BUFFER, COLUMNS * ROWS * 2));
    bytes
        .chunks(COLUMNS * 2)
        .map(|row| {
            let text: String = row
                .chunks(2)
                .map(|cell| match cell[0] {
                    byte @ 0x20..=0x7e => char::from(byte),
                    0 => ' ',
                    _ => '.',
                })
                .collect();
            text.trim_end().to_string()
        })
        .collect()
}

/// The last row with something on it (where the cursor is while the
/// shell waits for a line).
fn last_line(rows: &[String]) -> &str {
    rows.iter()
        .rev()
        .find(|row| !row.is_empty())
        .map_or("", String::as_str)
}

/// Waits until the screen satisfies `done`; fails with the screen and the
/// serial output after `timeout`.
fn wait_for_screen(
    qmp: &mut Qmp,
    session: &Session,
    what: &str,
    timeout: Duration,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let rows = screen(qmp);
        if done(&rows) {
            return rows;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {timeout:?} waiting for {what} on the VGA screen:\n{}\n\
                 serial output:\n{}",
                rows.join("\n"),
                session.output()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Types `text` (lowercase letters, digits, space, `-`) key by key.
fn type_text(qmp: &mut Qmp, text: &str) {
    for c in text.chars() {
        let key = match c {
            ' ' => String::from("spc"),
            '-' => String::from("minus"),
            c if c.is_ascii_lowercase() || c.is_ascii_digit() => c.to_string(),
            c => panic!("type_text cannot type {c:?}"),
        };
        press(qmp, &[&key]);
    }
}

fn press(qmp: &mut Qmp, keys: &[&str]) {
    step(qmp.press(keys));
    std::thread::sleep(KEY_GAP);
}

/// Sends `line` to the serial shell and waits for `reply` and the next
/// prompt.
fn serial_command(session: &mut Session, line: &str, reply: &str) {
    step(session.send(&format!("{line}\n")));
    step(session.expect_next(reply, REPLY));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
}

/// Whether the row after the one that reads `typed` reads `answer`.
fn answered(rows: &[String], typed: &str, answer: &str) -> bool {
    rows.windows(2)
        .any(|pair| pair[0] == typed && pair[1] == answer)
}

#[test]
fn the_keyboard_and_the_screen_give_a_second_shell() {
    let socket = Qmp::socket_path("vga");
    let mut session = step(Session::boot(BootOptions {
        extra_qemu_args: Qmp::qemu_args(&socket),
        ..BootOptions::default()
    }));
    step(session.expect(host::SHELL_PROMPT, BOOT));
    let mut qmp = step(Qmp::connect(&socket, REPLY));

    // The driver cleared the screen; the shell on it greets and prompts.
    wait_for_screen(&mut qmp, &session, "the shell's prompt", REPLY, |rows| {
        rows.iter().any(|row| row.starts_with("Abide shell")) && last_line(rows) == prompt()
    });

    // "echo Vga-kx", Backspace, Left, "o", Enter: Shift, the E0-prefixed
    // arrows and the line editor's redraws on the screen, all at once.
    type_text(&mut qmp, "echo ");
    press(&mut qmp, &["shift", "v"]);
    type_text(&mut qmp, "ga-kx");
    press(&mut qmp, &["backspace"]);
    press(&mut qmp, &["left"]);
    type_text(&mut qmp, "o");
    press(&mut qmp, &["ret"]);
    let typed = format!("{}echo Vga-ok", host::SHELL_PROMPT);
    let rows = wait_for_screen(&mut qmp, &session, "the echo", REPLY, |rows| {
        answered(rows, &typed, "Vga-ok") && last_line(rows) == prompt()
    });
    assert!(
        !session.output().contains("Vga-ok"),
        "the VGA shell's answer went to the serial console:\n{}",
        session.output()
    );

    // The driver faults and its supervisor starts it again: the screen
    // stays, and the shell's read the old instance held is asked again.
    serial_command(&mut session, "crash vga", "vga faulted (injected)");
    // Keys pressed before the new instance set the keyboard up are lost:
    // press `x` until one shows, then clear the line (Ctrl-U).
    let deadline = Instant::now() + REPLY;
    loop {
        press(&mut qmp, &["x"]);
        let up = {
            let wait = Instant::now() + Duration::from_secs(3);
            loop {
                let now = screen(&mut qmp);
                if last_line(&now).starts_with(&format!("{}x", host::SHELL_PROMPT)) {
                    break true;
                }
                if Instant::now() >= wait {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        };
        if up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no key reached the shell after the driver's restart:\n{}\nserial output:\n{}",
            screen(&mut qmp).join("\n"),
            session.output()
        );
    }
    press(&mut qmp, &["ctrl", "u"]);
    type_text(&mut qmp, "echo again");
    press(&mut qmp, &["ret"]);
    let typed_again = format!("{}echo again", host::SHELL_PROMPT);
    let after = wait_for_screen(&mut qmp, &session, "the second echo", REPLY, |rows| {
        answered(rows, &typed_again, "again") && last_line(rows) == prompt()
    });
    assert!(
        answered(&after, &typed, "Vga-ok"),
        "the restarted driver lost the screen; before:\n{}\nafter:\n{}",
        rows.join("\n"),
        after.join("\n")
    );

    // The serial shell restarts while its read waits at the serial driver
    // (the command comes from the VGA shell): the new instance gets the
    // next line typed on the serial console; the old read takes none of it.
    type_text(&mut qmp, "restart shell");
    press(&mut qmp, &["ret"]);
    let typed_restart = format!("{}restart shell", host::SHELL_PROMPT);
    wait_for_screen(&mut qmp, &session, "the restart", REPLY, |rows| {
        answered(rows, &typed_restart, "restarted shell")
    });
    step(session.expect_next("Abide shell", REPLY));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    // Typed with runs of spaces; the answer has single ones.
    serial_command(&mut session, "echo spaced   out", "spaced out");

    drop(qmp);
    serial_command(
        &mut session,
        "ps | where name == vga | select name restarts",
        "vga",
    );
    step(session.send("poweroff\n"));
    assert_eq!(
        step(session.wait_exit(REPLY)),
        0,
        "output:\n{}",
        session.output()
    );
    assert_kernel_healthy(&session.output());
}
