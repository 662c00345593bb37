//! `abide bench`: Abide and a Linux guest side by side in the same QEMU.
//!
//! Each system runs a benchmark program as its first user program and
//! prints the lines `abide_benchfmt` defines: Abide boots with
//! `init=bench log=warn` (the suite in `user/bench/bench`), Linux with
//! `tools/linux-bench` as `/init` of an initramfs ([`linux`]). Both boot in
//! the virtual machine [`BenchOptions::machine`] describes, the same for
//! both but for what is booted. [`run_guest`] boots one, passes each report
//! line to a callback as it arrives, reads the whole report with
//! [`parse_report`] and times the boot from the arrival of the program's
//! first line ([`Boot`]). [`run_comparison`] runs both, in alternation, as
//! many times as asked, takes the memory after boot from each system's first
//! run, adds the image sizes and gives a [`compare::Comparison`].
//!
//! Modules: [`crate::debian`] fetches Linux, [`initramfs`] packs the guest's files,
//! [`linux`] builds and boots the peer, [`compare`] pairs the figures and
//! renders the table, [`chart`] draws it as SVG, [`docs`] records it in
//! docs/perf.md. [`system`] and [`persist`] measure Abide alone: the boot
//! to the shell and a restart; checkpoints, restores after a power cut and
//! QEMU's `savevm` beside them.

pub mod chart;
pub mod compare;
pub mod docs;
pub mod initramfs;
pub mod linux;
pub mod persist;
pub mod system;
pub mod unix;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use abide_abi::host::{cmdline, exit_status_meaning, GuestOutcome};
use abide_benchfmt::{self as format, Record, Summary, LINE_PREFIX};

use crate::qemu::{Accel, Console, Medium, QemuConfig};
use crate::session::Session;
use crate::{build, prereqs};

use compare::{Comparison, Machine, Memory, SystemFigures};

/// How to run the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    pub accel: Accel,
    pub memory_mib: u32,
    /// [`format::QUICK_ITERATIONS`] instead of [`format::ITERATIONS`]: checks
    /// that everything works; the figures are rough.
    pub quick: bool,
    /// Runs of each system (they alternate).
    pub runs: u32,
    /// Give up on one boot (and kill QEMU) after this long.
    pub timeout: Duration,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            accel: Accel::Tcg,
            memory_mib: 256,
            quick: false,
            runs: 5,
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl BenchOptions {
    /// The defaults of `--quick`: one run of each, few iterations.
    pub fn quick() -> Self {
        BenchOptions {
            quick: true,
            runs: 1,
            ..BenchOptions::default()
        }
    }

    /// Iterations per benchmark.
    pub fn iterations(&self) -> u32 {
        if self.quick {
            format::QUICK_ITERATIONS
        } else {
            format::ITERATIONS
        }
    }

    /// The bundle program that runs Abide's suite.
    pub fn abide_program(&self) -> &'static str {
        if self.quick {
            format::QUICK_PROGRAM
        } else {
            format::PROGRAM
        }
    }

    /// Abide's command line: `init=<program> log=warn`. The kernel logs
    /// every process it starts at `info`, on the serial console, inside the
    /// timed part of the spawn benchmarks; `warn` keeps that out.
    pub fn abide_cmdline(&self) -> String {
        format!(
            "{}={} {}=warn",
            cmdline::INIT,
            self.abide_program(),
            cmdline::LOG
        )
    }

    /// The virtual machine both systems boot in: only `medium` differs.
    pub fn machine(&self, medium: Medium) -> QemuConfig {
        let mut config = QemuConfig::new(medium, Console::Captured);
        config.accel = self.accel;
        config.memory_mib = self.memory_mib;
        config
    }
}

/// One benchmark's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchResult {
    pub name: String,
    /// Iterations, median and p99, in TSC cycles.
    pub summary: Summary,
}

/// What one run of a benchmark program reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The `bench: start` line: the TSC when the program started, and
    /// right before it printed that line.
    pub start: Option<(u64, u64)>,
    /// TSC ticks per second, as the guest measured them against its clock;
    /// `None` if it could not.
    pub tsc_hz: Option<u64>,
    /// In the order the guest printed them.
    pub results: Vec<BenchResult>,
    /// The `bench: value` lines.
    pub values: Vec<(String, u64)>,
    /// The `bench: failed` lines: name and reason.
    pub failures: Vec<(String, String)>,
}

