//! `abide conformance`: how compatible the Unix personality is, measured
//! against code nobody here wrote (issue 15, docs/unix.md "Compatibility").
//!
//! - busybox's own test suite, read from `../shared/conformance` at run
//!   time, in the layout its README describes: [`run_suite`] runs it on
//!   Abide, or on the Linux peer with `--linux`, and compares the result
//!   with the 469 cases that pass on Linux ("N of 469").
//! - The differential suite, `tests/unix/*.sh` ([`diff`]): each script on
//!   both systems, with the same busybox; stdout and exit status must be
//!   the same.
//!
//! Modules: [`layout`] the file tree, [`guest`] the scripts that run in the
//! guest and their markers, [`run`] boots a guest and reads its console,
//! [`parse`] reads the result lines, [`report`] compares them with the
//! baseline and prints them.

pub mod command;
pub mod diff;
pub mod guest;
pub mod layout;
pub mod parse;
pub mod report;
pub mod run;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use crate::build::repo_root;
use parse::Results;
use report::{Baseline, Comparison};
use run::{GuestOutput, Machine};

/// Which system runs the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Abide,
    Linux,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Abide => "Abide",
            System::Linux => "Linux",
        }
    }
}

/// `../shared/conformance`, beside the repository.
pub fn shared_dir() -> PathBuf {
    repo_root().join("..").join("shared").join("conformance")
}

/// The test suite's folder in it.
pub fn testsuite_dir() -> PathBuf {
    shared_dir().join("busybox-1.35.0")
}

/// The list of the cases that pass on Linux.
pub fn baseline_path() -> PathBuf {
    shared_dir().join("busybox-1.35.0-linux-pass.txt")
}

/// The README's APPLETS: every `*.tests` name without `.tests`, and every
/// old-style folder name, in name order. An applet with both is named
/// twice, so `runtest` runs its cases twice: the baseline was taken so.
pub fn suite_applets() -> Result<Vec<String>, String> {
    let dir = testsuite_dir();
    run::require(&dir, "the busybox test suite")?;
    let mut applets = Vec::new();
    for entry in fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            applets.push(name);
        } else if let Some(applet) = name.strip_suffix(".tests") {
            applets.push(applet.to_string());
        }
    }
    applets.sort();
    Ok(applets)
}

/// Applets whose cases are too slow under TCG for `cargo test`'s budget,
/// so the system tests leave them out (`abide conformance` still runs
/// them): `bc`, whose cases "bc parsing of numbers" and "bc printing of
/// numbers" print and read back millions of numbers and take the better
/// part of an hour under TCG (docs/unix.md, "Compatibility").
pub const SLOW_UNDER_TCG: &[&str] = &["bc"];

/// The README's APPLETS without [`SLOW_UNDER_TCG`]: what the system tests run.
pub fn test_applets() -> Result<Vec<String>, String> {
    let mut applets = suite_applets()?;
    applets.retain(|a| !SLOW_UNDER_TCG.contains(&a.as_str()));
    Ok(applets)
}

/// How to run the suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteOptions {
    pub system: System,
    /// Only these applets (the README's list when empty).
    pub applets: Vec<String>,
    pub machine: Machine,
    pub timeout: Duration,
}

/// One run of the suite.
#[derive(Debug, Clone)]
pub struct SuiteRun {
    pub guest: GuestOutput,
    pub results: Results,
    pub comparison: Comparison,
    /// Whether the run was limited to some applets (the figure then counts
    /// the other cases as not passed).
    pub partial: bool,
}

