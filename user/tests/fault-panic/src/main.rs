//! Panics: the runtime's panic handler prints `panic: deliberate user panic
//! at <file>:<line>` and exits with code 101.
#![no_std]
#![no_main]

abide_rt::entry!(main);

fn main() -> i32 {
    panic!("deliberate user panic")
}
