//! The Unix personality's figures: `tools/linux-bench`, the Linux peer's
//! own program, run unmodified on Abide, so that the Linux ABI rows of the
//! comparison time the same static binary on both systems.
//!
//! Abide boots its full image with the root tree (busybox, which the
//! spawn and shell benchmarks start as `/bin/busybox`) and the program
//! added at [`GUEST_DIR`]; the shell runs it as `sh -c "<program>
//! <iterations> <names>"` ([`command`]) and its report lines are read as
//! the peer's are ([`super::read_report`]). A benchmark that fails reports
//! a `bench: failed` line and the run goes on. One that hangs (prints
//! nothing for [`BENCHMARK_TIMEOUT`]) is recorded as failed ([`hung`]),
//! QEMU is stopped, and a new boot runs the benchmarks still to come
//! ([`Pending`]), so one missing kernel feature costs its rows, not the
//! whole comparison.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use abide_abi::host::SHELL_PROMPT;
use abide_benchfmt::{linux, Record};

use super::{read_report, BenchOptions, Report};
use crate::build::output_dir;
use crate::session::{AddSpec, BootOptions, RootTree, Session};

/// Where the program is added in Abide's root tree.
pub const GUEST_DIR: &str = "/opt/bench";
/// Its file name there.
pub const PROGRAM_NAME: &str = "linux-bench";
/// How long one benchmark may go without a report line before it counts
/// as hung. The program prints a benchmark's lines when it is over, so this
/// bounds a whole benchmark: 10,000 `fork`s under TCG included.
pub const BENCHMARK_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// From QEMU's start to the shell's prompt.
const BOOT_TIMEOUT: Duration = Duration::from_secs(300);
/// Names the program reports from one benchmark (its samples are taken in
/// one loop): when one hangs, all of them have.
const TOGETHER: &[&[&str]] = &[&[linux::POSIX_SPAWN_CALL, linux::POSIX_SPAWN]];

/// Iterations per benchmark of the program on Abide: the run's, at most
/// [`abide_benchfmt::QUICK_ITERATIONS`]. A spawn there takes about half a
/// second under TCG, so 10,000 of them would take hours; the medians of 200
/// stand beside Linux's medians of the run's count.
pub fn iterations(options: &BenchOptions) -> u32 {
    options.iterations().min(abide_benchfmt::QUICK_ITERATIONS)
}

/// The shell command that runs the program on Abide: `iterations` each,
/// only `names` (all when empty).
pub fn command(iterations: u32, names: &[&str]) -> String {
    let mut arguments = format!("{GUEST_DIR}/{PROGRAM_NAME} {iterations}");
    for name in names {
        arguments.push(' ');
        arguments.push_str(name);
    }
    format!("sh -c \"{arguments}\"")
}

/// The reason recorded for a benchmark that printed nothing for `waited`.
pub fn hung(waited: Duration) -> String {
    format!("hung:no-report-in-{}s", waited.as_secs())
}

/// The benchmarks of one run still to report, in the program's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    names: Vec<&'static str>,
}

impl Pending {
    /// Every benchmark of the program.
    pub fn all() -> Pending {
        Pending {
            names: linux::NAMES.to_vec(),
        }
    }

    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// `name` reported (a result or a failure).
    pub fn reported(&mut self, name: &str) {
        self.names.retain(|pending| *pending != name);
    }

    /// The benchmark now running hung: the first pending name and those
    /// reported with it ([`TOGETHER`]) are taken out and returned.
    pub fn take_hung(&mut self) -> Vec<&'static str> {
        let Some(&first) = self.names.first() else {
            return Vec::new();
        };
        let group: Vec<&'static str> = TOGETHER
            .iter()
            .find(|group| group.contains(&first))
            .map_or_else(|| vec![first], |group| group.to_vec());
        self.names.retain(|name| !group.contains(name));
        group
    }
}

