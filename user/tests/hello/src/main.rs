//! The first user program: prints a greeting and exits 0.
#![no_std]
#![no_main]

abide_rt::entry!(main);

fn main() -> i32 {
    abide_rt::println!("hello from user space");
    0
}
