//! Pairing Abide's figures with Linux's: which Linux measurement answers
//! which Abide one ([`ROWS`]), how runs are combined, the ratio, and the
//! Markdown that `abide bench` prints and docs/perf.md records.
//!
//! A benchmark figure of several runs is the median over the runs of each
//! run's median, and likewise for p99 (nearest rank, as within a run). Boot
//! times, one per run, are the median over the runs. Memory and image size
//! are measured once. The ratio is Abide's median over Linux's: below 1,
//! Abide is faster or smaller.

use std::fmt::Write as _;

use abide_benchfmt::{self as names, linux, Summary};

use super::{markdown_table, render_table, BenchResult, GuestRun, Report};
use crate::qemu::Accel;

/// Memory after boot, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Abide: usable − free frames; Linux: `MemTotal − MemAvailable`.
    pub in_use_kib: u64,
    /// The guest's RAM − what is free (Abide's free frames, Linux's
    /// `MemFree`): everything the kernel holds, its image included.
    pub not_free_kib: u64,
}

/// Everything measured of one system.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemFigures {
    pub runs: Vec<GuestRun>,
    pub memory: Option<Memory>,
    /// What QEMU loads: Abide's shipped `abide.elf` (the system's programs
    /// included; the suite itself runs in `abide-full.elf`); Linux's
    /// `vmlinuz` and initramfs.
    pub image_bytes: Option<u64>,
    /// Abide only: the reports of the Linux peer's program run on Abide
    /// ([`super::unix`]), one per run.
    pub unix: Vec<Report>,
}

/// The machine both ran in, for the caption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`.
    pub qemu_version: String,
    pub accel: Accel,
    /// QEMU's `-cpu`.
    pub cpu: String,
    pub memory_mib: u32,
    /// Runs of each system.
    pub runs: u32,
    /// Iterations per benchmark and run.
    pub iterations: u32,
    /// The Debian packages and versions of the Linux guest (kernel and
    /// busybox).
    pub linux_packages: String,
}

