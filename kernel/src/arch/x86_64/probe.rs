//! Memory accesses that may fault, and report instead of crashing.
//!
//! Each probe is a tiny assembly routine whose one memory access is listed in
//! a fixup table. When that access faults, the exception handler (see
//! `exceptions`) records the fault and resumes after the access with a failure
//! flag, the way Linux's exception tables work. Backtraces use these to walk
//! frame pointers they cannot trust, and kernel tests use them to provoke page
//! faults on purpose; later the user-copy routines will work the same way.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, Ordering};

use abide_abi::syscall::Error;

use super::context::USER_END;
use super::exceptions::FaultReport;

global_asm!(
    r#"
    .section .text.probe, "ax"
    .global abide_probe_read_u64
abide_probe_read_u64:
    xor %edx, %edx
    .global abide_probe_read_u64_access
abide_probe_read_u64_access:
    mov (%rdi), %rax
    .global abide_probe_read_u64_resume
abide_probe_read_u64_resume:
    ret

    .global abide_probe_write_u64
abide_probe_write_u64:
    xor %edx, %edx
    xor %eax, %eax
    .global abide_probe_write_u64_access
abide_probe_write_u64_access:
    mov %rsi, (%rdi)
    .global abide_probe_write_u64_resume
abide_probe_write_u64_resume:
    ret

    /* abide_user_copy(dst, src, len) -> bytes not copied */
    .global abide_user_copy
abide_user_copy:
    mov %rdx, %rcx
    .global abide_user_copy_access
abide_user_copy_access:
    rep movsb
    .global abide_user_copy_resume
abide_user_copy_resume:
    mov %rcx, %rax
    ret
"#,
    options(att_syntax)
);

/// Returned in RAX:RDX by the probe routines.
#[repr(C)]
struct ProbeResult {
    value: u64,
    faulted: u64,
}

extern "C" {
    fn abide_probe_read_u64(addr: u64) -> ProbeResult;
    fn abide_probe_write_u64(addr: u64, value: u64) -> ProbeResult;
    fn abide_user_copy(dst: *mut u8, src: *const u8, len: usize) -> usize;
    static abide_user_copy_access: u8;
    static abide_user_copy_resume: u8;
    static abide_probe_read_u64_access: u8;
    static abide_probe_read_u64_resume: u8;
    static abide_probe_write_u64_access: u8;
    static abide_probe_write_u64_resume: u8;
}

/// The last fault a probe absorbed: vector, error code, rip, cr2.
static LAST_FAULT: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// If `rip` is a probe's access, the address to resume at.
pub(super) fn fixup_for(rip: u64) -> Option<u64> {
    let table = [
        (
            core::ptr::addr_of!(abide_probe_read_u64_access) as u64,
            core::ptr::addr_of!(abide_probe_read_u64_resume) as u64,
        ),
        (
            core::ptr::addr_of!(abide_probe_write_u64_access) as u64,
            core::ptr::addr_of!(abide_probe_write_u64_resume) as u64,
        ),
        (
            core::ptr::addr_of!(abide_user_copy_access) as u64,
            core::ptr::addr_of!(abide_user_copy_resume) as u64,
        ),
    ];
    table
        .iter()
        .find(|(access, _)| *access == rip)
        .map(|(_, resume)| *resume)
}

/// Called by the exception handler when it applies a fixup.
pub(super) fn record_fault(report: &FaultReport) {
    LAST_FAULT[0].store(report.vector as u64, Ordering::Relaxed);
    LAST_FAULT[1].store(report.error_code, Ordering::Relaxed);
    LAST_FAULT[2].store(report.rip, Ordering::Relaxed);
    LAST_FAULT[3].store(report.cr2, Ordering::Relaxed);
}

fn last_fault() -> FaultReport {
    FaultReport {
        vector: LAST_FAULT[0].load(Ordering::Relaxed) as u8,
        error_code: LAST_FAULT[1].load(Ordering::Relaxed),
        rip: LAST_FAULT[2].load(Ordering::Relaxed),
        rsp: 0,
        cr2: LAST_FAULT[3].load(Ordering::Relaxed),
    }
}

/// Reads 8 bytes at `addr`, or reports the fault the read caused.
pub fn read_u64(addr: u64) -> Result<u64, FaultReport> {
    // SAFETY: the routine's only memory access is covered by the fixup table,
    // so a fault resumes it instead of crashing; it follows the C ABI.
    let result = unsafe { abide_probe_read_u64(addr) };
    if result.faulted == 0 {
        Ok(result.value)
    } else {
        Err(last_fault())
    }
}

/// Writes 8 bytes at `addr`, or reports the fault the write caused.
///
/// # Safety
/// A successful write changes memory: the caller must own `addr`.
pub unsafe fn write_u64(addr: u64, value: u64) -> Result<(), FaultReport> {
    // SAFETY: as for `read_u64`; the caller vouches for the write itself.
    let result = unsafe { abide_probe_write_u64(addr, value) };
    if result.faulted == 0 {
        Ok(())
    } else {
        Err(last_fault())
    }
}

/// Checks that `len` bytes at `addr` lie in user space.
fn check_user_range(addr: u64, len: usize) -> Result<(), Error> {
    match addr.checked_add(len as u64) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Error::BadAddress),
    }
}

/// Copies `dst.len()` bytes from user address `src` (in the current address
/// space) into kernel memory. Unmapped or kernel addresses give `BadAddress`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), Error> {
    check_user_range(src, dst.len())?;
    let _access = UserAccess::open();
    // SAFETY: `src` is a user address (checked above; a fault in the copy is
    // caught by the fixup table and reported), `dst` is kernel memory we own.
    let left = unsafe { abide_user_copy(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Error::BadAddress)
    }
}

/// Copies `src` to user address `dst` (in the current address space).
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), Error> {
    check_user_range(dst, src.len())?;
    let _access = UserAccess::open();
    // SAFETY: as for `copy_from_user`, with the directions swapped.
    let left = unsafe { abide_user_copy(dst as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Error::BadAddress)
    }
}

/// While alive, supervisor access to user pages is allowed (SMAP's `stac`);
/// dropping it forbids it again (`clac`).
struct UserAccess;

impl UserAccess {
    fn open() -> Self {
        if super::cpu::smap_enabled() {
            // SAFETY: only sets RFLAGS.AC for the copy that follows.
            unsafe { core::arch::asm!("stac", options(nomem, nostack)) };
        }
        UserAccess
    }
}

impl Drop for UserAccess {
    fn drop(&mut self) {
        if super::cpu::smap_enabled() {
            // SAFETY: clears RFLAGS.AC.
            unsafe { core::arch::asm!("clac", options(nomem, nostack)) };
        }
    }
}