/// Runs busybox's test suite on `options.system` and compares it with the
/// Linux baseline. `on_line` gets the console's lines as they arrive.
/// Err when the suite could not run to its end or its output did not reach
/// the host intact.
pub fn run_suite(
    options: &SuiteOptions,
    on_line: &mut dyn FnMut(&str),
) -> Result<SuiteRun, String> {
    let baseline_file = baseline_path();
    run::require(&baseline_file, "the Linux baseline")?;
    let baseline = Baseline::parse(
        &fs::read_to_string(&baseline_file)
            .map_err(|e| format!("cannot read {}: {e}", baseline_file.display()))?,
    );
    let all = suite_applets()?;
    let partial = !options.applets.is_empty();
    let applets = if partial {
        options.applets.clone()
    } else {
        all
    };
    let busybox = run::busybox()?;
    let driver = guest::suite_driver(&applets);
    let driver_path = format!("/suite/{}", guest::DRIVER_NAME);
    let guest = match options.system {
        System::Linux => {
            let mut tree = layout::system_part(&busybox, &layout::applets(&busybox)?);
            tree.append(layout::suite_part(
                "suite",
                &busybox,
                &testsuite_dir(),
                &driver,
            )?);
            run::linux_peer(
                "suite",
                tree,
                &driver_path,
                guest::END,
                options.machine,
                options.timeout,
                on_line,
            )?
        }
        System::Abide => {
            let tree = layout::suite_part("", &busybox, &testsuite_dir(), &driver)?;
            let add = run::stage("suite", &tree, "/suite")?;
            run::abide(
                &[add],
                &format!("sh -c 'sh {driver_path}'"),
                guest::BEGIN,
                guest::END,
                options.machine,
                options.timeout,
                on_line,
            )?
        }
    };
    let results = parse::results(&guest.text)?;
    results.check_integrity()?;
    let comparison = report::compare(&baseline, &results);
    Ok(SuiteRun {
        guest,
        results,
        comparison,
        partial,
    })
}

/// docs/unix.md, where the floors are recorded.
pub fn unix_doc() -> PathBuf {
    repo_root().join("docs").join("unix.md")
}

/// The number on the line `LABEL: N of M` of `text` (docs/unix.md).
pub fn recorded_floor(text: &str, label: &str) -> Option<(usize, usize)> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(label)?.strip_prefix(':')?;
        let (n, m) = rest.trim().trim_end_matches('.').split_once(" of ")?;
        Some((n.trim().parse().ok()?, m.trim().parse().ok()?))
    })
}

/// The label of the busybox suite's floor in docs/unix.md.
pub const SUITE_FLOOR: &str = "Conformance floor";
/// The label of the differential suite's floor in docs/unix.md.
pub const DIFF_FLOOR: &str = "Differential floor";

/// The floor recorded under `label` in docs/unix.md.
pub fn floor(label: &str) -> Result<(usize, usize), String> {
    let path = unix_doc();
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    recorded_floor(&text, label)
        .ok_or_else(|| format!("{} has no line `{label}: N of M`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_line_is_read() {
        let doc = "# Unix\n\nConformance floor: 12 of 469\nDifferential floor: 3 of 20.\n";
        assert_eq!(recorded_floor(doc, SUITE_FLOOR), Some((12, 469)));
        assert_eq!(recorded_floor(doc, DIFF_FLOOR), Some((3, 20)));
        assert_eq!(
            recorded_floor("Conformance floor: many\n", SUITE_FLOOR),
            None
        );
    }

    #[test]
    fn the_applets_are_the_readmes() {
        let applets = suite_applets().unwrap();
        // 33 `.tests` files and 41 folders; cut, gunzip, tail and xargs
        // have both, so they are named twice and their cases run twice, as
        // in the baseline (which lists `xargs-works` twice).
        assert_eq!(applets.len(), 33 + 41, "{applets:?}");
        assert_eq!(applets.iter().filter(|a| *a == "xargs").count(), 2);
        assert!(applets.contains(&"ash".to_string()) && applets.contains(&"tar".to_string()));
        let tested = test_applets().unwrap();
        assert_eq!(tested.len(), applets.len() - SLOW_UNDER_TCG.len());
        assert!(!tested.contains(&"bc".to_string()));
    }
}
