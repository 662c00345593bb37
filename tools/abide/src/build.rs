//! Building the kernel image, with its symbol table embedded.
//!
//! The kernel is its own Cargo workspace (`kernel/`, with its target and flags in
//! `kernel/.cargo/config.toml`), so it never shares a feature-unified build with
//! the host crates. This module runs that build in a clean environment: when the
//! tool itself runs under Cargo (`cargo run`, `cargo test`), Cargo's variables
//! for the host build (flags, target, target dir, package metadata) must not
//! leak into the kernel's build.
//!
//! Backtraces need function names, so the kernel embeds a symbol table
//! (`include_bytes!(env!("ABIDE_KSYMS"))`, format in `abide-ksyms`). The table
//! is extracted from the kernel it describes, so the build runs in passes:
//! build, extract, and if the table differs from the embedded one, write it and
//! build again. The table sits in the kernel's last loaded section, so its size
//! does not move any code and the second pass reproduces the first's addresses.
//!
//! Before the kernel, the user programs are built and packed into the bundle
//! the kernel embeds (`include_bytes!(env!("ABIDE_BUNDLE"))`, see [`crate::user`]).
//!
//! There are two images ([`Image`]), since the bundle is part of the kernel
//! binary: the system alone (`target/abide/abide.elf`, what `cargo run`
//! boots), and the system with the test and benchmark programs
//! (`target/abide/abide-full.elf`, what the system tests, `abide bench` and
//! `abide fuzz` boot). Each has its own bundle, symbol table and kernel target
//! directory, so switching between them never makes Cargo rebuild the other.

use std::env;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

pub use crate::image::Image;
use crate::{symbols, user};

/// The variable through which the kernel finds its symbol table file.
pub const KSYMS_ENV: &str = "ABIDE_KSYMS";
/// The kernel's package and binary name.
pub const KERNEL_BIN: &str = "abide-kernel";
/// The target the kernel is built for (set in `kernel/.cargo/config.toml`).
pub const KERNEL_TARGET: &str = "x86_64-unknown-linux-gnu";
/// Most builds a symbol table may take to settle.
const MAX_BUILDS: usize = 3;

/// The repository root: the `abide` package's manifest directory. The tool
/// works on the checkout it was built from.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<repo>/target/abide`: everything the tool produces.
pub fn output_dir() -> PathBuf {
    repo_root().join("target").join("abide")
}

/// The symbol table file the kernel embeds: `target/abide/ksyms.bin` (or
/// `ksyms-full.bin`).
pub fn ksyms_path(image: Image) -> PathBuf {
    output_dir().join(image.own_name("ksyms", ".bin"))
}

/// The kernel build's own target directory: `target/abide/kernel` (or
/// `kernel-full`).
pub fn kernel_target_dir(image: Image) -> PathBuf {
    output_dir().join(image.own_name("kernel", ""))
}

/// The ELF Cargo produces for the kernel.
pub fn kernel_cargo_output(image: Image) -> PathBuf {
    kernel_target_dir(image)
        .join(KERNEL_TARGET)
        .join("release")
        .join(KERNEL_BIN)
}

/// The finished kernel image: `<repo>/target/abide/abide.elf` (or
/// `abide-full.elf`).
pub fn kernel_image_path(image: Image) -> PathBuf {
    output_dir().join(image.own_name("abide", ".elf"))
}

/// Builds the kernel image (once per process and image; later and concurrent
/// callers get the first result) and returns the path of
/// `target/abide/abide.elf` (or `abide-full.elf`).
pub fn build_kernel(image: Image) -> Result<PathBuf, String> {
    static SYSTEM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static FULL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let once = match image {
        Image::System => &SYSTEM,
        Image::Full => &FULL,
    };
    once.get_or_init(|| build_kernel_uncached(image)).clone()
}

