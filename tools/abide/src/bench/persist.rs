//! The persistence figures: what checkpointing the whole system costs, what
//! a restore after a power cut costs, and QEMU's own `savevm` of the same
//! guest beside them. Each step boots `system/bench-persist.conf` with
//! `bench-persist=<mode>` on the command line
//! (`abide_benchfmt::persist`, `user/bench/bench-persist`):
//!
//! - **Dirty sets** of 1, 16 and 64 MiB ([`dirty_and_restore`]): on a fresh
//!   store, the program writes every page of a memory object that size and
//!   takes a checkpoint, [`SNAPSHOTS`] times, and reports the medians of
//!   the stop-the-world pause, of the part of it spent writing, and of the
//!   pages written. Then the host cuts the power (SIGKILL) and boots the
//!   same store: the kernel's [`RESTORE_LINE`] gives the restore time, and
//!   the host times QEMU's start to the resumed program's first line.
//! - **`savevm`** ([`savevm`]): the same guest, without a store but with an
//!   empty qcow2 image ([`qcow2`]) and a QMP socket ([`crate::qmp`]), writes the
//!   same number of MiB; the host times QEMU's `savevm` of the machine.
//! - **Overhead** ([`workload`]): a workload that computes and sends
//!   messages runs under checkpoint periods of 0 (none), 1 s and 100 ms;
//!   operations per second and the overhead against no checkpoints.
//!
//! Dirty sets, restores and `savevm` run once per `--runs`, each size's
//! Abide step next to its `savevm`; the workload runs once (it alternates
//! its periods itself). The table gives medians over the runs.

mod qcow2;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use abide_abi::host::{cmdline, exit_status_meaning, GuestOutcome};
use abide_benchfmt::persist::{
    Mode, CALL_NS, CHECKPOINTS, CONFIG, DIRTY_MIB, ELAPSED_NS, FILLED_MIB, GENERATION, MODE_KEY,
    OPS, PAGES, PAUSE_NS, PERIODS_MS, PERIOD_PAUSE_NS, PERIOD_WRITE_NS, QUICK_ROUNDS,
    QUICK_SNAPSHOTS, QUICK_WINDOW_MS, RESTORE_LINE, RESUMED, ROUNDS, SNAPSHOTS, WINDOW_MS,
    WRITE_NS,
};
use abide_benchfmt::{Record, LINE_PREFIX};

use super::compare::median;
use super::{tail, BenchOptions};
use crate::qemu::{Medium, QemuConfig};
use crate::qmp::Qmp;
use crate::session::Session;
use crate::{build, prereqs, store};

/// Each dirty set's store (a sparse file): room for the three generations
/// of the 64 MiB set the store keeps while it writes the next.
const STORE_MIB: u64 = 512;
/// The virtual disk of the `savevm` image; the machine's state is stored
/// beside it, whatever its size.
const SAVEVM_DISK_BYTES: u64 = 16 << 20;
/// The name of the snapshot `savevm` takes.
const SAVEVM_TAG: &str = "bench";
/// How long QEMU may take to start listening for QMP.
const QMP_CONNECT: Duration = Duration::from_secs(30);

/// One dirty set's checkpoints and the restore after the power cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtySet {
    pub mib: u32,
    /// Medians over the checkpoints: the stop-the-world pause, the part of
    /// it spent writing, the pages written, the `persist_snapshot` call as
    /// the program saw it.
    pub pause_ns: u64,
    pub write_ns: u64,
    pub pages: u64,
    pub call_ns: u64,
    /// The generation the store held at the power cut.
    pub generation: u64,
    /// The kernel's restore: its time (whole milliseconds, as it prints
    /// them) and the pages it brought back.
    pub restore_ms: u64,
    pub restored_pages: u64,
    /// From spawning QEMU on the store until the resumed program's first
    /// line reached the host.
    pub power_on_to_resumed: Duration,
}

/// QEMU's `savevm` of the guest with a dirty set written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Savevm {
    pub mib: u32,
    /// The wall time of the QMP command (the machine is stopped throughout).
    pub wall: Duration,
    /// How much the qcow2 image grew: the machine's state.
    pub state_bytes: u64,
}

