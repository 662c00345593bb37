//! busybox's own test suite (`../shared/conformance`, read at run time)
//! on Abide's Unix personality: fails if fewer of the 469 cases that pass
//! on Linux pass than the floor docs/unix.md records (`Conformance floor:
//! N of 469`), and when the suite cannot even start. Beside it, the same
//! harness on the Linux peer must pass every baseline case it runs: the
//! check that the layout, the command and the parsing are right. (It
//! cannot run all 469: 42 come from test files kept out of the shared
//! folder; docs/unix.md, "Compatibility".)
//!
//! To fit `cargo test`'s budget both runs leave out the applets too slow
//! under TCG ([`SLOW_UNDER_TCG`]: `bc`); their cases count as not passed,
//! so the floor is the figure of this subset. `cargo run -- conformance`
//! runs everything. A run that overruns its timeout fails with the last
//! lines it printed.
//!
//! Needs what `abide bench` needs for its Linux peer (QEMU, apt or a cached
//! kernel and busybox in target/linux-peer). It never skips.
//!
//! Drives: `user/services/unix` with Debian's static busybox in Abide's
//! root tree (`system/default.conf`), and the Linux peer (Debian's cloud
//! kernel). Code: `tools/abide/src/conformance/`.

mod support;

use std::time::Duration;

use abide_tool::conformance::run::Machine;
use abide_tool::conformance::{
    floor, run_suite, test_applets, SuiteOptions, System, SLOW_UNDER_TCG, SUITE_FLOOR,
};
use support::*;

/// The suite without [`SLOW_UNDER_TCG`] under TCG on a loaded machine:
/// about six minutes on Linux; on Abide about ten cases a minute
/// (2026-12-07, two QEMUs and builds sharing two cores), so up to 40.
const SUITE: Duration = Duration::from_secs(40 * 60);

fn run(system: System) -> abide_tool::conformance::SuiteRun {
    let options = SuiteOptions {
        system,
        applets: step(test_applets()),
        machine: Machine::default(),
        timeout: SUITE,
    };
    step(run_suite(&options, &mut |_| {}))
}

/// The figure and the run time, shown with `--nocapture`.
fn report(run: &abide_tool::conformance::SuiteRun) {
    println!(
        "{}: {} in {:.0} s (without {SLOW_UNDER_TCG:?})",
        run.guest.system,
        run.comparison.figure(),
        run.guest.elapsed.as_secs_f64()
    );
}

#[test]
fn abide_passes_at_least_the_recorded_floor() {
    let (floor, total) = step(floor(SUITE_FLOOR));
    let run = run(System::Abide);
    let comparison = &run.comparison;
    report(&run);
    assert_eq!(comparison.total, total, "the baseline changed size");
    let failures: Vec<&str> = comparison.failures().map(|c| c.name.as_str()).collect();
    assert!(
        comparison.passed >= floor,
        "{} pass, fewer than the floor of {floor}; not passing: {failures:#?}",
        comparison.figure()
    );
}

#[test]
fn the_harness_passes_every_baseline_case_it_runs_on_the_linux_peer() {
    let run = run(System::Linux);
    let comparison = &run.comparison;
    report(&run);
    // A baseline case the run reported must pass. Cases it never reports
    // come from `.tests` files kept out of the shared folder (docs/unix.md,
    // "Compatibility"); they count as not passed, on Linux as on Abide.
    let failures: Vec<String> = comparison
        .failures()
        .filter(|c| c.verdict.is_some())
        .map(|c| format!("{:?}: {}", c.verdict, c.name))
        .collect();
    assert!(
        failures.is_empty(),
        "{} on Linux; reported and not passing: {failures:#?}",
        comparison.figure()
    );
    let unreported = comparison.unreported().count();
    assert_eq!(
        comparison.passed + unreported,
        comparison.total,
        "{} on Linux",
        comparison.figure()
    );
}
