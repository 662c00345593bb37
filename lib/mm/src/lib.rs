//! Memory-management logic for the kernel, as pure code the host can test.
//!
//! The kernel needs two pieces of bookkeeping that are easy to get subtly wrong:
//! which physical frames are free ([`frames`]) and how the x86_64 page tables map
//! virtual pages to frames ([`paging`]). Both live here, free of hardware access:
//! the frame allocator works on a bitmap slice the kernel hands it, and the page
//! tables are read and written through the [`paging::TableMemory`] trait, which
//! the kernel implements over its direct map and the tests over a vector.
//!
//! Nothing in this crate uses `unsafe`, allocates, or panics on bad input.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod frames;
pub mod paging;

/// Size of a normal (4 KiB) page and of a physical frame.
pub const PAGE_SIZE: u64 = 4096;

/// Size of a large (2 MiB) page, mapped by a page-directory entry.
pub const HUGE_PAGE_SIZE: u64 = 2 * 1024 * 1024;

/// Rounds `value` down to a multiple of `align`, which must be a power of two
/// (any other `align` returns `value` unchanged).
pub const fn align_down(value: u64, align: u64) -> u64 {
    if !align.is_power_of_two() {
        return value;
    }
    value & !(align - 1)
}

/// Rounds `value` up to a multiple of `align`, which must be a power of two.
/// Returns `None` when the result does not fit in a `u64` or `align` is not a
/// power of two.
pub const fn align_up(value: u64, align: u64) -> Option<u64> {
    if !align.is_power_of_two() {
        return None;
    }
    match value.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn align_down_rounds_to_the_multiple_below() {
        assert_eq!(align_down(0, PAGE_SIZE), 0);
        assert_eq!(align_down(4095, PAGE_SIZE), 0);
        assert_eq!(align_down(4096, PAGE_SIZE), 4096);
        assert_eq!(align_down(u64::MAX, PAGE_SIZE), u64::MAX - 4095);
        assert_eq!(align_down(0x20_1234, HUGE_PAGE_SIZE), 0x20_0000);
    }

    #[test]
    fn align_up_rounds_to_the_multiple_above() {
        assert_eq!(align_up(0, PAGE_SIZE), Some(0));
        assert_eq!(align_up(1, PAGE_SIZE), Some(4096));
        assert_eq!(align_up(4096, PAGE_SIZE), Some(4096));
        assert_eq!(align_up(u64::MAX - 4095, PAGE_SIZE), Some(u64::MAX - 4095));
        assert_eq!(align_up(u64::MAX - 4094, PAGE_SIZE), None);
        assert_eq!(align_up(u64::MAX, 1), Some(u64::MAX));
    }

    #[test]
    fn bad_alignments_do_not_panic() {
        assert_eq!(align_down(123, 0), 123);
        assert_eq!(align_down(123, 3), 123);
        assert_eq!(align_up(123, 0), None);
        assert_eq!(align_up(123, 6), None);
    }

    proptest! {
        #[test]
        fn aligned_values_bracket_the_input(value: u64, shift in 0u32..64) {
            let align = 1u64 << shift;
            let down = align_down(value, align);
            prop_assert!(down <= value && value - down < align && down & (align - 1) == 0);
            match align_up(value, align) {
                Some(up) => prop_assert!(up >= value && up - value < align && up & (align - 1) == 0),
                None => prop_assert!(value > down),
            }
        }
    }
}