/// How a row's figures are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Cycles,
    KiB,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Milliseconds => "ms",
            Unit::Cycles => "cycles",
            Unit::KiB => "KiB",
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Unit::Milliseconds => format!("{value:.1}"),
            Unit::Cycles | Unit::KiB => format!("{value:.0}"),
        }
    }
}

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// [`super::Boot::to_first_user`].
    BootToFirstUser,
    /// [`super::Boot::to_first_line`].
    BootToFirstLine,
    /// A benchmark's result.
    Bench(&'static str),
    /// A result of the Linux peer's program run on Abide
    /// ([`SystemFigures::unix`]).
    Unix(&'static str),
    MemoryInUse,
    MemoryNotFree,
    ImageSize,
}

/// One line of the comparison.
#[derive(Debug, PartialEq, Eq)]
pub struct RowSpec {
    pub label: &'static str,
    /// For the chart.
    pub short: &'static str,
    pub unit: Unit,
    pub abide: Measure,
    pub linux: Measure,
}

/// The comparison, in the order of the table.
pub const ROWS: &[RowSpec] = &[
    RowSpec {
        label: "boot: QEMU start to first user instruction",
        short: "boot to first instruction",
        unit: Unit::Milliseconds,
        abide: Measure::BootToFirstUser,
        linux: Measure::BootToFirstUser,
    },
    RowSpec {
        label: "boot: QEMU start to first line of the first program",
        short: "boot to first line",
        unit: Unit::Milliseconds,
        abide: Measure::BootToFirstLine,
        linux: Measure::BootToFirstLine,
    },
    RowSpec {
        label: "TSC read (in every cycle figure)",
        short: "TSC read",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::TSC_READ),
        linux: Measure::Bench(names::TSC_READ),
    },
    RowSpec {
        label: "null system call (Abide `clock`; Linux `getppid`)",
        short: "null system call",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::NULL_SYSCALL),
        linux: Measure::Bench(linux::GETPPID),
    },
    RowSpec {
        label: "IPC round trip (Abide channel; Linux pipe, 2 processes)",
        short: "IPC: channel / pipe",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::CHANNEL_ROUND_TRIP),
        linux: Measure::Bench(linux::PIPE_ROUND_TRIP),
    },
    RowSpec {
        label: "IPC round trip (Abide channel; Linux futex, 2 threads)",
        short: "IPC: channel / futex",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::CHANNEL_ROUND_TRIP),
        linux: Measure::Bench(linux::FUTEX_ROUND_TRIP),
    },
    RowSpec {
        label: "context switch (yield between 2 processes)",
        short: "context switch",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::CONTEXT_SWITCH),
        linux: Measure::Bench(names::CONTEXT_SWITCH),
    },
    RowSpec {
        label: "spawn, the call (Abide `process_spawn`; Linux `posix_spawn`)",
        short: "spawn call",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::PROCESS_SPAWN_CALL),
        linux: Measure::Bench(linux::POSIX_SPAWN_CALL),
    },
    RowSpec {
        label: "spawn to exit seen (Linux `posix_spawn` + `waitpid`)",
        short: "spawn to exit / posix_spawn",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::PROCESS_SPAWN),
        linux: Measure::Bench(linux::POSIX_SPAWN),
    },
    RowSpec {
        label: "spawn to exit seen (Linux `fork` + `execve` + `waitpid`)",
        short: "spawn to exit / fork+exec",
        unit: Unit::Cycles,
        abide: Measure::Bench(names::PROCESS_SPAWN),
        linux: Measure::Bench(linux::FORK_EXEC),
    },
    RowSpec {
        label: "Linux ABI: getppid (the same static binary on both)",
        short: "Linux ABI: getppid",
        unit: Unit::Cycles,
        abide: Measure::Unix(linux::GETPPID),
        linux: Measure::Bench(linux::GETPPID),
    },
    RowSpec {
        label: "Linux ABI: pipe round trip (2 processes)",
        short: "Linux ABI: pipe round trip",
        unit: Unit::Cycles,
        abide: Measure::Unix(linux::PIPE_ROUND_TRIP),
        linux: Measure::Bench(linux::PIPE_ROUND_TRIP),
    },
    RowSpec {
        label: "Linux ABI: futex round trip (2 threads)",
        short: "Linux ABI: futex round trip",
        unit: Unit::Cycles,
        abide: Measure::Unix(linux::FUTEX_ROUND_TRIP),
        linux: Measure::Bench(linux::FUTEX_ROUND_TRIP),
    },
    RowSpec {
        label: "Linux ABI: fork+exec+wait busybox true",
        short: "Linux ABI: fork+exec+wait",
        unit: Unit::Cycles,
        abide: Measure::Unix(linux::FORK_EXEC),
        linux: Measure::Bench(linux::FORK_EXEC),
    },
    RowSpec {
        label: "Linux ABI: posix_spawn busybox true + waitpid",
        short: "Linux ABI: posix_spawn",
        unit: Unit::Cycles,
        abide: Measure::Unix(linux::POSIX_SPAWN),
        linux: Measure::Bench(linux::POSIX_SPAWN),
    },
    RowSpec {
        label: "Linux ABI: shell loop 1000 (`sh -c`, spawn to exit)",
        short: "Linux ABI: shell loop 1000",
        unit: Unit::Cycles,
        abide: Measure::Unix(linux::SHELL_LOOP),
        linux: Measure::Bench(linux::SHELL_LOOP),
    },
    RowSpec {
        label: "Linux ABI: 100 × busybox true from `sh` (spawn to exit)",
        short: "Linux ABI: 100 × busybox true",
        unit: Unit::Cycles,
        abide: Measure::Unix(linux::TRUE_100),
        linux: Measure::Bench(linux::TRUE_100),
    },
    RowSpec {
        label: "memory in use after boot (Abide usable − free; Linux MemTotal − MemAvailable)",
        short: "memory in use",
        unit: Unit::KiB,
        abide: Measure::MemoryInUse,
        linux: Measure::MemoryInUse,
    },
    RowSpec {
        label: "memory not free after boot (guest RAM − free)",
        short: "RAM not free",
        unit: Unit::KiB,
        abide: Measure::MemoryNotFree,
        linux: Measure::MemoryNotFree,
    },
    RowSpec {
        label: "image size (Abide `abide.elf`; Linux `vmlinuz` + initramfs)",
        short: "image size",
        unit: Unit::KiB,
        abide: Measure::ImageSize,
        linux: Measure::ImageSize,
    },
];