/// One run of the dirty sets and `savevm`, in [`DIRTY_MIB`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistRun {
    pub dirty: Vec<DirtySet>,
    pub savevm: Vec<Savevm>,
}

/// One window of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub ops: u64,
    pub elapsed_ns: u64,
    pub checkpoints: u64,
    /// The last checkpoint's pause and write-out (0 without one).
    pub pause_ns: u64,
    pub write_ns: u64,
}

impl Window {
    /// Operations per second.
    pub fn rate(&self) -> f64 {
        self.ops as f64 * 1e9 / (self.elapsed_ns.max(1)) as f64
    }
}

/// The workload under one checkpoint period: its windows, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// 0: on demand only, i.e. no checkpoint (the baseline).
    pub period_ms: u64,
    pub windows: Vec<Window>,
}

impl Period {
    /// Operations per second: the median over the windows.
    pub fn rate(&self) -> Option<f64> {
        median(self.windows.iter().map(Window::rate).collect())
    }

    /// The slowest and the fastest window's operations per second.
    pub fn rate_range(&self) -> Option<(f64, f64)> {
        let rates = self.windows.iter().map(Window::rate);
        let min = rates.clone().reduce(f64::min)?;
        Some((min, rates.reduce(f64::max)?))
    }

    /// Operations per second of each round (this period's two windows in
    /// it together).
    pub fn round_rates(&self) -> Vec<f64> {
        self.windows
            .chunks(2)
            .map(|round| {
                let ops: u64 = round.iter().map(|w| w.ops).sum();
                let ns: u64 = round.iter().map(|w| w.elapsed_ns).sum();
                ops as f64 * 1e9 / ns.max(1) as f64
            })
            .collect()
    }

    /// The throughput lost against `baseline`, in percent (negative when
    /// this period did more): in each round against the baseline's windows
    /// of the same round (around this period's, so that a drift of the
    /// host's speed cancels), the median over the rounds.
    pub fn overhead_percent(&self, baseline: &Period) -> Option<f64> {
        median(
            self.round_rates()
                .iter()
                .zip(baseline.round_rates())
                .map(|(rate, base)| (1.0 - rate / base) * 100.0)
                .collect(),
        )
    }

    /// Checkpoints in all the windows.
    pub fn checkpoints(&self) -> u64 {
        self.windows.iter().map(|w| w.checkpoints).sum()
    }

    /// The median over the windows with a checkpoint of `figure`.
    fn checkpoint_median(&self, figure: fn(&Window) -> u64) -> Option<f64> {
        median(
            self.windows
                .iter()
                .filter(|w| w.checkpoints > 0)
                .map(|w| figure(w) as f64)
                .collect(),
        )
    }

    /// The median pause, ns.
    pub fn pause_ns(&self) -> Option<f64> {
        self.checkpoint_median(|w| w.pause_ns)
    }

    /// The median write-out, ns.
    pub fn write_ns(&self) -> Option<f64> {
        self.checkpoint_median(|w| w.write_ns)
    }

    /// The share of the time stopped in pauses, in percent: each window's
    /// checkpoints times its last pause, over all the windows' time.
    pub fn paused_percent(&self) -> f64 {
        let paused: u64 = self
            .windows
            .iter()
            .map(|w| w.checkpoints * w.pause_ns)
            .sum();
        let total: u64 = self.windows.iter().map(|w| w.elapsed_ns).sum();
        paused as f64 * 100.0 / total.max(1) as f64
    }
}

/// Everything [`run`] measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistFigures {
    /// The machine: QEMU's version, the accelerator, the CPU, the memory.
    pub caption: String,
    /// Checkpoints per dirty set and run.
    pub snapshots: u32,
    pub runs: Vec<PersistRun>,
    /// The workload's windows: their length and how many rounds.
    pub window_ms: u32,
    pub rounds: u32,
    /// In [`PERIODS_MS`] order.
    pub workload: Vec<Period>,
}

