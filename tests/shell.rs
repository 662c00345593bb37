//! System tests: `cargo run`'s system boots from `system/default.conf` to
//! the user-space shell, through init and the user-space serial driver, and
//! every shell command answers on the serial console; a crashed driver is
//! restarted by its supervisor and the console keeps working.

mod support;

use support::*;

/// Boots the default system and waits for the shell's prompt.
fn boot_to_shell() -> Session {
    let mut session = step(Session::boot(BootOptions::default()));
    step(session.expect(host::SHELL_PROMPT, BOOT));
    session
}

/// Sends `line` and waits until the answer contains `reply` and the next
/// prompt follows it; returns the output since the line was sent.
fn command(session: &mut Session, line: &str, reply: &str) -> String {
    let before = session.output().len();
    step(session.send(&format!("{line}\n")));
    step(session.expect_next(reply, REPLY));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    session.output()[before..].to_string()
}

#[test]
fn every_shell_command_answers() {
    let mut session = boot_to_shell();
    command(&mut session, "help", "poweroff");
    command(&mut session, "echo hello   shell", "hello shell");
    let ps = command(&mut session, "ps", "restarts");
    for column in [
        "id", "name", "state", "mem", "handles", "cpu", "serial", "shell",
    ] {
        assert_contains(&ps, column);
    }
    let filtered = command(
        &mut session,
        "ps | where name == shell | select name state",
        "running",
    );
    assert!(
        !filtered.contains("serial"),
        "the filter kept serial:\n{filtered}"
    );
    command(&mut session, "ps | sort-by mem desc | first 1", "running");
    command(&mut session, "ps | where nosuch > 1", "unknown column");
    command(&mut session, "tree", "drivers");
    command(&mut session, "config show", "component serial");
    command(&mut session, "mem", "components");
    command(&mut session, "uptime", "up ");
    command(&mut session, "frobnicate", "unknown command `frobnicate`");
    command(&mut session, "kill x", "is not a number");
    command(
        &mut session,
        "caps 99999",
        "no component runs as process 99999",
    );
    command(&mut session, "crash nobody", "no component named");
    command(&mut session, "log", "no route to the log service");

    // The driver faults and is restarted; the console it serves goes on.
    command(&mut session, "crash serial", "serial faulted (injected)");
    let ps = command(
        &mut session,
        "ps | where name == serial | select name restarts",
        "serial",
    );
    assert_contains(&ps, "1");
    let shell_id = ps_id(&command(
        &mut session,
        "ps | where name == shell | select id",
        "id",
    ));
    let caps = command(&mut session, &format!("caps {shell_id}"), "channel");
    assert_contains(&caps, "rights");

    step(session.send("poweroff\n"));
    assert_eq!(
        step(session.wait_exit(REPLY)),
        0,
        "output:\n{}",
        session.output()
    );
}

/// The number on the line after the `id` header.
fn ps_id(output: &str) -> u64 {
    output
        .lines()
        .skip_while(|line| line.trim() != "id")
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no id in:\n{output}"))
}
