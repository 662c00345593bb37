//! The persistence figures of `cargo run -- bench`: what checkpointing
//! costs, what a restore after a power cut costs, and QEMU's `savevm` of
//! the same guest beside them (`tools/abide/src/bench/persist.rs`).
//!
//! The host boots `system/bench-persist.conf` (`config=`[`CONFIG`]) once
//! per step, with `bench-persist=<mode>` ([`MODE_KEY`], [`Mode`]) on the
//! kernel command line telling `user/bench/bench-persist` what to do in
//! that boot. The program prints `bench: value` lines (names below) and,
//! last, `bench: done`; the kernel's own line [`RESTORE_LINE`] gives the
//! restore time.

use core::fmt;

/// The configuration: `config=bench-persist`.
pub const CONFIG: &str = "bench-persist";
/// The checkpoint period the configuration sets (`checkpoint_period_ms`):
/// an hour, i.e. none during a boot of the benchmark, which sets its own
/// periods. The program waits until init has applied it, so that init's
/// setting cannot come after (and undo) the program's.
pub const CONFIG_PERIOD_MS: u64 = 3_600_000;
/// The kernel command-line key whose value is the [`Mode`] (the kernel
/// passes it on to programs, so it is declared with the kernel's keys).
pub const MODE_KEY: &str = abide_abi::host::cmdline::BENCH_PERSIST;

/// The dirty sets measured, in MiB.
pub const DIRTY_MIB: [u32; 3] = [1, 16, 64];
/// Checkpoints per dirty set (the figures are their medians).
pub const SNAPSHOTS: u32 = 5;
/// Checkpoints per dirty set with `--quick`.
pub const QUICK_SNAPSHOTS: u32 = 2;

/// The checkpoint periods the workload runs under, in milliseconds; 0 is
/// "on demand only", the baseline without checkpoints.
pub const PERIODS_MS: [u64; 3] = [0, 1000, 100];
/// How long one window of the workload lasts, in milliseconds. A round
/// runs one window per period in the order 0, 1000, 100, 100, 1000, 0, so
/// that a drift of the host's speed hits all three alike. A period starts
/// counting when its window does (and again after each commit): 2.1 s
/// hold two checkpoints of the 1 s period.
pub const WINDOW_MS: u32 = 2100;
/// Rounds of windows.
pub const ROUNDS: u32 = 4;
/// The window with `--quick`: one checkpoint of the 1 s period.
pub const QUICK_WINDOW_MS: u32 = 1100;
/// The rounds with `--quick`.
pub const QUICK_ROUNDS: u32 = 1;

/// `value`: the median stop-the-world pause of the checkpoints, ns.
pub const PAUSE_NS: &str = "checkpoint-pause-ns";
/// `value`: the median write-out (pages, state, flushes, header: from the
/// end of the pause to the commit), ns.
pub const WRITE_NS: &str = "checkpoint-write-ns";
/// `value`: the median of the pages each checkpoint wrote.
pub const PAGES: &str = "checkpoint-pages";
/// `value`: the median time of the `persist_snapshot` call as the program
/// saw it, ns.
pub const CALL_NS: &str = "checkpoint-call-ns";
/// `value`: the generation the last checkpoint committed. The program
/// prints it, then waits for the power cut.
pub const GENERATION: &str = "checkpoint-generation";
/// `value`: after the power cut and the restore, the resumed program
/// prints the generation it resumed from, then `bench: done`, and powers
/// the machine off.
pub const RESUMED: &str = "resumed-generation";
/// `value`: [`Mode::Fill`] has written its memory and waits (for `savevm`).
pub const FILLED_MIB: &str = "filled-mib";
/// `value`s of the workload, after each window, named for its period
/// (one name per entry of [`PERIODS_MS`]): the operations done (an
/// operation computes, sends a message to the peer process and reads its
/// answer).
pub const OPS: [&str; 3] = [
    "workload-ops-on-demand",
    "workload-ops-1000ms",
    "workload-ops-100ms",
];
/// The time the window's operations took, ns.
pub const ELAPSED_NS: [&str; 3] = [
    "workload-ns-on-demand",
    "workload-ns-1000ms",
    "workload-ns-100ms",
];
/// Checkpoints committed during the window.
pub const CHECKPOINTS: [&str; 3] = [
    "workload-checkpoints-on-demand",
    "workload-checkpoints-1000ms",
    "workload-checkpoints-100ms",
];
/// The stop-the-world pause of the window's last checkpoint, ns (0 when
/// there was none).
pub const PERIOD_PAUSE_NS: [&str; 3] = [
    "workload-pause-ns-on-demand",
    "workload-pause-ns-1000ms",
    "workload-pause-ns-100ms",
];
/// The write-out of the window's last checkpoint, ns (0 when there was
/// none).
pub const PERIOD_WRITE_NS: [&str; 3] = [
    "workload-write-ns-on-demand",
    "workload-write-ns-1000ms",
    "workload-write-ns-100ms",
];

/// How the kernel reports a restore at boot (`kernel/src/persist`):
/// `store: resumed generation N in X ms (P pages; K non-persistent
/// processes ended)`.
pub const RESTORE_LINE: &str = "store: resumed generation ";

/// What `bench-persist` does in one boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `dirty-<mib>x<snapshots>`: `snapshots` times, write every page of a
    /// memory object of `mib` MiB and take a checkpoint; print the medians
    /// and the last generation, then wait for the power cut.
    Dirty { mib: u32, snapshots: u32 },
    /// `fill-<mib>`: write every page of `mib` MiB once and wait, without a
    /// checkpoint (QEMU's `savevm` runs then).
    Fill { mib: u32 },
    /// `overhead-<window_ms>x<rounds>`: the workload under each of
    /// [`PERIODS_MS`], `rounds` rounds of windows of `window_ms`.
    Overhead { window_ms: u32, rounds: u32 },
}

impl Mode {
    /// Reads the value of [`MODE_KEY`].
    pub fn parse(text: &str) -> Option<Mode> {
        let number = |digits: &str| -> Option<u32> {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok()
        };
        if let Some(rest) = text.strip_prefix("dirty-") {
            let (mib, snapshots) = rest.split_once('x')?;
            return Some(Mode::Dirty {
                mib: number(mib)?,
                snapshots: number(snapshots)?,
            });
        }
        if let Some(mib) = text.strip_prefix("fill-") {
            return Some(Mode::Fill { mib: number(mib)? });
        }
        if let Some(rest) = text.strip_prefix("overhead-") {
            let (window, rounds) = rest.split_once('x')?;
            return Some(Mode::Overhead {
                window_ms: number(window)?,
                rounds: number(rounds)?,
            });
        }
        None
    }
}

/// The value of [`MODE_KEY`] that [`Mode::parse`] reads.
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Mode::Dirty { mib, snapshots } => write!(f, "dirty-{mib}x{snapshots}"),
            Mode::Fill { mib } => write!(f, "fill-{mib}"),
            Mode::Overhead { window_ms, rounds } => write!(f, "overhead-{window_ms}x{rounds}"),
        }
    }
}
