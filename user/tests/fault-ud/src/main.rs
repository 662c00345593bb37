//! Executes `ud2`: the kernel must end the process with an invalid-opcode
//! fault (and carry on).
#![no_std]
#![no_main]

abide_rt::entry!(main);

fn main() -> i32 {
    abide_rt::println!("fault-ud: executing ud2");
    // SAFETY: deliberately not: ud2 raises #UD.
    unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
    abide_rt::println!("fault-ud: ud2 did not stop the program");
    1
}