/// Runs every step: `options.runs` runs of the dirty sets (each with its
/// restore and its `savevm`), then the workload. `progress` gets a line
/// per step.
pub fn run(
    options: &BenchOptions,
    mut progress: impl FnMut(&str),
) -> Result<PersistFigures, String> {
    let (snapshots, window_ms, rounds) = if options.quick {
        (QUICK_SNAPSHOTS, QUICK_WINDOW_MS, QUICK_ROUNDS)
    } else {
        (SNAPSHOTS, WINDOW_MS, ROUNDS)
    };
    let cpu = machine(options, Mode::Fill { mib: 1 })?.cpu().to_string();
    let caption = format!(
        "QEMU {}, `-accel {}`, `-cpu {cpu}`, q35, 1 vCPU, {} MiB; stores and the qcow2 image \
         are files on the host (`cache=writeback`: a flush is an `fdatasync`).",
        prereqs::qemu_version()?,
        options.accel.name(),
        options.memory_mib
    );
    let mut runs = Vec::new();
    for run in 0..options.runs {
        let mut this = PersistRun {
            dirty: Vec::new(),
            savevm: Vec::new(),
        };
        for mib in DIRTY_MIB {
            progress(&format!(
                "abide: persistence, run {} of {}: {mib} MiB dirty, {snapshots} checkpoints, power cut, restore",
                run + 1,
                options.runs
            ));
            let dirty = dirty_and_restore(options, mib, snapshots)
                .map_err(|e| format!("persistence, {mib} MiB dirty: {e}"))?;
            progress(&format!(
                "abide:   pause {:.1} ms, write-out {:.1} ms, the call {:.1} ms, {} pages; \
                 restore {} ms ({} pages), running again {:.0} ms after QEMU started",
                ms(dirty.pause_ns),
                ms(dirty.write_ns),
                ms(dirty.call_ns),
                dirty.pages,
                dirty.restore_ms,
                dirty.restored_pages,
                dirty.power_on_to_resumed.as_secs_f64() * 1000.0
            ));
            this.dirty.push(dirty);
            progress(&format!("abide: QEMU savevm of the guest, {mib} MiB dirty"));
            let saved = savevm(options, mib)
                .map_err(|e| format!("persistence, savevm with {mib} MiB dirty: {e}"))?;
            progress(&format!(
                "abide:   savevm {:.1} ms, {:.1} MiB of state",
                saved.wall.as_secs_f64() * 1000.0,
                saved.state_bytes as f64 / f64::from(1 << 20)
            ));
            this.savevm.push(saved);
        }
        runs.push(this);
    }
    progress(&format!(
        "abide: persistence: the workload under checkpoint periods of 0, 1000 and 100 ms \
         ({rounds} round(s) of {window_ms} ms windows)"
    ));
    let workload = workload(options, window_ms, rounds).map_err(|e| format!("workload: {e}"))?;
    for period in &workload {
        let rates: Vec<String> = period
            .windows
            .iter()
            .map(|w| format!("{:.0}", w.rate()))
            .collect();
        progress(&format!(
            "abide:   period {} ms: {} checkpoints; operations/s by window: {}",
            period.period_ms,
            period.checkpoints(),
            rates.join(", ")
        ));
    }
    Ok(PersistFigures {
        caption,
        snapshots,
        runs,
        window_ms,
        rounds,
        workload,
    })
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The machine of every step, booting `config=bench-persist` in `mode`.
fn machine(options: &BenchOptions, mode: Mode) -> Result<QemuConfig, String> {
    let elf = build::build_kernel(build::Image::Full)?;
    Ok(options.machine(Medium::Kernel {
        elf,
        cmdline: format!(
            "{}={CONFIG} {MODE_KEY}={mode} {}=warn",
            cmdline::CONFIG,
            cmdline::LOG
        ),
    }))
}

/// `target/abide/bench/<name>`, its directory created.
fn scratch(name: &str) -> Result<PathBuf, String> {
    let dir = build::output_dir().join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir.join(name))
}

/// Deletes a scratch file (hundreds of MiB for a store), if it is there.
fn remove(path: &Path) {
    let _ = fs::remove_file(path);
}

