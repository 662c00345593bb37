//! Reads a kernel address: the page is present but supervisor-only, so the
//! kernel must end the process with a page fault (and carry on).
#![no_std]
#![no_main]

abide_rt::entry!(main);

/// In the kernel's direct map of physical memory: always present, supervisor-only.
const KERNEL_ADDRESS: usize = 0xffff_8000_0010_0000;

fn main() -> i32 {
    abide_rt::println!("fault-kernel-read: reading {KERNEL_ADDRESS:#x}");
    // SAFETY: deliberately not: the read must fault.
    let value = unsafe { core::ptr::read_volatile(KERNEL_ADDRESS as *const u64) };
    abide_rt::println!("fault-kernel-read: read {value:#x} and was not stopped");
    1
}
