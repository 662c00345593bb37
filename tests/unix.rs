//! System test: the Unix personality runs Debian's static busybox. The
//! `unix` component starts the command of `system/unix-hello.conf`'s
//! `args` (`busybox sh -c 'echo ...; uname -sr; exit 3'`) at boot:
//! glibc's start-up calls, a builtin's write, a fork, an exec of
//! `/proc/self/exe` for the applet, `wait4`, and `exit_group` with a status
//! the component logs. Output reaches the serial line through descriptors
//! 1 and 2 (the terminal is not wired in this configuration). The root
//! tree is made here from the busybox the Linux peer fetched (`cargo run --
//! bench`) and loaded with QEMU's generic loader; without that binary the
//! test says so and passes.
//!
//! Drives: `user/services/unix`. Configs: `unix-hello`, `unix-files`.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use abide_tool::session::{BootOptions, Session};
use support::*;

/// Where the root tree goes in guest RAM (256 MiB machines).
const ROOTFS_ADDRESS: u64 = 0xe00_0000;

/// The busybox binary the Linux peer fetched (`cargo run -- bench`).
fn busybox() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/linux-peer");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("busybox"))
        .find(|p| p.exists())
}

/// A ustar root tree with `/bin/busybox` and a link per applet.
fn root_tree(busybox: &std::path::Path) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("unix-rootfs");
    let _ = std::fs::remove_dir_all(&dir);
    let bin = dir.join("root/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(busybox, bin.join("busybox")).unwrap();
    for applet in ["sh", "echo", "true", "false", "cat", "wc"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
    }
    let tar = dir.join("rootfs.tar");
    let status = std::process::Command::new("tar")
        .args(["--format=ustar", "--owner=0", "--group=0", "-C"])
        .arg(dir.join("root"))
        .arg("-cf")
        .arg(&tar)
        .arg("bin")
        .status()
        .unwrap();
    assert!(status.success());
    tar
}

/// Boots `config` with the root tree and gives the serial output once pid
/// 2 (the command of the config's `args`) has ended; `None` without busybox.
fn run_busybox(config: &str) -> Option<String> {
    let Some(busybox) = busybox() else {
        eprintln!("no busybox under target/linux-peer: run `cargo run -- bench` once");
        return None;
    };
    let tar = root_tree(&busybox);
    let len = std::fs::metadata(&tar).unwrap().len();
    let mut options = BootOptions::with_cmdline(&format!(
        "config={config} archive=rootfs@{ROOTFS_ADDRESS:#x}+{len:#x}"
    ));
    options.extra_qemu_args = vec![
        "-device".into(),
        format!(
            "loader,file={},addr={ROOTFS_ADDRESS:#x},force-raw=on",
            tar.display()
        ),
    ];
    let mut session = step(Session::boot(options));
    let result = session
        .expect("unix: pid 2 ended: status", Duration::from_secs(240))
        .and_then(|()| session.expect_next("\n", Duration::from_secs(10)));
    let output = session.output();
    let _ = session.kill();
    step(result);
    assert_kernel_healthy(&output);
    Some(output)
}

#[test]
fn busybox_sh_runs_a_command_and_exits_with_its_status() {
    let Some(output) = run_busybox("unix-hello") else {
        return;
    };
    assert_contains(&output, "hello from busybox");
    // `uname` is not a builtin: sh forked and exec'd /proc/self/exe.
    assert_contains(&output, "Linux 6.1.0-abide");
    assert_contains(&output, "unix: pid 2 ended: status 3");
}

/// The shell's own redirections, `read`, `cd` and tests on `/proc` and
/// `/dev` go through the file calls (`files.rs`, lib/vfs) without a fork.
#[test]
fn busybox_sh_writes_appends_and_reads_files() {
    let Some(output) = run_busybox("unix-files") else {
        return;
    };
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
