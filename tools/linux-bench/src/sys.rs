//! The few system-level operations the suite needs beyond `std`: the TSC,
//! a raw system call, futexes, mounting `/proc` and powering off.

use std::arch::x86_64::{_mm_lfence, _rdtsc};
use std::ffi::CStr;
use std::io;
use std::sync::atomic::AtomicU32;

/// The TSC, fenced on both sides like Abide's `bench` reads it: `lfence`
/// before waits for every earlier instruction, `lfence` after keeps later
/// ones from starting first.
#[inline(always)]
pub fn tsc() -> u64 {
    // SAFETY: lfence and rdtsc exist on every x86_64 CPU and touch no memory.
    unsafe {
        _mm_lfence();
        let ticks = _rdtsc();
        _mm_lfence();
        ticks
    }
}

/// `getppid` through the `syscall` instruction itself (no C library
/// wrapper): the cheapest Linux system call that does something.
#[inline(always)]
pub fn getppid_raw() -> i64 {
    let ret: i64;
    // SAFETY: getppid takes no arguments, touches no user memory and cannot
    // fail; `syscall` clobbers rcx and r11.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") libc::SYS_getppid => ret,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Sleeps while `word` holds `expected` (or until a wake-up; the caller
/// checks the word again).
pub fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: the pointer is valid for the call; a private futex on our
    // own memory. EAGAIN (the word changed) and EINTR are fine: the caller
    // loops.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

/// Wakes one waiter on `word`.
pub fn futex_wake(word: &AtomicU32) {
    // SAFETY: as for futex_wait.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

/// One word for a `bench: failed` reason: `<call>:<errno>`.
pub fn os_error(call: &str) -> String {
    format!(
        "{call}:errno{}",
        io::Error::last_os_error().raw_os_error().unwrap_or(0)
    )
}

/// Mounts procfs on `/proc` (the initramfs has the directory).
pub fn mount_proc() -> Result<(), String> {
    let c = |s: &'static CStr| s.as_ptr();
    // SAFETY: all pointers are NUL-terminated strings; no data argument.
    let status = unsafe { libc::mount(c(c"proc"), c(c"/proc"), c(c"proc"), 0, std::ptr::null()) };
    if status == 0 {
        Ok(())
    } else {
        Err(os_error("mount-proc"))
    }
}

/// Powers the machine off (QEMU exits with status 0). Never returns; if the
/// call fails, there is nothing left to do but wait for the host's timeout.
pub fn power_off() -> ! {
    // SAFETY: sync and reboot take no pointers; as PID 1 we may reboot.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF);
    }
    eprintln!("linux-bench: power-off failed: {}", os_error("reboot"));
    loop {
        std::thread::park();
    }
}
