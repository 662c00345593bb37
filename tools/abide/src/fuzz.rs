//! `abide fuzz`: hostile system calls at scale, with a verdict.
//!
//! Boots the kernel with `init=fuzz` (user/tests/fuzz), which runs
//! `hostile` in several processes at once for the calls asked for, then
//! compares the free memory and kernel heap after they ended with before.
//! This side reads its `fuzz: result` line, reports calls per second, and
//! fails on a kernel panic or exception, a hang (the guest does not end in
//! time), a hostile process that did not exit 0, or leaked memory.
//! docs/reliability.md describes the attacks and records the figures.

use std::time::{Duration, Instant};

use abide_abi::host::{EXCEPTION_REPORT_PREFIX, PANIC_REPORT_PREFIX};

use crate::session::{run_to_exit, AddSpec, BootOptions};

/// Every attack hostile knows besides its random calls; `cargo test` and a
/// plain `abide fuzz` run all of them.
pub const ALL_ATTACKS: &[&str] = &[
    "flag-df",
    "flag-ac",
    "flag-nt",
    "edges",
    "self-channel",
    "observers",
    "quota",
];

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzOptions {
    pub calls: u64,
    pub seed: u64,
    /// Hostile processes at once.
    pub procs: u32,
    /// Attack names (from [`ALL_ATTACKS`]) besides random calls.
    pub attacks: Vec<String>,
    /// How long the whole run may take before it counts as a hang.
    pub timeout: Duration,
    pub memory_mib: u32,
    /// `--add` directories, loaded beside the kernel.
    pub add: Vec<AddSpec>,
}

impl FuzzOptions {
    /// The kernel command line that orders the run.
    pub fn cmdline(&self) -> String {
        let mut line = format!(
            "init=fuzz fuzz=calls:{},seed:{:#x},procs:{}",
            self.calls, self.seed, self.procs
        );
        if !self.attacks.is_empty() {
            line.push_str(&format!(",attacks:{}", self.attacks.join("+")));
        }
        line
    }
}

/// What the guest reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FuzzResult {
    pub calls: u64,
    pub procs: u64,
    pub elapsed_ns: u64,
    pub failures: u64,
    pub free_before: u64,
    pub free_after: u64,
    pub heap_before: u64,
    pub heap_after: u64,
    /// Bytes the kernel heap took from the frame allocator (it keeps them).
    pub heap_claimed_before: u64,
    pub heap_claimed_after: u64,
}

/// The text of the lines the `fuzz` program itself wrote (the kernel tags
/// every process's output with its id and name, see
/// `abide_abi::host::user_line`), trimmed.
fn fuzz_lines(output: &str) -> impl Iterator<Item = &str> {
    output.lines().filter_map(|line| {
        let user = abide_abi::host::user_line(line.trim_start_matches('\r'))?;
        (user.name == "fuzz").then(|| user.text.trim())
    })
}

impl FuzzResult {
    /// Reads the `fuzz: result key=value ...` line of `output`.
    pub fn parse(output: &str) -> Option<FuzzResult> {
        let line = fuzz_lines(output).find_map(|line| line.strip_prefix("fuzz: result "))?;
        let mut result = FuzzResult::default();
        for item in line.split_whitespace() {
            let (key, value) = item.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match key {
                "calls" => result.calls = value,
                "procs" => result.procs = value,
                "elapsed_ns" => result.elapsed_ns = value,
                "failures" => result.failures = value,
                "free_before" => result.free_before = value,
                "free_after" => result.free_after = value,
                "heap_before" => result.heap_before = value,
                "heap_after" => result.heap_after = value,
                "heap_claimed_before" => result.heap_claimed_before = value,
                "heap_claimed_after" => result.heap_claimed_after = value,
                _ => {}
            }
        }
        Some(result)
    }

    /// Calls per second of guest time.
    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / (self.elapsed_ns.max(1) as f64 / 1e9)
    }

    /// Free memory: free frames and the heap's free bytes. The kernel heap
    /// keeps the frames it grew by, free for later kernel allocations, so
    /// frames alone would count its high-water mark as a leak.
    fn free(frames: u64, claimed: u64, used: u64) -> i128 {
        i128::from(frames) + i128::from(claimed) - i128::from(used)
    }

    /// Whether the hostile processes left memory behind: less free memory
    /// (frames and heap) than at the start, or more of the heap in use.
    pub fn leaked(&self) -> bool {
        let before = Self::free(self.free_before, self.heap_claimed_before, self.heap_before);
        let after = Self::free(self.free_after, self.heap_claimed_after, self.heap_after);
        after != before || self.heap_after != self.heap_before
    }
}

/// The verdict of a run.
#[derive(Debug, Clone)]
pub struct FuzzReport {
    pub result: Option<FuzzResult>,
    /// What went wrong; empty when the run passed.
    pub problems: Vec<String>,
    /// The whole serial output.
    pub output: String,
    pub wall: Duration,
}

