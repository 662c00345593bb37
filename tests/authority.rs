//! System tests: authority a process must not have (hardening findings 4,
//! 8 and 9). Each boots the test program that makes the attack and checks
//! the kernel refused it.

mod support;

use support::*;

/// Boots `init=<program>` and returns its output once every process ended.
fn run_alone(program: &str) -> String {
    let (output, status) = step(run_to_exit(
        BootOptions::with_cmdline(&format!("init={program}")),
        RUN,
    ));
    assert_kernel_healthy(&output);
    assert_eq!(
        status,
        status_for(host::DEBUG_EXIT_SUCCESS),
        "output:\n{output}"
    );
    output
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
