//! The benchmark suite: what the `bench` and `bench-quick` programs run, and
//! the protocol `bench-peer` speaks.
//!
//! The first line (`bench: start entry=... now=...`) gives the TSC when the
//! suite started and when it printed that line, so the host can time the
//! boot to the first user instruction. Every figure is measured with the TSC
//! ([`tsc::now`]), one sample per iteration, after a short warm-up; the
//! suite prints one line per benchmark
//! in the format of `abide_benchfmt` (`bench: result name=...
//! iterations=... median=... p99=...`), and `bench: done` at the end. A
//! benchmark that fails prints `bench: failed name=... reason=...` and the
//! program exits 1; the others still run. docs/perf.md says what each figure
//! measures.
#![no_std]

extern crate alloc;

pub mod protocol;
mod suite;
pub mod tsc;

pub use suite::run;
