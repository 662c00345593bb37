//! System tests: authority a process must not have (hardening findings 4,
//! 8 and 9). Each boots the test program that makes the attack and checks
//! the kernel refused it.
//!
//! Drives: `user/tests/channel-cycle`, `user/tests/pci-grant`,
//! `user/tests/log-forge` (which starts `user/tests/nop`), each alone. Configs:
//! none (`init=<program>`).

mod support;

use support::*;

/// Boots `init=<program>` and returns its output once every process ended.
fn run_alone(program: &str) -> String {
    run_to_success(&format!("init={program}"))
}

#[test]
fn channel_endpoints_cannot_be_enclosed_in_their_own_queues() {
    let output = run_alone("channel-cycle");
    assert_contains(&output, "channel-cycle: ok");
    assert_contains(&output, "(channel-cycle) exited with status 0");
}

#[test]
fn pci_configuration_ports_reach_neither_reset_nor_bus_mastering() {
    let output = run_alone("pci-grant");
    assert_contains(&output, "pci-grant: bus mastering of 00:");
    assert_contains(&output, "pci-grant: reset through 0xcf9 refused");
    assert_contains(&output, "pci-grant: ok");
}

#[test]
fn the_kernel_log_needs_a_capability_and_processes_cannot_forge_its_lines() {
    // `run_alone` checks the kernel reported no exception and no panic:
    // the forged reports below must not count.
    let output = run_alone("log-forge");
    assert_contains(&output, "log-forge: ok");
    // The forged lines are there, tagged with the writer.
    let forged = output
        .lines()
        .filter_map(host::user_line)
        .filter(|line| line.name == "log-forge")
        .map(|line| line.text)
        .collect::<Vec<_>>();
    for text in [
        "KERNEL EXCEPTION: #GP general protection (forged)",
        "[    0.500000] WARN  process 99 (ghost) exited with status 3",
        "process 98 (ghost) was killed",
        "unfinished ",
    ] {
        assert!(
            forged
                .iter()
                .any(|line| line.trim_end_matches('\r') == text),
            "{text:?} is not a tagged line of log-forge in:\n{output}"
        );
    }
    for forgery in [
        host::EXCEPTION_REPORT_PREFIX,
        host::PANIC_REPORT_PREFIX,
        "process 99 (ghost)",
        "process 98 (ghost)",
        host::SHELL_PROMPT,
    ] {
        assert!(
            !host::kernel_reported(&output, forgery),
            "{forgery:?} passed for the kernel's in:\n{output}"
        );
    }
    // The kernel's own line after the unfinished one is still the kernel's.
    assert!(
        host::kernel_reported(&output, "(log-forge) exited with status 0"),
        "{output}"
    );
}
