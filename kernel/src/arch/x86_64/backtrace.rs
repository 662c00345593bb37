//! Backtraces by frame-pointer walking, with names from the embedded symbol
//! table. The kernel is built with frame pointers; every read of the chain goes
//! through a probe, so a corrupt chain ends the backtrace, not the report.

use core::fmt::Write;

use super::probe;
use super::upcalls;

const MAX_FRAMES: usize = 32;
const KERNEL_SPACE: u64 = 0xffff_8000_0000_0000;

/// Prints `rip` and the return addresses found from frame pointer `rbp`.
pub fn print(out: &mut impl Write, rip: u64, rbp: u64) {
    let _ = writeln!(out, "{}", abide_abi::host::BACKTRACE_HEADING);
    print_frame(out, 0, rip);
    let mut frame = rbp;
    for depth in 1..MAX_FRAMES {
        if frame < KERNEL_SPACE || !frame.is_multiple_of(8) {
            break;
        }
        let (Ok(next), Ok(ret)) = (probe::read_u64(frame), probe::read_u64(frame + 8)) else {
            let _ = writeln!(out, "  (frame chain unreadable at {frame:#x})");
            break;
        };
        if ret == 0 {
            break;
        }
        // Return addresses point after the call; look up the call itself.
        print_frame(out, depth, ret.wrapping_sub(1));
        if next <= frame {
            break;
        }
        frame = next;
    }
}

fn print_frame(out: &mut impl Write, depth: usize, addr: u64) {
    match upcalls::symbol(addr) {
        Some((name, offset)) => {
            let _ = writeln!(out, "  {depth:2}: {addr:#018x} {name}+{offset:#x}");
        }
        None => {
            let _ = writeln!(out, "  {depth:2}: {addr:#018x} <unknown>");
        }
    }
}

/// Prints a backtrace of the caller.
#[inline(never)]
pub fn print_here(out: &mut impl Write) {
    let rbp = super::cpu::frame_pointer();
    print(out, super::cpu::instruction_pointer(), rbp);
}