/// The guest's `bench: value` lines so far; `Err` naming the failure when
/// it printed `bench: failed`, or a malformed line.
pub fn values(output: &str) -> Result<Vec<(String, u64)>, String> {
    let mut values = Vec::new();
    for line in output.lines() {
        // A benchmark line may follow other output on its line.
        let Some(at) = line.find(LINE_PREFIX) else {
            continue;
        };
        match Record::parse(&line[at..]) {
            Ok(Some(Record::Value { name, value })) => values.push((name.to_string(), value)),
            Ok(Some(Record::Failed { name, reason })) => {
                return Err(format!("{name} failed in the guest: {reason}"))
            }
            Ok(_) => {}
            Err(e) => return Err(format!("malformed benchmark line {:?}: {e}", line.trim())),
        }
    }
    Ok(values)
}

/// The last value called `name` in `values`.
fn value(values: &[(String, u64)], name: &str) -> Result<u64, String> {
    values
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|&(_, v)| v)
        .ok_or_else(|| format!("the guest printed no {name}"))
}

/// Waits for the line `bench: value name=<name> ...` (`bench: done` for
/// `None`) and returns the values so far and the byte offset of that
/// line's end. An error carries the failure the guest reported, if any,
/// and the end of its output.
fn wait_for(
    session: &mut Session,
    name: Option<&str>,
    deadline: Instant,
) -> Result<(Vec<(String, u64)>, usize), String> {
    let left = || deadline.saturating_duration_since(Instant::now());
    let needle = match name {
        Some(name) => format!("{LINE_PREFIX}value name={name} "),
        None => Record::Done.to_string(),
    };
    let found = session
        .expect(&needle, left())
        .and_then(|()| session.expect_next("\n", left()));
    let output = session.output();
    let explain = |e: String| {
        let why = values(&output).err().unwrap_or(e);
        format!(
            "{why}\n--- end of the serial output ---\n{}",
            tail(&output, 40)
        )
    };
    found.map_err(explain)?;
    let end = output
        .find(&needle)
        .and_then(|at| output[at..].find('\n').map(|nl| at + nl))
        .ok_or_else(|| explain(format!("no line {needle:?}")))?;
    Ok((values(&output).map_err(explain)?, end))
}

/// `(generation, milliseconds, pages)` from the kernel's line
/// `store: resumed generation N in X ms (P pages; ...)`.
pub fn parse_restore_line(output: &str) -> Option<(u64, u64, u64)> {
    let line = output.lines().find(|l| l.contains(RESTORE_LINE))?;
    let rest = &line[line.find(RESTORE_LINE)? + RESTORE_LINE.len()..];
    let mut words = rest.split_whitespace();
    let generation = words.next()?.parse().ok()?;
    let ms = match (words.next()?, words.next()?, words.next()?) {
        ("in", ms, "ms") => ms.parse().ok()?,
        _ => return None,
    };
    let pages = words.next()?.strip_prefix('(')?.parse().ok()?;
    Some((generation, ms, pages))
}

/// One dirty set on a fresh store: the checkpoints, the power cut, the
/// restore.
pub fn dirty_and_restore(
    options: &BenchOptions,
    mib: u32,
    snapshots: u32,
) -> Result<DirtySet, String> {
    let store_path = scratch(&format!("persist-{mib}mib.img"))?;
    store::create(&store_path, STORE_MIB)?;
    let result = dirty_on(options, mib, snapshots, &store_path);
    remove(&store_path);
    result
}

