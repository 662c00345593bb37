//! The root tree and `--add` archives reach the guest beside the kernel:
//! the host tool loads them with QEMU's generic loader, names them on the
//! kernel command line, and the kernel keeps their frames and serves them
//! through `bundle_read` byte for byte — and the kernel image itself never
//! carries busybox (docs/host-tool.md, "The root tree").
//!
//! Drives: `archive-check` (user/tests), the kernel test
//! `archives::frames_kept`. Needs Debian's busybox-static (fetched with apt
//! and cached, like the benchmark's Linux peer).

mod support;

use std::fs;
use std::path::PathBuf;

use abide_tool::build::{self, Image};
use abide_tool::rootfs::{self, AddSpec, Placed, RootTree};
use support::*;

/// A small host directory for `--add`, with a file, a subdirectory and a
/// link.
fn add_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("abide-rootfs-test-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("data")).unwrap();
    fs::write(
        dir.join("data/numbers"),
        (0..1000).map(|i| format!("{i}\n")).collect::<String>(),
    )
    .unwrap();
    fs::write(dir.join("hello.sh"), "echo hello from --add\n").unwrap();
    std::os::unix::fs::symlink("data/numbers", dir.join("numbers")).unwrap();
    dir
}

/// The options of a boot with the root tree and `dir` added at `/opt/added`.
fn options(cmdline: &str, dir: &std::path::Path) -> BootOptions {
    let spec: AddSpec = format!("{}:/opt/added", dir.display()).parse().unwrap();
    BootOptions {
        root_tree: RootTree::Required,
        add: vec![spec],
        ..BootOptions::with_cmdline(cmdline)
    }
}

/// What `archive-check` prints for a host file.
fn expected_line(placed: &Placed) -> String {
    let bytes = fs::read(&placed.path).unwrap();
    format!(
        "archive {}: {} bytes, crc32c {:#010x}",
        placed.name,
        bytes.len(),
        abide_store::crc::crc32c(&bytes)
    )
}

#[test]
fn the_guest_reads_both_archives_byte_exact() {
    let dir = add_dir();
    let opts = options("init=archive-check", &dir);
    let placed = step(rootfs::prepare(opts.root_tree, &opts.add, opts.memory_mib));
    assert_eq!(
        placed.iter().map(|p| p.name).collect::<Vec<_>>(),
        ["rootfs", "add"]
    );
    let (output, status) = step(run_to_exit(opts, RUN));
    fs::remove_dir_all(&dir).unwrap();
    assert_kernel_healthy(&output);
    for archive in &placed {
        assert_contains(&output, &expected_line(archive));
    }
    assert_exit(status, host::DEBUG_EXIT_SUCCESS, &output);
}

#[test]
fn no_frame_of_an_archive_is_ever_handed_out() {
    let dir = add_dir();
    let (output, status) = step(run_to_exit(
        options("test=archives::frames_kept", &dir),
        RUN,
    ));
    fs::remove_dir_all(&dir).unwrap();
    assert_contains(&output, "kernel test archives::frames_kept ... ok");
    assert_exit(status, host::DEBUG_EXIT_SUCCESS, &output);
}

#[test]
fn without_archives_bundle_read_says_absent() {
    let (output, status) = step(run_to_exit(
        BootOptions::with_cmdline("init=archive-check"),
        RUN,
    ));
    assert_contains(&output, "archive rootfs: absent");
    assert_contains(&output, "archive add: absent");
    assert_exit(status, host::DEBUG_EXIT_SUCCESS, &output);
}

#[test]
fn the_kernel_image_does_not_carry_busybox() {
    let elf = step(build::build_kernel(Image::System));
    let bytes = fs::read(elf).unwrap();
    let marker = b"BusyBox v1.";
    assert!(
        !bytes.windows(marker.len()).any(|w| w == marker),
        "abide.elf embeds busybox"
    );
}