impl FuzzReport {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The lines `abide fuzz` prints.
    pub fn summary(&self, options: &FuzzOptions) -> String {
        let mut text = format!(
            "fuzz: seed {:#x}, {} processes, attacks random{}{}\n",
            options.seed,
            options.procs,
            if options.attacks.is_empty() { "" } else { "," },
            options.attacks.join(",")
        );
        if let Some(r) = &self.result {
            text.push_str(&format!(
                "fuzz: {} calls in {:.2} s of guest time: {:.0} calls/s ({:.1} s on the host)\n",
                r.calls,
                r.elapsed_ns as f64 / 1e9,
                r.calls_per_second(),
                self.wall.as_secs_f64()
            ));
            text.push_str(&format!(
                "fuzz: free frames {} -> {} bytes, kernel heap in use {} -> {} bytes of {} -> {} claimed\n",
                r.free_before,
                r.free_after,
                r.heap_before,
                r.heap_after,
                r.heap_claimed_before,
                r.heap_claimed_after
            ));
        }
        if self.passed() {
            text.push_str("fuzz: passed: no panic, no hang, no failure, no leak\n");
        } else {
            for problem in &self.problems {
                text.push_str(&format!("fuzz: FAILED: {problem}\n"));
            }
        }
        text
    }
}

/// Boots the fuzz run and judges it.
pub fn fuzz(options: &FuzzOptions) -> FuzzReport {
    for attack in &options.attacks {
        if !ALL_ATTACKS.contains(&attack.as_str()) {
            return FuzzReport {
                result: None,
                problems: vec![format!(
                    "unknown attack `{attack}` (known: {})",
                    ALL_ATTACKS.join(", ")
                )],
                output: String::new(),
                wall: Duration::ZERO,
            };
        }
    }
    let boot = BootOptions {
        memory_mib: options.memory_mib,
        add: options.add.clone(),
        ..BootOptions::with_cmdline(&options.cmdline())
    };
    let started = Instant::now();
    let (output, status) = match run_to_exit(boot, options.timeout) {
        Ok(done) => done,
        Err(message) => {
            return FuzzReport {
                result: None,
                problems: vec![format!("hang or boot failure: {message}")],
                output: String::new(),
                wall: started.elapsed(),
            }
        }
    };
    let wall = started.elapsed();
    let mut problems = Vec::new();
    for prefix in [EXCEPTION_REPORT_PREFIX, PANIC_REPORT_PREFIX] {
        // Only the kernel's own lines: a hostile process may print anything.
        if let Some(line) = output.lines().find(|l| {
            abide_abi::host::kernel_line(l.trim_start_matches('\r')) && l.contains(prefix)
        }) {
            problems.push(format!("the kernel crashed: {}", line.trim()));
        }
    }
    for line in fuzz_lines(&output)
        .filter(|l| l.starts_with("fuzz: FAILED") || l.starts_with("fuzz: LEAKED"))
    {
        problems.push(line.trim_start_matches("fuzz: ").to_string());
    }
    let result = FuzzResult::parse(&output);
    match &result {
        None => problems.push("the guest printed no result".into()),
        Some(r) if r.leaked() && !problems.iter().any(|p| p.contains("LEAKED")) => {
            problems.push("memory leaked".into())
        }
        Some(_) => {}
    }
    if status != abide_abi::host::qemu_status_for(abide_abi::host::DEBUG_EXIT_SUCCESS)
        && problems.is_empty()
    {
        problems.push(format!("QEMU exited with status {status}"));
    }
    FuzzReport {
        result,
        problems,
        output,
        wall,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_orders_the_run() {
        let options = FuzzOptions {
            calls: 1000,
            seed: 0x2a,
            procs: 3,
            attacks: vec!["edges".into(), "flag-df".into()],
            timeout: Duration::from_secs(1),
            memory_mib: 256,
            add: Vec::new(),
        };
        assert_eq!(
            options.cmdline(),
            "init=fuzz fuzz=calls:1000,seed:0x2a,procs:3,attacks:edges+flag-df"
        );
    }

    #[test]
    fn the_result_line_is_read() {
        let output = "x\n<1 fuzz> fuzz: result calls=100 procs=4 elapsed_ns=2000000000 failures=0 free_before=10 free_after=10 heap_before=5 heap_after=9000\r\n";
        let result = FuzzResult::parse(output).unwrap();
        assert_eq!(result.calls, 100);
        assert_eq!(result.calls_per_second(), 50.0);
        assert!(result.leaked());
        assert_eq!(FuzzResult::parse("nothing"), None);
        // Another process cannot forge the verdict.
        let forged = "<7 hostile> fuzz: result calls=1 procs=1 elapsed_ns=1 failures=0 free_before=1 free_after=1 heap_before=1 heap_after=1\n";
        assert_eq!(FuzzResult::parse(forged), None);
    }

    #[test]
    fn frames_the_heap_holds_free_are_not_a_leak() {
        let line = |free_after: u64, claimed_after: u64| {
            format!(
                "<1 fuzz> fuzz: result calls=1 procs=1 elapsed_ns=1 failures=0 free_before=1000000 free_after={free_after} heap_before=700 heap_after=700 heap_claimed_before=4000 heap_claimed_after={claimed_after}\n"
            )
        };
        // The heap grew by 8000 bytes of frames, all free in it.
        let grown = FuzzResult::parse(&line(992_000, 12_000)).unwrap();
        assert!(!grown.leaked());
        // 4096 bytes of frames are in neither the heap nor the free list.
        let lost = FuzzResult::parse(&line(987_904, 12_000)).unwrap();
        assert!(lost.leaked());
    }
}
