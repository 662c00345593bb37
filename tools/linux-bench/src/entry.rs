//! The ELF entry point: reads the TSC before anything else runs, then
//! continues at the C library's `_start`.
//!
//! "Boot to the first user-space instruction" wants the TSC as early as
//! possible, and the C library runs a good deal before `main` (TLS, IRELATIVE
//! relocations, CPU feature checks). The host tool links this program with
//! `-Wl,--entry=abide_linux_bench_entry`, so the kernel starts it here. A
//! build without that flag (`cargo build` on the host) never runs it, and
//! [`tsc`] says so.

use std::sync::atomic::{AtomicU64, Ordering};

/// The TSC at the entry point; 0 until it has run.
static ENTRY_TSC: AtomicU64 = AtomicU64::new(0);

/// The TSC the entry point read, if it ran.
pub fn tsc() -> Option<u64> {
    Some(ENTRY_TSC.load(Ordering::Relaxed)).filter(|&tsc| tsc != 0)
}

/// The process's first instructions. `rdtsc` writes `rdx`, which holds the
/// function the C library must register with `atexit` (the kernel passes 0;
/// the dynamic loader `_dl_fini`), so it is kept in `r11` meanwhile; `rsp`
/// and every other register reach `_start` as the kernel set them. The store
/// is `rip`-relative, so it works before a static PIE is relocated.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn abide_linux_bench_entry() {
    core::arch::naked_asm!(
        "mov r11, rdx",
        "lfence",
        "rdtsc",
        "lfence",
        "shl rdx, 32",
        "or rax, rdx",
        "mov qword ptr [rip + {tsc}], rax",
        "mov rdx, r11",
        "jmp _start",
        tsc = sym ENTRY_TSC,
    )
}
