//! Comparing a run with the Linux baseline and printing it.
//!
//! The baseline, `busybox-1.35.0-linux-pass.txt`, lists the names of the
//! cases that pass on Linux, sorted; a name may appear more than once (a
//! `.tests` file and an old-style folder can both have a case `-b
//! encapsulated`). So the comparison counts per name: a name listed k
//! times of which the run passed j is min(j, k) passes. A case that fails
//! on Linux too is not counted either way.

use std::collections::BTreeMap;

use super::parse::{Results, Verdict};

/// The passing names on Linux, with how often each passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    names: BTreeMap<String, usize>,
    total: usize,
}

impl Baseline {
    /// From the baseline file's text, one name a line.
    pub fn parse(text: &str) -> Baseline {
        let mut names = BTreeMap::new();
        let mut total = 0;
        for name in text.lines().filter(|l| !l.is_empty()) {
            *names.entry(name.to_string()).or_insert(0) += 1;
            total += 1;
        }
        Baseline { names, total }
    }

    /// How many cases pass on Linux (469).
    pub fn total(&self) -> usize {
        self.total
    }
}

/// One baseline case and what the run made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    /// `None`: the run never reported it (it counts as failed).
    pub verdict: Option<Verdict>,
}

/// A run compared with the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Every baseline case, in the baseline's order.
    pub cases: Vec<Case>,
    /// Of the baseline's cases, how many passed.
    pub passed: usize,
    pub total: usize,
    /// Cases that passed here but are not in the baseline (or more often
    /// than there): not counted.
    pub beyond_baseline: Vec<String>,
}

impl Comparison {
    /// `N of 469`.
    pub fn figure(&self) -> String {
        format!("{} of {}", self.passed, self.total)
    }

    /// The baseline cases that did not pass here.
    pub fn failures(&self) -> impl Iterator<Item = &Case> {
        self.cases
            .iter()
            .filter(|c| c.verdict != Some(Verdict::Pass))
    }

    /// The baseline cases the run never reported: on Linux, those whose
    /// test file is not in the shared folder (see docs/unix.md).
    pub fn unreported(&self) -> impl Iterator<Item = &Case> {
        self.cases.iter().filter(|c| c.verdict.is_none())
    }
}

/// Compares `results` with `baseline`.
pub fn compare(baseline: &Baseline, results: &Results) -> Comparison {
    // Every verdict a name got, in order.
    let mut seen: BTreeMap<&str, Vec<Verdict>> = BTreeMap::new();
    for (verdict, name) in &results.cases {
        seen.entry(name.as_str()).or_default().push(*verdict);
    }
    let mut cases = Vec::new();
    let mut passed = 0;
    for (name, &wanted) in &baseline.names {
        let verdicts = seen.get(name.as_str()).cloned().unwrap_or_default();
        let passes = verdicts.iter().filter(|v| **v == Verdict::Pass).count();
        let other = verdicts.iter().copied().find(|v| *v != Verdict::Pass);
        for i in 0..wanted {
            let verdict = if i < passes {
                Some(Verdict::Pass)
            } else {
                other
            };
            passed += usize::from(verdict == Some(Verdict::Pass));
            cases.push(Case {
                name: name.clone(),
                verdict,
            });
        }
    }
    let mut beyond_baseline = Vec::new();
    for (name, verdicts) in &seen {
        let passes = verdicts.iter().filter(|v| **v == Verdict::Pass).count();
        let wanted = baseline.names.get(*name).copied().unwrap_or(0);
        beyond_baseline.extend((wanted..passes).map(|_| name.to_string()));
    }
    Comparison {
        cases,
        passed,
        total: baseline.total,
        beyond_baseline,
    }
}

/// The report: a line per baseline case (with `partial`, only the cases
/// the run reported: it ran some applets only), then the totals of the run
/// and the figure.
pub fn render(system: &str, comparison: &Comparison, results: &Results, partial: bool) -> String {
    let mut text = String::new();
    for case in comparison
        .cases
        .iter()
        .filter(|c| !partial || c.verdict.is_some())
    {
        let label = case.verdict.map_or("FAIL (not reported)", Verdict::label);
        text.push_str(&format!("{label}: {}\n", case.name));
    }
    for name in &comparison.beyond_baseline {
        text.push_str(&format!("PASS (fails on Linux, not counted): {name}\n"));
    }
    text.push_str(&format!(
        "{system}: the run reported {} PASS, {} FAIL, {} SKIPPED\n",
        results.count(Verdict::Pass),
        results.count(Verdict::Fail),
        results.count(Verdict::Skip)
    ));
    text.push_str(&format!(
        "{system}: {} of the cases that pass on Linux pass ({} of them never reported)\n",
        comparison.figure(),
        comparison.unreported().count()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cases: &[(Verdict, &str)]) -> Results {
        Results {
            cases: cases.iter().map(|(v, n)| (*v, n.to_string())).collect(),
            guest_counts: None,
        }
    }

    #[test]
    fn repeated_names_count_per_occurrence() {
        let baseline = Baseline::parse("-b encapsulated\n-b encapsulated\ncat\ncp\n");
        assert_eq!(baseline.total(), 4);
        let results = run(&[
            (Verdict::Pass, "-b encapsulated"),
            (Verdict::Fail, "-b encapsulated"),
            (Verdict::Pass, "cat"),
            (Verdict::Pass, "od -B"),
            (Verdict::Skip, "cp"),
        ]);
        let comparison = compare(&baseline, &results);
        assert_eq!(comparison.figure(), "2 of 4");
        assert_eq!(
            comparison.cases[1],
            Case {
                name: "-b encapsulated".into(),
                verdict: Some(Verdict::Fail)
            }
        );
        assert_eq!(comparison.beyond_baseline, ["od -B"]);
        let failures: Vec<&str> = comparison.failures().map(|c| c.name.as_str()).collect();
        assert_eq!(failures, ["-b encapsulated", "cp"]);
        let text = render("Linux", &comparison, &results, false);
        assert!(text.contains("SKIP: cp\n"));
        assert!(text.ends_with(
            "Linux: 2 of 4 of the cases that pass on Linux pass (0 of them never reported)\n"
        ));
    }

    #[test]
    fn a_case_never_reported_fails() {
        let baseline = Baseline::parse("cat\n");
        let comparison = compare(&baseline, &run(&[]));
        assert_eq!(comparison.figure(), "0 of 1");
        assert!(
            render("Abide", &comparison, &run(&[]), false).contains("FAIL (not reported): cat\n")
        );
    }
}
