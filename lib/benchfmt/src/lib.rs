//! The benchmark report: the lines the benchmark program prints on the
//! console and `cargo run -- bench` reads, and the statistics they carry.
//!
//! Every line is one [`Record`]: the prefix [`LINE_PREFIX`], a kind, then
//! space-separated `key=value` fields whose values never contain spaces:
//!
//! ```text
//! bench: start entry=81234567 now=81240011
//! bench: value name=memory-available-kib value=230112
//! bench: tsc hz=2995200000
//! bench: result name=null-syscall iterations=10000 median=812 p99=1204
//! bench: failed name=context-switch reason=port_wait:BadHandle
//! bench: done
//! ```
//!
//! Times are TSC cycles. A parser ignores fields it does not know, so fields
//! can be added without breaking older readers; a kind it does not know is an
//! error. The median and p99 are nearest-rank percentiles ([`percentile`]) of
//! the per-iteration samples, so every reader and every system measured
//! computes them the same way: Abide's suite (`user/bench/bench`) and the
//! Linux guest's (`tools/linux-bench`, names in [`linux`]) print the same
//! lines, and `cargo run -- bench` compares them.
//!
//! The format is a contract between programs and the host tool, not the
//! kernel's: it lives here, apart from `abide-abi`, and is `no_std` so the
//! benchmark programs link it.

#![cfg_attr(not(test), no_std)]

use core::fmt;

/// Every benchmark line starts with this.
pub const LINE_PREFIX: &str = "bench: ";

/// The bundle program that runs the suite (`init=bench`).
pub const PROGRAM: &str = "bench";
/// The same suite with [`QUICK_ITERATIONS`] (`cargo run -- bench --quick`,
/// and the system tests).
pub const QUICK_PROGRAM: &str = "bench-quick";

/// Iterations per benchmark in a real run.
pub const ITERATIONS: u32 = 10_000;
/// Iterations per benchmark in a quick run: enough for every line, fast
/// under emulation, too few for figures to rely on.
pub const QUICK_ITERATIONS: u32 = 200;

/// The warm-up rounds before `iterations` measured ones: 1% of them, at
/// least one. Their samples are dropped (cold caches and TLBs, first page
/// touches).
pub const fn warmup(iterations: u32) -> u32 {
    let rounds = iterations / 100;
    if rounds == 0 {
        1
    } else {
        rounds
    }
}

/// Reading the TSC twice with nothing in between: the floor of every figure.
pub const TSC_READ: &str = "tsc-read";
/// The cheapest system call (`clock`), timed one call at a time.
pub const NULL_SYSCALL: &str = "null-syscall";
/// An 8-byte message to another process and its echo back.
pub const CHANNEL_ROUND_TRIP: &str = "channel-round-trip";
/// One switch between two processes that alternate with `yield`.
pub const CONTEXT_SWITCH: &str = "context-switch";
/// The `process_spawn` call alone.
pub const PROCESS_SPAWN_CALL: &str = "process-spawn-call";
/// From `process_spawn` until the parent learns that the child (which exits
/// at once) has ended.
pub const PROCESS_SPAWN: &str = "process-spawn";
/// Filling 1 MiB of shared memory, handing it to another process, which
/// reads all of it and answers.
pub const SHARED_MEMORY_1MIB: &str = "shared-memory-1mib";

pub mod persist;

/// The system figures (`system/bench.conf`, `user/bench/bench-restart`):
/// the configuration booted, and the `value` lines it prints on the
/// console, in nanoseconds, over [`RESTART_CRASHES`] crashes of the log
/// service: from the crash until the replacement answered a request.
pub mod system {
    /// The configuration: `config=bench`.
    pub const CONFIG: &str = "bench";
    /// How often the service is crashed.
    pub const RESTART_CRASHES: u32 = 100;
    /// The median, ns.
    pub const RESTART_MEDIAN_NS: &str = "restart-to-first-request-median-ns";
    /// The 99th percentile, ns.
    pub const RESTART_P99_NS: &str = "restart-to-first-request-p99-ns";
}

/// `value` lines each program prints once, before its benchmarks: the
/// memory its system holds right after boot, in KiB. Abide's come from the
/// `memory_stats` call: the usable physical memory and what of it is free.
pub const MEMORY_USABLE_KIB: &str = "memory-usable-kib";
/// Free memory, KiB (on Linux `MemFree` from `/proc/meminfo`).
pub const MEMORY_FREE_KIB: &str = "memory-free-kib";

/// Every benchmark, in the order the program runs them.
pub const NAMES: &[&str] = &[
    TSC_READ,
    NULL_SYSCALL,
    CHANNEL_ROUND_TRIP,
    CONTEXT_SWITCH,
    PROCESS_SPAWN_CALL,
    PROCESS_SPAWN,
    SHARED_MEMORY_1MIB,
];