/// A figure: its median and, for benchmarks, its p99.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Value {
    pub median: f64,
    pub p99: Option<f64>,
}

/// One row with both systems' figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub spec: &'static RowSpec,
    pub abide: Option<Value>,
    pub linux: Option<Value>,
    /// Why Abide has no figure: the Linux peer's program reported the
    /// benchmark as failed (or the host found it hung) on Abide. Recorded,
    /// not an error: the row waits for the feature it needs.
    pub abide_failure: Option<String>,
}

impl Row {
    /// Abide's median over Linux's.
    pub fn ratio(&self) -> Option<f64> {
        let (abide, linux) = (self.abide?.median, self.linux?.median);
        (linux > 0.0).then(|| abide / linux)
    }
}

/// Every row of [`ROWS`] with its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
}

impl Comparison {
    pub fn new(abide: &SystemFigures, linux: &SystemFigures) -> Comparison {
        Comparison {
            rows: ROWS
                .iter()
                .map(|spec| {
                    let abide_value = measure(abide, spec.abide);
                    Row {
                        spec,
                        abide: abide_value,
                        linux: measure(linux, spec.linux),
                        abide_failure: abide_value
                            .is_none()
                            .then(|| failure(abide, spec.abide))
                            .flatten(),
                    }
                })
                .collect(),
        }
    }

    /// The comparison's rows that `keep` selects (`abide bench --only
    /// unix`: the Linux ABI rows).
    pub fn retain(mut self, keep: impl Fn(&RowSpec) -> bool) -> Comparison {
        self.rows.retain(|row| keep(row.spec));
        self
    }

    /// The figures that are missing, as `<row> (<system>)`; empty when the
    /// comparison is complete. An Abide figure whose benchmark failed there
    /// is not missing ([`Comparison::failed`]).
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for row in &self.rows {
            let abide = row.abide.is_some() || row.abide_failure.is_some();
            for (system, present) in [("Abide", abide), ("Linux", row.linux.is_some())] {
                if !present {
                    missing.push(format!("{} ({system})", row.spec.label));
                }
            }
        }
        missing
    }

    /// The rows whose benchmark failed on Abide, as `<row>: <reason>`.
    pub fn failed(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|row| {
                let reason = row.abide_failure.as_ref()?;
                Some(format!("{}: {reason}", row.spec.label))
            })
            .collect()
    }
}

/// Whether `measure` reads the Linux peer's program run on Abide.
pub fn is_unix(spec: &RowSpec) -> bool {
    matches!(spec.abide, Measure::Unix(_))
}

/// Why the benchmark of `measure` failed in one of the runs, if it did.
fn failure(figures: &SystemFigures, measure: Measure) -> Option<String> {
    let Measure::Unix(name) = measure else {
        return None;
    };
    figures
        .unix
        .iter()
        .find_map(|report| report.failure(name))
        .map(str::to_string)
}

/// A system's figure for `measure`, combined over its runs.
fn measure(figures: &SystemFigures, measure: Measure) -> Option<Value> {
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    let single = |median: f64| Value { median, p99: None };
    let boot = |of: fn(&GuestRun) -> f64| median(figures.runs.iter().map(of).collect()).map(single);
    match measure {
        Measure::BootToFirstUser => boot(|run| run.boot.to_first_user.as_secs_f64() * 1e3),
        Measure::BootToFirstLine => boot(|run| run.boot.to_first_line.as_secs_f64() * 1e3),
        Measure::Bench(name) => bench_value(figures.runs.iter().map(|run| &run.report), name),
        Measure::Unix(name) => bench_value(figures.unix.iter(), name),
        Measure::MemoryInUse => figures.memory.map(|m| single(m.in_use_kib as f64)),
        Measure::MemoryNotFree => figures.memory.map(|m| single(m.not_free_kib as f64)),
        Measure::ImageSize => figures.image_bytes.map(|bytes| single(kib(bytes))),
    }
}

/// Benchmark `name` over `reports`: the median of their medians and of
/// their p99s; `None` unless every report has it.
fn bench_value<'a>(reports: impl Iterator<Item = &'a Report>, name: &str) -> Option<Value> {
    let summaries: Vec<Summary> = reports
        .map(|report| report.get(name).map(|result| result.summary))
        .collect::<Option<_>>()?;
    Some(Value {
        median: median(summaries.iter().map(|s| s.median as f64).collect())?,
        p99: median(summaries.iter().map(|s| s.p99 as f64).collect()),
    })
}

