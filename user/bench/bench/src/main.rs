//! The benchmark suite (`cargo run -- bench` boots with `init=bench`): every
//! benchmark with `abide_benchfmt::ITERATIONS` iterations. The suite
//! itself is this package's library.
#![no_std]
#![no_main]

abide_rt::entry!(main);

fn main() -> i32 {
    bench::run(abide_benchfmt::ITERATIONS)
}
