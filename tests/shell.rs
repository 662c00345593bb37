//! System tests: `cargo run`'s system boots from `system/default.conf` to
//! the user-space shell, through init and the user-space serial driver, and
//! every shell command answers on the serial console; a crashed driver is
//! restarted by its supervisor and the console keeps working.
//!
//! Drives: the default system (`user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter}`, `user/apps/shell`); `config apply faults`
//! adds `user/tests/chaos-log`, `user/tests/chaos-serial` and
//! `user/tests/probe`. Configs: `system/default.conf`, then
//! `system/faults.conf`.

mod support;

use support::*;

#[test]
fn every_shell_command_answers() {
    let mut session = boot_to_shell(BootOptions::default());
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
    let mem = command(&mut session, "mem", "kernel heap");
    for row in ["components", "init", "machine"] {
        assert_contains(&mem, row);
    }
    command(&mut session, "uptime", "up ");
    command(&mut session, "frobnicate", "unknown command `frobnicate`");
    command(&mut session, "kill x", "is not a number");
    command(
        &mut session,
        "caps 99999",
        "no component runs as process 99999",
    );
    command(&mut session, "crash nobody", "no component named");
    // The log holds init's messages, copied from the kernel's log.
    command(
        &mut session,
        "log component kernel text init: | select component text",
        "init: ",
    );
    command(&mut session, "log level bogus", "unknown level `bogus`");
    // By time: the test ends long before 100,000 s after boot.
    let later = command(&mut session, "log since 100000s", "seq");
    assert!(
        !later.contains("init: "),
        "entries from the future:\n{later}"
    );
    command(&mut session, "log since 0s text init: last 1", "init: ");
    command(&mut session, "log since soon", "is not a duration like");

    // The driver faults and is restarted; the console it serves goes on.
    command(&mut session, "crash serial", "serial faulted (injected)");
    let ps = command(
        &mut session,
        "ps | where name == serial | select name restarts",
        "serial",
    );
    assert_contains(&ps, "1");
    let shell_id = id_of(&command(
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

#[test]
fn config_apply_starts_stops_and_restarts_only_what_changed() {
    let mut session = boot_to_shell(BootOptions::default());
    let serial_id = id_of(&command(
        &mut session,
        "ps | where name == serial | select id",
        "id",
    ));
    command(
        &mut session,
        "config apply nosuch",
        "the image has no configuration system/nosuch.conf",
    );
    // `faults` has the same serial driver, a shell with other routes, no
    // PCI bus service, and components of its own. The shell is restarted
    // by the change: its banner comes again.
    step(session.send("config apply faults\n"));
    step(session.expect_next("Abide shell", REPLY));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    let ps = command(&mut session, "ps | select id name restarts", "restarts");
    for added in ["probe", "victim", "sibling", "chaos-log"] {
        assert_contains(&ps, added);
    }
    assert!(!ps.contains(" pci "), "pci was not stopped:\n{ps}");
    // Unchanged, so kept: the same process.
    let serial_after = id_of(&command(
        &mut session,
        "ps | where name == serial | select id",
        "id",
    ));
    assert_eq!(
        serial_id, serial_after,
        "the unchanged serial driver was restarted"
    );
    let shell = command(
        &mut session,
        "ps | where name == shell | select restarts",
        "restarts",
    );
    assert_contains(&shell, "1");
    command(&mut session, "config show", "group fragile");
    power_off(&mut session);
}

/// The process id in a `ps | … | select id` answer.
fn id_of(output: &str) -> u64 {
    first_number(output, "id")
}
