//! The confinement suite: `escalate` (user/tests/escalate), a component
//! of `system/confine.conf` with a route to the console and nothing else,
//! tries more than 50 ways to reach further; each must be refused with the
//! error named here. docs/reliability.md lists them.
//!
//! Drives: `user/tests/escalate` (which starts `user/tests/hello`), beside
//! `user/init`, `user/drivers/serial`, `user/services/{log,kv,counter}` and
//! `user/apps/shell`. Configs: `system/confine.conf`.

mod support;

use support::*;

/// Every attempt and the refusal it must meet.
const REFUSED: &[(&str, &str)] = &[
    ("spawn-without-capability", "BadHandle"),
    ("spawn-console-as-authority", "AccessDenied"),
    ("spawn-port-as-authority", "WrongType"),
    ("kernel-log-read-forged", "BadHandle"),
    ("kernel-log-read-console", "WrongType"),
    ("kernel-log-read-any-handle", "BadHandle"),
    ("irq-serial-forged-resource", "BadHandle"),
    ("irq-serial-console-as-resource", "AccessDenied"),
    ("irq-keyboard", "AccessDenied"),
    ("irq-timer", "BadHandle"),
    ("irq-any-held-handle", "AccessDenied"),
    ("ioports-com1", "BadHandle"),
    ("ioports-pci-config", "AccessDenied"),
    ("ioports-reset-cf9", "BadHandle"),
    ("ioports-debug-exit", "BadHandle"),
    ("ioports-pic", "AccessDenied"),
    ("ioport-read-com1-console", "WrongType"),
    ("ioport-write-forged", "BadHandle"),
    ("mmio-kernel-image", "BadHandle"),
    ("mmio-vga", "AccessDenied"),
    ("mmio-local-apic", "BadHandle"),
    ("mmio-io-apic", "AccessDenied"),
    ("mmio-page-zero", "BadHandle"),
    ("interrupt-ack-forged", "BadHandle"),
    ("power-off-forged", "BadHandle"),
    ("power-off-console", "AccessDenied"),
    ("power-off-any-handle", "BadHandle"),
    ("checkpoint-sync-forged", "BadHandle"),
    ("checkpoint-sync-console", "WrongType"),
    ("checkpoint-snapshot-forged", "BadHandle"),
    ("checkpoint-snapshot-port", "WrongType"),
    ("checkpoint-set-period", "BadHandle"),
    ("duplicate-console", "AccessDenied"),
    ("duplicate-reduced-with-more-rights", "AccessDenied"),
    ("mint-badge-on-reduced", "AccessDenied"),
    ("duplicate-forged", "BadHandle"),
    ("mint-forged", "BadHandle"),
    ("revoke-forged", "BadHandle"),
    ("close-forged", "BadHandle"),
    ("map-reduced-channel", "AccessDenied"),
    ("map-own-channel", "WrongType"),
    ("write-any-handle-value", "BadHandle"),
    ("read-any-handle-value", "BadHandle"),
    ("wait-on-any-handle-value", "BadHandle"),
    ("transfer-forged-handle", "BadHandle"),
    ("port-bind-console-as-port", "WrongType"),
    ("timer-set-forged", "BadHandle"),
    ("kill-forged", "BadHandle"),
    ("kill-console", "AccessDenied"),
    ("kill-any-handle-value", "BadHandle"),
    ("status-of-forged", "BadHandle"),
    ("handles-of-forged", "BadHandle"),
    ("handles-of-console", "WrongType"),
    ("handles-of-any-value", "BadHandle"),
    ("spawn-image-forged", "BadHandle"),
    ("spawn-image-console", "BadHandle"),
    ("map-forged-memory", "BadHandle"),
    ("map-console", "AccessDenied"),
    ("map-any-handle-value", "BadHandle"),
    ("memory-beyond-the-limit", "InvalidArgument"),
    ("memory-quota", "NoMemory"),
    ("handle-quota", "NoMemory"),
    ("read-kernel-direct-map", "BadAddress"),
    ("read-kernel-image", "BadAddress"),
    ("read-non-canonical", "BadAddress"),
    ("read-last-user-page", "BadAddress"),
    ("write-kernel-via-memory-stats", "BadAddress"),
    ("write-kernel-via-process-status", "BadAddress"),
    ("write-kernel-via-boot-args", "BadAddress"),
    ("unknown-system-call", "BadSyscall"),
];

#[test]
fn a_component_with_only_a_console_route_is_refused_every_escalation() {
    assert!(REFUSED.len() >= 50, "{} attempts", REFUSED.len());
    let mut session = step(Session::boot(BootOptions::with_cmdline("config=confine")));
    step(session.expect("escalate: done:", BOOT));
    // The verdict line is complete only at its end.
    step(session.expect_next("\n", REPLY));
    let output = session.output().replace('\r', "");
    assert_kernel_healthy(&output);
    let mut wrong = Vec::new();
    for (name, error) in REFUSED {
        let line = format!("escalate: {name}: refused {error}\n");
        if !output.contains(&line) {
            wrong.push(format!("{name}: expected `refused {error}`"));
        }
    }
    assert!(!output.contains(": FAILED"), "{output}");
    assert!(wrong.is_empty(), "{}\n{output}", wrong.join("\n"));
    let expected = format!("escalate: done: {} refused, 0 failed", REFUSED.len());
    assert_contains(&output, &expected);
    power_off(&mut session);
}
