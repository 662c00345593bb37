//! System test: the kernel's syscall exception port for foreign-ABI
//! processes (issue 15, `abide_abi::trap`). `trap-test` is the handler of a
//! foreign process running a hand-written program that makes Linux system
//! calls: each of its traps, the refusals of bad answers, a second thread,
//! an interrupted spinning thread, and the end of a process whose handler
//! end closed.
//!
//! A persistent foreign process stopped in a trap at a checkpoint resumes
//! after a power cut with its thread id and its count.
//!
//! Drives: `user/tests/trap-test`. Configs: none (`init=trap-test`), and
//! `system/trap-persist.conf` for the power cut.

mod support;

use support::*;

#[test]
fn a_handler_serves_the_traps_of_a_foreign_process() {
    let output = run_to_success("init=trap-test");
    for line in [
        "trap-test: write from the foreign process: hi",
        "trap-test: a write traps with thread, key and arguments: ok",
        "trap-test: the bytes read back: ok",
        "trap-test: trap_resume through another channel is refused: ok",
        "trap-test: trap_resume with rip outside user space is refused: ok",
        "trap-test: trap_resume with rsp outside user space is refused: ok",
        "trap-test: trap_resume with fs_base outside user space is refused: ok",
        "trap-test: thread_start on an Abide process is refused: ok",
        "trap-test: thread_start with rip outside user space is refused: ok",
        "trap-test: trap_resume on a thread not stopped is refused: ok",
        "trap-test: the resumed thread's flags lost IOPL and NT: ok",
        "trap-test: arch_prctl(ARCH_SET_FS): ok",
        "trap-test: the foreign code read its FS base back: ok",
        "trap-test: a null dereference traps as a page fault at 0: ok",
        "trap-test: clone's entry is the second thread's: ok",
        "trap-test: a second thread traps with its own id and key: ok",
        "trap-test: the second thread was interrupted: ok",
        "trap-test: exit_group of the last thread: the process exited with 0: ok",
        "trap-test: closing the handler end ends its foreign process: ok",
        "trap-test: all checks passed",
    ] {
        assert_contains(&output, line);
    }
    assert!(!output.contains("FAILED"), "{output}");
    // The kernel says why the orphan ended.
    assert_contains(
        &output,
        "(orphan): the handler of its traps is gone; ending it",
    );
    assert_contains(&output, "(trap-test) exited with status 0");
}

/// The `(count, thread)` of every `trap-test: persist: count N thread T`
/// line in `output`.
fn counts(output: &str) -> Vec<(u64, u64)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.split_once("trap-test: persist: count ")?.1;
            let (count, thread) = rest.split_once(" thread ")?;
            Some((count.parse().ok()?, thread.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn a_foreign_thread_stopped_in_a_trap_resumes_after_a_power_cut() {
    let path = fresh_store("trap-persist");
    let options = || BootOptions::with_cmdline("config=trap-persist").with_store(&path);
    let mut session = step(Session::boot(options()));
    // The checkpoint is taken while the counter is stopped in its trap.
    step(session.expect("trap-test: persist: checkpoint ", BOOT));
    step(session.expect("trap-test: persist: count 5000 ", BOOT));
    let before = counts(&session.output());
    let thread = before.first().map(|&(_, thread)| thread);
    power_cut(&mut session);

    let mut session = step(Session::boot(options()));
    step(session.expect("store: resumed generation", BOOT));
    step(session.expect("trap-test: persist: count 5000 ", BOOT));
    let output = session.output();
    assert!(!output.contains("FAILED"), "{output}");
    let after = counts(&output);
    // Resumed at the checkpoint, not started afresh: the same thread,
    // stopped in its trap at count 3000, is answered once (no count is
    // served twice: the handler checks each follows the last) and counts
    // on.
    let thread = thread.unwrap_or(0);
    assert_eq!(
        after.first(),
        Some(&(4000, thread)),
        "before the cut {before:?}, after {after:?}:\n{output}"
    );
    assert_eq!(
        output.matches("trap-test: persist: checkpoint ").count(),
        1,
        "the resumed handler took its checkpoint again:\n{output}"
    );
    power_cut(&mut session);
}