/// The benchmarks of the Linux guest (`tools/linux-bench`), which `cargo run
/// -- bench` compares with Abide's. [`TSC_READ`](super::TSC_READ) and
/// [`CONTEXT_SWITCH`](super::CONTEXT_SWITCH) are measured the same way on
/// both and keep their names.
pub mod linux {
    use super::{CONTEXT_SWITCH, TSC_READ};

    /// `getppid` through a raw `syscall` instruction.
    pub const GETPPID: &str = "getppid";
    /// 8 bytes through a pipe to a forked child that writes them back
    /// through another pipe.
    pub const PIPE_ROUND_TRIP: &str = "pipe-round-trip";
    /// Two threads handing a futex word back and forth: set, wake, wait.
    pub const FUTEX_ROUND_TRIP: &str = "futex-round-trip";
    /// The `posix_spawn` call alone (it returns once the child has `exec`ed).
    pub const POSIX_SPAWN_CALL: &str = "posix-spawn-call";
    /// From `posix_spawn` of a static binary that exits at once until
    /// `waitpid` returns.
    pub const POSIX_SPAWN: &str = "posix-spawn";
    /// From `fork` (the child `execve`s the same binary) until `waitpid`
    /// returns.
    pub const FORK_EXEC: &str = "fork-exec";
    /// From `posix_spawn` of `busybox sh -c` [`SHELL_LOOP_SCRIPT`] until
    /// `waitpid` returns: the shell's start and a loop of 1000 rounds.
    pub const SHELL_LOOP: &str = "shell-loop-1000";
    /// From `posix_spawn` of `busybox sh -c` [`TRUE_100_SCRIPT`] until
    /// `waitpid` returns: the shell's start and 100 `busybox true`.
    pub const TRUE_100: &str = "busybox-true-100";

    /// The shell loop's script.
    pub const SHELL_LOOP_SCRIPT: &str = "i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done";
    /// The script that starts `busybox true` 100 times, one after another
    /// (a path, so the shell forks and execs it rather than run its
    /// built-in `true`).
    pub const TRUE_100_SCRIPT: &str =
        "i=0; while [ $i -lt 100 ]; do /bin/busybox true; i=$((i+1)); done";
    /// The shell benchmarks each take about as long as 100 to 1000 of the
    /// others' iterations: they run `iterations / SLOW_DIVISOR` measured
    /// rounds, at least [`SLOW_MIN_ITERATIONS`].
    pub const SLOW_DIVISOR: u32 = 1000;
    /// The fewest measured rounds of a shell benchmark.
    pub const SLOW_MIN_ITERATIONS: u32 = 3;

    /// The measured rounds of a shell benchmark for a run of `iterations`.
    pub const fn slow_iterations(iterations: u32) -> u32 {
        let rounds = iterations / SLOW_DIVISOR;
        if rounds < SLOW_MIN_ITERATIONS {
            SLOW_MIN_ITERATIONS
        } else {
            rounds
        }
    }

    /// Every benchmark, in the order the program runs them.
    pub const NAMES: &[&str] = &[
        TSC_READ,
        GETPPID,
        PIPE_ROUND_TRIP,
        FUTEX_ROUND_TRIP,
        CONTEXT_SWITCH,
        POSIX_SPAWN_CALL,
        POSIX_SPAWN,
        FORK_EXEC,
        SHELL_LOOP,
        TRUE_100,
    ];

    /// `value` lines from `/proc/meminfo` right after boot, in KiB.
    pub const MEMORY_TOTAL_KIB: &str = "memory-total-kib";
    /// `MemFree`, KiB.
    pub use super::MEMORY_FREE_KIB;
    /// `MemAvailable`, KiB.
    pub const MEMORY_AVAILABLE_KIB: &str = "memory-available-kib";

    /// The program's path in the initramfs: the kernel runs it as PID 1.
    pub const INIT_PATH: &str = "/init";
    /// The static binary the spawn benchmarks start (Debian's
    /// `busybox-static`), with [`SPAWN_ARGV`]: it exits 0 at once.
    pub const SPAWN_PATH: &str = "/bin/busybox";
    /// The arguments the spawn benchmarks pass: busybox's `true` applet.
    pub const SPAWN_ARGV: [&str; 2] = ["busybox", "true"];
}

/// The statistics of one benchmark, in TSC cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// How many samples were measured.
    pub iterations: u64,
    /// The 50th percentile.
    pub median: u64,
    /// The 99th percentile.
    pub p99: u64,
}

impl Summary {
    /// Sorts `samples` and summarizes them; `None` when there are none.
    pub fn of(samples: &mut [u64]) -> Option<Summary> {
        samples.sort_unstable();
        Some(Summary {
            iterations: samples.len() as u64,
            median: percentile(samples, 50)?,
            p99: percentile(samples, 99)?,
        })
    }
}

