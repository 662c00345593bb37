//! System tests: the in-kernel test suite, and the crash reports for an
//! unexpected exception and a panic, checked from outside through QEMU's exit
//! status and the serial console.
//!
//! Drives: none: the in-kernel tests (`kernel/src/ktest/`, `test=...`) and the
//! kernel's crash reports. Configs: none.

mod support;

use support::*;

/// Every kernel test that `test=all` must run and pass.
const EXPECTED_TESTS: &[&str] = &[
    "frames::alloc_free",
    "heap::alloc_grow_free",
    "heap::free_run_check",
    "paging::map_translate_unmap",
    "paging::protect_read_only",
    "paging::no_identity_map",
    "paging::kernel_text_read_only",
    "paging::stack_guard_page",
    "page_set::dirty_outlives_mapping",
    "archives::frames_kept",
    "exceptions::breakpoint",
    "exceptions::page_fault_report",
    "exceptions::general_protection",
    "protection::nx_smep_smap_enabled",
    "protection::interrupt_entry_clears_ac",
    "protection::smap_stops_kernel_reads_of_user_pages",
    "protection::restored_registers_stay_in_user_mode",
    "protection::stack_guard_pages_unmapped",
    "timer::ticks_advance",
    "time::monotonic",
    "fpu::sse_survives_interrupts",
    "ksyms::names_kernel_functions",
];

/// Everything after the first backtrace heading.
fn after_backtrace_heading(output: &str) -> &str {
    output
        .split_once(host::BACKTRACE_HEADING)
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no backtrace in:\n{output}"))
}

/// Runs the kernel tests `selection` names (`test=...`), which must end
/// the run as a failure; returns the output.
fn run_failing(selection: &str) -> String {
    let (output, status) = run_cmdline(&format!("test={selection}"));
    assert_exit(status, host::DEBUG_EXIT_FAILURE, &output);
    output
}

#[test]
fn all_kernel_tests_pass() {
    let (output, status) = run_cmdline("test=all");
    for name in EXPECTED_TESTS {
        assert_contains(
            &output,
            &format!("{}{name} ... ok", host::KTEST_LINE_PREFIX),
        );
    }
    assert_ktest_verdict(&output, status, EXPECTED_TESTS.len(), 0);
}

#[test]
fn a_failing_kernel_test_fails_the_run() {
    let (output, status) = run_cmdline("test=selftest::must_fail");
    assert_contains(
        &output,
        "selftest::must_fail ... FAILED: this test fails on purpose",
    );
    assert_ktest_verdict(&output, status, 0, 1);
}

#[test]
fn a_selection_matching_no_test_fails_loudly() {
    let output = run_failing("no_such_test");
    assert_contains(&output, "no kernel test matches");
}

#[test]
fn an_unexpected_page_fault_is_reported_with_a_backtrace() {
    let output = run_failing("crash::page_fault");
    assert_contains(&output, host::EXCEPTION_REPORT_PREFIX);
    assert_contains(&output, "#PF page fault (vector 14)");
    assert_contains(&output, "CR2=0xffffc8ff0badf000");
    assert_contains(&output, "kernel read of an unmapped page");
    assert_contains(&output, "RIP=0xffffffff8");
    assert_contains(&output, "RSP=0xffffffff8");
    let backtrace = after_backtrace_heading(&output);
    // Frame 0 is the faulting function, named from the embedded symbol table;
    // the chain continues to the test runner that called it.
    assert_contains(backtrace, "crash_page_fault+0x");
    assert_contains(backtrace, "ktest::run");
}

/// The syscall stack (like every kernel stack) sits above an unmapped guard
/// page: running off its bottom faults on the first push below it and is
/// reported, instead of overwriting the memory underneath.
#[test]
fn a_kernel_stack_overflow_faults_on_its_guard_page() {
    let output = run_failing("crash::syscall_stack_overflow");
    let bottom = output
        .split_once("overflowing the syscall stack, bottom 0x")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .unwrap_or_else(|| panic!("no stack bottom in:\n{output}"));
    assert_contains(&output, host::EXCEPTION_REPORT_PREFIX);
    assert_contains(&output, "#PF page fault (vector 14)");
    assert_contains(&output, &format!("CR2={:#018x}", bottom - 8));
    assert_contains(&output, "kernel write to an unmapped page");
    assert!(!output.contains("nested"), "output:\n{output}");
}

#[test]
fn a_kernel_panic_is_reported_with_a_backtrace() {
    let output = run_failing("crash::panic");
    assert_contains(&output, host::PANIC_REPORT_PREFIX);
    assert_contains(
        &output,
        "deliberate panic from the crash::panic kernel test",
    );
    let backtrace = after_backtrace_heading(&output);
    assert_contains(backtrace, "crash_panic");
}