fn dirty_on(
    options: &BenchOptions,
    mib: u32,
    snapshots: u32,
    store_path: &Path,
) -> Result<DirtySet, String> {
    let mut config = machine(options, Mode::Dirty { mib, snapshots })?;
    config.store = Some(store_path.to_path_buf());
    let deadline = Instant::now() + options.timeout;
    let mut session = Session::start(config.clone())?;
    let (values, _) = wait_for(&mut session, Some(GENERATION), deadline)?;
    // The checkpoint is committed and the program waits: cut the power.
    session.kill()?;
    let get = |name| value(&values, name);
    let (pause_ns, write_ns, pages, call_ns, generation) = (
        get(PAUSE_NS)?,
        get(WRITE_NS)?,
        get(PAGES)?,
        get(CALL_NS)?,
        get(GENERATION)?,
    );
    let mut session = Session::start(config)?;
    let (resumed, end) = wait_for(&mut session, Some(RESUMED), deadline)
        .map_err(|e| format!("after the power cut: {e}"))?;
    let power_on_to_resumed = session
        .arrival(end)
        .ok_or("the resumed line has no arrival time")?
        .duration_since(session.started());
    let output = session.output();
    let (restored, restore_ms, restored_pages) = parse_restore_line(&output)
        .ok_or_else(|| format!("no `{RESTORE_LINE}` line after the power cut:\n{output}"))?;
    if restored != generation || value(&resumed, RESUMED)? != generation {
        return Err(format!(
            "the store held generation {generation} at the power cut, but generation {restored} \
             was restored:\n{output}"
        ));
    }
    let status = session.wait_exit(deadline.saturating_duration_since(Instant::now()))?;
    if exit_status_meaning(status) != GuestOutcome::PoweredOff {
        return Err(format!(
            "the resumed guest did not power off (QEMU status {status}):\n{}",
            tail(&session.output(), 40)
        ));
    }
    Ok(DirtySet {
        mib,
        pause_ns,
        write_ns,
        pages,
        call_ns,
        generation,
        restore_ms,
        restored_pages,
        power_on_to_resumed,
    })
}

/// QEMU's `savevm` of the same guest with `mib` MiB written.
pub fn savevm(options: &BenchOptions, mib: u32) -> Result<Savevm, String> {
    let image = scratch(&format!("savevm-{mib}mib.qcow2"))?;
    qcow2::create(&image, SAVEVM_DISK_BYTES)?;
    let socket = Qmp::socket_path(&format!("savevm-{mib}"));
    let result = savevm_into(options, mib, &image, &socket);
    remove(&image);
    remove(&socket);
    result
}

fn savevm_into(
    options: &BenchOptions,
    mib: u32,
    image: &Path,
    socket: &Path,
) -> Result<Savevm, String> {
    let mut config = machine(options, Mode::Fill { mib })?;
    // A drive without a device: the guest does not see it (its kernel would
    // take a virtio disk for its store), and QEMU stores the state in it.
    let file = image.to_string_lossy().replace(',', ",,");
    config.extra_args.extend([
        "-drive".to_string(),
        format!("file={file},if=none,id=vmstate,format=qcow2,cache=writeback"),
    ]);
    config.extra_args.extend(Qmp::qemu_args(socket));
    let deadline = Instant::now() + options.timeout;
    let mut session = Session::start(config)?;
    let mut monitor = Qmp::connect_waiting(socket, QMP_CONNECT, options.timeout)?;
    wait_for(&mut session, Some(FILLED_MIB), deadline)?;
    let before = file_len(image)?;
    let began = Instant::now();
    monitor.human_silent(&format!("savevm {SAVEVM_TAG}"))?;
    let wall = began.elapsed();
    let state_bytes = file_len(image)?.saturating_sub(before);
    drop(monitor);
    session.kill()?;
    Ok(Savevm {
        mib,
        wall,
        state_bytes,
    })
}

fn file_len(path: &Path) -> Result<u64, String> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The workload under every period of [`PERIODS_MS`], on a fresh store.
pub fn workload(
    options: &BenchOptions,
    window_ms: u32,
    rounds: u32,
) -> Result<Vec<Period>, String> {
    let store_path = scratch("persist-workload.img")?;
    store::create(&store_path, store::DEFAULT_SIZE_MIB)?;
    let result = workload_on(options, window_ms, rounds, &store_path);
    remove(&store_path);
    result
}

