//! System tests: user programs run in ring 3 in their own address spaces,
//! are preempted, and a process that faults ends alone while the system goes
//! on. The programs are in user/tests and reach the kernel in the bundle.
//!
//! Drives: `user/tests/hello`,
//! `user/tests/fault-{page,ud,div,panic,kernel-read}`, `user/tests/spinner`,
//! `user/tests/hostile`, `user/tests/handles`. Configs: none
//! (`init=<programs>`).

mod support;

use support::*;

fn status_success() -> i32 {
    status_for(host::DEBUG_EXIT_SUCCESS)
}

#[test]
fn a_user_program_runs_and_exits() {
    let (output, status) = step(run_to_exit(BootOptions::with_cmdline("init=hello"), RUN));
    assert_contains(&output, "hello from user space");
    assert_contains(&output, "(hello) exited with status 0");
    assert_contains(&output, host::ALL_PROCESSES_ENDED);
    assert_eq!(status, status_success(), "output:\n{output}");
}

#[test]
fn each_kind_of_fault_ends_only_the_faulting_process() {
    let programs = "fault-page,fault-ud,fault-div,fault-panic,fault-kernel-read,hello";
    let (output, status) = step(run_to_exit(
        BootOptions::with_cmdline(&format!("init={programs}")),
        RUN,
    ));
    assert_contains(
        &output,
        "(fault-page) faulted: #PF page fault (vector 14) at address 0xdead0000",
    );
    assert_contains(&output, "(fault-ud) faulted: #UD invalid opcode (vector 6)");
    assert_contains(&output, "(fault-div) faulted: #DE divide error (vector 0)");
    // A Rust panic in user space is reported by the runtime and exits 101.
    assert_contains(&output, "panic: deliberate user panic");
    assert_contains(&output, "(fault-panic) exited with status 101");
    // Kernel memory (here the direct map) is present but supervisor-only: a
    // protection fault on a user read (error bits 0b101).
    assert_contains(
        &output,
        "(fault-kernel-read) faulted: #PF page fault (vector 14) at address 0xffff800000100000",
    );
    assert_contains(&output, "error 0x5");
    // The system went on: a later program still ran.
    assert_contains(&output, "hello from user space");
    assert_contains(&output, host::ALL_PROCESSES_ENDED);
    assert_kernel_healthy(&output);
    assert_eq!(status, status_success(), "output:\n{output}");
}

#[test]
fn the_timer_preempts_programs_that_never_yield() {
    // Two programs spin forever without a system call; the third can only
    // run if the timer takes the CPU away from them. They are queued first,
    // so `hello` runs only if they were preempted.
    let mut session = step(Session::boot(BootOptions::with_cmdline(
        "init=spinner,spinner,hello",
    )));
    step(session.expect("(hello) exited with status 0", BOOT));
    // Both spinners got the CPU too, in whatever order the ticks fell: one may
    // have been preempted before it printed, and print only now.
    let deadline = std::time::Instant::now() + BOOT;
    while session.output().matches("spinner: started").count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "a spinner never ran:\n{}",
            session.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn an_unknown_program_is_refused_by_name() {
    let (output, status) = step(run_to_exit(
        BootOptions::with_cmdline("init=no-such-program"),
        RUN,
    ));
    assert_contains(&output, "no program \"no-such-program\" in the bundle");
    assert_eq!(
        status,
        status_for(host::DEBUG_EXIT_FAILURE),
        "output:\n{output}"
    );
}

#[test]
fn a_hostile_process_cannot_crash_the_kernel() {
    let (output, status) = step(run_to_exit(
        BootOptions::with_cmdline("init=hostile,hello"),
        RUN,
    ));
    // The seed is printed so a failure replays.
    assert_contains(&output, "hostile: seed 0x5eedab1de0000001, 100000 calls");
    assert_contains(&output, "hostile: 100000 calls done");
    assert_contains(&output, "(hostile) exited with status 0");
    assert_contains(&output, "hello from user space");
    assert_kernel_healthy(&output);
    assert_eq!(status, status_success(), "output:\n{output}");
}

/// Handles from user space: rights only shrink, revoke takes every derived
/// handle, closed and forged handles are refused, and the hardware
/// resource's rights decide what the checkpoint engine allows
/// (user/tests/handles).
#[test]
fn handle_rights_duplicate_revoke_and_close() {
    let (output, status) = step(run_to_exit(BootOptions::with_cmdline("init=handles"), RUN));
    assert_contains(
        &output,
        "handles: regain WRITE through a narrowed handle: Err(AccessDenied) (ok)",
    );
    assert_contains(&output, "handles: revoke the narrowed handle: Ok(2) (ok)");
    assert_contains(
        &output,
        "handles: use a revoked descendant: Err(BadHandle) (ok)",
    );
    // The hardware resource's rights: a checkpoint needs WRITE, and the
    // authority is checked before the kernel says there is no store.
    for line in [
        "handles: sync with MANAGE but not WRITE: Err(AccessDenied) (ok)",
        "handles: snapshot with MANAGE but not WRITE: Err(AccessDenied) (ok)",
        "handles: sync with the process handle: Err(WrongType) (ok)",
        "handles: sync with a forged handle: Err(BadHandle) (ok)",
        "handles: sync with WRITE, no store: Err(Unavailable) (ok)",
        "handles: set the period with WRITE but not MANAGE: Err(AccessDenied) (ok)",
    ] {
        assert_contains(&output, line);
    }
    assert_contains(&output, "handles: all checks passed");
    assert!(!output.contains("WRONG"), "output:\n{output}");
    assert_contains(&output, "(handles) exited with status 0");
    assert_eq!(status, status_success(), "output:\n{output}");
}
