//! System tests: the persistence demo in the default system, booted
//! without a store. The shell's `kv` commands reach the `kv` service,
//! `counter` the counter that counts on its own, and the checkpoint
//! commands say plainly that there is no store: `snapshot` and `sync` fail
//! with the no-store message, `persist` shows `enabled` 0.
//!
//! The no-store answers need the kernel's checkpoint engine (the `persist`
//! system call answering `Unavailable`); a kernel without it answers
//! `BadSyscall`, which the shell reports as a kernel without the engine.
//!
//! Drives: `user/apps/shell`, `user/services/kv` and `user/services/counter` in
//! the default system: `user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter}`, `user/apps/shell`. Configs:
//! `system/default.conf`.

mod support;

use std::time::Duration;

use support::*;

/// What `snapshot` and `sync` say on a machine without a store.
const NO_STORE: &str = "no store attached (boot with a store; see cargo run -- --help)";

#[test]
fn kv_counter_and_the_checkpoint_commands_answer_without_a_store() {
    let mut session = boot_to_shell(BootOptions::default());
    let ps = command(&mut session, "ps | select name state", "state");
    for component in ["counter", "kv"] {
        assert_contains(&ps, component);
    }

    // The key-value service.
    assert_eq!(answer(&mut session, "kv set a 1"), ["set a"]);
    assert_eq!(answer(&mut session, "kv get a"), ["1"]);
    assert_eq!(answer(&mut session, "kv set b \"two words\""), ["set b"]);
    let list = answer(&mut session, "kv list");
    assert_eq!(cell(&list, 0, "key"), "a", "{list:?}");
    assert_eq!(cell(&list, 0, "value"), "1", "{list:?}");
    assert_eq!(cell(&list, 1, "key"), "b", "{list:?}");
    // A table: the pipeline stages work on it.
    assert_eq!(
        answer(&mut session, "kv list | where key == b | select value"),
        ["value", "two words"]
    );
    assert_eq!(answer(&mut session, "kv del a"), ["deleted a"]);
    assert_eq!(answer(&mut session, "kv get a"), ["error: no key `a`"]);
    assert_eq!(answer(&mut session, "kv list | select key"), ["key", "b"]);
    let usage = answer(&mut session, "kv frob");
    assert!(usage[0].contains("usage: kv set KEY VALUE"), "{usage:?}");

    // The counter counts on its own, one more every 10 ms.
    let first = counter(&mut session);
    std::thread::sleep(Duration::from_millis(200));
    let second = counter(&mut session);
    assert!(second > first, "the counter went from {first} to {second}");

    // No store: the checkpoint commands say so.
    assert_eq!(
        answer(&mut session, "snapshot"),
        [format!("error: snapshot: {NO_STORE}")]
    );
    assert_eq!(
        answer(&mut session, "sync"),
        [format!("error: sync: {NO_STORE}")]
    );
    let status = answer(&mut session, "persist");
    assert_eq!(cell(&status, 0, "enabled"), "0", "{status:?}");
    assert_eq!(cell(&status, 0, "generation"), "0", "{status:?}");
    assert_eq!(
        answer(&mut session, "persist | select enabled"),
        ["enabled", "0"]
    );

    assert_kernel_healthy(&session.output());
    power_off(&mut session);
}

/// The lines the shell printed for `line`: the output after the echoed
/// line, up to the next prompt, trimmed (numbers are right-aligned).
fn answer(session: &mut Session, line: &str) -> Vec<String> {
    let output = command(session, line, "\n").replace('\r', "");
    let prompt = host::SHELL_PROMPT.trim_end();
    output
        .lines()
        .skip(1)
        .filter(|text| !text.starts_with(prompt))
        .map(|text| text.trim().to_string())
        .collect()
}

/// The value in row `row` (0: the first after the header) under `column`
/// of a table the shell printed, whose values have no spaces.
fn cell(table: &[String], row: usize, column: &str) -> String {
    let header: Vec<&str> = table[0].split_whitespace().collect();
    let index = header
        .iter()
        .position(|name| *name == column)
        .unwrap_or_else(|| panic!("no column {column} in {table:?}"));
    table
        .get(row + 1)
        .and_then(|line| line.split_whitespace().nth(index))
        .unwrap_or_else(|| panic!("no row {row} in {table:?}"))
        .to_string()
}

/// The counter's value, from `counter` (`counter 1234`).
fn counter(session: &mut Session) -> u64 {
    let lines = answer(session, "counter");
    lines
        .first()
        .and_then(|line| line.strip_prefix("counter "))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("not `counter N`: {lines:?}"))
}
