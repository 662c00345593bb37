//! Entry hardening, in QEMU: what a process holding no handle at all can do
//! to the kernel's entry and exit paths and to its loader must never stop
//! the machine (user/tests/flags does the trying). The in-kernel side —
//! NX, SMEP and SMAP on, AC cleared on entry, guard pages below the kernel
//! stacks — is checked by the `protection::` kernel tests (tests/kernel.rs).
//!
//! Drives: `user/tests/flags`. Configs: none (`init=flags`).

mod support;

use support::*;

/// Boots `flags` as the only program, with the kernel's debug log (which
/// names why the loader refused an image), and returns its output once the
/// machine has ended.
fn run_flags() -> String {
    let output = run_to_success("init=flags log=debug");
    assert_contains(&output, "flags: all checks passed");
    assert_contains(&output, host::ALL_PROCESSES_ENDED);
    output
}

/// NT, AC and DF set around system calls (NT once ended the machine with a
/// #GP at the kernel's `iretq`), and TF set into one (the #DB ends that
/// process alone): the calls work, copy their data intact, the program
/// keeps its flags, and the kernel goes on.
#[test]
fn flags_a_program_sets_around_system_calls_cannot_stop_the_kernel() {
    let output = run_flags();
    for check in [
        "flags: NT: (ok)",
        "flags: AC: (ok)",
        "flags: DF: (ok)",
        "flags: TF: a child single-stepping into a system call ends alone: (ok)",
    ] {
        assert_contains(&output, check);
    }
    assert_contains(&output, "(crafted) faulted: #DB debug (vector 1)");
}

/// Crafted images through the real spawn path (`process_spawn` from a
/// memory object): the last user page stays unmappable (a `syscall` at its
/// end would return to a non-canonical address), and no segment may be both
/// writable and executable (W^X); a valid image still runs.
#[test]
fn the_loader_refuses_the_last_user_page_and_writable_executable_segments() {
    let output = run_flags();
    for check in [
        "flags: a valid crafted image runs: (ok)",
        "flags: an image with code on the last user page is refused: (ok)",
        "flags: an image with a writable and executable segment is refused: (ok)",
    ] {
        assert_contains(&output, check);
    }
    // The kernel names why.
    assert_contains(
        &output,
        "process_spawn of \"crafted\" failed: a segment lies outside user space",
    );
    assert_contains(
        &output,
        "process_spawn of \"crafted\" failed: a segment is both writable and executable",
    );
}
