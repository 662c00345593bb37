//! Reading the suite's result lines out of a guest's serial output.
//!
//! `runtest` prints one line per case: `PASS: name`, `FAIL: name`,
//! `SKIPPED: name` (and `UNTESTED: name` when `.config` rules a case out,
//! which an empty `.config` never does; read as skipped). Between them, with
//! `-v`, come the failing cases' outputs. Only the lines between the
//! driver's [`BEGIN`] and [`END`] markers count; the console's `\r` before
//! each `\n` is dropped.

use super::guest::{BEGIN, COUNTS, END};

/// A case's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

impl Verdict {
    /// As the report prints it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// What one run printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Results {
    /// Every case, in the order it ran.
    pub cases: Vec<(Verdict, String)>,
    /// The guest's own count (PASS, FAIL, SKIPPED) from its log file.
    pub guest_counts: Option<(usize, usize, usize)>,
}

impl Results {
    /// How many cases have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.cases.iter().filter(|(v, _)| *v == verdict).count()
    }

    /// Whether what arrived agrees with what the guest counted in its log.
    pub fn check_integrity(&self) -> Result<(), String> {
        let arrived = (
            self.count(Verdict::Pass),
            self.count(Verdict::Fail),
            self.count(Verdict::Skip),
        );
        match self.guest_counts {
            None => Err("the guest printed no counts line: the run did not finish".into()),
            Some(counted) if counted == arrived => Ok(()),
            Some((p, f, s)) => Err(format!(
                "the serial console lost or garbled result lines: the guest's log has \
                 {p} PASS, {f} FAIL, {s} SKIPPED; the host read {} PASS, {} FAIL, {} SKIPPED",
                arrived.0, arrived.1, arrived.2
            )),
        }
    }
}

/// The output with the console's carriage returns dropped.
pub fn clean(output: &str) -> String {
    output.replace("\r\n", "\n").replace('\r', "")
}

/// One result line, if `line` is one.
pub fn result_line(line: &str) -> Option<(Verdict, String)> {
    let prefixes = [
        ("PASS: ", Verdict::Pass),
        ("FAIL: ", Verdict::Fail),
        ("SKIPPED: ", Verdict::Skip),
        ("UNTESTED: ", Verdict::Skip),
    ];
    prefixes.iter().find_map(|(prefix, verdict)| {
        line.strip_prefix(prefix)
            .map(|name| (*verdict, name.to_string()))
    })
}

/// The results of the run in `output` (the whole serial output).
pub fn results(output: &str) -> Result<Results, String> {
    let output = clean(output);
    let start = output
        .find(&format!("{BEGIN}\n"))
        .ok_or("the suite never started (no begin marker on the console)")?;
    let body = &output[start + BEGIN.len() + 1..];
    let mut results = Results::default();
    for line in body.lines() {
        if line == END {
            break;
        }
        if let Some(rest) = line.strip_prefix(COUNTS) {
            let numbers: Vec<usize> = rest
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            if let [pass, fail, skip] = numbers[..] {
                results.guest_counts = Some((pass, fail, skip));
            }
            continue;
        }
        if let Some(case) = result_line(line) {
            results.cases.push(case);
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_between_the_markers_are_read() {
        let output = "boot noise\r\nPASS: before\r\n@@conformance begin\r\n\
                      PASS: cat-prints-a-file\r\nFAIL: od -B\r\n+ some trace\r\n\
                      SKIPPED: taskset (not built)\r\nUNTESTED: x\r\n\
                      @@conformance counts 1 1 1\r\n@@conformance end\r\nPASS: after\r\n";
        let results = results(output).unwrap();
        assert_eq!(
            results.cases,
            [
                (Verdict::Pass, "cat-prints-a-file".to_string()),
                (Verdict::Fail, "od -B".to_string()),
                (Verdict::Skip, "taskset (not built)".to_string()),
                (Verdict::Skip, "x".to_string()),
            ]
        );
        assert_eq!(results.guest_counts, Some((1, 1, 1)));
        // UNTESTED is counted as skipped by the host but not by the guest.
        assert!(results.check_integrity().is_err());
    }

    #[test]
    fn a_run_that_never_starts_or_ends_is_an_error() {
        assert!(results("PASS: x\n").is_err());
        let unfinished = results("@@conformance begin\nPASS: x\n").unwrap();
        assert!(unfinished.check_integrity().is_err());
        let finished =
            results("@@conformance begin\nPASS: x\n@@conformance counts 1 0 0\n").unwrap();
        assert_eq!(finished.check_integrity(), Ok(()));
    }
}
