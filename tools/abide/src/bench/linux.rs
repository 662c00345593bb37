//! The Linux peer: Debian's cloud kernel and an initramfs holding the
//! Linux benchmark program (`tools/linux-bench`) as `/init` and Debian's
//! static busybox as `/bin/busybox`, booted in the same virtual machine as
//! Abide.
//!
//! [`prepare`] gets the kernel and busybox ([`crate::debian`]), builds the program as a
//! static executable for `x86_64-unknown-linux-gnu` (glibc's static
//! libraries, `-C target-feature=+crt-static`, and its own ELF entry point so
//! it reads the TSC before the C library starts), and writes
//! `target/linux-peer/initramfs.cpio` ([`initramfs`]). The kernel runs with
//! [`cmdline`]: the console on the serial port, `quiet`, a panic ends QEMU
//! (`panic=-1` with QEMU's `-no-reboot`), and the iteration count for
//! `/init` after `--`. `/init` powers the machine off when it is done.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use abide_benchfmt::linux::{INIT_PATH, SPAWN_PATH};

use super::initramfs::Archive;
use crate::build::{self, repo_root, KERNEL_TARGET};
use crate::debian::{self, Fetched, Kernel};
use crate::qemu::Medium;

/// The benchmark program's package and binary.
const PACKAGE: &str = "abide-linux-bench";
const BINARY: &str = "linux-bench";
/// Its ELF entry point (`tools/linux-bench/src/entry.rs`).
const ENTRY_SYMBOL: &str = "abide_linux_bench_entry";

/// `<repo>/target/linux-peer`: the cached kernel, the program's build and
/// the initramfs.
pub fn peer_dir() -> PathBuf {
    debian::cache_dir()
}

/// What boots as the Linux guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinuxPeer {
    pub kernel: Kernel,
    /// The static busybox packed as `/bin/busybox`.
    pub busybox: Fetched,
    /// `target/linux-peer/initramfs.cpio`.
    pub initramfs: PathBuf,
    /// The benchmark program as built (it is `/init` in the initramfs;
    /// [`super::unix`] runs the same file on Abide).
    pub program: PathBuf,
}

impl LinuxPeer {
    /// What QEMU boots for `/init` to run `iterations` iterations.
    pub fn medium(&self, iterations: u32) -> Medium {
        Medium::LinuxKernel {
            kernel: self.kernel.path.clone(),
            initrd: self.initramfs.clone(),
            cmdline: cmdline(iterations),
        }
    }

    /// The image size: the kernel plus the initramfs, in bytes.
    pub fn image_bytes(&self) -> Result<u64, String> {
        let size = |path: &Path| {
            fs::metadata(path)
                .map(|m| m.len())
                .map_err(|e| format!("{}: {e}", path.display()))
        };
        Ok(size(&self.kernel.path)? + size(&self.initramfs)?)
    }
}

/// The kernel command line.
pub fn cmdline(iterations: u32) -> String {
    format!("console=ttyS0 quiet panic=-1 -- {iterations}")
}

/// Fetches (or finds cached) the kernel, builds the program and writes the
/// initramfs. Serialized between processes by `target/linux-peer/lock`.
pub fn prepare() -> Result<LinuxPeer, String> {
    let dir = peer_dir();
    let lock = debian::lock_cache(&dir)?;
    let kernel = debian::cloud_kernel(&dir)?;
    let busybox = debian::busybox(&dir)?;
    let program_path = build_program(&dir)?;
    let read =
        |path: &Path| fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let program = read(&program_path)?;
    let busybox_bytes = read(&busybox.path)?;
    let initramfs = dir.join("initramfs.cpio");
    let partial = dir.join("initramfs.cpio.partial");
    fs::write(&partial, initramfs_bytes(&program, &busybox_bytes))
        .and_then(|()| fs::rename(&partial, &initramfs))
        .map_err(|e| format!("cannot write {}: {e}", initramfs.display()))?;
    drop(lock);
    Ok(LinuxPeer {
        kernel,
        busybox,
        initramfs,
        program: program_path,
    })
}

/// The program, built as [`prepare`] builds it (static glibc), under the
/// lock; returns the executable. `tests/unix_bench.rs` runs it on Abide.
pub fn program() -> Result<PathBuf, String> {
    let dir = peer_dir();
    let lock = debian::lock_cache(&dir)?;
    let path = build_program(&dir)?;
    drop(lock);
    Ok(path)
}

