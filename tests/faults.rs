//! Fault injection and confinement, in QEMU, with `system/faults.conf`:
//! the log service crashed 100 times at random moments while a client
//! writes to it loses and doubles nothing; so does the serial console
//! driver, crashed 100 times while a client writes lines to it; a component
//! reaches only what its routes grant (no log, no checkpoint) and stays
//! within its quotas; a group that exceeds its restart intensity fails and
//! its parent restarts it.
//!
//! Drives: `user/tests/chaos-log`, `user/tests/chaos-serial` and
//! `user/tests/probe` (as `probe`, `victim` and `sibling`), beside `user/init`,
//! `user/drivers/serial`, `user/services/log` and `user/apps/shell`. Configs:
//! `system/faults.conf`.

mod support;

use std::time::Duration;

use support::*;

/// Time for chaos-log's (or chaos-serial's) 100 crashes under TCG.
const CHAOS: Duration = Duration::from_secs(600);

/// Boots `system/faults.conf` and waits until chaos-serial is done: it
/// crashes the console driver 100 times from boot on, and input that
/// arrives meanwhile may be lost with an instance.
fn boot_faults() -> Session {
    let mut session = boot_to_shell(BootOptions::with_cmdline("config=faults"));
    step(session.expect("chaos-serial: ", CHAOS));
    step(session.expect_next("\n", REPLY));
    session
}

/// The `restarts` figure of component `name`, from `ps`.
fn restarts(session: &mut Session, name: &str) -> u64 {
    let output = command(
        session,
        &format!("ps | where name == {name} | select restarts"),
        "restarts",
    );
    first_number(&output, "restarts")
}

#[test]
fn the_log_service_crashed_100_times_keeps_every_acknowledged_request_once() {
    let mut session = boot_faults();
    step(session.expect("chaos-log: ", CHAOS));
    step(session.expect_next("\n", REPLY));
    let output = session.output().to_string();
    assert_contains(&output, "chaos-log: passed: 100 crashes");
    assert!(!output.contains("chaos-log: FAILED"), "{output}");
    // The system is up, and init counted every restart.
    assert_eq!(restarts(&mut session, "log"), 100);
    command(&mut session, "log component chaos-log last 3", "request ");
    assert_kernel_healthy(&session.output());
    power_off(&mut session);
}

#[test]
fn the_serial_driver_crashed_100_times_prints_every_acknowledged_line_once() {
    let mut session = boot_faults();
    let output = session.output().to_string();
    let verdict = output
        .lines()
        .find_map(|line| {
            line.split_once("chaos-serial: ")
                .map(|(_, verdict)| verdict)
        })
        .unwrap_or_else(|| panic!("no verdict of chaos-serial in:\n{output}"));
    let acknowledged: u64 = verdict
        .strip_prefix("done: 100 crashes, ")
        .and_then(|rest| rest.split_once(" lines acknowledged"))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or_else(|| panic!("chaos-serial did not pass: {verdict:?} in:\n{output}"));
    assert!(acknowledged >= 100, "{verdict}");
    let counts = numbered_lines(&output);
    for k in 1..=acknowledged {
        let count = counts.get(&k).copied().unwrap_or(0);
        assert_eq!(
            count, 1,
            "line {k} is on the console {count} times:\n{output}"
        );
    }
    // Every write was acknowledged before the verdict: none goes further.
    let beyond: Vec<&u64> = counts.keys().filter(|&&k| k > acknowledged).collect();
    assert!(
        beyond.is_empty(),
        "lines {beyond:?} were never acknowledged:\n{output}"
    );
    // The system is up, and init counted every restart.
    assert_eq!(restarts(&mut session, "serial"), 100);
    assert_kernel_healthy(&session.output());
    power_off(&mut session);
}

/// How often each `line K` is on the console, checking each is whole:
/// `line `, the number, `\r\n` — other output may come before or after a
/// line, never inside one.
fn numbered_lines(output: &str) -> std::collections::BTreeMap<u64, u32> {
    let bytes = output.as_bytes();
    let mut counts = std::collections::BTreeMap::new();
    for (at, _) in output.match_indices("line ") {
        let number = at + "line ".len();
        let digits = bytes[number..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits == 0 {
            continue;
        }
        let end = number + digits;
        let context = &bytes[at.saturating_sub(40)..(end + 40).min(bytes.len())];
        assert!(
            bytes[end..].starts_with(b"\r\n"),
            "a broken line at byte {at}: {:?}",
            String::from_utf8_lossy(context)
        );
        *counts
            .entry(output[number..end].parse().unwrap())
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_component_reaches_only_its_routes_within_its_quotas() {
    let mut session = boot_faults();
    step(session.expect("probe: handle quota", BOOT));
    step(session.expect_next("\n", REPLY));
    let output = session.output().to_string();
    assert!(!output.contains("probe: FAILED"), "{output}");
    assert_contains(&output, "probe: no route to log: not in the manifest");
    // No `uses checkpoint from init`: every handle value is refused for a
    // checkpoint, by name, and never answered `Unavailable`.
    assert_contains(
        &output,
        "probe: no checkpoint capability: persist SYNC and SNAPSHOT refused",
    );
    // The configuration's quotas: 192 pages and 32 handles.
    assert_contains(
        &output,
        "memory quota enforced: NoMemory at 192 of 192 pages",
    );
    assert_contains(&output, "handle quota enforced: NoMemory at 32 handles");
    // The shell here has no checkpoint route either: it says what is
    // missing instead of a bare error code.
    for name in ["sync", "snapshot"] {
        let reply = command(&mut session, name, "checkpoint");
        assert_contains(
            &reply,
            &format!(
                "error: {name}: this component holds no checkpoint capability \
                 (its configuration needs \"uses checkpoint from init\")"
            ),
        );
    }
    power_off(&mut session);
}

#[test]
fn a_group_over_its_intensity_fails_and_its_parent_restarts_it() {
    let mut session = boot_faults();
    command(&mut session, "crash victim", "victim faulted");
    // Let init restart it before the second crash.
    command(&mut session, "uptime", "up ");
    assert_eq!(restarts(&mut session, "victim"), 1);
    assert_eq!(restarts(&mut session, "sibling"), 0);
    // One restart a minute is all `fragile` allows: the second crash fails
    // the group, and root (one_for_one) restarts all of it.
    command(&mut session, "crash victim", "victim faulted");
    command(&mut session, "uptime", "up ");
    assert_eq!(restarts(&mut session, "sibling"), 1);
    command(
        &mut session,
        "log component kernel text exceeded",
        "group fragile exceeded its restart intensity",
    );
    command(&mut session, "tree | where kind == component", "sibling");
    power_off(&mut session);
}
