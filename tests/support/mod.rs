//! Shared helpers for the system tests: timeouts sized for TCG emulation and
//! assertions that show the whole serial output when they fail.
// Each test binary uses a different part of this module.
#![allow(dead_code, unused_imports)]

pub mod piped;
pub mod qemu_monitor;

use std::path::PathBuf;
use std::time::Duration;

pub use abide_abi::host;
pub use abide_tool::session::{run_to_exit, BootOptions, Image, Session};

/// Time for a boot under TCG on a loaded 2-core machine (a kernel build may
/// run first).
pub const BOOT: Duration = Duration::from_secs(240);
/// Time for one console command to answer.
pub const REPLY: Duration = Duration::from_secs(30);
/// Time for a whole kernel-test run.
pub const RUN: Duration = Duration::from_secs(300);

/// Panics with the output when `haystack` lacks `needle`.
pub fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in the serial output:\n{haystack}"
    );
}

/// Fails on any sign that the kernel itself went wrong (an exception or a
/// panic report), whatever the user programs did — or printed: a process's
/// lines are tagged, and `kernel_reported` looks at the kernel's alone.
#[allow(dead_code)]
pub fn assert_kernel_healthy(output: &str) {
    assert!(
        !host::kernel_reported(output, host::EXCEPTION_REPORT_PREFIX),
        "the kernel faulted:\n{output}"
    );
    assert!(
        !host::kernel_reported(output, host::PANIC_REPORT_PREFIX),
        "the kernel panicked:\n{output}"
    );
}

/// Unwraps a session step, failing the test with its message (which carries
/// the output so far).
pub fn step<T>(result: Result<T, String>) -> T {
    result.unwrap_or_else(|message| panic!("{message}"))
}

/// The kernel's QEMU exit status for a verdict.
pub fn status_for(code: u32) -> i32 {
    host::qemu_status_for(code)
}

/// Panics with the output unless QEMU's exit `status` is the one the
/// kernel's verdict `code` (`host::DEBUG_EXIT_SUCCESS`, `..._FAILURE`) gives.
pub fn assert_exit(status: i32, code: u32, output: &str) {
    assert_eq!(status, status_for(code), "exit status; output:\n{output}");
}

/// Checks the verdict of an in-kernel test run (`test=...`): its summary
/// line counts `passed` and `failed` tests, and QEMU's exit status says
/// success exactly when none failed.
pub fn assert_ktest_verdict(output: &str, status: i32, passed: usize, failed: usize) {
    assert_contains(
        output,
        &format!(
            "{}{passed} passed, {failed} failed",
            host::KTEST_SUMMARY_PREFIX
        ),
    );
    let code = if failed == 0 {
        host::DEBUG_EXIT_SUCCESS
    } else {
        host::DEBUG_EXIT_FAILURE
    };
    assert_exit(status, code, output);
}

/// Boots with `cmdline` and runs the machine to its end: the output and
/// QEMU's exit status.
pub fn run_cmdline(cmdline: &str) -> (String, i32) {
    step(run_to_exit(BootOptions::with_cmdline(cmdline), RUN))
}

/// Boots with `cmdline` (a test program as init: `init=quota`), runs the
/// machine to its end, and checks that the kernel stayed healthy and the
/// run ended in success; returns the output.
pub fn run_to_success(cmdline: &str) -> String {
    let (output, status) = run_cmdline(cmdline);
    assert_kernel_healthy(&output);
    assert_exit(status, host::DEBUG_EXIT_SUCCESS, &output);
    output
}

/// Boots a system (the default one for `BootOptions::default()`) and waits
/// for the shell's prompt.
pub fn boot_to_shell(options: BootOptions) -> Session {
    let mut session = step(Session::boot(options));
    step(session.expect(host::SHELL_PROMPT, BOOT));
    session
}

/// Sends `line` to the shell and waits until the answer contains `reply`
/// and the next prompt follows it; returns the output since the line was
/// sent.
pub fn command(session: &mut Session, line: &str, reply: &str) -> String {
    let before = session.output().len();
    step(session.send(&format!("{line}\n")));
    step(session.expect_next(reply, REPLY));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    session.output()[before..].to_string()
}

/// Powers the system off from the shell and checks QEMU exits with 0.
pub fn power_off(session: &mut Session) {
    step(session.send("poweroff\n"));
    assert_eq!(
        step(session.wait_exit(REPLY)),
        0,
        "output:\n{}",
        session.output()
    );
}

/// The number in the first row under `column` of a one-column table the
/// shell printed (`ps | where name == shell | select id`).
pub fn first_number(output: &str, column: &str) -> u64 {
    output
        .lines()
        .skip_while(|line| line.trim() != column)
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {column} in:\n{output}"))
}

/// The number after `word` in `output` (`counter 1234`; punctuation after
/// the number is ignored).
pub fn number_after(output: &str, word: &str) -> u64 {
    let mut words = output.split_whitespace().skip_while(|w| *w != word);
    words
        .find_map(|w| w.trim_end_matches([',', ';', ')', ':']).parse().ok())
        .unwrap_or_else(|| panic!("no number after {word:?} in:\n{output}"))
}

/// A store image of its own for one test, empty:
/// `target/abide/test-stores/<name>.img` (256 MiB, sparse), deleted and
/// created anew. Boot with it as often as the test needs — every boot sees
/// what the earlier ones wrote:
/// `Session::boot(BootOptions::default().with_store(&store))`.
pub fn fresh_store(name: &str) -> PathBuf {
    let path = abide_tool::build::output_dir()
        .join("test-stores")
        .join(format!("{name}.img"));
    step(abide_tool::store::create(
        &path,
        abide_tool::store::DEFAULT_SIZE_MIB,
    ));
    path
}

/// An empty host directory for `--add`, created anew: `name` (with this
/// test binary's process id) keeps it apart from other tests' directories,
/// since tests run at once.
pub fn fresh_add_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("abide-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the directory to add");
    dir
}

/// Cuts the power: SIGKILLs QEMU at once, mid-whatever. What QEMU had
/// written to the store file stays (the host keeps it), as a disk keeps
/// what reached it.
pub fn power_cut(session: &mut Session) {
    step(session.kill());
}

/// Waits until `needle` is on the serial output and the line holding it
/// has ended, and returns that line. The output arrives in pieces: a line
/// read as soon as its first words are in may lack its end (a verdict cut
/// to "all checks" fails the test however the program did).
pub fn whole_line(session: &mut Session, needle: &str) -> String {
    step(session.expect(needle, BOOT));
    step(session.expect_next("\n", REPLY));
    let output = session.output();
    let line = output
        .lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{output}"));
    line.trim_end().to_string()
}
