//! Fault injection and confinement, in QEMU, with `system/faults.conf`:
//! the log service crashed 100 times at random moments while a client
//! writes to it loses and doubles nothing; a component reaches only what
//! its routes grant and stays within its quotas; a group that exceeds its
//! restart intensity fails and its parent restarts it.

mod support;

use std::time::Duration;

use support::*;

/// Time for chaos-log's 100 crashes under TCG.
const CHAOS: Duration = Duration::from_secs(600);

fn boot_faults() -> Session {
    boot_to_shell(BootOptions::with_cmdline("config=faults"))
}

/// The `restarts` figure of component `name`, from `ps`.
fn restarts(session: &mut Session, name: &str) -> u64 {
    let output = command(
        session,
        &format!("ps | where name == {name} | select restarts"),
        "restarts",
    );
    output
        .lines()
        .skip_while(|line| line.trim() != "restarts")
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no restart count for {name} in:\n{output}"))
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
fn a_component_reaches_only_its_routes_within_its_quotas() {
    let mut session = boot_faults();
    step(session.expect("probe: handle quota", BOOT));
    step(session.expect_next("\n", REPLY));
    let output = session.output().to_string();
    assert!(!output.contains("probe: FAILED"), "{output}");
    assert_contains(&output, "probe: no route to log: not in the manifest");
    // The configuration's quotas: 192 pages and 32 handles.
    assert_contains(
        &output,
        "memory quota enforced: NoMemory at 192 of 192 pages",
    );
    assert_contains(&output, "handle quota enforced: NoMemory at 32 handles");
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
