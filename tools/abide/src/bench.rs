//! `abide bench`: boots the benchmark program and reports its figures.
//!
//! The guest side is `user/programs/bench` (started with `init=bench
//! log=warn`); it prints one line per benchmark in the format
//! `abide_abi::host::bench` defines, and the kernel powers off when it
//! ends. [`run_suite`] boots it
//! through a [`Session`] (the same machine as `cargo run`), passes each
//! report line to a callback as it arrives, and reads the whole report with
//! [`parse_report`]; [`render_table`] prints it. A later comparison with a
//! Linux guest adds a second [`Report`] from the same format.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use abide_abi::host::bench::{self as format, Record, Summary, LINE_PREFIX};
use abide_abi::host::{cmdline, exit_status_meaning, GuestOutcome};

use crate::qemu::Accel;
use crate::session::{BootOptions, Session};

/// How to run the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    pub accel: Accel,
    pub memory_mib: u32,
    /// Run `bench-smoke` (a few iterations: checks the suite, measures nothing).
    pub smoke: bool,
    /// Give up (and kill QEMU) after this long.
    pub timeout: Duration,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            accel: Accel::Tcg,
            memory_mib: 256,
            smoke: false,
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl BenchOptions {
    /// The bundle program that runs the suite.
    pub fn program(&self) -> &'static str {
        if self.smoke {
            format::SMOKE_PROGRAM
        } else {
            format::PROGRAM
        }
    }

    /// The kernel command line: `init=<program> log=warn`. The kernel logs
    /// every process it starts at `info`, on the serial console, inside the
    /// timed part of the spawn benchmarks; `warn` keeps that out.
    pub fn cmdline(&self) -> String {
        format!("{}={} {}=warn", cmdline::INIT, self.program(), cmdline::LOG)
    }
}

/// One benchmark's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchResult {
    pub name: String,
    /// Iterations, median and p99, in TSC cycles.
    pub summary: Summary,
}

/// What one run of the suite reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// TSC ticks per second, as the guest measured them against the kernel's
    /// clock; `None` if it could not.
    pub tsc_hz: Option<u64>,
    /// In the order the guest printed them.
    pub results: Vec<BenchResult>,
}

impl Report {
    /// The result of benchmark `name`.
    pub fn get(&self, name: &str) -> Option<&BenchResult> {
        self.results.iter().find(|result| result.name == name)
    }

    /// `cycles` in nanoseconds, when the TSC rate is known.
    pub fn nanoseconds(&self, cycles: u64) -> Option<f64> {
        self.tsc_hz
            .filter(|&hz| hz > 0)
            .map(|hz| cycles as f64 * 1e9 / hz as f64)
    }
}

/// Reads the report from a run's serial output (other lines are skipped).
///
/// Fails, saying why, if a benchmark line is malformed or repeated, a
/// benchmark reported a failure, one of `abide_abi::host::bench::NAMES` has
/// no result, or the final `bench: done` line is missing. Results for names
/// this tool does not know are kept: the guest may be newer.
pub fn parse_report(output: &str) -> Result<Report, String> {
    let mut report = Report::default();
    let mut failures = Vec::new();
    let mut done = false;
    for line in output.lines() {
        let record = Record::parse(line)
            .map_err(|e| format!("malformed benchmark line {:?}: {e}", line.trim()))?;
        match record {
            None => {}
            Some(Record::Tsc { hz }) if report.tsc_hz.is_some() => {
                return Err(format!("two TSC rate lines (the second: {hz} Hz)"));
            }
            Some(Record::Tsc { hz }) => report.tsc_hz = Some(hz),
            Some(Record::Result { name, summary }) => {
                if report.get(name).is_some() {
                    return Err(format!("two results for {name}"));
                }
                report.results.push(BenchResult {
                    name: name.to_string(),
                    summary,
                });
            }
            Some(Record::Failed { name, reason }) => failures.push(format!("{name} ({reason})")),
            Some(Record::Done) => done = true,
        }
    }
    if !failures.is_empty() {
        return Err(format!(
            "benchmarks failed in the guest: {}",
            failures.join(", ")
        ));
    }
    if !done {
        return Err(format!(
            "the benchmark program did not finish (no `{LINE_PREFIX}done` line)"
        ));
    }
    let missing: Vec<&str> = format::NAMES
        .iter()
        .copied()
        .filter(|name| report.get(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!("no result for {}", missing.join(", ")));
    }
    Ok(report)
}

