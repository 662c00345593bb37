//! Memory objects: pages that can be mapped into address spaces, shared
//! between processes for zero-copy data, or device memory (MMIO) for drivers.

use alloc::sync::Arc;

use crate::mm::PageSet;

/// A memory object: its pages, shared with every mapping of it.
pub struct Memory {
    pub pages: Arc<PageSet>,
}
