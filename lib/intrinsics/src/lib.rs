//! `memcpy`, `memmove`, `memset`, `memcmp` and `bcmp` for Abide's freestanding
//! binaries. The compiler emits calls to these, and for the host target they
//! normally come from the C library, which neither the kernel nor user
//! programs link. `rep movsb`/`rep stosb` are fast on every CPU with ERMSB and
//! need no SSE.
//!
//! Both the kernel and `rt` link this crate (`use abide_intrinsics as _;`).
//! In host tests the functions keep their Rust names, so they do not replace
//! the C library's while being tested against it.
#![cfg_attr(not(test), no_std)]

use core::arch::asm;

/// # Safety
/// Standard C `memcpy` contract: valid, non-overlapping ranges.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges are valid for `n` bytes.
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _,
             options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
/// Standard C `memmove` contract: valid ranges, which may overlap.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) <= (src as usize) || (dest as usize) >= (src as usize).wrapping_add(n) {
        // SAFETY: forward copy is correct when dest does not start inside src.
        return unsafe { memcpy(dest, src, n) };
    }
    // SAFETY: copy backwards (direction flag set, then cleared again as the
    // ABI requires) so overlapping bytes are read before they are written.
    unsafe {
        asm!("std", "rep movsb", "cld",
             inout("rcx") n => _,
             inout("rdi") dest.add(n - 1) => _,
             inout("rsi") src.add(n - 1) => _,
             options(nostack));
    }
    dest
}

/// # Safety
/// Standard C `memset` contract: a valid range.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range is valid for `n` bytes.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") value as u8,
             options(nostack, preserves_flags));
    }
    dest
}

/// # Safety
/// Standard C `memcmp` contract: valid ranges.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges are valid for `n` bytes.
        // Volatile reads keep LLVM from turning this loop into a call to
        // `memcmp` itself.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}

/// # Safety
/// Standard C `bcmp` contract: valid ranges.
#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_set_and_compare() {
        let src: Vec<u8> = (0..=255).collect();
        let mut dst = vec![0u8; 256];
        // SAFETY: both buffers hold 256 bytes.
        unsafe {
            memcpy(dst.as_mut_ptr(), src.as_ptr(), 256);
            assert_eq!(dst, src);
            assert_eq!(memcmp(dst.as_ptr(), src.as_ptr(), 256), 0);
            memset(dst.as_mut_ptr().add(10), 0xab, 5);
            assert_eq!(&dst[10..15], &[0xab; 5]);
            assert!(memcmp(dst.as_ptr(), src.as_ptr(), 256) > 0);
            assert!(bcmp(dst.as_ptr(), src.as_ptr(), 256) != 0);
        }
    }

    #[test]
    fn move_handles_overlap_both_ways() {
        for (from, to) in [(0usize, 3usize), (3, 0), (2, 2)] {
            let mut buf: Vec<u8> = (0..32).collect();
            let mut expected = buf.clone();
            expected.copy_within(from..from + 20, to);
            // SAFETY: both ranges lie inside the 32-byte buffer.
            unsafe { memmove(buf.as_mut_ptr().add(to), buf.as_ptr().add(from), 20) };
            assert_eq!(buf, expected, "move {from} -> {to}");
        }
    }
}
