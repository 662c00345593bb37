//! The benchmark suite runs end to end: `bench-smoke` (the suite of
//! `cargo run -- bench` with a few iterations) reports every benchmark in the
//! format the host reads. Nothing here judges speed; the figures of so few
//! iterations under emulation mean nothing.

mod support;

use abide_abi::host::bench::{NAMES, SMOKE_ITERATIONS};
use abide_tool::bench::{render_table, run_suite, BenchOptions};
use support::*;

#[test]
fn every_benchmark_reports_a_result() {
    let options = BenchOptions {
        smoke: true,
        timeout: RUN,
        ..BenchOptions::default()
    };
    let mut lines = Vec::new();
    let report = step(run_suite(&options, |line| lines.push(line.to_string())));
    // The lines reached the callback as they came, the last one `done`.
    assert_eq!(
        lines.last().map(String::as_str),
        Some("bench: done"),
        "{lines:#?}"
    );
    assert!(report.tsc_hz.is_some(), "no TSC rate: {lines:#?}");
    for name in NAMES {
        let result = report
            .get(name)
            .unwrap_or_else(|| panic!("no result for {name}: {lines:#?}"));
        let summary = result.summary;
        assert_eq!(summary.iterations, u64::from(SMOKE_ITERATIONS), "{name}");
        assert!(summary.median <= summary.p99, "{name}: {summary:?}");
    }
    let table = render_table(&report);
    assert_eq!(table.lines().count(), 2 + NAMES.len(), "{table}");
}
