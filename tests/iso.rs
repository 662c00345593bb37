//! System tests: `cargo run -- iso` builds a GRUB ISO of the same kernel, and
//! it boots in QEMU from `-cdrom` through Multiboot2.
//!
//! Drives: none for the in-kernel tests (`test=all`); the default system for
//! the shell boot: `user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter}`, `user/apps/shell`. Configs:
//! `system/default.conf`.

mod support;

use support::*;

#[test]
fn iso_boots_through_multiboot2_and_passes_the_kernel_tests() {
    let iso = step(abide_tool::iso::build_iso_named(
        "test-all",
        Image::Full,
        "test=all",
    ));
    let opts = BootOptions {
        iso: Some(iso),
        ..BootOptions::default()
    };
    let (output, status) = step(run_to_exit(opts, RUN));
    assert_contains(&output, "(x86_64, multiboot2) ready");
    assert_contains(&output, host::KTEST_SUMMARY_PREFIX);
    assert_contains(&output, " passed, 0 failed");
    assert_eq!(
        status,
        status_for(host::DEBUG_EXIT_SUCCESS),
        "exit status; output:\n{output}"
    );
}

#[test]
fn iso_boots_to_the_shell_and_powers_off() {
    let iso = step(abide_tool::iso::build_iso_named("console", Image::Full, ""));
    let mut session = step(Session::boot(BootOptions {
        iso: Some(iso),
        ..BootOptions::default()
    }));
    step(session.expect(host::SHELL_PROMPT, BOOT));
    step(session.send("poweroff\n"));
    assert_eq!(
        step(session.wait_exit(REPLY)),
        0,
        "output:\n{}",
        session.output()
    );
}
