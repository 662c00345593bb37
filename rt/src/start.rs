//! The ELF entry point.
//!
//! The kernel starts a program at `_start` (the ELF entry, see `user/user.ld`)
//! with a stack and nothing else promised: `rsp` need not be aligned, and no
//! return address is pushed. `_start` clears `rbp` (the end of the frame-pointer
//! chain for backtraces), aligns `rsp` to 16 as the System V ABI wants before a
//! call, and calls [`abide_rt_start`], which never returns. The registers the
//! kernel passes (`rdi`, `rsi`, `rdx`, ...) reach `abide_rt_start` untouched:
//! `rdi` holds the handle to the program's own process ([`process_self`]),
//! `rsi` the number of handles its parent passed ([`startup_handle`]).

use core::sync::atomic::{AtomicU32, Ordering};

use abide_abi::object::FIRST_STARTUP_HANDLE;
use abide_abi::syscall::Handle;

use crate::syscall;

core::arch::global_asm!(
    ".pushsection .text._start, \"ax\", @progbits",
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {start}",
    // abide_rt_start never returns; if it did, fault rather than run on.
    "    ud2",
    ".size _start, . - _start",
    ".popsection",
    start = sym abide_rt_start,
);

/// The handle to this process the kernel passed at start.
static SELF_HANDLE: AtomicU32 = AtomicU32::new(0);

/// How many startup handles the kernel passed.
static STARTUP_HANDLES: AtomicU32 = AtomicU32::new(0);

/// A handle to this program's own process (all rights), as the kernel gave it.
pub fn process_self() -> Handle {
    Handle(SELF_HANDLE.load(Ordering::Relaxed))
}

/// Startup handle `index`: the handles the parent passed to `process_spawn`,
/// in its order (a program started by the kernel gets the hardware resource
/// as handle 0). `None` past the last.
pub fn startup_handle(index: u32) -> Option<Handle> {
    (index < STARTUP_HANDLES.load(Ordering::Relaxed)).then(|| Handle(FIRST_STARTUP_HANDLE + index))
}

/// How many startup handles this program got.
pub fn startup_handle_count() -> u32 {
    STARTUP_HANDLES.load(Ordering::Relaxed)
}

/// Runs the program's `main` (see [`crate::entry!`]) and exits with its value.
extern "C" fn abide_rt_start(self_handle: u64, startup_handles: u64) -> ! {
    // Handles are 32-bit; the kernel never passes anything wider.
    SELF_HANDLE.store(self_handle as u32, Ordering::Relaxed);
    let count = u32::try_from(startup_handles).unwrap_or(0);
    STARTUP_HANDLES.store(count, Ordering::Relaxed);
    unsafe extern "Rust" {
        /// Defined by the program through `abide_rt::entry!`.
        fn __abide_rt_main() -> i32;
    }
    // SAFETY: `entry!` defines the symbol as a plain `fn() -> i32`.
    let code = unsafe { __abide_rt_main() };
    syscall::exit(code)
}