impl Report {
    /// The result of benchmark `name`.
    pub fn get(&self, name: &str) -> Option<&BenchResult> {
        self.results.iter().find(|result| result.name == name)
    }

    /// Why benchmark `name` failed, if it did.
    pub fn failure(&self, name: &str) -> Option<&str> {
        self.failures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, reason)| reason.as_str())
    }

    /// The value called `name`.
    pub fn value(&self, name: &str) -> Option<u64> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, value)| value)
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
/// benchmark reported a failure, one of `expected` has no result, or the
/// final `bench: done` line is missing. Results for other names are kept:
/// the guest may be newer.
pub fn parse_report(output: &str, expected: &[&str]) -> Result<Report, String> {
    let (report, done) = read_report(output)?;
    if !report.failures.is_empty() {
        let failures: Vec<String> = report
            .failures
            .iter()
            .map(|(name, reason)| format!("{name} ({reason})"))
            .collect();
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
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|name| report.get(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!("no result for {}", missing.join(", ")));
    }
    Ok(report)
}

/// Reads every record of `output` into a report, failures included, and
/// whether the `bench: done` line came; Err only for a malformed or
/// repeated line (a name that both failed and reported counts as repeated).
pub fn read_report(output: &str) -> Result<(Report, bool), String> {
    let mut report = Report::default();
    let mut done = false;
    for line in output.lines() {
        let record = Record::parse(line)
            .map_err(|e| format!("malformed benchmark line {:?}: {e}", line.trim()))?;
        match record {
            None => {}
            Some(Record::Start { .. }) if report.start.is_some() => {
                return Err("two start lines".into());
            }
            Some(Record::Start { entry, now }) => report.start = Some((entry, now)),
            Some(Record::Value { name, .. }) if report.value(name).is_some() => {
                return Err(format!("two values for {name}"));
            }
            Some(Record::Value { name, value }) => report.values.push((name.to_string(), value)),
            Some(Record::Tsc { hz }) if report.tsc_hz.is_some() => {
                return Err(format!("two TSC rate lines (the second: {hz} Hz)"));
            }
            Some(Record::Tsc { hz }) => report.tsc_hz = Some(hz),
            Some(Record::Result { name, .. } | Record::Failed { name, .. })
                if report.get(name).is_some() || report.failure(name).is_some() =>
            {
                return Err(format!("two results for {name}"));
            }
            Some(Record::Result { name, summary }) => report.results.push(BenchResult {
                name: name.to_string(),
                summary,
            }),
            Some(Record::Failed { name, reason }) => {
                report.failures.push((name.to_string(), reason.to_string()))
            }
            Some(Record::Done) => done = true,
        }
    }
    Ok((report, done))
}

/// How long a guest took to boot, seen from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boot {
    /// From spawning QEMU until the first line of the first user program
    /// (`bench: start`) had reached the host.
    pub to_first_line: Duration,
    /// From spawning QEMU until the program's first instruction:
    /// [`Boot::to_first_line`] less the time the program itself measured,
    /// with the TSC, between its start and that line.
    pub to_first_user: Duration,
}

impl Boot {
    /// The boot times of a run that printed its first line
    /// `first_line_at - started` after QEMU was spawned, `start` being the
    /// TSC values of that line and `tsc_hz` the guest's TSC rate. The TSC
    /// is only used for a difference, so it need not match the host's
    /// (under TCG it counts host cycles since the virtual machine started).
    pub fn from_start_line(first_line: Duration, start: (u64, u64), tsc_hz: u64) -> Boot {
        let (entry, now) = start;
        let nanos =
            u128::from(now.saturating_sub(entry)) * 1_000_000_000 / u128::from(tsc_hz.max(1));
        let in_program = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        Boot {
            to_first_line: first_line,
            to_first_user: first_line.saturating_sub(in_program),
        }
    }
}

/// One boot of one system.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestRun {
    pub report: Report,
    pub boot: Boot,
}

