//! The short fuzz run of `cargo test`: `abide fuzz` with every attack
//! (`abide_tool::fuzz::ALL_ATTACKS`), in four processes at
//! once. The long run and its figures: docs/reliability.md.
//!
//! Drives: `user/tests/fuzz` (several instances of it), through `abide fuzz`.
//! Configs: none (`init=fuzz`).

mod support;

use abide_tool::fuzz::{fuzz, FuzzOptions, ALL_ATTACKS};

#[test]
fn hostile_calls_in_four_processes_leave_the_kernel_up_and_leak_nothing() {
    let options = FuzzOptions {
        calls: 40_000,
        seed: 0x5eed,
        procs: 4,
        attacks: ALL_ATTACKS.iter().map(|a| a.to_string()).collect(),
        timeout: support::RUN,
        memory_mib: 256,
        add: Vec::new(),
    };
    let report = fuzz(&options);
    assert!(
        report.passed(),
        "{}\nthe guest's output:\n{}",
        report.summary(&options),
        report.output
    );
    let result = report.result.expect("a result");
    assert_eq!(result.calls, 40_000);
    assert_eq!(result.procs, 4);
    assert!(!result.leaked());
    support::assert_kernel_healthy(&report.output);
}
