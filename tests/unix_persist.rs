//! System test: a Linux shell loop in the middle of its work survives power
//! cuts. The power-cut loop (`tools/abide/src/crashtest.rs`) with its Linux
//! workload (`crashtest/unix.rs`): a busybox `sh` loop started in the
//! background writes a count to `/home/n` (the Unix personality's RAM file
//! system) every 50 ms; QEMU is SIGKILLed five times, and after each resume
//! the loop is the same process (same pid in `unix ps`), still counting,
//! and `/home/n` never went back past what it held before the last `sync`.
//! Beside it, a file a Linux program `sync`ed is there after a power cut
//! that comes right after, and one written after the sync is not.
//!
//! Drives: the default system (`user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter,unix}`, `user/apps/shell`) with a store.
//! Configs: `system/default.conf`, `system/unix-sync.conf`.

mod support;

use abide_tool::crashtest::{self, CrashtestOptions};
use abide_tool::session::RootTree;
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

/// `sync` in a Linux program commits a checkpoint (the component's
/// `checkpoint` device): a file written and synced is there after a power
/// cut that comes right after, and a file another program wrote after the
/// sync is not. `system/unix-sync.conf` takes no periodic checkpoint in the
/// test's time (one an hour), so nothing but the `sync` can have saved the
/// file; the lost one shows that no other checkpoint came. (The syncing
/// script itself resumes in its `sync` and runs to its end again.)
#[test]
fn a_file_a_linux_program_synced_survives_a_power_cut() {
    let store = fresh_store("unix-sync");
    let options = || {
        BootOptions {
            root_tree: RootTree::Required,
            ..BootOptions::with_cmdline("config=unix-sync")
        }
        .with_store(&store)
    };
    let mut session = boot_to_shell(options());
    // `$((6*7))`: the reply is not the echo of the line typed.
    command(
        &mut session,
        "sh -c 'echo kept-by-sync > /home/synced && sync && echo synced-$((6*7))'",
        "synced-42",
    );
    command(
        &mut session,
        "sh -c 'echo lost-with-the-power > /home/unsynced && echo written-$((6*7))'",
        "written-42",
    );
    power_cut(&mut session);
    let mut session = boot_to_shell(options());
    assert_contains(&session.output(), "store: resumed generation");
    command(&mut session, "sh -c 'cat /home/synced'", "kept-by-sync");
    command(
        &mut session,
        "sh -c 'test -e /home/unsynced || echo unsynced-gone-$((6*7))'",
        "unsynced-gone-42",
    );
    power_off(&mut session);
}