/// The nearest-rank `percent`-th percentile of `sorted` (ascending): the
/// smallest sample with at least `percent`% of the samples at or below it,
/// i.e. `sorted[ceil(percent * n / 100) - 1]`. `None` when `sorted` is empty
/// or `percent` is not in `1..=100`.
pub fn percentile(sorted: &[u64], percent: u32) -> Option<u64> {
    if !(1..=100).contains(&percent) {
        return None;
    }
    let rank = (sorted.len() as u64 * u64::from(percent)).div_ceil(100);
    let index = usize::try_from(rank).ok()?.checked_sub(1)?;
    sorted.get(index).copied()
}

/// One line of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// `start entry=<tsc> now=<tsc>`: the program's first line. `entry` is
    /// the TSC read first thing when the program started, `now` right before
    /// this line was written; the host subtracts the difference from the
    /// time the line reached it to find when the program started.
    Start { entry: u64, now: u64 },
    /// `value name=<name> value=<n>`: a single figure (the unit is part of
    /// the name, e.g. `memory-free-kib`).
    Value { name: &'a str, value: u64 },
    /// `tsc hz=<n>`: the TSC rate the program measured against the kernel's
    /// clock, in ticks per second.
    Tsc { hz: u64 },
    /// `result name=<name> iterations=<n> median=<cycles> p99=<cycles>`.
    Result { name: &'a str, summary: Summary },
    /// `failed name=<name> reason=<word>`: the benchmark could not run.
    Failed { name: &'a str, reason: &'a str },
    /// `done`: the program has finished (its last line).
    Done,
}

/// Why a benchmark line could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// The kind after the prefix is not one this reader knows.
    UnknownKind,
    /// A required field is absent.
    MissingField(&'static str),
    /// A number field does not hold a decimal `u64`.
    BadNumber(&'static str),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RecordError::UnknownKind => f.write_str("unknown kind of benchmark line"),
            RecordError::MissingField(key) => write!(f, "no {key}= field"),
            RecordError::BadNumber(key) => write!(f, "{key}= is not a number"),
        }
    }
}

impl Record<'_> {
    /// Reads one console line (surrounding whitespace, such as a `\r`, and
    /// the kernel's tag of the writing process are ignored). `Ok(None)`
    /// when the line is not a benchmark line.
    pub fn parse(line: &str) -> Result<Option<Record<'_>>, RecordError> {
        // The benchmark program's lines carry the kernel's process tag.
        let line = abide_abi::host::untagged(line.trim_start());
        let Some(rest) = line.trim().strip_prefix(LINE_PREFIX.trim_end()) else {
            return Ok(None);
        };
        // The prefix must be followed by a space (or end the line), so that
        // `bench:x` is not taken for a record.
        if !rest.is_empty() && !rest.starts_with(' ') {
            return Ok(None);
        }
        let mut words = rest.split_whitespace();
        let kind = words.next().unwrap_or("");
        let fields = Fields(rest);
        let record = match kind {
            "start" => Record::Start {
                entry: fields.number("entry")?,
                now: fields.number("now")?,
            },
            "value" => Record::Value {
                name: fields.text("name")?,
                value: fields.number("value")?,
            },
            "tsc" => Record::Tsc {
                hz: fields.number("hz")?,
            },
            "result" => Record::Result {
                name: fields.text("name")?,
                summary: Summary {
                    iterations: fields.number("iterations")?,
                    median: fields.number("median")?,
                    p99: fields.number("p99")?,
                },
            },
            "failed" => Record::Failed {
                name: fields.text("name")?,
                reason: fields.text("reason")?,
            },
            "done" => Record::Done,
            _ => return Err(RecordError::UnknownKind),
        };
        Ok(Some(record))
    }
}

/// The `key=value` words of a line.
struct Fields<'a>(&'a str);

impl<'a> Fields<'a> {
    fn text(&self, key: &'static str) -> Result<&'a str, RecordError> {
        self.0
            .split_whitespace()
            .filter_map(|word| word.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value)
            .ok_or(RecordError::MissingField(key))
    }

    fn number(&self, key: &'static str) -> Result<u64, RecordError> {
        self.text(key)?
            .parse()
            .map_err(|_| RecordError::BadNumber(key))
    }
}

/// Writes the line, prefix included, without the newline. Names and reasons
/// must not contain whitespace.
impl fmt::Display for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(LINE_PREFIX)?;
        match self {
            Record::Start { entry, now } => write!(f, "start entry={entry} now={now}"),
            Record::Value { name, value } => write!(f, "value name={name} value={value}"),
            Record::Tsc { hz } => write!(f, "tsc hz={hz}"),
            Record::Result { name, summary } => write!(
                f,
                "result name={name} iterations={} median={} p99={}",
                summary.iterations, summary.median, summary.p99
            ),
            Record::Failed { name, reason } => write!(f, "failed name={name} reason={reason}"),
            Record::Done => f.write_str("done"),
        }
    }
}
