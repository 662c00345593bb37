//! Memory objects: pages that can be mapped into address spaces, shared
//! between processes for zero-copy data, or device memory (MMIO) for drivers.
//!
//! RAM pages are charged to the process that created the object, against its
//! memory limit, until the object goes (when its last handle closes; pages
//! still mapped somewhere stay until unmapped, uncharged).

use alloc::sync::Arc;

use super::{Kernel, ObjectId};
use crate::mm::PageSet;

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
    if let Some(process) = kernel.objects.process_mut(memory.charged_to) {
        process.memory_pages = process.memory_pages.saturating_sub(memory.charged_pages);
    }
}
