//! System test: the Unix personality runs Debian's static busybox. The
//! `unix` component starts the command of `system/unix-hello.conf`'s
//! `args` (`busybox sh -c ...`) at boot; busybox's shell forks, execs
//! itself for the applet, waits, and exits with a status the component
//! logs. Output reaches the serial line through descriptors 1 and 2.
//!
//! Drives: `user/services/unix`. Configs: `unix-hello`.

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

#[test]
fn busybox_sh_runs_a_command_and_exits_with_its_status() {
    let Some(busybox) = busybox() else {
        eprintln!("no busybox under target/linux-peer: run `cargo run -- bench` once");
        return;
    };
    let tar = root_tree(&busybox);
    let len = std::fs::metadata(&tar).unwrap().len();
    let mut options = BootOptions::with_cmdline(&format!(
        "config=unix-hello archive=rootfs@{ROOTFS_ADDRESS:#x}+{len:#x}"
    ));
    options.extra_qemu_args = vec![
        "-device".into(),
        format!(
            "loader,file={},addr={ROOTFS_ADDRESS:#x},force-raw=on",
            tar.display()
        ),
    ];
    let mut session = step(Session::boot(options));
    let result = session.expect("unix: pid 2 ended", Duration::from_secs(240));
    let output = session.output();
    let _ = session.kill();
    step(result);
    assert_contains(&output, "hello from busybox");
    assert_contains(&output, "x86_64");
    assert_contains(&output, "unix: pid 2 ended: status 3");
    assert_kernel_healthy(&output);
}
