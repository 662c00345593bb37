//! The contract between the kernel and the host tool.
//!
//! The kernel ends a QEMU run by writing a code to the `isa-debug-exit` device;
//! QEMU then exits with status `(code << 1) | 1`. The host tool maps that status
//! back with [`exit_status_meaning`]. The serial-console markers below are
//! the only lines of the kernel's that tools parse (the benchmark programs'
//! report is `abide-benchfmt`'s); everything else the kernel prints is for
//! people.

/// I/O port of QEMU's `isa-debug-exit` device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Code the kernel writes when a requested run (e.g. the kernel tests) succeeded.
pub const DEBUG_EXIT_SUCCESS: u32 = 0x10;
/// Code the kernel writes when it failed: a kernel test failed, a kernel panic,
/// or an unexpected CPU exception.
pub const DEBUG_EXIT_FAILURE: u32 = 0x11;

/// The QEMU process exit status produced by writing `code` to the debug-exit port.
pub const fn qemu_status_for(code: u32) -> i32 {
    ((code << 1) | 1) as i32
}

/// What a QEMU exit status means for Abide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestOutcome {
    /// The guest powered off normally (ACPI), or QEMU was quit by the user (Ctrl-A X).
    PoweredOff,
    /// The kernel reported success through the debug-exit device.
    Success,
    /// The kernel reported failure through the debug-exit device.
    Failure,
    /// QEMU itself failed or was killed; the status is kept for the message.
    QemuError(i32),
}

/// Interprets a QEMU exit status (see [`DEBUG_EXIT_PORT`]).
pub const fn exit_status_meaning(status: i32) -> GuestOutcome {
    if status == 0 {
        GuestOutcome::PoweredOff
    } else if status == qemu_status_for(DEBUG_EXIT_SUCCESS) {
        GuestOutcome::Success
    } else if status == qemu_status_for(DEBUG_EXIT_FAILURE) {
        GuestOutcome::Failure
    } else {
        GuestOutcome::QemuError(status)
    }
}

/// The banner line starts with this, followed by the version, e.g.
/// `Abide 0.1.0 (x86_64, pvh) ready: boot 3.21 ms (TSC entry to ready)`.
pub const BANNER_PREFIX: &str = "Abide ";
/// Part of the banner line right before the boot time in milliseconds.
pub const BANNER_BOOT_TIME: &str = "boot ";

/// The prompt of the kernel's built-in console (used until the user-space shell exists).
pub const KERNEL_CONSOLE_PROMPT: &str = "abide> ";

/// Printed before each kernel test: `kernel test <name> ... ` then `ok` or `FAILED: <why>`.
pub const KTEST_LINE_PREFIX: &str = "kernel test ";
/// The kernel-test summary, alone on a line: `kernel tests: N passed, M failed`.
pub const KTEST_SUMMARY_PREFIX: &str = "kernel tests: ";

/// First line of a report for a CPU exception the kernel did not expect.
pub const EXCEPTION_REPORT_PREFIX: &str = "KERNEL EXCEPTION";
/// First line of a kernel panic report.
pub const PANIC_REPORT_PREFIX: &str = "KERNEL PANIC";
/// Heading of the backtrace in exception and panic reports.
pub const BACKTRACE_HEADING: &str = "backtrace:";

/// How the kernel reports that a process ended (until user-space supervisors
/// receive the reports): `process <id> (<name>) exited with status <code>` or
/// `process <id> (<name>) faulted: <what> ...`.
pub const PROCESS_END_PREFIX: &str = "process ";
/// Printed when the last process has ended and the kernel powers off.
pub const ALL_PROCESSES_ENDED: &str = "all processes have ended";

/// Every line a process writes with `debug_write` reaches the console
/// tagged by the kernel: `<` + its process id + ` ` + its name + `> `, then
/// the text (`<3 hello> hello from user space`). The kernel starts each
/// process's output on a line of its own and tags every line, so a process
/// cannot print a line that reads as the kernel's, nor as another
/// process's: [`kernel_line`] tells the two apart. (The id is the
/// kernel's; the name is the one its parent gave, with `>` and control
/// characters shown as `?`.)
pub const USER_TAG_OPEN: &str = "<";
/// Ends the tag of a process's line; see [`USER_TAG_OPEN`].
pub const USER_TAG_CLOSE: &str = "> ";

/// A line a process wrote, split by [`user_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserLine<'a> {
    /// The writer's process id.
    pub process: u64,
    /// The writer's name (as tagged).
    pub name: &'a str,
    /// What the process wrote.
    pub text: &'a str,
}

/// The tag, process and text of `line` if a process wrote it (see
/// [`USER_TAG_OPEN`]); `None` for the kernel's lines.
pub fn user_line(line: &str) -> Option<UserLine<'_>> {
    let rest = line.strip_prefix(USER_TAG_OPEN)?;
    let (id, rest) = rest.split_once(' ')?;
    let process = id
        .parse()
        .ok()
        .filter(|_| id.bytes().all(|b| b.is_ascii_digit()))?;
    let (name, text) = rest.split_once(USER_TAG_CLOSE)?;
    Some(UserLine {
        process,
        name,
        text,
    })
}

/// True when `line` (one line of the serial output) is the kernel's own,
/// not a process's tagged output.
pub fn kernel_line(line: &str) -> bool {
    user_line(line).is_none()
}

