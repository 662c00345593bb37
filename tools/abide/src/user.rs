//! Building the user programs and the bundle the kernel embeds.
//!
//! The user programs are a freestanding Cargo workspace of their own (`user/`,
//! target and flags in `user/.cargo/config.toml`, layout in `user/user.ld`,
//! runtime in `rt/`), laid out by role: `user/init` is one package, and
//! `user/drivers`, `user/services`, `user/apps`, `user/tests` and `user/bench`
//! hold one package per program, whose binary has the package's (and its
//! directory's) name. The kernel build calls [`build_bundle`] first: it builds
//! the workspace in the same scrubbed environment as the kernel, encodes the
//! binaries of the programs the image carries ([`Image::parts`]) into
//! `target/abide/bundle.bin` (`bundle-full.bin` for the full image; format:
//! `abide-bundle`) and the kernel build points `ABIDE_BUNDLE` at that file,
//! which the kernel includes with `include_bytes!(env!("ABIDE_BUNDLE"))`.
//!
//! The bundle file is rewritten only when its bytes change, so an unchanged
//! set of programs does not make Cargo rebuild the kernel.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use abide_bundle::Bundle;

use crate::build::{self, KERNEL_TARGET};
use crate::config;
use crate::image::Image;

/// The variable through which the kernel finds the bundle file.
pub const BUNDLE_ENV: &str = "ABIDE_BUNDLE";

/// The parts of `user/` that hold the system's programs: `init` is one
/// package, the others are folders of packages.
pub const SYSTEM_PARTS: &[&str] = &["init", "drivers", "services", "apps"];
/// The parts of `user/` that hold test and benchmark programs (folders of
/// packages).
pub const TEST_PARTS: &[&str] = &["tests", "bench"];

/// `<repo>/user`: the user workspace.
pub fn user_dir(root: &Path) -> PathBuf {
    root.join("user")
}

/// The user build's own target directory, `<repo>/target/abide/user`.
pub fn user_target_dir(root: &Path) -> PathBuf {
    root.join("target").join("abide").join("user")
}

/// The binary Cargo produces for program `name`.
pub fn program_binary(root: &Path, name: &str) -> PathBuf {
    user_target_dir(root)
        .join(KERNEL_TARGET)
        .join("release")
        .join(name)
}

/// The bundle `image` embeds: `<repo>/target/abide/bundle.bin` (or
/// `bundle-full.bin`).
pub fn bundle_path(image: Image) -> PathBuf {
    build::output_dir().join(image.own_name("bundle", ".bin"))
}

/// The programs of `parts` of the user workspace (each a package directory,
/// or a folder of them, under `user/`), sorted. Each name must be a valid
/// bundle name (`[a-z0-9_-]`, 1..=64 bytes), since it is the name the kernel
/// knows the program by, and unique across the parts.
pub fn program_names(root: &Path, parts: &[&str]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for part in parts {
        for dir in package_dirs(&user_dir(root).join(part))? {
            let name = dir
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| abide_bundle::is_valid_name(n))
                .ok_or_else(|| {
                    format!(
                        "{}: a program's directory name must be 1..=64 characters of [a-z0-9_-] (it is the program's name)",
                        dir.display()
                    )
                })?;
            if names.iter().any(|n| n == name) {
                return Err(format!(
                    "{}: another part of user/ has a program named {name} already",
                    dir.display()
                ));
            }
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// The package directories of `dir`: `dir` itself if it holds a
/// `Cargo.toml`, otherwise its subdirectories that do.
fn package_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.join("Cargo.toml").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.join("Cargo.toml").is_file() {
            dirs.push(path);
        }
    }
    Ok(dirs)
}

/// The user workspace's Cargo command, with the kernel build's scrubbed
/// environment.
pub fn cargo_command(root: &Path) -> Command {
    build::scrubbed_cargo_build(&user_dir(root), &user_target_dir(root))
}

/// Builds the user programs and writes the bundle of `image`'s programs and
/// the configurations that name only them, if its bytes changed. Returns the
/// bundle's path. The caller holds the build lock.
pub fn build_bundle(root: &Path, image: Image) -> Result<PathBuf, String> {
    let names = program_names(root, &image.parts())?;
    // Checked before the long build: an invalid configuration stops it.
    let configs = config::bundle_entries(root, &names)?;
    let mut command = cargo_command(root);
    let status = command
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if !status.success() {
        return Err(format!(
            "building the user programs failed ({status}); Cargo's messages are above"
        ));
    }
    let mut programs = read_programs(root, &names)?;
    programs.extend(configs);
    programs.sort_by(|a, b| a.0.cmp(&b.0));
    let bytes = abide_bundle::encode(&programs).map_err(|e| format!("{e}"))?;
    let path = bundle_path(image);
    write_if_changed(&path, &bytes, &build::kernel_cargo_output(image))?;
    Ok(path)
}

/// Each program's name and binary.
fn read_programs(root: &Path, names: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
    names
        .iter()
        .map(|name| {
            let path = program_binary(root, name);
            let bytes = fs::read(&path).map_err(|e| {
                format!(
                    "the user build succeeded but {} cannot be read ({e}); the package user/<part>/{name} must have a binary named {name}",
                    path.display()
                )
            })?;
            Ok((name.clone(), bytes))
        })
        .collect()
}

/// Writes `bytes` to `path` unless the file already holds exactly them, so
/// Cargo sees a change only when there is one. A written file is made newer
/// than `newer_than` (the kernel binary), so coarse timestamps cannot hide the
/// change. Returns whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8], newer_than: &Path) -> Result<bool, String> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    build::write_newer_than(path, bytes, newer_than)?;
    Ok(true)
}

