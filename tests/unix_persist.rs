//! System test: a Linux shell loop in the middle of its work survives power
//! cuts. The power-cut loop (`tools/abide/src/crashtest.rs`) with its Linux
//! workload (`crashtest/unix.rs`): a busybox `sh` loop started in the
//! background writes a count to `/home/n` (the Unix personality's RAM file
//! system) every 50 ms; QEMU is SIGKILLed five times, and after each resume
//! the loop is the same process (same pid in `unix ps`), still counting,
//! and `/home/n` never went back past what it held before the last `sync`.
//!
//! Drives: the default system (`user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter,unix}`, `user/apps/shell`) with a store.
//! Configs: `system/default.conf`.

mod support;

use abide_tool::crashtest::{self, CrashtestOptions};
use support::*;

#[test]
fn a_linux_loop_keeps_its_pid_and_its_count_through_power_cuts() {
    let seed = 0x0000_0015_5e55_1011;
    let options = CrashtestOptions {
        runs: 5,
        seed,
        store: fresh_store("unix-crashtest"),
        max_cut_delay_ms: 1500,
        unix: true,
        add: Vec::new(),
    };
    println!("power-cut loop seed {seed:#x}");
    let report = crashtest::run(&options).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(report.runs, 5);
    assert_eq!(report.resumed, 5);
    assert!(report.unix_count > 0, "the loop never counted");
}