/// The nearest-rank median (the lower middle of an even count).
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let index = values.len().div_ceil(2).checked_sub(1)?;
    values.get(index).copied()
}

/// One report per system whose figures are the medians over its runs (for
/// the per-benchmark tables).
pub fn combine(runs: &[GuestRun]) -> Report {
    let reports: Vec<&Report> = runs.iter().map(|run| &run.report).collect();
    combine_reports(&reports)
}

/// One report whose figures are the medians over `runs`; the failures of
/// every run, each name once.
pub fn combine_reports(runs: &[&Report]) -> Report {
    let Some(first) = runs.first() else {
        return Report::default();
    };
    let median_of = |values: Vec<u64>| {
        median(values.into_iter().map(|v| v as f64).collect()).map_or(0, |m| m as u64)
    };
    let results = first
        .results
        .iter()
        .filter_map(|result| {
            let summaries: Vec<Summary> = runs
                .iter()
                .map(|run| run.get(&result.name).map(|r| r.summary))
                .collect::<Option<_>>()?;
            Some(BenchResult {
                name: result.name.clone(),
                summary: Summary {
                    iterations: result.summary.iterations,
                    median: median_of(summaries.iter().map(|s| s.median).collect()),
                    p99: median_of(summaries.iter().map(|s| s.p99).collect()),
                },
            })
        })
        .collect();
    let rates: Vec<u64> = runs.iter().filter_map(|run| run.tsc_hz).collect();
    let mut failures: Vec<(String, String)> = Vec::new();
    for (name, reason) in runs.iter().flat_map(|run| &run.failures) {
        if !failures.iter().any(|(known, _)| known == name) {
            failures.push((name.clone(), reason.clone()));
        }
    }
    Report {
        tsc_hz: (!rates.is_empty()).then(|| median_of(rates)),
        results,
        failures,
        ..Report::default()
    }
}

/// The caption: machine, Linux packages, runs and iterations.
pub fn caption(machine: &Machine, tsc_hz: Option<u64>) -> String {
    let mut text = format!(
        "QEMU {}, `-accel {}`, `-cpu {}`, q35, 1 vCPU, {} MiB. Linux: {}. \
         {} run{} of each system, alternating; {} iterations per benchmark and run.",
        machine.qemu_version,
        machine.accel.name(),
        machine.cpu,
        machine.memory_mib,
        machine.linux_packages,
        machine.runs,
        if machine.runs == 1 { "" } else { "s" },
        machine.iterations,
    );
    if let Some(hz) = tsc_hz {
        let _ = write!(text, " TSC {:.1} MHz.", hz as f64 / 1e6);
    }
    text
}

/// The comparison as an aligned Markdown table.
pub fn render_comparison(comparison: &Comparison) -> String {
    let header = [
        "figure",
        "unit",
        "Abide median",
        "Abide p99",
        "Linux median",
        "Linux p99",
        "Abide ÷ Linux",
    ];
    let rows: Vec<Vec<String>> = comparison
        .rows
        .iter()
        .map(|row| {
            let unit = row.spec.unit;
            let cell = |value: Option<f64>| value.map_or_else(|| "-".into(), |v| unit.format(v));
            let abide_median = match (&row.abide, &row.abide_failure) {
                (None, Some(_)) => "failed".to_string(),
                (value, _) => cell(value.map(|v| v.median)),
            };
            vec![
                row.spec.label.to_string(),
                unit.name().to_string(),
                abide_median,
                cell(row.abide.and_then(|v| v.p99)),
                cell(row.linux.map(|v| v.median)),
                cell(row.linux.and_then(|v| v.p99)),
                row.ratio().map_or_else(|| "-".into(), format_ratio),
            ]
        })
        .collect();
    markdown_table(&header, &rows)
}

/// `0.42`, `3.10`, `12.5`, `250`.
pub fn format_ratio(ratio: f64) -> String {
    if ratio >= 100.0 {
        format!("{ratio:.0}")
    } else if ratio >= 10.0 {
        format!("{ratio:.1}")
    } else {
        format!("{ratio:.2}")
    }
}

