//! Host prerequisites: the external programs the host tool runs, and how to
//! install them.
//!
//! Booting needs QEMU and the ISO needs GRUB's `grub-mkrescue` with `xorriso`
//! and `mtools`; `bench` fetches its Linux guest with `apt-get` and `dpkg`. Checking for them before anything is built turns a confusing
//! failure half-way through (or a system test that seems to hang) into one line
//! that says which Debian package to install.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An external program and the Debian/Ubuntu packages that provide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The executable name looked up on `PATH`.
    pub program: &'static str,
    /// The packages to `apt-get install`, separated by spaces.
    pub packages: &'static str,
}

/// QEMU, to boot the kernel.
pub const QEMU: Tool = Tool {
    program: "qemu-system-x86_64",
    packages: "qemu-system-x86",
};
/// GRUB's ISO builder; `grub-pc-bin` holds the BIOS modules it puts on the ISO.
pub const GRUB_MKRESCUE: Tool = Tool {
    program: "grub-mkrescue",
    packages: "grub-common grub-pc-bin",
};
/// Writes the ISO 9660 image for `grub-mkrescue`.
pub const XORRISO: Tool = Tool {
    program: "xorriso",
    packages: "xorriso",
};
/// Builds the FAT (EFI) image for `grub-mkrescue`.
pub const MFORMAT: Tool = Tool {
    program: "mformat",
    packages: "mtools",
};

/// `apt-get` and `apt-cache`: `bench` downloads Debian's cloud kernel.
pub const APT: Tool = Tool {
    program: "apt-get",
    packages: "apt",
};
/// `dpkg -x` unpacks a package without installing it.
pub const DPKG: Tool = Tool {
    program: "dpkg",
    packages: "dpkg",
};

/// What `run` needs.
pub const RUN_TOOLS: &[Tool] = &[QEMU];
/// What `iso` needs.
pub const ISO_TOOLS: &[Tool] = &[GRUB_MKRESCUE, XORRISO, MFORMAT];

/// The full path of `program` found on `PATH`, like the shell finds it.
pub fn find_program(program: &str) -> Option<PathBuf> {
    find_in_path(program, env::var_os("PATH").as_deref()?)
}

fn find_in_path(program: &str, path: &OsStr) -> Option<PathBuf> {
    env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The message for a tool that is not installed.
pub fn missing_message(tool: Tool) -> String {
    format!(
        "abide: {} was not found on PATH. Install it with: sudo apt-get install {}",
        tool.program, tool.packages
    )
}

/// Checks that every tool is on `PATH`; the error names each missing one on its
/// own line, with the packages to install.
pub fn check(tools: &[Tool]) -> Result<(), String> {
    let missing: Vec<String> = tools
        .iter()
        .filter(|tool| find_program(tool.program).is_none())
        .map(|tool| missing_message(*tool))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing.join("\n"))
    }
}

/// Runs `command` with stdin closed and its output captured: its stdout
/// when it succeeds; otherwise a message with the command line, its status,
/// its stdout and its stderr.
pub fn run_captured(command: &mut Command) -> Result<String, String> {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{shown} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// QEMU's version as it states it, e.g. `7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`.
pub fn qemu_version() -> Result<String, String> {
    let output = std::process::Command::new(QEMU.program)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {} --version: {e}", QEMU.program))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_qemu_version(&text).ok_or_else(|| format!("{} --version said: {text}", QEMU.program))
}

/// The version from `qemu-system-x86_64 --version`'s first line.
fn parse_qemu_version(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    let version = first.split_once("version ")?.1.trim();
    (!version.is_empty()).then(|| version.to_string())
}

/// Checks the ISO tools, and that GRUB's BIOS modules are installed: without
/// them `grub-mkrescue` succeeds but makes an ISO that QEMU's BIOS cannot boot.
pub fn check_iso_tools() -> Result<(), String> {
    check(ISO_TOOLS)?;
    let grub = find_program(GRUB_MKRESCUE.program).unwrap_or_default();
    if grub_bios_modules(&grub).is_some() {
        Ok(())
    } else {
        Err(format!(
            "abide: GRUB's BIOS modules (i386-pc) were not found beside {}. Install them with: sudo apt-get install grub-pc-bin",
            grub.display()
        ))
    }
}

/// The directory of GRUB's i386-pc modules for the `grub-mkrescue` at `grub`.
fn grub_bios_modules(grub: &Path) -> Option<PathBuf> {
    // <prefix>/bin/grub-mkrescue → <prefix>/lib/grub/i386-pc (Debian), or the
    // grub2 spellings some distributions use.
    let prefix = grub.parent()?.parent()?;
    [
        prefix.join("lib/grub/i386-pc"),
        prefix.join("lib/grub2/i386-pc"),
        prefix.join("share/grub2/i386-pc"),
        PathBuf::from("/usr/lib/grub/i386-pc"),
    ]
    .into_iter()
    .find(|dir| dir.join("modinfo.sh").is_file() || dir.join("multiboot2.mod").is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tool_message_names_the_package() {
        assert_eq!(
            missing_message(QEMU),
            "abide: qemu-system-x86_64 was not found on PATH. Install it with: sudo apt-get install qemu-system-x86"
        );
        assert!(missing_message(GRUB_MKRESCUE).ends_with("apt-get install grub-common grub-pc-bin"));
        assert!(missing_message(XORRISO).ends_with("apt-get install xorriso"));
        assert!(missing_message(MFORMAT).contains("mformat was not found"));
        assert!(missing_message(MFORMAT).ends_with("apt-get install mtools"));
    }

    #[test]
    fn captured_runs_report_failures_with_their_output() {
        assert_eq!(
            run_captured(Command::new("sh").args(["-c", "echo out"])),
            Ok("out\n".to_string())
        );
        let err = run_captured(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]))
            .unwrap_err();
        assert!(
            err.starts_with("sh -c echo out; echo err >&2; exit 3 failed ("),
            "{err}"
        );
        assert!(err.ends_with("):\nout\nerr\n"), "{err}");
        let err = run_captured(&mut Command::new("/nonexistent/program")).unwrap_err();
        assert!(
            err.starts_with("cannot run /nonexistent/program: "),
            "{err}"
        );
    }

    #[test]
    fn qemu_version_is_read_from_the_first_line() {
        let text = "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n\
                    Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n";
        assert_eq!(
            parse_qemu_version(text).as_deref(),
            Some("7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)")
        );
        assert_eq!(parse_qemu_version("something else\n"), None);
        assert_eq!(parse_qemu_version(""), None);
    }

    #[test]
    fn finds_programs_on_a_given_path_only() {
        let dir = env::temp_dir().join(format!("abide-prereqs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("some-tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let not_exe = dir.join("not-executable");
        std::fs::write(&not_exe, "").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(&not_exe, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let path = env::join_paths([Path::new("/nonexistent"), &dir]).unwrap();
        assert_eq!(find_in_path("some-tool", &path), Some(exe));
        assert_eq!(find_in_path("not-executable", &path), None);
        assert_eq!(find_in_path("missing", &path), None);
        assert_eq!(find_in_path("some-tool", OsStr::new("")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
