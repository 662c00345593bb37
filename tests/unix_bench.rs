//! System test: `tools/linux-bench`, the Linux peer's benchmark program
//! (a static glibc Rust program with threads, futexes, `fork`, pipes and
//! `posix_spawn`), runs unmodified on Abide. It is built as the benchmark
//! builds it (`abide_tool::bench::linux::program`), added to the root tree
//! at `/opt/bench`, and run from the Abide shell with a few iterations; the
//! test checks every report line of `abide_benchfmt::linux::NAMES` is a
//! result and the report ends with `bench: done`, the program exiting 0.
//! `context-switch` needs a `MAP_SHARED` page that stays shared across
//! `fork` (`process_map_memory`), `posix-spawn` glibc's
//! `clone3(CLONE_VM|CLONE_VFORK)`. A correctness check, not a timed one:
//! the figures are `cargo run -- bench`'s (docs/perf.md).
//!
//! Drives: the default system with the root tree (busybox at
//! `/bin/busybox`, which the spawn benchmarks start). Configs:
//! `system/default.conf`.

mod support;

use std::fs;
use std::time::Duration;

use abide_benchfmt::{linux, Record};
use abide_tool::session::{AddSpec, RootTree};
use support::*;

/// Iterations per benchmark: enough for a median, few enough under TCG.
const ITERATIONS: u32 = 20;
/// How long the whole run may take under TCG on a loaded machine: the
/// shell benchmarks alone start `busybox true` 400 times (3 measured rounds
/// of 100 and a warm-up), at up to a second each.
const RUN: Duration = Duration::from_secs(1200);

#[test]
fn linux_bench_runs_unmodified_from_the_shell() {
    let program = step(abide_tool::bench::linux::program());
    let dir = fresh_add_dir("unix-bench");
    fs::copy(&program, dir.join("linux-bench")).expect("copy linux-bench");
    let mut session = boot_to_shell(BootOptions {
        root_tree: RootTree::Required,
        add: vec![AddSpec {
            host: dir.clone(),
            guest: "/opt/bench".to_string(),
        }],
        ..BootOptions::default()
    });
    let before = session.output().len();
    step(session.send(&format!("sh -c \"/opt/bench/linux-bench {ITERATIONS}\"\n")));
    step(session.expect_next("bench: done", RUN));
    step(session.expect_next(host::SHELL_PROMPT, REPLY));
    let output = session.output()[before..].to_string();
    let mut results = Vec::new();
    for line in output.lines() {
        match Record::parse(line) {
            Ok(Some(Record::Result { name, .. })) => results.push(name.to_string()),
            Ok(Some(Record::Failed { name, reason })) => {
                panic!("linux-bench: {name} failed ({reason}):\n{output}")
            }
            _ => {}
        }
    }
    for name in linux::NAMES {
        assert!(
            results.iter().any(|r| r == name),
            "no result for {name}:\n{output}"
        );
    }
    assert!(
        !output.contains("exit status"),
        "linux-bench did not exit 0:\n{output}"
    );
    power_off(&mut session);
    let _ = fs::remove_dir_all(&dir);
}