/// Everything `abide bench` prints: caption, comparison, legend and each
/// system's benchmarks (medians over the runs).
pub fn render_markdown(outcome: &super::Outcome) -> String {
    let abide = combine(&outcome.abide.runs);
    let linux = combine(&outcome.linux.runs);
    let mut out = caption(&outcome.machine, abide.tsc_hz);
    out.push_str("\n\n");
    out.push_str(&render_comparison_notes(&outcome.comparison));
    for (name, report) in [("Abide", &abide), ("Linux", &linux)] {
        let _ = write!(out, "\n{name}, every benchmark:\n\n");
        out.push_str(&render_table(report));
    }
    out.push_str(&render_unix_table(&outcome.abide));
    if !outcome.system.is_empty() {
        let linux_boot = median(
            outcome
                .linux
                .runs
                .iter()
                .map(|run| run.boot.to_first_line.as_secs_f64())
                .collect(),
        )
        .map(std::time::Duration::from_secs_f64);
        out.push_str("\nThe system (Abide only; Linux's nearest figure beside it):\n\n");
        out.push_str(&super::system::render_markdown(&outcome.system, linux_boot));
    }
    out
}

/// What `abide bench --only unix` prints: caption, the Linux ABI rows, and
/// the Linux peer's program's benchmarks on each system.
pub fn render_unix_markdown(
    machine: &Machine,
    abide: &SystemFigures,
    linux: &SystemFigures,
    comparison: &Comparison,
) -> String {
    let linux_report = combine(&linux.runs);
    let mut out = caption(machine, linux_report.tsc_hz);
    out.push_str("\n\n");
    out.push_str(&render_comparison_notes(comparison));
    out.push_str(&render_unix_table(abide));
    out.push_str("\nLinux, every benchmark:\n\n");
    out.push_str(&render_table(&linux_report));
    out
}

/// The comparison table, its legend, and the rows that failed on Abide.
fn render_comparison_notes(comparison: &Comparison) -> String {
    let mut out = render_comparison(comparison);
    out.push_str(
        "\nMedian and p99: the median over the runs of each run's nearest-rank median \
         and p99. Boot: the median over the runs. Abide ÷ Linux: of the medians; below 1, \
         Abide is faster or smaller. Linux ABI: `tools/linux-bench`, the Linux peer's \
         program, run unmodified on Abide's Unix personality, there with at most 200 \
         iterations (`bench::unix::iterations`); the shell rows run fewer \
         (`abide_benchfmt::linux::slow_iterations`).\n",
    );
    let failed = comparison.failed();
    if !failed.is_empty() {
        out.push_str("\nFailed on Abide (no figure):\n\n");
        for line in failed {
            let _ = writeln!(out, "- {line}");
        }
    }
    out
}

