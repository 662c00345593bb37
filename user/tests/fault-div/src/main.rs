//! Divides by zero with the `div` instruction (Rust's `/` would check and
//! panic instead): the kernel must end the process with a divide error (and
//! carry on).
#![no_std]
#![no_main]

use core::hint::black_box;

abide_rt::entry!(main);

fn main() -> i32 {
    abide_rt::println!("fault-div: dividing by zero");
    let divisor: u64 = black_box(0);
    let quotient: u64;
    // SAFETY: deliberately not: div by zero raises #DE.
    unsafe {
        core::arch::asm!(
            "div {divisor}",
            divisor = in(reg) divisor,
            inlateout("rax") 1u64 => quotient,
            inlateout("rdx") 0u64 => _,
            options(nomem, nostack),
        );
    }
    abide_rt::println!("fault-div: got {quotient} and was not stopped");
    1
}
