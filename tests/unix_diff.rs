//! The differential suite: each script of `tests/unix/*.sh` runs on the
//! Linux peer and on Abide's Unix personality with the same busybox; its
//! standard output and exit status must be the same on both. Every script
//! must run to its end on Linux; on Abide, at least as many must behave the
//! same as docs/unix.md records (`Differential floor: N of M`).
//!
//! Needs what `abide bench` needs for its Linux peer. It never skips.
//!
//! Drives: `user/services/unix` with Debian's static busybox, and the Linux
//! peer. Code: `tools/abide/src/conformance/diff.rs`.

mod support;

use std::time::Duration;

use abide_tool::conformance::diff::{compare, run_scripts, script_names};
use abide_tool::conformance::run::Machine;
use abide_tool::conformance::{floor, System, DIFF_FLOOR};
use support::*;

/// All the scripts on one system under TCG (about a minute on Linux,
/// more than eight on Abide on a loaded machine, 2026-12-07); an overrun
/// fails with the last lines printed.
const SCRIPTS: Duration = Duration::from_secs(20 * 60);

#[test]
fn scripts_behave_the_same_on_abide_and_linux() {
    let names = step(script_names());
    let (floor, recorded) = step(floor(DIFF_FLOOR));
    assert_eq!(
        recorded,
        names.len(),
        "docs/unix.md records a floor out of {recorded} scripts; tests/unix has {}",
        names.len()
    );
    let (_, linux) = step(run_scripts(
        System::Linux,
        Machine::default(),
        SCRIPTS,
        &mut |_| {},
    ));
    let missing: Vec<&String> = names.iter().filter(|n| !linux.contains_key(*n)).collect();
    assert!(
        missing.is_empty(),
        "scripts that did not finish on Linux: {missing:?}"
    );
    let abide = match run_scripts(System::Abide, Machine::default(), SCRIPTS, &mut |_| {}) {
        Ok((_, found)) => found,
        Err(e) => panic!("the scripts did not run on Abide: {e}"),
    };
    let verdicts = compare(&names, &linux, &abide);
    let same = verdicts.iter().filter(|v| v.same()).count();
    println!("{same} of {} scripts behave the same", names.len());
    let differing: Vec<String> = verdicts
        .iter()
        .filter(|v| !v.same())
        .map(|v| format!("{}: {}", v.name, v.explain()))
        .collect();
    assert!(
        same >= floor,
        "{same} of {} scripts behave the same, fewer than the floor of {floor}:\n{}",
        names.len(),
        differing.join("\n")
    );
}
