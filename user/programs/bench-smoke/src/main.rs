//! The benchmark suite with `abide_abi::host::bench::SMOKE_ITERATIONS`
//! iterations: the system test (`tests/bench.rs`) checks that every report
//! line appears and parses, without waiting for a real run.
#![no_std]
#![no_main]

abide_rt::entry!(main);

fn main() -> i32 {
    bench::run(abide_abi::host::bench::SMOKE_ITERATIONS)
}