/// Builds the kernel image now, converging the embedded symbol table.
pub fn build_kernel_uncached(image: Image) -> Result<PathBuf, String> {
    let out = output_dir();
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    // Another process (a second `cargo run`, another test binary) may build at
    // the same time; they would overwrite each other's ksyms.bin.
    let lock_path = out.join("build.lock");
    let lock = File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;

    let bundle = user::build_bundle(&repo_root(), image)?;
    let ksyms = ksyms_path(image);
    if !ksyms.exists() {
        // The empty table: valid, and all a first build can embed.
        write_atomically(&ksyms, &[])?;
    }
    for pass in 1..=MAX_BUILDS {
        if pass > 1 {
            eprintln!("abide: the kernel's symbol table changed; building again to embed it");
        }
        run_cargo_build(&repo_root(), image, &ksyms, &bundle)?;
        let elf_path = kernel_cargo_output(image);
        let elf = fs::read(&elf_path).map_err(|e| {
            format!(
                "the kernel build succeeded but {} cannot be read: {e}",
                elf_path.display()
            )
        })?;
        let table = symbols::kernel_symbol_table(&elf)
            .map_err(|e| format!("{}: {e}", elf_path.display()))?;
        let embedded = fs::read(&ksyms).map_err(|e| format!("{}: {e}", ksyms.display()))?;
        if table == embedded {
            if !table.is_empty() && !contains(&elf, &table) {
                eprintln!(
                    "abide: warning: the kernel image does not contain {}; backtraces will lack names",
                    ksyms.display()
                );
            }
            let finished = kernel_image_path(image);
            copy_atomically(&elf_path, &finished)?;
            return Ok(finished);
        }
        write_newer_than(&ksyms, &table, &elf_path)?;
    }
    Err(format!(
        "symbol table did not converge after {MAX_BUILDS} builds: the kernel's code moves when {} changes (it must be included in the last loaded section)",
        ksyms.display()
    ))
}

/// `cargo build --release` of the kernel, its output shown on our stderr.
fn run_cargo_build(root: &Path, image: Image, ksyms: &Path, bundle: &Path) -> Result<(), String> {
    let mut command = cargo_command(root, image, ksyms, bundle);
    let status = command
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the kernel failed ({status}); Cargo's messages are above"
        ))
    }
}

/// The kernel's Cargo command for `image`, with a scrubbed environment and
/// the paths of the symbol table and the bundle to embed.
pub fn cargo_command(root: &Path, image: Image, ksyms: &Path, bundle: &Path) -> Command {
    let mut command = scrubbed_cargo_build(
        &root.join("kernel"),
        &root
            .join("target")
            .join("abide")
            .join(image.own_name("kernel", "")),
    );
    command.env(KSYMS_ENV, ksyms);
    command.env(user::BUNDLE_ENV, bundle);
    command
}

/// `cargo build --release --target-dir <target_dir>` in the freestanding
/// workspace `dir` (the kernel's or the user programs'), with the environment
/// scrubbed of everything meant for the host build.
pub fn scrubbed_cargo_build(dir: &Path, target_dir: &Path) -> Command {
    let mut command = Command::new(cargo_program());
    command
        .current_dir(dir)
        .args(["build", "--release", "--target-dir"])
        .arg(target_dir)
        .stdin(Stdio::null())
        // Cargo's own stdout (rare) goes to stderr too, so `abide build` can
        // print just the image path on stdout.
        .stdout(io::stderr())
        .stderr(io::stderr());
    for (name, _) in env::vars_os() {
        if let Some(name) = name.to_str() {
            if leaks_into_kernel_build(name) {
                command.env_remove(name);
            }
        }
    }
    command
}

/// `cargo` from PATH (the rustup proxy, which honours a toolchain file in
/// `kernel/`), or the Cargo running us.
fn cargo_program() -> std::ffi::OsString {
    if crate::prereqs::find_program("cargo").is_some() {
        "cargo".into()
    } else {
        env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
    }
}