/// The kernel and the static busybox, cached or fetched, under the lock.
pub fn kernel_and_busybox() -> Result<(Kernel, Fetched), String> {
    let dir = peer_dir();
    let lock = debian::lock_cache(&dir)?;
    let found = (debian::cloud_kernel(&dir)?, debian::busybox(&dir)?);
    drop(lock);
    Ok(found)
}

/// The initramfs: `/dev` with the console (the kernel opens it for
/// `/init`'s standard streams) and `null` (Rust's runtime wants it if a
/// stream is closed), `/proc` to mount procfs on, `/init` and
/// `/bin/busybox`.
pub fn initramfs_bytes(program: &[u8], busybox: &[u8]) -> Vec<u8> {
    let mut archive = Archive::new();
    archive.directory("dev", 0o755);
    archive.char_device("dev/console", 0o600, 5, 1);
    archive.char_device("dev/null", 0o666, 1, 3);
    archive.directory("proc", 0o555);
    archive.file(INIT_PATH.trim_start_matches('/'), 0o755, program);
    archive.directory("bin", 0o755);
    archive.file(SPAWN_PATH.trim_start_matches('/'), 0o755, busybox);
    archive.finish()
}

/// The static library the program links; `cc` says where it is, or echoes
/// the bare name when it has none.
fn check_static_libc() -> Result<(), String> {
    let output = Command::new("cc")
        .arg("-print-file-name=libc.a")
        .output()
        .map_err(|e| {
            format!("cannot run cc (the linker Rust uses): {e}. Install it with: sudo apt-get install gcc")
        })?;
    let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if Path::new(&path).is_absolute() && Path::new(&path).is_file() {
        Ok(())
    } else {
        Err(
            "glibc's static libraries (libc.a) were not found; the Linux benchmark program \
             is linked statically. Install them with: sudo apt-get install libc6-dev"
                .to_string(),
        )
    }
}

/// Builds the program statically, in its own target directory (its flags
/// differ from the host build's); returns the executable.
fn build_program(dir: &Path) -> Result<PathBuf, String> {
    check_static_libc()?;
    let target_dir = dir.join("build");
    let mut command = build::scrubbed_cargo_build(&repo_root(), &target_dir);
    command
        .args([
            "--package",
            PACKAGE,
            "--bin",
            BINARY,
            "--target",
            KERNEL_TARGET,
        ])
        .env("RUSTFLAGS", rustflags());
    let status = command
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if !status.success() {
        return Err(format!(
            "building the Linux benchmark program failed ({status}); Cargo's messages are above"
        ));
    }
    Ok(target_dir.join(KERNEL_TARGET).join("release").join(BINARY))
}

/// Static glibc, and the entry point that reads the TSC first.
fn rustflags() -> String {
    format!("-C target-feature=+crt-static -C link-arg=-Wl,--entry={ENTRY_SYMBOL}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_passes_the_iterations_to_init() {
        assert_eq!(cmdline(200), "console=ttyS0 quiet panic=-1 -- 200");
        assert!(rustflags().contains("+crt-static"));
        assert!(rustflags().ends_with("--entry=abide_linux_bench_entry"));
    }

    #[test]
    fn the_initramfs_holds_init_busybox_and_the_console() {
        let bytes = initramfs_bytes(b"\x7fELF program", b"\x7fELF busybox");
        let text = String::from_utf8_lossy(&bytes);
        for name in [
            "dev\0",
            "dev/console\0",
            "dev/null\0",
            "proc\0",
            "init\0",
            "bin\0",
            "bin/busybox\0",
        ] {
            assert!(text.contains(name), "{name:?} missing");
        }
        assert!(text.contains("\x7fELF program"));
        assert!(text.contains("\x7fELF busybox"));
        assert!(text.ends_with("TRAILER!!!\0\0\0\0") || text.contains("TRAILER!!!\0"));
    }

    #[test]
    fn the_medium_is_kernel_initrd_and_command_line() {
        let peer = LinuxPeer {
            kernel: Kernel {
                package: "linux-image-x".into(),
                version: "1".into(),
                path: PathBuf::from("/c/vmlinuz"),
            },
            busybox: Fetched {
                package: "busybox-static".into(),
                version: "1".into(),
                path: PathBuf::from("/c/busybox"),
            },
            initramfs: PathBuf::from("/c/initramfs.cpio"),
            program: PathBuf::from("/c/linux-bench"),
        };
        assert_eq!(
            peer.medium(7),
            Medium::LinuxKernel {
                kernel: PathBuf::from("/c/vmlinuz"),
                initrd: PathBuf::from("/c/initramfs.cpio"),
                cmdline: "console=ttyS0 quiet panic=-1 -- 7".into(),
            }
        );
    }
}
