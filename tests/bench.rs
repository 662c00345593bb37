//! Abide's benchmark suite runs end to end: `bench-quick` (the suite of
//! `cargo run -- bench` with a few iterations) reports every benchmark in the
//! format the host reads, and its first line times the boot. Nothing here
//! judges speed; the figures of so few iterations under emulation mean
//! nothing. (The comparison with Linux: `tests/bench_linux.rs`.)
//!
//! Drives: `user/bench/bench-quick` (the suite of `user/bench/bench`, which
//! starts `user/bench/bench-peer`). Configs: none (`init=bench-quick`).

mod support;

use abide_benchfmt::{NAMES, QUICK_ITERATIONS};
use abide_tool::bench::{render_table, run_abide, BenchOptions};
use support::*;

#[test]
fn every_benchmark_reports_a_result() {
    let options = BenchOptions {
        timeout: RUN,
        ..BenchOptions::quick()
    };
    let mut lines = Vec::new();
    let run = step(run_abide(&options, |line| lines.push(line.to_string())));
    let report = &run.report;
    // The lines reached the callback as they came, the first `start`, the
    // last `done`.
    assert!(lines[0].starts_with("bench: start entry="), "{lines:#?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("bench: done"),
        "{lines:#?}"
    );
    assert!(report.tsc_hz.is_some(), "no TSC rate: {lines:#?}");
    assert!(report.start.is_some(), "no start line: {lines:#?}");
    assert!(
        run.boot.to_first_user <= run.boot.to_first_line && !run.boot.to_first_line.is_zero(),
        "{:?}",
        run.boot
    );
    for name in NAMES {
        let result = report
            .get(name)
            .unwrap_or_else(|| panic!("no result for {name}: {lines:#?}"));
        let summary = result.summary;
        assert_eq!(summary.iterations, u64::from(QUICK_ITERATIONS), "{name}");
        assert!(summary.median <= summary.p99, "{name}: {summary:?}");
    }
    let table = render_table(report);
    assert_eq!(table.lines().count(), 2 + NAMES.len(), "{table}");
}
