//! System test: a process holding another with `MANAGE` maps, writes,
//! reads, protects, unmaps and clones its memory, and every bad request is
//! refused (docs/kernel.md, "Another process's memory").
//!
//! `user/tests/fmem-test` runs as the system's only program: it works on a
//! running `spinner` at a fixed address (fresh pages are zero, a write
//! across a page boundary reads back, read-only and `PROT_NONE` pages
//! stay reachable for the handler, a map over mapped pages replaces them,
//! a clone is a copy independent both ways and charged to itself, unmap
//! gives the pages back), checks the refusals (kernel-half, unaligned and
//! overflowing ranges, a handle without `MANAGE`, a map over the memory
//! limit that changes nothing), has children of its own touch pages they
//! mapped into themselves (a read-only page faults on a write, a
//! `PROT_NONE` page on a read), and checks that the machine's memory is
//! back once every process is gone.
//!
//! Drives: `user/tests/fmem-test` (which starts `user/tests/spinner` and
//! itself as children). Configs: none (`init=fmem-test`).

mod support;

use support::*;

#[test]
fn another_process_memory_is_mapped_copied_protected_cloned_and_refused() {
    let output = run_to_success("init=fmem-test");
    for check in [
        "map four pages",
        "fresh pages are zero",
        "write then read across a page boundary",
        "protect",
        "a PROT_NONE page stays mapped for the handler",
        "map over mapped pages replaces them",
        "clone copies, and the copies are independent",
        "the clone's pages are its own to change",
        "unmap",
        "kernel-half addresses are refused",
        "unaligned and empty ranges are refused",
        "overflowing ranges are refused",
        "a handle without MANAGE is refused",
        "a handle to something else is refused",
        "a map over the memory limit is refused and changes nothing",
        "the spinner runs on",
        "a memory object's mapping is not replaced or reached",
        "a writable page takes the program's writes",
        "a read-only page faults on a write",
        "a PROT_NONE page faults on a read",
        "memory returns once the processes are gone",
    ] {
        assert_contains(&output, &format!("fmem: {check}: ok"));
    }
    assert_contains(&output, "fmem: all checks passed");
    assert!(!output.contains("FAILED"), "output:\n{output}");
}
