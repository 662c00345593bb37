//! Exits 0 at once: the child `bench` spawns to time process creation.
#![no_std]
#![no_main]

abide_rt::entry!(main);

fn main() -> i32 {
    0
}
