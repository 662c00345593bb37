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
                .map(|spec| Row {
                    spec,
                    abide: measure(abide, spec.abide),
                    linux: measure(linux, spec.linux),
                })
                .collect(),
        }
    }

    /// The figures that are missing, as `<row> (<system>)`; empty when the
    /// comparison is complete.
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for row in &self.rows {
            for (system, value) in [("Abide", row.abide), ("Linux", row.linux)] {
                if value.is_none() {
                    missing.push(format!("{} ({system})", row.spec.label));
                }
            }
        }
        missing
    }
}

/// A system's figure for `measure`, combined over its runs.
fn measure(figures: &SystemFigures, measure: Measure) -> Option<Value> {
    let kib = |bytes: u64| bytes as f64 / 1024.0;
    let single = |median: f64| Value { median, p99: None };
    let boot = |of: fn(&GuestRun) -> f64| median(figures.runs.iter().map(of).collect()).map(single);
    match measure {
        Measure::BootToFirstUser => boot(|run| run.boot.to_first_user.as_secs_f64() * 1e3),
        Measure::BootToFirstLine => boot(|run| run.boot.to_first_line.as_secs_f64() * 1e3),
        Measure::Bench(name) => {
            let summaries: Vec<Summary> = figures
                .runs
                .iter()
                .map(|run| run.report.get(name).map(|result| result.summary))
                .collect::<Option<_>>()?;
            Some(Value {
                median: median(summaries.iter().map(|s| s.median as f64).collect())?,
                p99: median(summaries.iter().map(|s| s.p99 as f64).collect()),
            })
        }
        Measure::MemoryInUse => figures.memory.map(|m| single(m.in_use_kib as f64)),
        Measure::MemoryNotFree => figures.memory.map(|m| single(m.not_free_kib as f64)),
        Measure::ImageSize => figures.image_bytes.map(|bytes| single(kib(bytes))),
    }
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
    let Some(first) = runs.first() else {
        return Report::default();
    };
    let median_of = |values: Vec<u64>| {
        median(values.into_iter().map(|v| v as f64).collect()).map_or(0, |m| m as u64)
    };
    let results = first
        .report
        .results
        .iter()
        .filter_map(|result| {
            let summaries: Vec<Summary> = runs
                .iter()
                .map(|run| run.report.get(&result.name).map(|r| r.summary))
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
    let rates: Vec<u64> = runs.iter().filter_map(|run| run.report.tsc_hz).collect();
    Report {
        tsc_hz: (!rates.is_empty()).then(|| median_of(rates)),
        results,
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
            vec![
                row.spec.label.to_string(),
                unit.name().to_string(),
                cell(row.abide.map(|v| v.median)),
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
    out.push_str(&render_comparison(&outcome.comparison));
    out.push_str(
        "\nMedian and p99: the median over the runs of each run's nearest-rank median \
         and p99. Boot: the median over the runs. Abide ÷ Linux: of the medians; below 1, \
         Abide is faster or smaller.\n",
    );
    for (name, report) in [("Abide", &abide), ("Linux", &linux)] {
        let _ = write!(out, "\n{name}, every benchmark:\n\n");
        out.push_str(&render_table(report));
    }
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
        SystemFigures {
            runs: vec![run(100, &all(10)), run(300, &all(30)), run(200, &all(20))],
            memory: Some(Memory {
                in_use_kib: 7_000,
                not_free_kib: 9_000,
            }),
            image_bytes: Some(2 * 1024 * 1024),
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
