//! The benchmark suite with `abide_benchfmt::QUICK_ITERATIONS`
//! iterations: `cargo run -- bench --quick`, and the system tests
//! (`tests/bench.rs`, `tests/bench_linux.rs`), which check that every report
//! line appears and parses without waiting for a full run.
#![no_std]
#![no_main]

abide_rt::entry!(main);

fn main() -> i32 {
    bench::run(abide_benchfmt::QUICK_ITERATIONS)
}
