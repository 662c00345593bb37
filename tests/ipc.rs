//! System tests: channels, ports, memory objects, timers, interrupts and
//! process reports between real processes in QEMU. The programs are in
//! user/tests (ipc-test with ipc-peer, faults, irq-driver).
//!
//! Drives: `user/tests/ipc-test` (which starts `user/tests/ipc-peer` and
//! `user/tests/hello`), `user/tests/faults` (which starts `user/tests/fault-*`
//! and `user/tests/hello`), `user/tests/irq-driver`, each alone. Configs: none
//! (`init=<program>`).

mod support;

use support::*;

fn status_success() -> i32 {
    status_for(host::DEBUG_EXIT_SUCCESS)
}

#[test]
fn two_processes_talk_over_channels_ports_and_shared_memory() {
    let (output, status) = step(run_to_exit(BootOptions::with_cmdline("init=ipc-test"), RUN));
    for check in [
        "ping-pong: ok (100 of 100 rounds)",
        "a passed handle works in the receiver: ok",
        "a passed handle is gone from the sender: ok Err(BadHandle)",
        "a write without the WRITE right is refused: ok Err(AccessDenied)",
        "a derived handle works before revoke: ok",
        "revoke invalidates it in the other process: ok (revoked 2) retry: Err(BadHandle)",
        "the reader sees the writer's badge: ok",
        "1 MiB of shared memory reads the same in both processes: ok",
        "a timer fires through a port: ok",
        "a wait with nothing to wait for times out at its deadline: ok",
        "a program starts from an ELF image in a memory object: ok",
        "a memory limit is enforced: ok (alloc: Ok(()); alloc: Err(NoMemory)",
        "a handle quota is enforced: ok",
        "a child cannot get more than its parent, nor start without room: ok (Err(InvalidArgument); Err(NoMemory))",
        "a handle quota too small for the startup handles is refused, and they stay: ok",
        "the peer's exit closes its end: ok Err(PeerClosed)",
        "the parent reads the peer's exit status: ok",
    ] {
        assert_contains(&output, &format!("ipc-test: {check}"));
    }
    assert_contains(&output, "ipc-test: all checks passed");
    assert!(!output.contains("FAILED"), "output:\n{output}");
    assert_contains(&output, "(ipc-peer) exited with status 0");
    assert_contains(&output, "(ipc-test) exited with status 0");
    assert_kernel_healthy(&output);
    assert_eq!(status, status_success(), "output:\n{output}");
}

#[test]
fn a_parent_receives_the_fault_report_of_each_child() {
    let (output, status) = step(run_to_exit(BootOptions::with_cmdline("init=faults"), RUN));
    assert_contains(
        &output,
        "faults: fault-page faulted: vector 14 at address 0xdead0000",
    );
    assert_contains(&output, "faults: fault-ud faulted: vector 6");
    assert_contains(&output, "faults: fault-div faulted: vector 0");
    assert_contains(&output, "faults: fault-panic exited with status 101");
    assert_contains(
        &output,
        "faults: fault-kernel-read faulted: vector 14 at address 0xffff800000100000",
    );
    // The system went on: the last child ran normally.
    assert_contains(&output, "faults: hello exited with status 0");
    assert_contains(&output, "faults: every child reported");
    assert_contains(&output, "(faults) exited with status 0");
    assert_kernel_healthy(&output);
    assert_eq!(status, status_success(), "output:\n{output}");
}

#[test]
fn an_irq_and_device_memory_reach_a_user_space_driver() {
    let (output, status) = step(run_to_exit(
        BootOptions::with_cmdline("init=irq-driver"),
        RUN,
    ));
    assert_contains(
        &output,
        "irq-driver: a second owner for IRQ 8 is refused: Err(Busy)",
    );
    assert_contains(
        &output,
        "irq-driver: the kernel's interrupt controller is refused: Err(InvalidArgument)",
    );
    assert_contains(&output, "irq-driver: interrupt 5 of 5 handled");
    assert_contains(&output, "irq-driver: IRQ 8 reached user space 5 times");
    assert_contains(
        &output,
        "irq-driver: MMIO over RAM is refused: Err(InvalidArgument)",
    );
    assert_contains(
        &output,
        "irq-driver: MMIO over the local APIC is refused: Err(InvalidArgument)",
    );
    assert_contains(
        &output,
        "irq-driver: VGA text memory mapped through MMIO reads back 0x1f41 (wrote 0x1f41)",
    );
    assert_contains(&output, "(irq-driver) exited with status 0");
    assert_kernel_healthy(&output);
    assert_eq!(status, status_success(), "output:\n{output}");
}
