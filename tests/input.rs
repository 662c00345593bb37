//! Piped input to `cargo run`, as a new user pipes it: every byte of a long
//! script reaches the shell, run after run, and the end of the input powers
//! the machine off instead of leaving it running.
//!
//! These run the `abide` binary itself (like tests/cli.rs), without a store.
//!
//! Drives: the default system through the `abide` binary (`cargo run`):
//! `user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter}`, `user/apps/shell`. Configs:
//! `system/default.conf`.

mod support;

use std::time::Duration;

use support::piped::{run_with_input, PIPED_RUN};

/// A script of `lines` shell commands, each printing a line of its own, and
/// the lines they print.
fn script(lines: usize) -> (String, Vec<String>) {
    let expected: Vec<String> = (0..lines)
        .map(|i| format!("line-{i:04}-abcdefghijklmnopqrstuvwxyz"))
        .collect();
    let mut text: String = expected.iter().map(|l| format!("echo {l}\n")).collect();
    text.push_str("poweroff\n");
    (text, expected)
}

#[test]
fn a_long_piped_script_loses_nothing_twenty_times() {
    let (input, expected) = script(130);
    assert!(input.len() >= 4096, "the script is {} bytes", input.len());
    for attempt in 1..=20 {
        let run = run_with_input(input.as_bytes());
        let missing: Vec<&String> = expected
            .iter()
            .filter(|line| {
                // The shell's answer: the line alone, not its echoed command.
                !run.stdout.lines().any(|out| out == line.as_str())
            })
            .collect();
        assert!(
            missing.is_empty(),
            "run {attempt}: {} of {} lines never arrived, first {:?}; output:\n{}",
            missing.len(),
            expected.len(),
            missing.first(),
            run.stdout
        );
        assert!(
            run.stdout.contains("powering off"),
            "run {attempt}:\n{}",
            run.stdout
        );
        run.assert_success(&format!("run {attempt}: "));
    }
}

#[test]
fn empty_input_powers_the_machine_off() {
    let run = run_with_input(b"");
    run.assert_success("");
    assert!(run.stdout.contains("powering off"), "{}", run.stdout);
}

#[test]
fn input_without_poweroff_runs_its_commands_then_powers_off() {
    // The last line lacks its newline: it runs all the same.
    let run = run_with_input(b"echo first-of-two\nkv set greeting hello\nkv get greeting");
    run.assert_success("");
    let first = run.stdout.find("\nfirst-of-two\n");
    let hello = run.stdout.find("\nhello\n");
    let off = run.stdout.find("powering off");
    assert!(
        first.is_some() && hello.is_some() && off.is_some() && first < hello && hello < off,
        "the commands did not all run before the power-off:\n{}",
        run.stdout
    );
}

/// The guest side of the same: input that reaches the serial port before
/// the console driver runs (a host that does not wait for prompts, like
/// this session, which writes the script at once) waits in the UART when
/// the kernel's early buffer is full, instead of pushing out the oldest.
#[test]
fn input_sent_before_the_console_driver_runs_is_not_lost() {
    use abide_tool::session::{BootOptions, Session};
    let (input, expected) = script(130);
    let input = input.replace("poweroff\n", "");
    assert!(input.len() > 4096);
    let mut session = Session::boot(BootOptions::default()).unwrap();
    // At once, before the kernel has even printed its banner.
    session.send(&input).unwrap();
    let last = expected.last().unwrap();
    let waited = session.expect(&format!("\n{last}"), PIPED_RUN);
    let output = session.output().replace('\r', "");
    let missing: Vec<&String> = expected
        .iter()
        .filter(|line| !output.lines().any(|out| out == line.as_str()))
        .collect();
    assert!(
        waited.is_ok() && missing.is_empty(),
        "{} of {} lines never arrived, first {:?}; output:\n{output}",
        missing.len(),
        expected.len(),
        missing.first()
    );
    session.send("poweroff\n").unwrap();
    assert_eq!(session.wait_exit(Duration::from_secs(60)).unwrap(), 0);
}