/// `line` without a process's tag (the kernel's lines are left as they are).
pub fn untagged(line: &str) -> &str {
    user_line(line).map_or(line, |user| user.text)
}

/// True when the kernel itself printed `marker` (an exception or panic
/// report, a process-end line...) somewhere in `output`: on one of its own
/// lines, never on a line a process wrote.
pub fn kernel_reported(output: &str, marker: &str) -> bool {
    output
        .split('\n')
        .map(|line| line.trim_start_matches('\r'))
        .any(|line| kernel_line(line) && line.contains(marker))
}

/// The user-space shell's prompt.
pub const SHELL_PROMPT: &str = "abide$ ";

/// The root supervisor: the program the kernel starts the system with.
pub const INIT_PROGRAM: &str = "init";

/// The bundle name of the system configuration `init` applies at boot (the
/// file the image was built with; `system/<name>.conf` is `config-<name>`).
pub const DEFAULT_CONFIG: &str = "config-default";

/// The prefix of bundle names that hold system configurations.
pub const CONFIG_PREFIX: &str = "config-";

/// The bundle name under which the kernel serves the root tree the host
/// tool loaded into guest RAM (a POSIX ustar archive; see
/// [`cmdline::ARCHIVE`] and docs/host-tool.md).
pub const ROOTFS_ARCHIVE: &str = "rootfs";
/// The bundle name of the archive of the user's `--add` directories.
pub const ADD_ARCHIVE: &str = "add";
/// The archives the kernel accepts on [`cmdline::ARCHIVE`], and only these.
pub const ARCHIVES: [&str; 2] = [ROOTFS_ARCHIVE, ADD_ARCHIVE];

/// Kernel command-line keys (`-append "log=debug test=all"`).
pub mod cmdline {
    /// Log level: `error`, `warn`, `info` (default), `debug`, `trace`.
    pub const LOG: &str = "log";
    /// Kernel tests to run: `all`, or a comma-separated list of test names or
    /// name prefixes. When present, the kernel runs the tests and exits QEMU
    /// with the verdict instead of starting the system.
    pub const TEST: &str = "test";
    /// Programs from the bundle to start, comma-separated (`init=hello,spinner`).
    /// When the last one ends, the kernel powers off. Without it the kernel
    /// starts the system: the program [`super::INIT_PROGRAM`] with the
    /// configuration [`super::DEFAULT_CONFIG`].
    pub const INIT: &str = "init";
    /// A bare word: run the kernel's own console instead of the system.
    pub const MONITOR: &str = "monitor";
    /// The system configuration init applies: `config=<name>` is the image's
    /// `system/<name>.conf` (bundle file `config-<name>`); without it,
    /// [`super::DEFAULT_CONFIG`]. Read by init through `boot_args`.
    pub const CONFIG: &str = "config";
    /// Not the kernel's: the persistence benchmark's mode
    /// (`bench-persist=<mode>`, read by `user/bench/bench-persist`
    /// through `boot_args`; the format is `abide_benchfmt::persist::Mode`).
    /// The kernel knows it only so it does not warn about it.
    pub const BENCH_PERSIST: &str = "bench-persist";
    /// An archive the host tool loaded into guest RAM (QEMU's generic
    /// loader: a PVH boot carries no initrd), one option per archive:
    /// `archive=<name>@<address>+<length>`, both in hex with `0x`, the
    /// address page-aligned (`archive=rootfs@0xf600000+0x1f4a00`). The
    /// kernel keeps those frames out of its allocator and serves the bytes
    /// through `bundle_read` under `<name>`, one of [`super::ARCHIVES`].
    /// Parsed by `abide_boot::archive`.
    pub const ARCHIVE: &str = "archive";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_lines_are_the_process_s_never_the_kernel_s() {
        let forged = "<7 evil> KERNEL EXCEPTION: #GP";
        assert_eq!(
            user_line(forged),
            Some(UserLine {
                process: 7,
                name: "evil",
                text: "KERNEL EXCEPTION: #GP"
            })
        );
        assert!(!kernel_line(forged));
        assert_eq!(untagged(forged), "KERNEL EXCEPTION: #GP");
        let output = "Abide ready\r\n<7 evil> KERNEL PANIC at x\n<7 evil> process 3 (x) exited with status 0\n";
        assert!(!kernel_reported(output, PANIC_REPORT_PREFIX));
        assert!(!kernel_reported(output, "process 3 (x) exited"));
        assert!(kernel_reported(output, "Abide"));
        assert!(kernel_reported(
            "ok\r\nKERNEL PANIC: boom\n",
            PANIC_REPORT_PREFIX
        ));
        // Lines that only look like tags are the kernel's.
        for line in [
            "<x evil> text",
            "<7evil> text",
            "< 7 evil> t",
            "[    0.1] INFO  <7 a> b",
        ] {
            assert!(kernel_line(line), "{line}");
            assert_eq!(untagged(line), line);
        }
    }

    #[test]
    fn debug_exit_codes_round_trip() {
        assert_eq!(qemu_status_for(DEBUG_EXIT_SUCCESS), 33);
        assert_eq!(exit_status_meaning(33), GuestOutcome::Success);
        assert_eq!(exit_status_meaning(35), GuestOutcome::Failure);
        assert_eq!(exit_status_meaning(0), GuestOutcome::PoweredOff);
        assert_eq!(exit_status_meaning(1), GuestOutcome::QemuError(1));
        assert_eq!(exit_status_meaning(-9), GuestOutcome::QemuError(-9));
    }
}