/// Adds the records of `part` (one boot's report) to `whole`: the first
/// boot's start, values and TSC rate, every boot's results and failures.
pub fn merge(whole: &mut Report, part: Report) {
    if whole.start.is_none() {
        whole.start = part.start;
    }
    if whole.tsc_hz.is_none() {
        whole.tsc_hz = part.tsc_hz;
    }
    if whole.values.is_empty() {
        whole.values = part.values;
    }
    for result in part.results {
        if whole.get(&result.name).is_none() {
            whole.results.push(result);
        }
    }
    for (name, reason) in part.failures {
        if whole.get(&name).is_none() && whole.failure(&name).is_none() {
            whole.failures.push((name, reason));
        }
    }
}

/// Copies the program into `target/abide/bench/unix-add/` for `--add`.
fn stage(program: &Path) -> Result<AddSpec, String> {
    let dir: PathBuf = output_dir().join("bench").join("unix-add");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let target = dir.join(PROGRAM_NAME);
    fs::copy(program, &target).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            program.display(),
            target.display()
        )
    })?;
    Ok(AddSpec {
        host: dir,
        guest: GUEST_DIR.to_string(),
    })
}

/// Runs `program` (the peer's static linux-bench) on Abide until every
/// benchmark has reported or hung, booting again after a hang; `on_line`
/// gets each report line as it arrives.
pub fn run_abide(
    options: &BenchOptions,
    program: &Path,
    on_line: &mut dyn FnMut(&str),
) -> Result<Report, String> {
    let add = stage(program)?;
    let mut pending = Pending::all();
    let mut whole = Report::default();
    while !pending.is_empty() {
        let names: Vec<&str> = if pending.names().len() == linux::NAMES.len() {
            Vec::new()
        } else {
            pending.names().to_vec()
        };
        let (part, stopped) = run_boot(options, &add, &names, &mut pending, on_line)?;
        merge(&mut whole, part);
        match stopped {
            Some(reason) => {
                for name in pending.take_hung() {
                    on_line(&format!(
                        "{}",
                        Record::Failed {
                            name,
                            reason: &reason
                        }
                    ));
                    whole.failures.push((name.to_string(), reason.clone()));
                }
            }
            // The program said it was done: whatever it did not report
            // (an older program) stays missing.
            None => break,
        }
    }
    Ok(whole)
}