fn workload_on(
    options: &BenchOptions,
    window_ms: u32,
    rounds: u32,
    store_path: &Path,
) -> Result<Vec<Period>, String> {
    let mut config = machine(options, Mode::Overhead { window_ms, rounds })?;
    config.store = Some(store_path.to_path_buf());
    let deadline = Instant::now() + options.timeout;
    let mut session = Session::start(config)?;
    let (values, _) = wait_for(&mut session, None, deadline)?;
    let status = session.wait_exit(deadline.saturating_duration_since(Instant::now()))?;
    if exit_status_meaning(status) != GuestOutcome::PoweredOff {
        return Err(format!(
            "the guest did not power off (QEMU status {status}):\n{}",
            tail(&session.output(), 40)
        ));
    }
    let windows = 2 * rounds.max(1) as usize;
    PERIODS_MS
        .iter()
        .enumerate()
        .map(|(index, &period_ms)| {
            let all = |name: &str| -> Result<Vec<u64>, String> {
                let found: Vec<u64> = values
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|&(_, v)| v)
                    .collect();
                if found.len() == windows {
                    Ok(found)
                } else {
                    Err(format!(
                        "{} values {name} instead of {windows}",
                        found.len()
                    ))
                }
            };
            let (ops, elapsed, checkpoints, pauses, writes) = (
                all(OPS[index])?,
                all(ELAPSED_NS[index])?,
                all(CHECKPOINTS[index])?,
                all(PERIOD_PAUSE_NS[index])?,
                all(PERIOD_WRITE_NS[index])?,
            );
            let windows = (0..windows)
                .map(|w| Window {
                    ops: ops[w],
                    elapsed_ns: elapsed[w],
                    checkpoints: checkpoints[w],
                    pause_ns: pauses[w],
                    write_ns: writes[w],
                })
                .collect();
            Ok(Period { period_ms, windows })
        })
        .collect()
}

/// The median over the runs of `figure` of the dirty set `mib`.
fn dirty_median(figures: &PersistFigures, mib: u32, figure: fn(&DirtySet) -> f64) -> Option<f64> {
    median(
        figures
            .runs
            .iter()
            .flat_map(|run| run.dirty.iter().filter(|d| d.mib == mib))
            .map(figure)
            .collect(),
    )
}

/// The median over the runs of `figure` of `savevm` with `mib` dirty.
fn savevm_median(figures: &PersistFigures, mib: u32, figure: fn(&Savevm) -> f64) -> Option<f64> {
    median(
        figures
            .runs
            .iter()
            .flat_map(|run| run.savevm.iter().filter(|s| s.mib == mib))
            .map(figure)
            .collect(),
    )
}

