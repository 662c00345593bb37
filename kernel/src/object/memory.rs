//! Memory objects: pages that can be mapped into address spaces, shared
//! between processes for zero-copy data, or device memory (MMIO) for drivers.
//!
//! RAM pages are charged to the process that created the object, against its
//! memory limit, for as long as they exist: when the last handle closes
//! while a mapping still holds them, the charge stays until they are freed
//! (see `process::account::Lingering`). If the creator ends first, its
//! parent is charged instead.

use alloc::sync::Arc;

use super::{account, Kernel, ObjectId};
use crate::mm::PageSet;
use crate::process::account::Lingering;

/// A memory object: its pages, shared with every mapping of it.
pub struct Memory {
    pub pages: Arc<PageSet>,
    /// The process charged for the pages, and how many (0 for device memory).
    pub charged_to: ObjectId,
    pub charged_pages: u64,
}

/// The last handle to a memory object is gone: its creator gets its pages
/// back (if it still runs).
pub fn close(kernel: &mut Kernel, memory: &Memory) {
    if memory.charged_pages == 0 {
        return;
    }
    if Arc::strong_count(&memory.pages) > 1 {
        // Mapped somewhere (or being saved by a checkpoint): charged until
        // the pages go. Should the kernel heap not hold even this note, the
        // pages are refunded at once.
        if kernel.lingering.try_reserve(1).is_ok() {
            kernel.lingering.push(Lingering {
                pages: Arc::downgrade(&memory.pages),
                owner: memory.charged_to,
                count: memory.charged_pages,
            });
            return;
        }
    }
    account::uncharge_pages(kernel, memory.charged_to, memory.charged_pages);
}
