//! System calls: the raw instruction and safe, typed wrappers.
//!
//! The convention (`abide_abi::syscall`): the call number in `rax`, arguments
//! in `rdi, rsi, rdx, r10, r8, r9`; on return `rax` holds the status (0 or an
//! [`Error`] code) and `rdx` the value; `rcx` and `r11` are clobbered (the
//! `syscall` instruction saves the return address and flags there), every
//! other register is preserved.

use core::arch::asm;

use abide_abi::syscall::{decode_result, Error, Handle, Rights, Syscall};

/// Makes system call `n` with six arguments and returns (`rax`, `rdx`): the
/// status and the value.
///
/// # Safety
///
/// The arguments must satisfy call `n`'s contract: pointers and lengths must
/// name memory the call may read or write, and the call must not invalidate
/// memory Rust still uses.
#[inline(always)]
pub unsafe fn syscall6(n: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> (u64, u64) {
    let status: u64;
    let value: u64;
    // SAFETY: the caller upholds the call's contract; the kernel preserves
    // every register but the outputs and rcx/r11, and does not touch the
    // user stack.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n => status,
            in("rdi") a0,
            in("rsi") a1,
            inlateout("rdx") a2 => value,
            in("r10") a3,
            in("r8") a4,
            in("r9") a5,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    (status, value)
}

/// Makes `call` with up to six arguments (the rest zero) and decodes the result.
///
/// # Safety
///
/// As for [`syscall6`].
#[inline(always)]
unsafe fn call(call: Syscall, args: &[u64]) -> Result<u64, Error> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    // SAFETY: forwarded with the caller's guarantees.
    let (status, value) =
        unsafe { syscall6(call as u64, arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)) };
    decode_result(status, value)
}

/// Writes `bytes` to the kernel's debug console.
pub fn debug_write(bytes: &[u8]) -> Result<(), Error> {
    // SAFETY: the kernel only reads `bytes.len()` bytes at `bytes`.
    unsafe {
        call(
            Syscall::DebugWrite,
            &[bytes.as_ptr() as u64, bytes.len() as u64],
        )
    }
    .map(|_| ())
}

/// Ends the process with `code` (sign-extended into `rdi`; the kernel reads
/// the low 32 bits).
pub fn exit(code: i32) -> ! {
    // SAFETY: exit takes no pointers.
    let _ = unsafe { call(Syscall::Exit, &[i64::from(code) as u64]) };
    // Exit does not return. If it ever did, fault instead of running on.
    // SAFETY: ud2 raises #UD; nothing after it runs.
    unsafe { asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Gives the rest of the time slice to another thread.
pub fn yield_now() {
    // SAFETY: yield takes no arguments; it cannot fail.
    let _ = unsafe { call(Syscall::Yield, &[]) };
}

/// Monotonic nanoseconds since boot.
pub fn clock_ns() -> u64 {
    // SAFETY: clock takes no arguments; it cannot fail.
    unsafe { call(Syscall::Clock, &[]) }.unwrap_or(0)
}

/// Closes `handle`.
pub fn handle_close(handle: Handle) -> Result<(), Error> {
    // SAFETY: takes no pointers; a bad handle is an error, not undefined behaviour.
    unsafe { call(Syscall::HandleClose, &[u64::from(handle.0)]) }.map(|_| ())
}

/// A new handle to the object `handle` names, with `rights` (which must be a
/// subset of `handle`'s).
pub fn handle_duplicate(handle: Handle, rights: Rights) -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    let value = unsafe {
        call(
            Syscall::HandleDuplicate,
            &[u64::from(handle.0), u64::from(rights.0)],
        )
    }?;
    // Handles are 32-bit; anything wider is not one.
    u32::try_from(value)
        .map(Handle)
        .map_err(|_| Error::BadHandle)
}

/// Invalidates `handle` and every handle derived from it, in every process.
/// Returns how many handles went away.
pub fn handle_revoke(handle: Handle) -> Result<u64, Error> {
    // SAFETY: takes no pointers.
    unsafe { call(Syscall::HandleRevoke, &[u64::from(handle.0)]) }
}