/// Boots `config`, calls `on_line` with each benchmark line as it arrives
/// (they come seconds apart under TCG), and returns the report once the
/// guest has powered off. `expected` are the benchmarks that must report.
/// The error says what went wrong and carries the serial output (its tail,
/// when the report is at fault).
pub fn run_guest(
    config: QemuConfig,
    expected: &[&str],
    timeout: Duration,
    mut on_line: impl FnMut(&str),
) -> Result<GuestRun, String> {
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut session = Session::start(config)?;
    // Byte offset up to which the output has been passed to `on_line`.
    let mut seen = 0;
    let mut done = false;
    // When the first benchmark line had arrived.
    let mut first_line_at = None;
    while !done {
        session
            .expect_next(LINE_PREFIX, left())
            .and_then(|()| session.expect_next("\n", left()))
            .map_err(|e| format!("the benchmark did not finish: {e}"))?;
        let output = session.output();
        let complete = &output[..output.rfind('\n').map_or(0, |end| end + 1)];
        let mut offset = seen;
        for line in complete.get(seen..).unwrap_or("").split_inclusive('\n') {
            offset += line.len();
            if let Ok(Some(record)) = Record::parse(line) {
                if first_line_at.is_none() {
                    // The line has arrived when its newline has.
                    first_line_at = session.arrival(offset - 1);
                }
                on_line(abide_abi::host::untagged(line.trim()));
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
    let with_tail = |e: String| {
        format!(
            "{e}\n--- end of the serial output ---\n{}",
            tail(&output, 60)
        )
    };
    let report = parse_report(&output, expected).map_err(with_tail)?;
    let boot = match (first_line_at, report.start, report.tsc_hz) {
        (Some(at), Some(start), Some(hz)) => {
            Boot::from_start_line(at.duration_since(session.started()), start, hz)
        }
        _ => {
            return Err(with_tail(
                "no boot time: the report lacks its start or TSC line".into(),
            ))
        }
    };
    Ok(GuestRun { report, boot })
}

/// Boots Abide's suite once.
pub fn run_abide(options: &BenchOptions, on_line: impl FnMut(&str)) -> Result<GuestRun, String> {
    let elf = build::build_kernel(build::Image::Full)?;
    let config = options.machine(Medium::Kernel {
        elf,
        cmdline: options.abide_cmdline(),
    });
    run_guest(config, format::NAMES, options.timeout, on_line)
}

/// Boots the Linux peer's suite once.
pub fn run_linux(
    options: &BenchOptions,
    peer: &linux::LinuxPeer,
    on_line: impl FnMut(&str),
) -> Result<GuestRun, String> {
    let config = options.machine(peer.medium(options.iterations()));
    run_guest(config, format::linux::NAMES, options.timeout, on_line)
}

/// Abide's memory in use after boot, from the `memory_stats` values its
/// program reported before its benchmarks.
pub fn abide_memory(options: &BenchOptions, report: &Report) -> Option<Memory> {
    use format::{MEMORY_FREE_KIB, MEMORY_USABLE_KIB};
    let free = report.value(MEMORY_FREE_KIB)?;
    Some(Memory {
        in_use_kib: report.value(MEMORY_USABLE_KIB)?.saturating_sub(free),
        not_free_kib: ram_kib(options).saturating_sub(free),
    })
}

/// Linux's memory in use after boot, from the `/proc/meminfo` values its
/// program reported.
pub fn linux_memory(options: &BenchOptions, report: &Report) -> Option<Memory> {
    use format::linux::{MEMORY_AVAILABLE_KIB, MEMORY_FREE_KIB, MEMORY_TOTAL_KIB};
    let total = report.value(MEMORY_TOTAL_KIB)?;
    Some(Memory {
        in_use_kib: total.saturating_sub(report.value(MEMORY_AVAILABLE_KIB)?),
        not_free_kib: ram_kib(options).saturating_sub(report.value(MEMORY_FREE_KIB)?),
    })
}

fn ram_kib(options: &BenchOptions) -> u64 {
    u64::from(options.memory_mib) * 1024
}

/// What [`run_comparison`] measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub machine: Machine,
    pub abide: SystemFigures,
    pub linux: SystemFigures,
    pub comparison: Comparison,
    /// Abide's system figures ([`system`]), one per run.
    pub system: Vec<system::SystemRun>,
    /// The persistence figures ([`persist`]).
    pub persist: persist::PersistFigures,
}

/// Which parts of Abide's side a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbideParts {
    /// Abide's own suite (`init=bench`).
    pub suite: bool,
    /// The Linux peer's program on the Unix personality ([`unix`]).
    pub unix: bool,
}

/// Both systems, ready to run: the Linux peer built, the caption's
/// machine, and each system's figures without runs yet.
struct Prepared {
    peer: linux::LinuxPeer,
    machine: Machine,
    abide: SystemFigures,
    linux: SystemFigures,
}

/// Builds both systems and fills in what is measured once.
fn prepare(options: &BenchOptions) -> Result<Prepared, String> {
    prereqs::check(prereqs::RUN_TOOLS)?;
    let peer = linux::prepare()?;
    let elf = build::build_kernel(build::Image::Full)?;
    let machine = Machine {
        qemu_version: prereqs::qemu_version()?,
        accel: options.accel,
        cpu: options
            .machine(Medium::Kernel {
                elf: elf.clone(),
                cmdline: String::new(),
            })
            .cpu()
            .to_string(),
        memory_mib: options.memory_mib,
        runs: options.runs,
        iterations: options.iterations(),
        linux_packages: format!(
            "{} {}, {} {}",
            peer.kernel.package, peer.kernel.version, peer.busybox.package, peer.busybox.version
        ),
    };
    // The suite runs in the full image (it is a benchmark program); the
    // size is the shipped image's, what a user boots.
    let shipped = build::build_kernel(build::Image::System)?;
    let abide = SystemFigures {
        image_bytes: Some(
            std::fs::metadata(&shipped)
                .map_err(|e| format!("{}: {e}", shipped.display()))?
                .len(),
        ),
        ..SystemFigures::default()
    };
    let linux = SystemFigures {
        image_bytes: Some(peer.image_bytes()?),
        ..SystemFigures::default()
    };
    Ok(Prepared {
        peer,
        machine,
        abide,
        linux,
    })
}

/// Runs each system `options.runs` times, alternating (Abide first in even
/// runs, Linux first in odd ones, so a drift of the host's speed hits both
/// alike); Abide's turn is the `parts` asked for.
fn run_alternating(
    options: &BenchOptions,
    prepared: &mut Prepared,
    parts: AbideParts,
    progress: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let Prepared {
        peer, abide, linux, ..
    } = prepared;
    for run in 0..options.runs {
        let order = if run % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_abide in order {
            let name = if is_abide { "abide" } else { "linux" };
            let at = |e: String| format!("{name}, run {}: {e}", run + 1);
            progress(&format!("{name}: run {} of {}", run + 1, options.runs));
            let mut echo = |line: &str| progress(&format!("{name}:   {line}"));
            if !is_abide {
                let result = run_linux(options, peer, &mut echo).map_err(at)?;
                if linux.memory.is_none() {
                    linux.memory = linux_memory(options, &result.report);
                }
                linux.runs.push(result);
                continue;
            }
            if parts.suite {
                let result = run_abide(options, &mut echo).map_err(at)?;
                if abide.memory.is_none() {
                    abide.memory = abide_memory(options, &result.report);
                }
                abide.runs.push(result);
            }
            if parts.unix {
                echo(&format!(
                    "the Linux peer's program on the Unix personality: {}",
                    unix::command(unix::iterations(options), &[])
                ));
                let report = unix::run_abide(options, &peer.program, &mut echo).map_err(at)?;
                abide.unix.push(report);
            }
        }
    }
    Ok(())
}

/// Prepares both systems ([`prepare`]) and runs them ([`run_alternating`]):
/// the caption's machine, Abide's figures, Linux's.
fn measure_systems(
    options: &BenchOptions,
    parts: AbideParts,
    progress: &mut dyn FnMut(&str),
) -> Result<(Machine, SystemFigures, SystemFigures), String> {
    let mut prepared = prepare(options)?;
    run_alternating(options, &mut prepared, parts, progress)?;
    Ok((prepared.machine, prepared.abide, prepared.linux))
}

/// Prepares both systems and runs each `options.runs` times, alternating
/// ([`run_alternating`]; Abide's turn is its suite, then the Linux peer's
/// program on its Unix personality), then Abide's system and persistence
/// figures. `progress` gets one line per step and every report line,
/// prefixed with the system's name.
pub fn run_comparison(
    options: &BenchOptions,
    mut progress: impl FnMut(&str),
) -> Result<Outcome, String> {
    let parts = AbideParts {
        suite: true,
        unix: true,
    };
    let (machine, abide, linux) = measure_systems(options, parts, &mut progress)?;
    let comparison = Comparison::new(&abide, &linux);
    let system = system::run(options, &mut progress)?;
    let persist = persist::run(options, &mut progress)?;
    Ok(Outcome {
        machine,
        abide,
        linux,
        comparison,
        system,
        persist,
    })
}

/// What [`run_unix_comparison`] measured.
#[derive(Debug, Clone)]
pub struct UnixOutcome {
    pub machine: Machine,
    pub abide: SystemFigures,
    pub linux: SystemFigures,
    /// The Linux ABI rows alone ([`compare::is_unix`]).
    pub comparison: Comparison,
}

/// `abide bench --only unix`: the Linux peer and the same program on
/// Abide's Unix personality, alternating; the Linux ABI rows.
pub fn run_unix_comparison(
    options: &BenchOptions,
    mut progress: impl FnMut(&str),
) -> Result<UnixOutcome, String> {
    let parts = AbideParts {
        suite: false,
        unix: true,
    };
    let (machine, abide, linux) = measure_systems(options, parts, &mut progress)?;
    let comparison = Comparison::new(&abide, &linux).retain(compare::is_unix);
    Ok(UnixOutcome {
        machine,
        abide,
        linux,
        comparison,
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
    let mut out = markdown_table(&header, &rows);
    if !report.failures.is_empty() {
        let failed: Vec<String> = report
            .failures
            .iter()
            .map(|(name, reason)| format!("`{name}` ({reason})"))
            .collect();
        let _ = writeln!(out, "\nFailed: {}.", failed.join(", "));
    }
    out
}

/// A Markdown table with columns padded to their widest cell; the first
/// column is left-aligned, the others (numbers) right-aligned.
pub(crate) fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let width = |text: &str| text.chars().count();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| width(cell))
                .chain([width(header[column]), 3])
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
        out.push_str("bench: start entry=1000 now=3000\n");
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
        let report = parse_report(&sample_output(), format::NAMES).unwrap();
        assert_eq!(report.start, Some((1000, 3000)));
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
        assert!(report.values.is_empty());
    }

    #[test]
    fn values_are_kept_once() {
        let with_values = sample_output().replace(
            "bench: done",
            "bench: value name=memory-free-kib value=5\nbench: done",
        );
        let report = parse_report(&with_values, format::NAMES).unwrap();
        assert_eq!(report.value("memory-free-kib"), Some(5));
        assert_eq!(report.value("other"), None);
        let twice = with_values.replace(
            "bench: done",
            "bench: value name=memory-free-kib value=6\nbench: done",
        );
        assert_eq!(
            parse_report(&twice, format::NAMES).unwrap_err(),
            "two values for memory-free-kib"
        );
        let two_starts = format!("bench: start entry=1 now=2\n{}", sample_output());
        assert_eq!(
            parse_report(&two_starts, format::NAMES).unwrap_err(),
            "two start lines"
        );
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
        let err = parse_report(&without("name=context-switch"), format::NAMES).unwrap_err();
        assert_eq!(err, "no result for context-switch");
        let err = parse_report(&without("bench: done"), format::NAMES).unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
        // No TSC line: still a report, without nanoseconds.
        let report = parse_report(&without("bench: tsc"), format::NAMES).unwrap();
        assert_eq!(report.tsc_hz, None);
        assert_eq!(report.nanoseconds(100), None);
        // Linux's names are not Abide's.
        let err = parse_report(&full, format::linux::NAMES).unwrap_err();
        assert!(
            err.starts_with("no result for getppid, pipe-round-trip"),
            "{err}"
        );
    }

    #[test]
    fn failures_and_bad_lines_are_errors() {
        let failed = sample_output().replace(
            "bench: result name=process-spawn ",
            "bench: failed name=process-spawn reason=process_spawn:NoMemory x=",
        );
        let err = parse_report(&failed, format::NAMES).unwrap_err();
        assert_eq!(
            err,
            "benchmarks failed in the guest: process-spawn (process_spawn:NoMemory)"
        );
        let bad = sample_output().replace("median=200 ", "median=lots ");
        let err = parse_report(&bad, format::NAMES).unwrap_err();
        assert!(err.starts_with("malformed benchmark line \"bench: result name=null-syscall"));
        assert!(err.ends_with("median= is not a number"), "{err}");
        let twice = format!("{}bench: tsc hz=1\n", sample_output());
        assert_eq!(
            parse_report(&twice, format::NAMES).unwrap_err(),
            "two TSC rate lines (the second: 1 Hz)"
        );
        assert_eq!(
            parse_report("", format::NAMES).unwrap_err(),
            "the benchmark program did not finish (no `bench: done` line)"
        );
    }

    #[test]
    fn read_report_keeps_failures_and_says_whether_it_finished() {
        let failed = sample_output().replace(
            "bench: result name=process-spawn ",
            "bench: failed name=process-spawn reason=hung:no-report-in-900s x=",
        );
        let (report, done) = read_report(&failed).unwrap();
        assert!(done);
        assert_eq!(
            report.failure(format::PROCESS_SPAWN),
            Some("hung:no-report-in-900s")
        );
        assert!(report.get(format::PROCESS_SPAWN).is_none());
        assert_eq!(report.failure(format::NULL_SYSCALL), None);
        let unfinished = sample_output().replace("bench: done\n", "");
        assert!(!read_report(&unfinished).unwrap().1);
        let both =
            format!("{failed}bench: result name=process-spawn iterations=1 median=1 p99=1\n");
        assert_eq!(
            read_report(&both).unwrap_err(),
            "two results for process-spawn"
        );
    }

    #[test]
    fn failures_follow_the_table() {
        let report = Report {
            failures: vec![("context-switch".into(), "child-never-ran".into())],
            ..Report::default()
        };
        assert!(render_table(&report).ends_with("\nFailed: `context-switch` (child-never-ran).\n"));
    }

    #[test]
    fn unknown_benchmarks_are_kept() {
        let newer = sample_output().replace(
            "bench: done",
            "bench: result name=page-fault iterations=5 median=1 p99=2 min=1\nbench: done",
        );
        let report = parse_report(&newer, format::NAMES).unwrap();
        assert_eq!(report.get("page-fault").unwrap().summary.p99, 2);
    }

    #[test]
    fn boot_to_first_instruction_subtracts_the_programs_own_time() {
        // 2 ms in the program at 1 GHz, first line after 300 ms.
        let boot = Boot::from_start_line(
            Duration::from_millis(300),
            (1_000, 2_001_000),
            1_000_000_000,
        );
        assert_eq!(boot.to_first_line, Duration::from_millis(300));
        assert_eq!(boot.to_first_user, Duration::from_millis(298));
        // A counter that went backwards, or a nonsense rate, cannot make it
        // negative or fail.
        let odd = Boot::from_start_line(Duration::from_millis(5), (10, 1), 0);
        assert_eq!(odd.to_first_user, Duration::from_millis(5));
        let huge = Boot::from_start_line(Duration::from_millis(5), (0, u64::MAX), 1);
        assert_eq!(huge.to_first_user, Duration::ZERO);
    }

    #[test]
    fn abide_memory_comes_from_memory_stats_values() {
        let options = BenchOptions::default();
        let report = Report {
            values: vec![
                ("memory-usable-kib".into(), 260_000),
                ("memory-free-kib".into(), 250_000),
            ],
            ..Report::default()
        };
        assert_eq!(
            abide_memory(&options, &report),
            Some(Memory {
                in_use_kib: 10_000,
                not_free_kib: 262_144 - 250_000
            })
        );
        assert_eq!(abide_memory(&options, &Report::default()), None);
    }

    #[test]
    fn linux_memory_comes_from_meminfo_values() {
        let options = BenchOptions::default();
        let report = Report {
            values: vec![
                ("memory-total-kib".into(), 230_000),
                ("memory-free-kib".into(), 200_000),
                ("memory-available-kib".into(), 210_000),
            ],
            ..Report::default()
        };
        assert_eq!(
            linux_memory(&options, &report),
            Some(Memory {
                in_use_kib: 20_000,
                not_free_kib: 262_144 - 200_000
            })
        );
        assert_eq!(linux_memory(&options, &Report::default()), None);
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
            ..Report::default()
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
    fn options_name_the_program_and_the_machine() {
        let options = BenchOptions::default();
        assert_eq!(options.abide_cmdline(), "init=bench log=warn");
        assert_eq!(options.iterations(), 10_000);
        assert_eq!(options.runs, 5);
        let quick = BenchOptions::quick();
        assert_eq!(quick.abide_cmdline(), "init=bench-quick log=warn");
        assert_eq!(quick.iterations(), 200);
        assert_eq!(quick.runs, 1);
        let machine = BenchOptions {
            accel: Accel::Kvm,
            memory_mib: 512,
            ..quick
        }
        .machine(Medium::Iso("x.iso".into()));
        assert_eq!(machine.accel, Accel::Kvm);
        assert_eq!(machine.memory_mib, 512);
        assert_eq!(machine.console, Console::Captured);
        assert_eq!(machine.cpu(), "host");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }
}
