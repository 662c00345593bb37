//! System calls: decode the call in the saved registers, check every argument,
//! do the work, and put the result back (`rax` status, `rdx` value) — or end
//! or switch the calling thread.
//!
//! Nothing a process passes is trusted: pointers and lengths are checked to
//! lie in user space and copied with fault-tolerant routines, unknown calls
//! and bad arguments return errors, and no path panics.

use abide_abi::syscall::{Error, Rights, Syscall};
use alloc::vec;

use crate::arch::context::FpuState;
use crate::arch::idt::TrapFrame;
use crate::arch::probe;
use crate::process::{self, ExitReason, Kernel};
use crate::{console, sched, time};

/// The most bytes one `debug_write` may pass.
pub const MAX_DEBUG_WRITE: u64 = 4096;

/// What the dispatcher does after a call.
enum Outcome {
    /// Resume the caller with this result.
    Return(Result<u64, Error>),
    /// Resume the caller with 0 later, after others had their turn.
    Yield,
    /// The caller's process is gone; run someone else.
    Ended,
}

/// Entry from `interrupt_dispatch` for the `syscall` instruction.
pub fn handle(frame: &mut TrapFrame, fpu: &mut FpuState) {
    process::with_kernel(|kernel| {
        let args = [
            frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
        ];
        let outcome = match Syscall::from_number(frame.rax) {
            Some(call) => dispatch(kernel, call, args),
            None => Outcome::Return(Err(Error::BadSyscall)),
        };
        match outcome {
            Outcome::Return(result) => set_result(frame, result),
            Outcome::Yield => {
                set_result(frame, Ok(0));
                sched::switch(kernel, frame, fpu, true);
            }
            Outcome::Ended => sched::switch(kernel, frame, fpu, false),
        }
    });
}

fn set_result(frame: &mut TrapFrame, result: Result<u64, Error>) {
    match result {
        Ok(value) => {
            frame.rax = 0;
            frame.rdx = value;
        }
        Err(error) => {
            frame.rax = error as u64;
            frame.rdx = 0;
        }
    }
}

fn dispatch(kernel: &mut Kernel, call: Syscall, args: [u64; 6]) -> Outcome {
    match call {
        Syscall::DebugWrite => Outcome::Return(debug_write(args[0], args[1])),
        Syscall::Exit => {
            if let Some(process) = process::current_process(kernel) {
                process::end_process(kernel, process, ExitReason::Exited(args[0] as i32));
            }
            Outcome::Ended
        }
        Syscall::Yield => Outcome::Yield,
        Syscall::Clock => Outcome::Return(Ok(time::now_ns())),
        Syscall::HandleClose => Outcome::Return(handle_close(kernel, args[0])),
        Syscall::HandleDuplicate => Outcome::Return(handle_duplicate(kernel, args[0], args[1])),
        Syscall::HandleRevoke => Outcome::Return(handle_revoke(kernel, args[0])),
    }
}

fn handle_close(kernel: &mut Kernel, handle: u64) -> Result<u64, Error> {
    let table = process::current_table(kernel).ok_or(Error::BadHandle)?;
    kernel.caps.close(table, process::handle_arg(handle)?)?;
    Ok(0)
}

fn handle_duplicate(kernel: &mut Kernel, handle: u64, rights: u64) -> Result<u64, Error> {
    let table = process::current_table(kernel).ok_or(Error::BadHandle)?;
    let rights = u32::try_from(rights)
        .ok()
        .filter(|r| Rights::ALL.contains(Rights(*r)))
        .ok_or(Error::InvalidArgument)?;
    let duplicate = kernel
        .caps
        .duplicate(table, process::handle_arg(handle)?, Rights(rights))?;
    Ok(duplicate.0 as u64)
}

fn handle_revoke(kernel: &mut Kernel, handle: u64) -> Result<u64, Error> {
    let table = process::current_table(kernel).ok_or(Error::BadHandle)?;
    let removed = kernel.caps.revoke(table, process::handle_arg(handle)?)?;
    Ok(removed.len() as u64)
}

fn debug_write(ptr: u64, len: u64) -> Result<u64, Error> {
    if len > MAX_DEBUG_WRITE {
        return Err(Error::InvalidArgument);
    }
    let mut buffer = vec![0u8; len as usize];
    probe::copy_from_user(&mut buffer, ptr)?;
    console::write_bytes(&buffer);
    Ok(len)
}
