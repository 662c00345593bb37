//! Page contents through the direct map: what a checkpoint reads from a
//! user frame and what a restore writes into a new one.

use abide_mm::PAGE_SIZE;
use abide_store::BLOCK_SIZE;

use crate::mm::phys_to_virt;

// The store keeps one page per block.
const _: () = assert!(BLOCK_SIZE as u64 == PAGE_SIZE);

/// Runs `read` on the contents of user frame `frame`.
pub fn with_contents<R>(frame: u64, read: impl FnOnce(&[u8; BLOCK_SIZE]) -> R) -> R {
    // SAFETY: `frame` is a user page of an address space or a page set,
    // which the caller holds under the kernel lock, so it stays allocated;
    // no user thread runs during a checkpoint; the direct map maps all RAM;
    // the reference does not outlive `read`.
    read(unsafe { &*(phys_to_virt(frame) as *const [u8; BLOCK_SIZE]) })
}

/// Copies `page` into frame `frame`.
pub fn fill(frame: u64, page: &[u8; BLOCK_SIZE]) {
    // SAFETY: `frame` was just allocated for this page and nothing else
    // refers to it yet; the direct map maps all RAM.
    unsafe { (phys_to_virt(frame) as *mut [u8; BLOCK_SIZE]).write(*page) }
}
