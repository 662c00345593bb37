//! Booting a guest for a conformance or differential run and reading its
//! serial console until the driver's end marker.
//!
//! Both systems boot in the same virtual machine ([`machine`]). The Linux
//! peer is Debian's cloud kernel (fetched by [`crate::bench::linux`]) with
//! the whole tree as its initramfs and `/init` running the driver. Abide
//! boots its full image with the tree added to its root (`--add`), and the
//! driver runs through the Abide shell's `sh -c`; the console is read the
//! same way. Output lines a process wrote through the kernel's debug
//! channel carry a tag, which is dropped ([`abide_abi::host::untagged`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use abide_abi::host::{untagged, SHELL_PROMPT};

use super::layout::{Content, Tree};
use crate::bench::linux;
use crate::bench::BenchOptions;
use crate::build::repo_root;
use crate::qemu::{Accel, Medium, QemuConfig};
use crate::session::{AddSpec, BootOptions, RootTree, Session};

/// The machine both systems boot in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub accel: Accel,
    pub memory_mib: u32,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            accel: Accel::Tcg,
            memory_mib: 512,
        }
    }
}

/// `machine` booting `medium`, console captured: `abide bench`'s machine.
fn machine(machine: Machine, medium: Medium) -> QemuConfig {
    BenchOptions {
        accel: machine.accel,
        memory_mib: machine.memory_mib,
        ..BenchOptions::default()
    }
    .machine(medium)
}

/// What a guest printed and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestOutput {
    /// The serial output, carriage returns and process tags dropped.
    pub text: String,
    /// From QEMU's start to the end marker.
    pub elapsed: Duration,
    /// What booted, for the record (`linux-image-… 6.1…, busybox-static 1:1.35.0…`).
    pub system: String,
}

/// How long Abide may take from the command to the driver's first line.
const START: Duration = Duration::from_secs(300);

/// `target/conformance`: the initramfs and staged trees.
pub fn work_dir() -> PathBuf {
    repo_root().join("target").join("conformance")
}

/// The Linux peer's busybox (cached or fetched).
pub fn busybox() -> Result<PathBuf, String> {
    Ok(linux::kernel_and_busybox()?.1.path)
}

/// Boots the Linux peer with `tree` (the whole root) plus an `/init` that
/// runs `driver` (a guest path) and powers off; reads the console until
/// `end` and gives every line to `on_line` as it arrives.
pub fn linux_peer(
    name: &str,
    mut tree: Tree,
    driver: &str,
    end: &str,
    settings: Machine,
    timeout: Duration,
    on_line: &mut dyn FnMut(&str),
) -> Result<GuestOutput, String> {
    let (kernel, busybox) = linux::kernel_and_busybox()?;
    tree.file(
        "init",
        0o755,
        Content::Bytes(super::guest::linux_init(driver).into()),
    );
    let dir = work_dir();
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let initrd = dir.join(format!("{name}-{}.cpio", std::process::id()));
    fs::write(&initrd, tree.to_cpio()?)
        .map_err(|e| format!("cannot write {}: {e}", initrd.display()))?;
    let config = machine(
        settings,
        Medium::LinuxKernel {
            kernel: kernel.path.clone(),
            initrd: initrd.clone(),
            cmdline: "console=ttyS0 quiet panic=-1".into(),
        },
    );
    let result = Session::start(config).and_then(|mut session| {
        let started = session.started();
        let text = follow(&mut session, end, timeout, on_line)?;
        Ok(GuestOutput {
            text,
            elapsed: started.elapsed(),
            system: format!(
                "Linux ({} {}, {} {})",
                kernel.package, kernel.version, busybox.package, busybox.version
            ),
        })
    });
    let _ = fs::remove_file(&initrd);
    result
}

/// Stages `tree` in `target/conformance/<name>-<pid>` for `--add …:guest`:
/// one folder per run, so that two runs at once (say, two halves of the
/// applets) do not rewrite each other's tree while it is being packed.
pub fn stage(name: &str, tree: &Tree, guest: &str) -> Result<AddSpec, String> {
    let host = work_dir().join(format!("{name}-{}", std::process::id()));
    tree.stage(&host)?;
    Ok(AddSpec {
        host,
        guest: guest.to_string(),
    })
}

/// Boots Abide's full image with its root tree and `adds` (trees made by
/// [`stage`], removed once packed) added to it,
/// types `command` at the shell's prompt, reads the console until `end`,
/// and powers off. Err soon if the driver does not print `start` (the
/// shell or the personality cannot run it).
pub fn abide(
    adds: &[AddSpec],
    command: &str,
    start: &str,
    end: &str,
    settings: Machine,
    timeout: Duration,
    on_line: &mut dyn FnMut(&str),
) -> Result<GuestOutput, String> {
    let booted = Session::boot(BootOptions {
        memory_mib: settings.memory_mib,
        accel: settings.accel,
        root_tree: RootTree::Required,
        add: adds.to_vec(),
        ..BootOptions::default()
    });
    // The staged trees are packed into archives before QEMU starts: they
    // are not needed any more, whether the boot worked or not.
    for add in adds {
        let _ = fs::remove_dir_all(&add.host);
    }
    let mut session = booted?;
    let started = session.started();
    session.expect(SHELL_PROMPT, Duration::from_secs(600))?;
    session.send(&format!("{command}\n"))?;
    session.expect(start, START).map_err(|e| {
        format!("Abide did not start the driver (`{command}` at the shell's prompt): {e}")
    })?;
    let text = follow(&mut session, end, timeout, on_line)?;
    let elapsed = started.elapsed();
    let _ = session.send("poweroff\n");
    let _ = session.wait_exit(Duration::from_secs(30));
    Ok(GuestOutput {
        text,
        elapsed,
        system: format!("Abide (commit {})", commit()),
    })
}

/// The work tree's commit (`git rev-parse --short HEAD`), `unknown` without git.
pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Reads the console until a line equal to `end` arrives, passing each
/// complete line to `on_line`; Err (with the last lines) on a timeout or
/// if QEMU exits first. Returns the cleaned output.
fn follow(
    session: &mut Session,
    end: &str,
    timeout: Duration,
    on_line: &mut dyn FnMut(&str),
) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let mut text = String::new();
    let mut consumed = 0;
    loop {
        let exited = session.has_exited();
        let raw = session.output();
        let fresh = raw.get(consumed..).unwrap_or("");
        if let Some(last_newline) = fresh.rfind('\n') {
            for line in fresh[..last_newline].split('\n') {
                let line = untagged(line.trim_end_matches('\r'));
                on_line(line);
                text.push_str(line);
                text.push('\n');
                if line == end {
                    return Ok(text);
                }
            }
            consumed += last_newline + 1;
        }
        let why = if exited {
            "QEMU exited"
        } else if Instant::now() >= deadline {
            "timed out"
        } else {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        };
        return Err(format!(
            "{why} before the guest printed {end:?} ({timeout:?} allowed); the last lines:\n{}\n{}",
            tail(&text, 60),
            session.qemu_stderr()
        ));
    }
}

/// The last `count` lines of `text`.
fn tail(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

/// Whether `path` exists, as an error naming what it is for.
pub fn require(path: &Path, what: &str) -> Result<(), String> {
    if path.exists() {
        Ok(())
    } else {
        Err(format!(
            "{what} {} is missing (the conformance material lives in ../shared/conformance, \
             beside the repository)",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\n", 5), "a");
    }
}