/// One boot: runs the program for `names` and reads its lines until `bench:
/// done` (then `None`), until no line came for [`BENCHMARK_TIMEOUT`] or
/// QEMU stopped (then why: the benchmark running failed so). Names that
/// report are taken off `pending`. Err if Abide does not reach its prompt
/// or the program prints nothing at all.
fn run_boot(
    options: &BenchOptions,
    add: &AddSpec,
    names: &[&str],
    pending: &mut Pending,
    on_line: &mut dyn FnMut(&str),
) -> Result<(Report, Option<String>), String> {
    let deadline = Instant::now() + options.timeout;
    let mut session = Session::boot(BootOptions {
        memory_mib: options.memory_mib,
        accel: options.accel,
        root_tree: RootTree::Required,
        add: vec![add.clone()],
        ..BootOptions::default()
    })?;
    session.expect(SHELL_PROMPT, BOOT_TIMEOUT)?;
    let before = session.output().len();
    session.send(&format!("{}\n", command(iterations(options), names)))?;
    let mut consumed = before;
    let mut last_line = Instant::now();
    let mut started = false;
    let mut text = String::new();
    let stall = BENCHMARK_TIMEOUT.min(options.timeout);
    loop {
        let exited = session.has_exited();
        let raw = session.output();
        let fresh = raw.get(consumed..).unwrap_or("");
        let mut done = false;
        if let Some(last_newline) = fresh.rfind('\n') {
            for line in fresh[..last_newline].split('\n') {
                let line = abide_abi::host::untagged(line.trim_end_matches('\r'));
                match Record::parse(line) {
                    Ok(Some(record)) => {
                        last_line = Instant::now();
                        started = true;
                        on_line(line.trim());
                        text.push_str(line.trim());
                        text.push('\n');
                        match record {
                            Record::Result { name, .. } | Record::Failed { name, .. } => {
                                pending.reported(name)
                            }
                            Record::Done => done = true,
                            _ => {}
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return Err(format!("malformed benchmark line {line:?}: {e}")),
                }
            }
            consumed += last_newline + 1;
        }
        if done {
            let (report, _) = read_report(&text)?;
            let _ = session.expect_next(SHELL_PROMPT, Duration::from_secs(60));
            let _ = session.send("poweroff\n");
            let _ = session.wait_exit(Duration::from_secs(60));
            return Ok((report, None));
        }
        if exited && started {
            let (report, _) = read_report(&text)?;
            return Ok((report, Some("abide-stopped".to_string())));
        }
        let now = Instant::now();
        if exited || (!started && now.duration_since(last_line) >= BOOT_TIMEOUT) {
            return Err(format!(
                "linux-bench did not start on Abide (`{}` at the shell's prompt); the last lines:\n{}",
                command(iterations(options), names),
                super::tail(&raw, 60)
            ));
        }
        if now >= deadline {
            return Err(format!(
                "linux-bench on Abide did not finish in {:?}; the last lines:\n{}",
                options.timeout,
                super::tail(&raw, 60)
            ));
        }
        if now.duration_since(last_line) >= stall {
            let (report, _) = read_report(&text)?;
            let _ = session.kill();
            return Ok((report, Some(hung(stall))));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::BenchResult;
    use abide_benchfmt::{Summary, CONTEXT_SWITCH, TSC_READ};

    #[test]
    fn abide_runs_at_most_the_quick_iterations() {
        assert_eq!(iterations(&BenchOptions::default()), 200);
        assert_eq!(iterations(&BenchOptions::quick()), 200);
    }

    #[test]
    fn the_command_names_the_iterations_and_the_benchmarks() {
        assert_eq!(command(200, &[]), "sh -c \"/opt/bench/linux-bench 200\"");
        assert_eq!(
            command(20, &["fork-exec", "shell-loop-1000"]),
            "sh -c \"/opt/bench/linux-bench 20 fork-exec shell-loop-1000\""
        );
        assert_eq!(hung(Duration::from_secs(900)), "hung:no-report-in-900s");
    }

    #[test]
    fn a_hung_benchmark_takes_its_group_and_the_rest_stay_pending() {
        let mut pending = Pending::all();
        for name in [TSC_READ, linux::GETPPID] {
            pending.reported(name);
        }
        assert_eq!(pending.names().first(), Some(&linux::PIPE_ROUND_TRIP));
        pending.reported(linux::PIPE_ROUND_TRIP);
        pending.reported(linux::FUTEX_ROUND_TRIP);
        assert_eq!(pending.take_hung(), [CONTEXT_SWITCH]);
        assert_eq!(
            pending.take_hung(),
            [linux::POSIX_SPAWN_CALL, linux::POSIX_SPAWN]
        );
        assert_eq!(
            pending.names(),
            [linux::FORK_EXEC, linux::SHELL_LOOP, linux::TRUE_100]
        );
        for name in linux::NAMES {
            pending.reported(name);
        }
        assert!(pending.is_empty());
        assert!(pending.take_hung().is_empty());
    }

    #[test]
    fn boots_merge_into_one_report() {
        let result = |name: &str, median| BenchResult {
            name: name.into(),
            summary: Summary {
                iterations: 10,
                median,
                p99: median,
            },
        };
        let mut whole = Report::default();
        merge(
            &mut whole,
            Report {
                tsc_hz: Some(5),
                values: vec![("memory-free-kib".into(), 1)],
                results: vec![result(linux::GETPPID, 100)],
                failures: vec![(CONTEXT_SWITCH.into(), "child-never-ran".into())],
                ..Report::default()
            },
        );
        merge(
            &mut whole,
            Report {
                tsc_hz: Some(6),
                values: vec![("memory-free-kib".into(), 2)],
                results: vec![result(linux::GETPPID, 200), result(linux::FORK_EXEC, 300)],
                failures: vec![(CONTEXT_SWITCH.into(), "again".into())],
                ..Report::default()
            },
        );
        assert_eq!(whole.tsc_hz, Some(5));
        assert_eq!(whole.value("memory-free-kib"), Some(1));
        assert_eq!(whole.get(linux::GETPPID).unwrap().summary.median, 100);
        assert_eq!(whole.get(linux::FORK_EXEC).unwrap().summary.median, 300);
        assert_eq!(whole.failure(CONTEXT_SWITCH), Some("child-never-ran"));
    }
}
