//! System test: the Unix personality runs Debian's static busybox. The
//! `unix` component starts the command of `system/unix-hello.conf`'s
//! `args` (`busybox sh -c 'echo ...; uname -sr; exit 3'`) at boot:
//! glibc's start-up calls, a builtin's write, a fork, an exec of
//! `/proc/self/exe` for the applet, `wait4`, and `exit_group` with a status
//! the component logs. Output reaches the serial line through descriptors
//! 1 and 2 (the terminal is not wired in this configuration). The root
//! tree is the host tool's (`RootTree::Required`: the test fails when
//! busybox cannot be had).
//!
//! Drives: `user/services/unix`. Configs: `unix-hello`, `unix-files`.

mod support;

use std::time::Duration;

use abide_tool::session::{BootOptions, RootTree, Session};
use support::*;

/// Boots `config` with the root tree (busybox; the test fails when it
/// cannot be had) and gives the serial output once pid 2 (the command of
/// the config's `args`) has ended.
fn run_busybox(config: &str) -> String {
    let mut options = BootOptions::with_cmdline(&format!("config={config}"));
    options.root_tree = RootTree::Required;
    let mut session = step(Session::boot(options));
    let result = session
        .expect("unix: pid 2 ended: status", Duration::from_secs(240))
        .and_then(|()| session.expect_next("\n", Duration::from_secs(10)));
    let output = session.output();
    let _ = session.kill();
    step(result);
    assert_kernel_healthy(&output);
    output
}

#[test]
fn busybox_sh_runs_a_command_and_exits_with_its_status() {
    let output = run_busybox("unix-hello");
    assert_contains(&output, "hello from busybox");
    // `uname` is not a builtin: sh forked and exec'd /proc/self/exe.
    assert_contains(&output, "Linux 6.1.0-abide");
    assert_contains(&output, "unix: pid 2 ended: status 3");
}

/// The shell's own redirections, `read`, `cd` and tests on `/proc` and
/// `/dev` go through the file calls (`files.rs`, lib/vfs) without a fork.
#[test]
fn busybox_sh_writes_appends_and_reads_files() {
    let output = run_busybox("unix-files");
    for line in [
        "got hello",
        "/tmp",
        "line hello",
        "line more",
        "proc ok",
        "null ok",
    ] {
        assert_contains(&output, line);
    }
    assert_contains(&output, "unix: pid 2 ended: status 3");
}