/// Boots the suite, calls `on_line` with each benchmark line as it arrives
/// (they come seconds to minutes apart under TCG), and returns the report
/// once the guest has powered off. The error says what went wrong and
/// carries the serial output (its tail, when the report is at fault).
pub fn run_suite(options: &BenchOptions, mut on_line: impl FnMut(&str)) -> Result<Report, String> {
    let deadline = Instant::now() + options.timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut session = Session::boot(BootOptions {
        cmdline: options.cmdline(),
        memory_mib: options.memory_mib,
        accel: options.accel,
        ..BootOptions::default()
    })?;
    // Byte offset up to which the output has been passed to `on_line`.
    let mut seen = 0;
    let mut done = false;
    while !done {
        session
            .expect_next(LINE_PREFIX, left())
            .and_then(|()| session.expect_next("\n", left()))
            .map_err(|e| format!("the benchmark did not finish: {e}"))?;
        let output = session.output();
        let complete = &output[..output.rfind('\n').map_or(0, |end| end + 1)];
        for line in complete.get(seen..).unwrap_or("").lines() {
            if let Ok(Some(record)) = Record::parse(line) {
                on_line(line.trim());
                done |= record == Record::Done;
            }
        }
        seen = complete.len();
    }
    let status = session.wait_exit(left())?;
    let output = session.output();
    match exit_status_meaning(status) {
        GuestOutcome::PoweredOff | GuestOutcome::Success => {}
        outcome => {
            return Err(format!(
                "the guest failed after the benchmarks ({outcome:?}, QEMU status {status}):\n{}",
                tail(&output, 60)
            ))
        }
    }
    parse_report(&output).map_err(|e| {
        format!(
            "{e}\n--- end of the serial output ---\n{}",
            tail(&output, 60)
        )
    })
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The report as a Markdown table (aligned, so it reads on a terminal and
/// pastes into docs/perf.md): name, iterations, median and p99 in cycles,
/// and in nanoseconds when the TSC rate is known ("-" otherwise).
pub fn render_table(report: &Report) -> String {
    let header = [
        "benchmark",
        "iterations",
        "median (cycles)",
        "p99 (cycles)",
        "median (ns)",
        "p99 (ns)",
    ];
    let ns = |cycles: u64| {
        report
            .nanoseconds(cycles)
            .map_or_else(|| "-".to_string(), |ns| format!("{ns:.1}"))
    };
    let rows: Vec<Vec<String>> = report
        .results
        .iter()
        .map(|result| {
            let s = &result.summary;
            vec![
                result.name.clone(),
                s.iterations.to_string(),
                s.median.to_string(),
                s.p99.to_string(),
                ns(s.median),
                ns(s.p99),
            ]
        })
        .collect();
    markdown_table(&header, &rows)
}

/// A Markdown table with columns padded to their widest cell; the first
/// column is left-aligned, the others (numbers) right-aligned.
fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.len())
                .chain([header[column].len(), 3])
                .max()
                .unwrap_or(3)
        })
        .collect();
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::from("|");
        for (column, (cell, width)) in cells.zip(&widths).enumerate() {
            if column == 0 {
                let _ = write!(out, " {cell:<width$} |");
            } else {
                let _ = write!(out, " {cell:>width$} |");
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(&mut header.iter().copied());
    out.push('|');
    for (column, width) in widths.iter().enumerate() {
        let dashes = "-".repeat(width - 1);
        if column == 0 {
            let _ = write!(out, " -{dashes} |");
        } else {
            let _ = write!(out, " {dashes}: |");
        }
    }
    out.push('\n');
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A complete run's output, kernel lines and a `\r` included.
    fn sample_output() -> String {
        let mut out = String::from("Abide 0.1.0 (x86_64, pvh) ready: boot 64.11 ms\n");
        out.push_str("bench: tsc hz=2000000000\r\n");
        for (i, name) in format::NAMES.iter().enumerate() {
            let median = 100 * (i as u64 + 1);
            out.push_str(&format!(
                "bench: result name={name} iterations=10000 median={median} p99={}\n",
                median * 2
            ));
            out.push_str("process 7 (nop) exited with status 0\n");
        }
        out.push_str("bench: done\nprocess 1 (bench) exited with status 0\n");
        out.push_str("all processes have ended\n");
        out
    }

    #[test]
    fn a_complete_report_parses() {
        let report = parse_report(&sample_output()).unwrap();
        assert_eq!(report.tsc_hz, Some(2_000_000_000));
        let names: Vec<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, format::NAMES);
        assert_eq!(
            report.get(format::NULL_SYSCALL).unwrap().summary,
            Summary {
                iterations: 10_000,
                median: 200,
                p99: 400
            }
        );
        assert_eq!(report.nanoseconds(200), Some(100.0));
    }

    #[test]
    fn what_makes_a_report_incomplete_is_named() {
        let full = sample_output();
        let without = |needle: &str| {
            full.lines()
                .filter(|line| !line.contains(needle))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let err = parse_report(&without("name=context-switch")).unwrap_err();
        assert_eq!(err, "no result for context-switch");
        let err = parse_report(&without("bench: done")).unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
        // No TSC line: still a report, without nanoseconds.
        let report = parse_report(&without("bench: tsc")).unwrap();
        assert_eq!(report.tsc_hz, None);
        assert_eq!(report.nanoseconds(100), None);
    }

    #[test]
    fn failures_and_bad_lines_are_errors() {
        let failed = sample_output().replace(
            "bench: result name=process-spawn ",
            "bench: failed name=process-spawn reason=process_spawn:NoMemory x=",
        );
        let err = parse_report(&failed).unwrap_err();
        assert_eq!(
            err,
            "benchmarks failed in the guest: process-spawn (process_spawn:NoMemory)"
        );
        let bad = sample_output().replace("median=200 ", "median=lots ");
        let err = parse_report(&bad).unwrap_err();
        assert!(err.starts_with("malformed benchmark line \"bench: result name=null-syscall"));
        assert!(err.ends_with("median= is not a number"), "{err}");
        let twice = format!("{}bench: tsc hz=1\n", sample_output());
        assert_eq!(
            parse_report(&twice).unwrap_err(),
            "two TSC rate lines (the second: 1 Hz)"
        );
        assert_eq!(
            parse_report("").unwrap_err(),
            "the benchmark program did not finish (no `bench: done` line)"
        );
    }

    #[test]
    fn unknown_benchmarks_are_kept() {
        let newer = sample_output().replace(
            "bench: done",
            "bench: result name=page-fault iterations=5 median=1 p99=2 min=1\nbench: done",
        );
        let report = parse_report(&newer).unwrap();
        assert_eq!(report.get("page-fault").unwrap().summary.p99, 2);
    }

    #[test]
    fn the_table_is_aligned_markdown() {
        let report = Report {
            tsc_hz: Some(1_000_000_000),
            results: vec![
                BenchResult {
                    name: "null-syscall".into(),
                    summary: Summary {
                        iterations: 10_000,
                        median: 812,
                        p99: 1_204,
                    },
                },
                BenchResult {
                    name: "x".into(),
                    summary: Summary {
                        iterations: 1,
                        median: 2,
                        p99: 3,
                    },
                },
            ],
        };
        let expected = "\
| benchmark    | iterations | median (cycles) | p99 (cycles) | median (ns) | p99 (ns) |
| ------------ | ---------: | --------------: | -----------: | ----------: | -------: |
| null-syscall |      10000 |             812 |         1204 |       812.0 |   1204.0 |
| x            |          1 |               2 |            3 |         2.0 |      3.0 |
";
        assert_eq!(render_table(&report), expected);
        let unknown_rate = Report {
            tsc_hz: None,
            ..report
        };
        assert!(render_table(&unknown_rate)
            .contains("| x            |          1 |               2 |            3 |           - |        - |"));
    }

    #[test]
    fn options_name_the_program() {
        let options = BenchOptions::default();
        assert_eq!(options.cmdline(), "init=bench log=warn");
        let smoke = BenchOptions {
            smoke: true,
            ..options
        };
        assert_eq!(smoke.cmdline(), "init=bench-smoke log=warn");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