/// The programs of a bundle, one line each with its size, for `abide build`.
pub fn describe_bundle(bytes: &[u8]) -> Result<String, String> {
    let bundle = Bundle::parse(bytes).map_err(|e| format!("{e}"))?;
    let width = bundle.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut text = format!(
        "{} user program{} ({} bytes):\n",
        bundle.len(),
        if bundle.len() == 1 { "" } else { "s" },
        bytes.len()
    );
    for (name, data) in bundle.iter() {
        text.push_str(&format!("  {name:<width$}  {:>8} bytes\n", data.len()));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::env;

    #[test]
    fn paths_are_under_target_abide() {
        let root = build::repo_root();
        for (image, name) in [
            (Image::System, "bundle.bin"),
            (Image::Full, "bundle-full.bin"),
        ] {
            assert_eq!(bundle_path(image), root.join("target/abide").join(name));
        }
        assert_eq!(
            program_binary(&root, "hello"),
            root.join("target/abide/user/x86_64-unknown-linux-gnu/release/hello")
        );
    }

    #[test]
    fn the_repository_programs_are_found_by_role() {
        let root = build::repo_root();
        let system = program_names(&root, SYSTEM_PARTS).unwrap();
        let tests = program_names(&root, TEST_PARTS).unwrap();
        for expected in [
            "init", "serial", "vga", "pci", "log", "kv", "counter", "shell", "unix",
        ] {
            assert!(
                system.iter().any(|n| n == expected),
                "{expected} in {system:?}"
            );
        }
        for expected in [
            "hello",
            "spinner",
            "fault-page",
            "confine-probe",
            "bench",
            "nop",
            "fmem-test",
        ] {
            assert!(
                tests.iter().any(|n| n == expected),
                "{expected} in {tests:?}"
            );
        }
        assert!(
            system.iter().all(|n| !tests.contains(n)),
            "{system:?} and {tests:?} overlap"
        );
        let mut sorted = system.clone();
        sorted.sort();
        assert_eq!(system, sorted);
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = env::temp_dir().join(format!("abide-user-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Creates `user/<path>/Cargo.toml` under `root`.
    fn package(root: &Path, path: &str) {
        let dir = user_dir(root).join(path);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("Cargo.toml"), "").unwrap();
    }

    #[test]
    fn program_names_skip_non_packages_and_reject_bad_names() {
        let root = scratch("names");
        package(&root, "init");
        package(&root, "drivers/b-prog");
        package(&root, "tests/a_prog");
        fs::create_dir_all(user_dir(&root).join("tests/not-a-package")).unwrap();
        fs::write(user_dir(&root).join("tests/README"), "").unwrap();
        assert_eq!(
            program_names(&root, &["init", "drivers", "tests"]).unwrap(),
            ["a_prog", "b-prog", "init"]
        );
        assert_eq!(program_names(&root, &["tests"]).unwrap(), ["a_prog"]);

        package(&root, "tests/Bad.Name");
        let error = program_names(&root, &["tests"]).unwrap_err();
        assert!(error.contains("Bad.Name"), "{error}");

        package(&root, "bench/b-prog");
        let error = program_names(&root, &["drivers", "bench"]).unwrap_err();
        assert!(error.contains("named b-prog already"), "{error}");

        assert!(program_names(&root, &["missing"]).is_err());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn missing_binaries_are_named() {
        let root = scratch("binaries");
        let error = read_programs(&root, &["ghost".to_string()]).unwrap_err();
        assert!(
            error.contains("ghost must have a binary named ghost"),
            "{error}"
        );
        let dir = program_binary(&root, "real");
        fs::create_dir_all(dir.parent().unwrap()).unwrap();
        fs::write(&dir, b"\x7fELF").unwrap();
        assert_eq!(
            read_programs(&root, &["real".to_string()]).unwrap(),
            [("real".to_string(), b"\x7fELF".to_vec())]
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn cargo_command_builds_the_user_workspace() {
        let root = Path::new("/repo");
        let command = cargo_command(root);
        assert_eq!(command.get_current_dir(), Some(Path::new("/repo/user")));
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(
            args,
            [
                "build",
                "--release",
                "--target-dir",
                "/repo/target/abide/user"
            ]
        );
        // Running under `cargo test`, the manifest dir is set and must be removed.
        let envs: Vec<_> = command.get_envs().collect();
        assert!(envs.contains(&(std::ffi::OsStr::new("CARGO_MANIFEST_DIR"), None)));
    }

    #[test]
    fn the_bundle_is_written_only_when_it_changes() {
        let dir = scratch("write");
        let bundle = dir.join("bundle.bin");
        let kernel = dir.join("kernel");
        fs::write(&kernel, b"elf").unwrap();
        assert!(write_if_changed(&bundle, b"one", &kernel).unwrap());
        let written = fs::metadata(&bundle).unwrap().modified().unwrap();
        assert!(written > fs::metadata(&kernel).unwrap().modified().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(&bundle, b"one", &kernel).unwrap());
        assert_eq!(fs::metadata(&bundle).unwrap().modified().unwrap(), written);
        assert!(write_if_changed(&bundle, b"two", &kernel).unwrap());
        assert_eq!(fs::read(&bundle).unwrap(), b"two");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bundles_are_described_one_program_a_line() {
        let bytes = abide_bundle::encode(&[
            ("hello".to_string(), vec![0; 1234]),
            ("fault-ud".to_string(), vec![0; 99]),
        ])
        .unwrap();
        assert_eq!(
            describe_bundle(&bytes).unwrap(),
            format!(
                "2 user programs ({} bytes):\n  fault-ud        99 bytes\n  hello         1234 bytes\n",
                bytes.len()
            )
        );
        assert_eq!(
            describe_bundle(&[]).unwrap(),
            "0 user programs (0 bytes):\n"
        );
        assert!(describe_bundle(b"junk").is_err());
    }
}
