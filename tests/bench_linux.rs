//! `cargo run -- bench --quick` end to end: the Linux peer is fetched
//! (Debian's cloud kernel, with `apt-get download`) or taken from
//! `target/linux-peer/`, its benchmark program built statically, and both
//! systems boot in the same QEMU; every figure of the comparison must be
//! there for both, and Abide's system and persistence figures. Their values
//! are not judged.
//!
//! Needs what `.ci/run` installs: QEMU, apt with package lists (or a cached
//! kernel), and glibc's static libraries (`libc6-dev`). When one is missing
//! the test fails with the message that names it; it never skips.
//!
//! The Linux ABI rows run the Linux peer's program on Abide as well
//! (`abide_tool::bench::unix`); a benchmark that fails there is recorded,
//! not missing, and its row has no ratio.
//!
//! Drives: `user/bench/bench-quick` (with `user/bench/bench-peer`), the
//! Linux peer's program on the Unix personality (`user/services/unix`, the
//! root tree), and the
//! system of `system/bench.conf` (`user/init`, `user/drivers/serial`,
//! `user/services/log`, `user/apps/shell`, `user/bench/bench-restart`) and of
//! `system/bench-persist.conf` (`user/bench/bench-persist`); beside them the
//! Linux peer's benchmark program (`tools/linux-bench`). Configs:
//! `system/bench.conf`, `system/bench-persist.conf`, `system/default.conf`
//! (the Unix rows).

mod support;

use abide_benchfmt::persist::{DIRTY_MIB, PERIODS_MS};
use abide_benchfmt::{linux, NAMES, QUICK_ITERATIONS};
use std::time::Duration;

use abide_tool::bench::compare::{render_markdown, ROWS};
use abide_tool::bench::{chart, persist, run_comparison, BenchOptions};
use support::*;

/// How long one boot may take: the Linux peer's program on Abide's Unix
/// personality, 200 spawns and forks of busybox and 400 of `busybox true`
/// from `sh` under TCG, takes 10 to 15 minutes on a loaded host.
const BOOT_TIMEOUT: Duration = Duration::from_secs(1800);

/// The measured iterations of benchmark `name` in a quick run: fewer for
/// the shell benchmarks.
fn quick_iterations(name: &str) -> u64 {
    let iterations = if [linux::SHELL_LOOP, linux::TRUE_100].contains(&name) {
        linux::slow_iterations(QUICK_ITERATIONS)
    } else {
        QUICK_ITERATIONS
    };
    u64::from(iterations)
}

#[test]
fn every_figure_is_measured_on_both_systems() {
    let options = BenchOptions {
        timeout: BOOT_TIMEOUT,
        ..BenchOptions::quick()
    };
    let mut progress = Vec::new();
    let outcome = step(run_comparison(&options, |line| {
        progress.push(line.to_string())
    }));
    let missing = outcome.comparison.missing();
    assert!(
        missing.is_empty(),
        "figures missing: {missing:#?}\nprogress:\n{}",
        progress.join("\n")
    );
    assert_eq!(outcome.comparison.rows.len(), ROWS.len());
    assert_eq!((outcome.abide.runs.len(), outcome.linux.runs.len()), (1, 1));
    // The system figures: boot to the prompt, and crash to the first
    // answer of the replacement, from one boot of system/bench.conf.
    assert_eq!(outcome.system.len(), 1, "{progress:#?}");
    let system = &outcome.system[0];
    assert!(system.boot_to_prompt > Duration::ZERO, "{system:?}");
    assert!(
        system.restart_median_ns > 0 && system.restart_median_ns <= system.restart_p99_ns,
        "{system:?}"
    );
    // The persistence figures: each dirty set checkpointed, the power cut
    // and the restore, QEMU's savevm beside it; the workload under each
    // period.
    let figures = &outcome.persist;
    assert_eq!(figures.runs.len(), 1, "{figures:#?}");
    let run = &figures.runs[0];
    let sizes = |mibs: Vec<u32>| assert_eq!(mibs, DIRTY_MIB, "{figures:#?}");
    sizes(run.dirty.iter().map(|d| d.mib).collect());
    sizes(run.savevm.iter().map(|s| s.mib).collect());
    for dirty in &run.dirty {
        let pages = u64::from(dirty.mib) * 256;
        assert!(
            dirty.pause_ns > 0
                && dirty.write_ns > 0
                && dirty.call_ns > 0
                && dirty.pages >= pages
                && dirty.restored_pages >= pages
                && dirty.power_on_to_resumed > Duration::ZERO,
            "{dirty:?}"
        );
    }
    for saved in &run.savevm {
        assert!(
            saved.wall > Duration::ZERO && saved.state_bytes >= u64::from(saved.mib) << 20,
            "{saved:?}"
        );
    }
    let periods: Vec<u64> = figures.workload.iter().map(|p| p.period_ms).collect();
    assert_eq!(periods, PERIODS_MS);
    for period in &figures.workload {
        assert!(period.rate().is_some_and(|r| r > 0.0), "{period:?}");
    }
    let every_100_ms = &figures.workload[2];
    assert!(every_100_ms.checkpoints() > 0, "{every_100_ms:?}");
    let tables = persist::render_markdown(figures);
    for mib in DIRTY_MIB {
        let row = tables
            .lines()
            .find(|l| l.starts_with(&format!("| {mib} MiB ")))
            .unwrap_or_else(|| panic!("no row for {mib} MiB in\n{tables}"));
        assert!(!row.contains(" - |"), "{row}");
    }
    for (report, names) in [
        (&outcome.abide.runs[0].report, NAMES),
        (&outcome.linux.runs[0].report, linux::NAMES),
    ] {
        for name in names {
            let result = report
                .get(name)
                .unwrap_or_else(|| panic!("no result for {name}"));
            assert_eq!(result.summary.iterations, quick_iterations(name), "{name}");
        }
    }
    // The Linux peer's program ran on Abide too: each benchmark a result
    // or a recorded failure.
    assert_eq!(outcome.abide.unix.len(), 1, "{progress:#?}");
    let unix = &outcome.abide.unix[0];
    for name in linux::NAMES {
        match unix.get(name) {
            Some(result) => {
                assert_eq!(result.summary.iterations, quick_iterations(name), "{name}")
            }
            None => assert!(
                unix.failure(name).is_some(),
                "no result for {name} on Abide"
            ),
        }
    }
    // The lines came as they were printed, tagged with their system.
    for system in ["abide:   bench: done", "linux:   bench: done"] {
        assert!(progress.iter().any(|l| l == system), "{progress:#?}");
    }
    // Every row renders with both values and a ratio (but for a Linux ABI
    // row that failed on Abide, which says so), and the chart has a bar per
    // row.
    let markdown = render_markdown(&outcome);
    let failed: Vec<&str> = outcome
        .comparison
        .rows
        .iter()
        .filter(|row| row.abide_failure.is_some())
        .map(|row| row.spec.label)
        .collect();
    for row in ROWS.iter().filter(|row| !failed.contains(&row.label)) {
        let line = markdown
            .lines()
            .find(|l| l.starts_with(&format!("| {}", row.label)))
            .unwrap_or_else(|| panic!("no row {:?} in\n{markdown}", row.label));
        let ratio = line
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap()
            .trim();
        assert_ne!(ratio, "-", "{line}");
    }
    assert!(markdown.contains("`-accel tcg`") && markdown.contains("QEMU "));
    let svg = chart::render_svg(&outcome.comparison, "quick");
    assert_eq!(svg.matches(r#"class="bar""#).count(), ROWS.len());
}
