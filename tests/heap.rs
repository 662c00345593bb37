//! System test: a kernel heap that cannot grow answers `NoMemory`, never a
//! kernel panic (issue 13, finding 3; docs/reliability.md, "When the
//! kernel heap cannot grow").
//!
//! `user/tests/heap-flood` runs as the system's only program (so nothing
//! limits its memory): with every page user space may take in use, 32
//! children create channels up to their handle quotas, together more
//! kernel heap than is left. Before the system-call gate the kernel
//! panicked on an infallible map insert; now the calls are refused, the
//! kernel stays healthy and the memory returns.
//!
//! Drives: `user/tests/heap-flood` (which starts copies of itself).
//! Configs: none (`init=heap-flood`).

mod support;

use support::*;

#[test]
fn an_exhausted_kernel_heap_answers_no_memory_and_recovers() {
    let output = run_to_success("init=heap-flood");
    for check in [
        "the heap's limit answers NoMemory",
        "a new channel is refused while the heap is full",
        "free memory returns once the children are gone",
        "channels can be created again",
    ] {
        assert_contains(&output, &format!("heap-flood: {check}: ok"));
    }
    assert_contains(&output, "heap-flood: all checks passed");
    assert!(!output.contains("FAILED"), "output:\n{output}");
}
