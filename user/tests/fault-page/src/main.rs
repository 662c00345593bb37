//! Reads an unmapped user address: the kernel must end the process with a
//! page fault (and carry on).
#![no_std]
#![no_main]

abide_rt::entry!(main);

/// Nothing is mapped here: programs start at 4 MiB and are far smaller.
const UNMAPPED: usize = 0xdead_0000;

fn main() -> i32 {
    abide_rt::println!("fault-page: reading {UNMAPPED:#x}");
    // SAFETY: deliberately not: the read must fault.
    let value = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    abide_rt::println!("fault-page: read {value:#x} and was not stopped");
    1
}
