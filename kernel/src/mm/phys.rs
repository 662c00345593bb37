//! Access to physical memory through the direct map.

use core::sync::atomic::{AtomicU64, Ordering};

use super::DIRECT_MAP_BASE;

/// How much physical memory the direct map covers: the boot page tables map
/// the first 4 GiB; the kernel's own tables map every region of the memory map.
static DIRECT_MAP_END: AtomicU64 = AtomicU64::new(4 << 30);

pub(super) fn set_direct_map_end(end: u64) {
    DIRECT_MAP_END.store(end, Ordering::Relaxed);
}

/// The virtual address of physical address `phys` in the direct map.
pub const fn phys_to_virt(phys: u64) -> u64 {
    DIRECT_MAP_BASE + phys
}

/// Reads firmware tables through the direct map, refusing anything outside it.
pub struct DirectMap;

impl abide_boot::PhysMemory for DirectMap {
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
        let Some(end) = phys.checked_add(buf.len() as u64) else {
            return false;
        };
        if end > DIRECT_MAP_END.load(Ordering::Relaxed) {
            return false;
        }
        // SAFETY: the range lies inside the direct map, which maps physical
        // memory read/write for the kernel's whole life; firmware tables are
        // plain memory, and the copy does not outlive this call.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(phys) as *const u8,
                buf.as_mut_ptr(),
                buf.len(),
            );
        }
        true
    }
}