/// Whether an environment variable of ours must not reach the kernel's Cargo:
/// flags and targets meant for the host build, and everything Cargo sets for
/// the programs it runs (package metadata, paths). User settings for Cargo
/// itself (home, network, registries, terminal, jobs) stay.
pub fn leaks_into_kernel_build(name: &str) -> bool {
    const REMOVE: &[&str] = &[
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
    ];
    const KEEP_CARGO: &[&str] = &[
        "CARGO_HOME",
        "CARGO_BUILD_JOBS",
        "CARGO_INCREMENTAL",
        "CARGO_LOG",
        "CARGO_CACHE_RUSTC_INFO",
    ];
    const KEEP_CARGO_PREFIXES: &[&str] = &[
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
        "CARGO_SOURCE_",
    ];
    if REMOVE.contains(&name) || name.starts_with("__CARGO") {
        return true;
    }
    if name.starts_with("CARGO_") {
        return !(KEEP_CARGO.contains(&name)
            || KEEP_CARGO_PREFIXES.iter().any(|p| name.starts_with(p)));
    }
    false
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Writes `path` through a temporary file and a rename, so a reader never sees
/// half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = temp_sibling(path);
    fs::write(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn copy_atomically(from: &Path, to: &Path) -> Result<(), String> {
    let tmp = temp_sibling(to);
    fs::copy(from, &tmp)
        .and_then(|_| fs::rename(&tmp, to))
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn temp_sibling(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes `path` so that its modification time is later than `than`'s.
/// Cargo rebuilds when an input is newer than the output; on a file system
/// with coarse timestamps a table written right after the build could look
/// as old as the build and be ignored.
pub(crate) fn write_newer_than(path: &Path, bytes: &[u8], than: &Path) -> Result<(), String> {
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let reference = mtime(than).unwrap_or(SystemTime::UNIX_EPOCH);
    for _ in 0..40 {
        write_atomically(path, bytes)?;
        if mtime(path).is_some_and(|t| t > reference) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_build_variables_do_not_leak() {
        for name in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_BUILD_TARGET",
            "CARGO_BUILD_TARGET_DIR",
            "CARGO_TARGET_DIR",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER",
            "RUSTC_WORKSPACE_WRAPPER",
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_BIN_EXE_abide",
            "CARGO_TARGET_TMPDIR",
            "CARGO_PROFILE_RELEASE_PANIC",
            "CARGO_MAKEFLAGS",
            "CARGO",
            "OUT_DIR",
            "__CARGO_FIX_PLZ",
        ] {
            assert!(leaks_into_kernel_build(name), "{name} must be removed");
        }
    }

    #[test]
    fn user_settings_for_cargo_stay() {
        for name in [
            "PATH",
            "HOME",
            "RUSTUP_TOOLCHAIN",
            "RUSTC_WRAPPER",
            "CARGO_HOME",
            "CARGO_NET_OFFLINE",
            "CARGO_HTTP_TIMEOUT",
            "CARGO_REGISTRIES_CRATES_IO_PROTOCOL",
            "CARGO_TERM_COLOR",
            "CARGO_BUILD_JOBS",
            "CARGO_INCREMENTAL",
            "ABIDE_KSYMS",
            "ABIDE_BUNDLE",
        ] {
            assert!(!leaks_into_kernel_build(name), "{name} must stay");
        }
    }

    #[test]
    fn cargo_command_builds_the_kernel_workspace() {
        let root = Path::new("/repo");
        let command = cargo_command(
            root,
            Image::System,
            Path::new("/repo/target/abide/ksyms.bin"),
            Path::new("/repo/target/abide/bundle.bin"),
        );
        assert_eq!(command.get_current_dir(), Some(Path::new("/repo/kernel")));
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(
            args,
            [
                "build",
                "--release",
                "--target-dir",
                "/repo/target/abide/kernel"
            ]
        );
        let envs: Vec<_> = command.get_envs().collect();
        assert!(envs.contains(&(
            std::ffi::OsStr::new(KSYMS_ENV),
            Some(std::ffi::OsStr::new("/repo/target/abide/ksyms.bin"))
        )));
        assert!(envs.contains(&(
            std::ffi::OsStr::new(user::BUNDLE_ENV),
            Some(std::ffi::OsStr::new("/repo/target/abide/bundle.bin"))
        )));
        // Running under `cargo test`, the manifest dir is set and must be removed.
        assert!(env::var_os("CARGO_MANIFEST_DIR").is_some());
        assert!(envs.contains(&(std::ffi::OsStr::new("CARGO_MANIFEST_DIR"), None)));

        // The full image builds in a target directory of its own.
        let full = cargo_command(root, Image::Full, Path::new("k"), Path::new("b"));
        let args: Vec<_> = full.get_args().collect();
        assert_eq!(args[3], "/repo/target/abide/kernel-full");
    }

    #[test]
    fn paths_are_under_target_abide() {
        let root = repo_root();
        assert!(root.join("Cargo.toml").is_file());
        let linked = "x86_64-unknown-linux-gnu/release/abide-kernel";
        for (image, suffix) in [(Image::System, ""), (Image::Full, "-full")] {
            let under = |name: String| root.join("target/abide").join(name);
            assert_eq!(
                kernel_image_path(image),
                under(format!("abide{suffix}.elf"))
            );
            assert_eq!(ksyms_path(image), under(format!("ksyms{suffix}.bin")));
            assert_eq!(
                kernel_cargo_output(image),
                under(format!("kernel{suffix}/{linked}"))
            );
        }
    }

    #[test]
    fn atomic_writes_and_search() {
        let dir = env::temp_dir().join(format!("abide-build-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ksyms.bin");
        let elf = dir.join("elf");
        write_atomically(&elf, b"elf").unwrap();
        write_atomically(&file, b"abc").unwrap();
        write_newer_than(&file, b"KSYM", &elf).unwrap();
        assert!(
            fs::metadata(&file).unwrap().modified().unwrap()
                > fs::metadata(&elf).unwrap().modified().unwrap()
        );
        assert_eq!(fs::read(&file).unwrap(), b"KSYM");
        assert!(contains(b"xxKSYMyy", b"KSYM"));
        assert!(!contains(b"xxKSYyy", b"KSYM"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
