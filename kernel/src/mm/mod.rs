//! Kernel memory: physical frames, the kernel's page tables and the heap.
//!
//! Virtual layout (see docs/boot.md):
//! - `DIRECT_MAP_BASE + phys`: every physical region of the memory map,
//!   read/write, never executable;
//! - `MMIO_BASE..`: device registers, uncached, handed out by [`map_mmio`];
//! - `KERNEL_VMA + phys`: the kernel image, each section with its own rights.
//!
//! The pure logic (bitmap allocator, page-table edits) lives in `abide-mm` and
//! is tested on the host; this module owns the global instances and the glue.

mod address_space;
mod archives;
mod frame_refs;
mod frames;
mod heap;
mod kernel_map;
mod own_pages;
mod page_set;
mod phys;

pub use abide_mm::paging::{MapError, PageFlags};
pub use address_space::{
    make_writable, on_space_ending, prot_flags, space_ending, tables_for_range, write_protect,
    AddressSpace, MAPPING_RECORD_BYTES, SHARED_BASE, SHARED_END, USER_END, USER_START,
};
pub use archives::{archive_bytes, kept as kept_archives};
pub use frames::{
    alloc_frame, alloc_user_frame, free_frame, is_free as frame_is_free, user_memory_available,
    FrameStats,
};
pub use heap::HeapStats;
pub use kernel_map::{map_page, protect_page, translate, unmap_page};
pub use page_set::PageSet;
pub use phys::{phys_to_virt, DirectMap};

use abide_boot::{Cmdline, MemoryMap};

/// Start of the direct map of physical memory (PML4 slot 256).
pub const DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
/// Start of the window for device registers (PML4 slot 384).
pub const MMIO_BASE: u64 = 0xffff_c000_0000_0000;
/// Where the kernel image is linked: `KERNEL_VMA + physical load address`.
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;
/// Kernel addresses free for tests and later mappings (PML4 slot 400).
pub const SCRATCH_BASE: u64 = 0xffff_c800_0000_0000;

/// Why memory could not be set up.
#[derive(Debug)]
pub enum MmError {
    /// No usable region can hold the frame bitmap.
    NoRoomForBitmap,
    /// A page-table edit failed.
    Map(MapError),
    /// Not enough contiguous memory for the initial heap.
    NoHeap,
}

impl core::fmt::Display for MmError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            MmError::NoRoomForBitmap => write!(f, "no usable memory can hold the frame bitmap"),
            MmError::Map(error) => write!(f, "building the kernel page tables: {error}"),
            MmError::NoHeap => write!(f, "not enough contiguous memory for the kernel heap"),
        }
    }
}

impl From<MapError> for MmError {
    fn from(error: MapError) -> Self {
        MmError::Map(error)
    }
}

/// Sets up the frame allocator from the memory map (keeping out the
/// archives `cmdline` names), switches to the kernel's own page tables, and
/// starts the heap.
pub fn init(memory: &MemoryMap, cmdline: &Cmdline) -> Result<(), MmError> {
    frames::init(memory, cmdline)?;
    kernel_map::init(memory)?;
    heap::init()?;
    Ok(())
}

/// Maps `len` bytes of device registers at physical `phys` uncached and
/// returns the virtual address of `phys`.
pub fn map_mmio(phys: u64, len: u64) -> Result<u64, MapError> {
    kernel_map::map_mmio(phys, len)
}

/// Frame and heap figures, for `mem` and tests.
pub fn stats() -> (FrameStats, HeapStats) {
    (frames::stats(), heap::stats())
}

/// True when the kernel heap holds one free run of `bytes` (growing it, if
/// it must, without touching the kernel's reserve of frames): the
/// system-call gate's check before a call that may allocate.
pub fn heap_has_free_run(bytes: usize) -> bool {
    heap::has_free_run(bytes)
}

/// Allocates `count` physically contiguous frames, page-aligned, and returns
/// the physical address of the first (for device DMA, see `disk`). Free
/// them one by one with [`free_frame`].
pub fn alloc_contiguous_frames(count: usize) -> Option<u64> {
    frames::alloc_contiguous(count, abide_mm::PAGE_SIZE)
}
