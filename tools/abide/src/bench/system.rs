//! The system figures: what a user of the whole system waits for, measured
//! on `system/bench.conf` (init, the serial driver, the log service, the
//! shell and `user/bench/bench-restart`).
//!
//! - **Boot to the shell prompt**: from QEMU's start until the prompt's
//!   last byte reached the host. Its Linux neighbour is the peer's boot to
//!   the first line of its `/init` (from the comparison runs): Linux has no
//!   supervisor tree and shell to start there, so this is the nearest
//!   thing, not the same thing.
//! - **Crash to the replacement's first request**: bench-restart's median
//!   and p99 over 100 crashes of the log service, measured in the guest
//!   with its clock (`abide_benchfmt::system`). Linux has nothing
//!   that restarts a crashed server on its own in the peer.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use abide_abi::host::{cmdline, SHELL_PROMPT};
use abide_benchfmt::system::{CONFIG, RESTART_MEDIAN_NS, RESTART_P99_NS};
use abide_benchfmt::{Record, LINE_PREFIX};

use super::compare::median;
use super::BenchOptions;
use crate::build;
use crate::qemu::Medium;
use crate::session::Session;

/// One boot of `system/bench.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRun {
    pub boot_to_prompt: Duration,
    pub restart_median_ns: u64,
    pub restart_p99_ns: u64,
}

/// Boots `system/bench.conf` once and reads its figures.
pub fn run_once(options: &BenchOptions) -> Result<SystemRun, String> {
    let elf = build::build_kernel(build::Image::Full)?;
    let config = options.machine(Medium::Kernel {
        elf,
        cmdline: format!("{}={CONFIG} {}=warn", cmdline::CONFIG, cmdline::LOG),
    });
    let deadline = Instant::now() + options.timeout;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut session = Session::start(config)?;
    session.expect(SHELL_PROMPT, left())?;
    let output = session.output();
    let prompt_end = output
        .find(SHELL_PROMPT)
        .map(|at| at + SHELL_PROMPT.len() - 1)
        .ok_or("no prompt in the output")?;
    let boot_to_prompt = session
        .arrival(prompt_end)
        .ok_or("the prompt has no arrival time")?
        .duration_since(session.started());
    session.expect(&format!("{LINE_PREFIX}done"), left())?;
    session.expect_next("\n", left())?;
    let output = session.output();
    let mut values = Vec::new();
    // A line may follow the shell's prompt.
    let records = output
        .lines()
        .filter_map(|line| line.find(LINE_PREFIX).map(|at| &line[at..]));
    for line in records {
        match Record::parse(line) {
            Ok(Some(Record::Value { name, value })) => values.push((name.to_string(), value)),
            Ok(Some(Record::Failed { name, reason })) => {
                return Err(format!("{name} failed in the guest: {reason}"))
            }
            _ => {}
        }
    }
    let value = |wanted: &str| {
        values
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|&(_, value)| value)
            .ok_or_else(|| format!("the guest printed no {wanted}:\n{output}"))
    };
    let run = SystemRun {
        boot_to_prompt,
        restart_median_ns: value(RESTART_MEDIAN_NS)?,
        restart_p99_ns: value(RESTART_P99_NS)?,
    };
    session.send("poweroff\n")?;
    session.wait_exit(left())?;
    Ok(run)
}

/// Runs `options.runs` boots.
pub fn run(
    options: &BenchOptions,
    mut progress: impl FnMut(&str),
) -> Result<Vec<SystemRun>, String> {
    (0..options.runs)
        .map(|run| {
            progress(&format!(
                "abide: system figures, run {} of {}",
                run + 1,
                options.runs
            ));
            let figures = run_once(options).map_err(|e| format!("system figures: {e}"))?;
            progress(&format!("abide:   {figures:?}"));
            Ok(figures)
        })
        .collect()
}

/// The table of the system figures (medians over the runs), with Linux's
/// boot to its `/init` beside the boot to the prompt.
pub fn render_markdown(runs: &[SystemRun], linux_boot: Option<Duration>) -> String {
    let pick = |f: fn(&SystemRun) -> f64| median(runs.iter().map(f).collect()).unwrap_or(0.0);
    let boot_ms = pick(|r| r.boot_to_prompt.as_secs_f64() * 1000.0);
    let linux = linux_boot.map_or("—".to_string(), |boot| {
        format!(
            "{:.1} ms (to `/init`'s first line)",
            boot.as_secs_f64() * 1000.0
        )
    });
    let mut out =
        String::from("| figure | Abide, median | Abide, p99 | Linux |\n|---|---:|---:|---|\n");
    let _ = writeln!(
        out,
        "| boot: QEMU start to the shell prompt | {boot_ms:.1} ms | | {linux} |"
    );
    let _ = writeln!(
        out,
        "| crash of the log service to its replacement's first answer | {:.1} µs | {:.1} µs | — |",
        pick(|r| r.restart_median_ns as f64 / 1000.0),
        pick(|r| r.restart_p99_ns as f64 / 1000.0),
    );
    let _ = write!(
        out,
        "\nSystem figures: `system/bench.conf`, {} boot(s); the median over the boots of each \
         boot's figure (the crash figures: median and p99 over 100 crashes in each boot).\n",
        runs.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_medians_over_the_runs() {
        let run = |boot_ms, median_ns, p99_ns| SystemRun {
            boot_to_prompt: Duration::from_millis(boot_ms),
            restart_median_ns: median_ns,
            restart_p99_ns: p99_ns,
        };
        let runs = [
            run(300, 9_000, 20_000),
            run(100, 7_000, 10_000),
            run(200, 8_000, 15_000),
        ];
        let table = render_markdown(&runs, Some(Duration::from_millis(1500)));
        assert!(table.contains("| 200.0 ms |"), "{table}");
        assert!(table.contains("| 8.0 µs | 15.0 µs |"), "{table}");
        assert!(
            table.contains("1500.0 ms (to `/init`'s first line)"),
            "{table}"
        );
        assert!(render_markdown(&runs, None).contains("| — |"));
    }
}