/// The Linux peer's program on Abide, every benchmark (nothing when it did
/// not run).
fn render_unix_table(abide: &SystemFigures) -> String {
    if abide.unix.is_empty() {
        return String::new();
    }
    let reports: Vec<&Report> = abide.unix.iter().collect();
    let mut out = String::from(
        "\nAbide, the Linux peer's program (`tools/linux-bench`) on the Unix personality, \
         every benchmark:\n\n",
    );
    out.push_str(&render_table(&combine_reports(&reports)));
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::bench::Boot;

    fn run(boot_ms: u64, results: &[(&str, u64, u64)]) -> GuestRun {
        GuestRun {
            report: Report {
                tsc_hz: Some(2_000_000_000),
                results: results
                    .iter()
                    .map(|&(name, median, p99)| BenchResult {
                        name: name.into(),
                        summary: Summary {
                            iterations: 100,
                            median,
                            p99,
                        },
                    })
                    .collect(),
                ..Report::default()
            },
            boot: Boot {
                to_first_line: Duration::from_millis(boot_ms + 10),
                to_first_user: Duration::from_millis(boot_ms),
            },
        }
    }

    fn abide_runs() -> SystemFigures {
        let all = |m: u64| -> Vec<(&str, u64, u64)> {
            names::NAMES.iter().map(|&n| (n, m, 2 * m)).collect()
        };
        let unix = |m: u64| -> Report {
            let all: Vec<(&str, u64, u64)> = linux::NAMES.iter().map(|&n| (n, m, 3 * m)).collect();
            run(0, &all).report
        };
        SystemFigures {
            runs: vec![run(100, &all(10)), run(300, &all(30)), run(200, &all(20))],
            memory: Some(Memory {
                in_use_kib: 7_000,
                not_free_kib: 9_000,
            }),
            image_bytes: Some(2 * 1024 * 1024),
            unix: vec![unix(60), unix(80), unix(70)],
        }
    }

    fn linux_runs() -> SystemFigures {
        let all: Vec<(&str, u64, u64)> = linux::NAMES.iter().map(|&n| (n, 40, 50)).collect();
        SystemFigures {
            runs: vec![run(1_000, &all), run(1_200, &all), run(1_100, &all)],
            memory: Some(Memory {
                in_use_kib: 14_000,
                not_free_kib: 30_000,
            }),
            image_bytes: Some(16 * 1024 * 1024),
            unix: Vec::new(),
        }
    }

    #[test]
    fn medians_are_nearest_rank() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![5.0]), Some(5.0));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn every_row_is_filled_from_both_systems() {
        let comparison = Comparison::new(&abide_runs(), &linux_runs());
        assert_eq!(comparison.rows.len(), ROWS.len());
        assert_eq!(comparison.missing(), Vec::<String>::new());
        let row = |label: &str| {
            comparison
                .rows
                .iter()
                .find(|r| r.spec.short == label)
                .unwrap()
        };
        let boot = row("boot to first instruction");
        assert_eq!(boot.abide.unwrap().median, 200.0);
        assert_eq!(boot.linux.unwrap().median, 1_100.0);
        assert_eq!(boot.abide.unwrap().p99, None);
        let syscall = row("null system call");
        assert_eq!(
            syscall.abide,
            Some(Value {
                median: 20.0,
                p99: Some(40.0)
            })
        );
        assert_eq!(syscall.ratio(), Some(0.5));
        assert_eq!(row("memory in use").ratio(), Some(0.5));
        assert_eq!(row("image size").abide.unwrap().median, 2048.0);
    }

    #[test]
    fn the_linux_abi_rows_pair_the_same_program_on_both() {
        let comparison = Comparison::new(&abide_runs(), &linux_runs());
        let unix: Vec<&Row> = comparison
            .rows
            .iter()
            .filter(|row| is_unix(row.spec))
            .collect();
        let shorts: Vec<&str> = unix.iter().map(|row| row.spec.short).collect();
        assert_eq!(
            shorts,
            [
                "Linux ABI: getppid",
                "Linux ABI: pipe round trip",
                "Linux ABI: futex round trip",
                "Linux ABI: fork+exec+wait",
                "Linux ABI: posix_spawn",
                "Linux ABI: shell loop 1000",
                "Linux ABI: 100 × busybox true",
            ]
        );
        for row in unix {
            assert_eq!(
                row.abide,
                Some(Value {
                    median: 70.0,
                    p99: Some(210.0)
                }),
                "{row:?}"
            );
            assert_eq!(row.ratio(), Some(1.75));
            assert_eq!(row.abide_failure, None);
        }
        let only = Comparison::new(&abide_runs(), &linux_runs()).retain(is_unix);
        assert_eq!(only.rows.len(), 7);
        assert!(only.missing().is_empty() && only.failed().is_empty());
    }

    #[test]
    fn a_benchmark_that_failed_on_abide_is_recorded_not_missing() {
        let mut abide = abide_runs();
        abide.unix[1]
            .results
            .retain(|r| r.name != linux::FORK_EXEC && r.name != linux::GETPPID);
        abide.unix[1]
            .failures
            .push((linux::FORK_EXEC.into(), "fork:errno12".into()));
        let comparison = Comparison::new(&abide, &linux_runs());
        // getppid: absent from one run with no failure line: missing.
        assert_eq!(
            comparison.missing(),
            ["Linux ABI: getppid (the same static binary on both) (Abide)"]
        );
        assert_eq!(
            comparison.failed(),
            ["Linux ABI: fork+exec+wait busybox true: fork:errno12"]
        );
        let table = render_comparison_notes(&comparison);
        let fork = table
            .lines()
            .find(|l| l.starts_with("| Linux ABI: fork+exec+wait"))
            .unwrap();
        let cells: Vec<&str> = fork.split('|').map(str::trim).collect();
        assert_eq!(cells[3..8], ["failed", "-", "40", "50", "-"], "{fork}");
        assert!(
            table.ends_with(
                "\nFailed on Abide (no figure):\n\n\
                 - Linux ABI: fork+exec+wait busybox true: fork:errno12\n"
            ),
            "{table}"
        );
        // The per-benchmark table of the program on Abide names it too.
        let unix = render_unix_table(&abide);
        assert!(
            unix.ends_with("\nFailed: `fork-exec` (fork:errno12).\n"),
            "{unix}"
        );
        assert!(render_unix_table(&linux_runs()).is_empty());
    }

    #[test]
    fn missing_figures_are_named() {
        let mut linux = linux_runs();
        linux.memory = None;
        linux.runs[1]
            .report
            .results
            .retain(|r| r.name != linux::FORK_EXEC);
        let comparison = Comparison::new(&abide_runs(), &linux);
        assert_eq!(
            comparison.missing(),
            [
                "spawn to exit seen (Linux `fork` + `execve` + `waitpid`) (Linux)",
                "Linux ABI: fork+exec+wait busybox true (Linux)",
                "memory in use after boot (Abide usable − free; Linux MemTotal − MemAvailable) (Linux)",
                "memory not free after boot (guest RAM − free) (Linux)",
            ]
        );
        let no_runs = Comparison::new(&SystemFigures::default(), &linux_runs());
        assert_eq!(no_runs.missing().len(), ROWS.len());
    }

    #[test]
    fn the_table_shows_units_medians_and_ratios() {
        let table = render_comparison(&Comparison::new(&abide_runs(), &linux_runs()));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + ROWS.len());
        assert!(lines[0].starts_with("| figure "));
        assert!(lines[0].ends_with("| Abide ÷ Linux |"));
        let boot = lines[2].split('|').map(str::trim).collect::<Vec<_>>();
        assert_eq!(
            boot,
            [
                "",
                "boot: QEMU start to first user instruction",
                "ms",
                "200.0",
                "-",
                "1100.0",
                "-",
                "0.18",
                ""
            ]
        );
        // Every line is as wide as the header (aligned), counted in characters.
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width), "{table}");
    }

    #[test]
    fn ratios_keep_two_or_three_digits() {
        assert_eq!(format_ratio(0.4242), "0.42");
        assert_eq!(format_ratio(3.1), "3.10");
        assert_eq!(format_ratio(12.54), "12.5");
        assert_eq!(format_ratio(250.4), "250");
    }

    #[test]
    fn runs_combine_into_medians() {
        let combined = combine(&abide_runs().runs);
        assert_eq!(combined.results.len(), names::NAMES.len());
        let summary = combined.get(names::NULL_SYSCALL).unwrap().summary;
        assert_eq!(
            (summary.iterations, summary.median, summary.p99),
            (100, 20, 40)
        );
        assert_eq!(combined.tsc_hz, Some(2_000_000_000));
        assert_eq!(combine(&[]), Report::default());
        let failing = |reason: &str| Report {
            failures: vec![(linux::FORK_EXEC.into(), reason.into())],
            ..Report::default()
        };
        let (first, second) = (failing("first"), failing("second"));
        assert_eq!(
            combine_reports(&[&first, &second]).failures,
            [(linux::FORK_EXEC.to_string(), "first".to_string())]
        );
    }

    #[test]
    fn the_caption_names_the_machine() {
        let machine = Machine {
            qemu_version: "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)".into(),
            accel: Accel::Tcg,
            cpu: "max".into(),
            memory_mib: 256,
            runs: 5,
            iterations: 10_000,
            linux_packages: "linux-image-6.1.0-56-cloud-amd64 6.1.192-2, busybox-static 1:1.35.0-4"
                .into(),
        };
        assert_eq!(
            caption(&machine, Some(2_100_000_000)),
            "QEMU 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3), `-accel tcg`, `-cpu max`, q35, \
             1 vCPU, 256 MiB. Linux: linux-image-6.1.0-56-cloud-amd64 6.1.192-2, busybox-static 1:1.35.0-4. \
             5 runs of each system, alternating; 10000 iterations per benchmark and run. TSC 2100.0 MHz."
        );
        let once = Machine { runs: 1, ..machine };
        assert!(caption(&once, None).contains("1 run of each system"));
    }
}
