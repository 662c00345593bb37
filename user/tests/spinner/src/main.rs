//! Announces itself, then computes forever without a system call: only the
//! timer can take the CPU away from it (preemption tests).
#![no_std]
#![no_main]

use core::hint::black_box;

abide_rt::entry!(main);

fn main() -> i32 {
    abide_rt::println!("spinner: started");
    // A xorshift generator; black_box keeps the loop from being optimized
    // into nothing.
    let mut x: u64 = black_box(abide_splitmix::GAMMA);
    loop {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = black_box(x);
    }
}
