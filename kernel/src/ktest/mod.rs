//! In-kernel tests: code that can only be tested on the real (virtual)
//! machine — paging, interrupts, exceptions, the FPU — runs here when the
//! command line says `test=all` or `test=<name>,<prefix>...`.
//!
//! Each test prints one line; a summary line follows, and the kernel ends QEMU
//! through the debug-exit device with the verdict, which `cargo test` checks
//! (see tests/kernel.rs). Tests marked `explicit` (deliberate crashes, a test
//! that must fail) run only when named.

// Kernel tests run only when the command line asks for them. An index out of
// range in a test is a failing test: the panic handler reports it and ends
// QEMU with a failure status, which is the verdict `cargo test` checks. The
// deliberate-crash tests panic on purpose.
#![allow(clippy::indexing_slicing, clippy::panic)]

use abide_boot::cmdline::TestSelection;
use alloc::string::String;

use crate::arch::power;
use crate::println;

mod archive_tests;
mod cpu_tests;
mod disk_tests;
mod memory_tests;

/// What a test returns: `Err` explains the failure.
pub type TestResult = Result<(), String>;

/// One registered kernel test.
pub struct KernelTest {
    /// `area::what`, as selected by `test=`.
    pub name: &'static str,
    pub run: fn() -> TestResult,
    /// Only run when selected by name, never by `all`.
    pub explicit: bool,
}

/// Fails the current test with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(alloc::format!($($arg)+));
        }
    };
}

const SUITES: &[&[KernelTest]] = &[
    memory_tests::TESTS,
    archive_tests::TESTS,
    cpu_tests::TESTS,
    disk_tests::TESTS,
];

fn selected(selection: &TestSelection, test: &KernelTest) -> bool {
    match selection {
        TestSelection::All => !test.explicit,
        TestSelection::Names(_) => selection.selects(test.name),
    }
}

/// Runs the selected tests and ends the machine with the verdict.
pub fn run(selection: TestSelection) -> ! {
    let (mut passed, mut failed) = (0, 0);
    for test in SUITES.iter().flat_map(|suite| suite.iter()) {
        if !selected(&selection, test) {
            continue;
        }
        crate::print!("{}{} ... ", abide_abi::host::KTEST_LINE_PREFIX, test.name);
        match (test.run)() {
            Ok(()) => {
                println!("ok");
                passed += 1;
            }
            Err(why) => {
                println!("FAILED: {why}");
                failed += 1;
            }
        }
    }
    println!(
        "{}{passed} passed, {failed} failed",
        abide_abi::host::KTEST_SUMMARY_PREFIX
    );
    if passed + failed == 0 {
        println!("no kernel test matches the selection {selection:?}");
        power::exit_failure();
    }
    if failed == 0 {
        power::exit_success()
    } else {
        power::exit_failure()
    }
}