/// The tables, as Markdown.
pub fn render_markdown(figures: &PersistFigures) -> String {
    let cell = |value: Option<f64>, decimals: usize| {
        value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
    };
    let header = [
        "dirty set",
        "pause (ms)",
        "write-out (ms)",
        "`persist_snapshot` (ms)",
        "pages written",
        "restore (ms)",
        "pages restored",
        "QEMU start to running again (ms)",
        "QEMU `savevm` (ms)",
        "`savevm` state (MiB)",
    ];
    let rows: Vec<Vec<String>> = DIRTY_MIB
        .iter()
        .map(|&mib| {
            let dirty = |f| dirty_median(figures, mib, f);
            let saved = |f| savevm_median(figures, mib, f);
            vec![
                format!("{mib} MiB"),
                cell(dirty(|d| ms(d.pause_ns)), 1),
                cell(dirty(|d| ms(d.write_ns)), 1),
                cell(dirty(|d| ms(d.call_ns)), 1),
                cell(dirty(|d| d.pages as f64), 0),
                cell(dirty(|d| d.restore_ms as f64), 0),
                cell(dirty(|d| d.restored_pages as f64), 0),
                cell(dirty(|d| d.power_on_to_resumed.as_secs_f64() * 1000.0), 0),
                cell(saved(|s| s.wall.as_secs_f64() * 1000.0), 1),
                cell(saved(|s| s.state_bytes as f64 / f64::from(1 << 20)), 1),
            ]
        })
        .collect();
    let mut out = format!("{}\n\n", figures.caption);
    out.push_str(&super::markdown_table(&header, &rows));
    let _ = write!(
        out,
        "\nCheckpoints: the median of {} per dirty set and run; {} run(s), the median over them. \
         Restore, `savevm`: one per dirty set and run, the median over the runs.\n",
        figures.snapshots,
        figures.runs.len()
    );
    let baseline = figures.workload.iter().find(|p| p.period_ms == 0);
    let header = [
        "checkpoint period",
        "operations/s",
        "slowest – fastest window",
        "overhead",
        "checkpoints",
        "pause (ms)",
        "write-out (ms)",
        "time paused",
    ];
    let rows: Vec<Vec<String>> = figures
        .workload
        .iter()
        .map(|period| {
            let none = period.period_ms == 0;
            let dash = || "-".to_string();
            vec![
                if none {
                    "none (baseline)".to_string()
                } else {
                    format!("{} ms", period.period_ms)
                },
                cell(period.rate(), 0),
                period
                    .rate_range()
                    .map_or_else(dash, |(min, max)| format!("{min:.0} – {max:.0}")),
                match baseline.and_then(|base| period.overhead_percent(base)) {
                    Some(overhead) if !none => format!("{overhead:.1}%"),
                    _ => dash(),
                },
                period.checkpoints().to_string(),
                cell(period.pause_ns().map(|ns| ns / 1e6), 2),
                cell(period.write_ns().map(|ns| ns / 1e6), 2),
                if none {
                    dash()
                } else {
                    format!("{:.1}%", period.paused_percent())
                },
            ]
        })
        .collect();
    let windows = figures.workload.first().map_or(0, |p| p.windows.len());
    let _ = write!(
        out,
        "\nThe workload (arithmetic over 16 KiB, then an 8-byte round trip to a peer \
         process): {windows} windows of {} ms per period, in {} round(s) of 0, 1000, 100, 100, \
         1000, 0 ms. Operations/s: the median over the windows; overhead: the throughput lost \
         against the baseline's windows of the same round, the median over the rounds.\n\n{}",
        figures.window_ms,
        figures.rounds,
        super::markdown_table(&header, &rows)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_fits_the_benchmark() {
        use abide_benchfmt::persist::CONFIG_PERIOD_MS;
        let path = build::repo_root().join(format!("system/{CONFIG}.conf"));
        let text = fs::read_to_string(&path).unwrap();
        let system = abide_config::parse(&text).unwrap();
        assert_eq!(system.checkpoint_period_ms, Some(CONFIG_PERIOD_MS));
        let abide_config::Child::Component(component) = &system.root.children[0] else {
            panic!("the first child is not the component");
        };
        assert_eq!(component.program, "bench-persist");
        assert!(component.persistent);
        assert!(component
            .uses
            .iter()
            .any(|route| route.service == "hardware" && route.from == "init"));
        // The largest dirty set, and room for the rest.
        let largest = u64::from(*DIRTY_MIB.iter().max().unwrap()) * 256;
        assert!(component.memory_pages >= largest + 1024);
    }

    #[test]
    fn the_restore_line_is_read() {
        let output = "Abide 0.1.0 ready\nstore: resumed generation 3 in 380 ms (4326 pages; 0 non-persistent processes ended)\r\nbench: value name=resumed-generation value=3\n";
        assert_eq!(parse_restore_line(output), Some((3, 380, 4326)));
        assert_eq!(parse_restore_line("store: empty; starting"), None);
        assert_eq!(
            parse_restore_line("store: resumed generation 3 in x ms (1 pages)"),
            None
        );
    }

    #[test]
    fn values_and_failures_are_read() {
        let output = "noise\nbench: value name=a value=1\nabide$ bench: value name=b value=2\n";
        assert_eq!(
            values(output).unwrap(),
            vec![("a".to_string(), 1), ("b".to_string(), 2)]
        );
        let failed = format!("{output}bench: failed name=bench-persist-fill-1 reason=memory_map:NoMemory\nbench: done\n");
        assert_eq!(
            values(&failed).unwrap_err(),
            "bench-persist-fill-1 failed in the guest: memory_map:NoMemory"
        );
        assert!(values("bench: value name=a value=x\n").is_err());
    }

    fn figures() -> PersistFigures {
        let dirty = |mib: u32, pause_ms: u64| DirtySet {
            mib,
            pause_ns: pause_ms * 1_000_000,
            write_ns: pause_ms * 900_000,
            pages: u64::from(mib) * 256 + 50,
            call_ns: pause_ms * 1_000_000 + 5_000,
            generation: 5,
            restore_ms: pause_ms * 2,
            restored_pages: u64::from(mib) * 256 + 300,
            power_on_to_resumed: Duration::from_millis(300 + pause_ms * 2),
        };
        let savevm = |mib: u32, ms: u64| Savevm {
            mib,
            wall: Duration::from_millis(ms),
            state_bytes: (u64::from(mib) + 10) << 20,
        };
        let run = |factor: u64| PersistRun {
            dirty: DIRTY_MIB
                .iter()
                .map(|&mib| dirty(mib, u64::from(mib) * factor))
                .collect(),
            savevm: DIRTY_MIB
                .iter()
                .map(|&mib| savevm(mib, 100 * factor))
                .collect(),
        };
        // Two rounds of 4 s windows, two per period and round; the host
        // runs twice as fast in the second round.
        let period = |period_ms, ops: u64, checkpoints: u64| Period {
            period_ms,
            windows: [ops, ops, 2 * ops, 2 * ops]
                .iter()
                .map(|&ops| Window {
                    ops,
                    elapsed_ns: 4_000_000_000,
                    checkpoints,
                    pause_ns: if checkpoints == 0 { 0 } else { 2_000_000 },
                    write_ns: if checkpoints == 0 { 0 } else { 5_000_000 },
                })
                .collect(),
        };
        PersistFigures {
            caption: "QEMU 7.2".into(),
            snapshots: 5,
            runs: vec![run(3), run(1), run(2)],
            window_ms: 4000,
            rounds: 2,
            workload: vec![
                period(0, 40_000, 0),
                period(1000, 39_600, 4),
                period(100, 38_000, 40),
            ],
        }
    }

    #[test]
    fn the_tables_show_medians_and_overheads() {
        let table = render_markdown(&figures());
        // 16 MiB: pauses of 48, 16, 32 ms → 32.0; restore 64 ms; savevm
        // 300, 100, 200 ms → 200.0; 26 MiB of state.
        let row = table
            .lines()
            .find(|l| l.starts_with("| 16 MiB"))
            .unwrap_or_else(|| panic!("{table}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(
            cells[1..11],
            ["16 MiB", "32.0", "28.8", "32.0", "4146", "64", "4396", "364", "200.0", "26.0"],
            "{table}"
        );
        assert!(table.contains("the median of 5 per dirty set and run; 3 run(s)"));
        // 10,000 and 20,000 ops/s without checkpoints (the median: the
        // lower, nearest rank); 1% and 5% less with them in both rounds.
        let line = |start: &str| {
            table
                .lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no {start:?} in {table}"))
                .split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            line("| none")[2..10],
            ["10000", "10000 – 20000", "-", "0", "-", "-", "-", ""]
        );
        assert_eq!(
            line("| 1000 ms")[2..9],
            ["9900", "9900 – 19800", "1.0%", "16", "2.00", "5.00", "0.2%"]
        );
        assert_eq!(
            line("| 100 ms")[2..9],
            [
                "9500",
                "9500 – 19000",
                "5.0%",
                "160",
                "2.00",
                "5.00",
                "2.0%"
            ]
        );
    }

    #[test]
    fn missing_figures_show_as_dashes() {
        let empty = PersistFigures {
            runs: Vec::new(),
            workload: Vec::new(),
            ..figures()
        };
        let table = render_markdown(&empty);
        let row = table.lines().find(|l| l.starts_with("| 64 MiB")).unwrap();
        assert!(
            row.split('|')
                .skip(2)
                .filter(|c| !c.is_empty())
                .all(|c| c.trim() == "-"),
            "{table}"
        );
    }
}
