//! The global physical frame allocator: `abide_mm::frames::FrameAllocator`
//! over a bitmap placed in usable memory at boot.

use core::sync::atomic::{AtomicU64, Ordering};

use abide_boot::{Cmdline, MemoryMap};
use abide_mm::frames::FrameAllocator;
use abide_mm::PAGE_SIZE;

use super::{phys_to_virt, MmError, KERNEL_VMA};
use crate::sync::IrqSpinLock;

static FRAMES: IrqSpinLock<Option<FrameAllocator<'static>>> = IrqSpinLock::new(None);
/// Usable RAM according to the memory map.
static USABLE_BYTES: AtomicU64 = AtomicU64::new(0);

/// The bitmap must lie in memory the boot page tables already map.
const BOOT_MAPPED_LIMIT: u64 = 4 << 30;
/// Low memory holds firmware data and is never handed out.
const LOW_MEMORY_END: u64 = 0x10_0000;

extern "C" {
    static __boot_start: u8;
    static __kernel_virt_end: u8;
}

/// Physical range of the kernel image, boot code included.
pub(super) fn kernel_image_phys() -> (u64, u64) {
    let start = core::ptr::addr_of!(__boot_start) as u64;
    let end = core::ptr::addr_of!(__kernel_virt_end) as u64 - KERNEL_VMA;
    (start, end)
}

pub(super) fn init(memory: &MemoryMap, cmdline: &Cmdline) -> Result<(), MmError> {
    let limit = memory.max_usable_end();
    let words = FrameAllocator::words_needed(limit);
    let bytes = (words * 8) as u64;
    // The bitmap must lie where the boot tables already map.
    let mut usable = [(0u64, 0u64); abide_boot::memmap::MAX_REGIONS];
    let mut count = 0;
    let mapped = memory
        .usable()
        .filter(|region| region.start < BOOT_MAPPED_LIMIT)
        .map(|region| (region.start, region.end.min(BOOT_MAPPED_LIMIT)));
    for (slot, region) in usable.iter_mut().zip(mapped) {
        *slot = region;
        count += 1;
    }
    let image = kernel_image_phys();
    // The archives the host tool loaded (root tree, --add) stay where they
    // are: neither the bitmap nor any frame handed out may cover them.
    let archives = super::archives::decide(memory, cmdline, &[(0, LOW_MEMORY_END), image]);
    let mut avoid = [(0, 0); 2 + abide_abi::host::ARCHIVES.len()];
    let kept = archives
        .iter()
        .flatten()
        .map(|archive| (archive.start, archive.frames_end));
    for (slot, range) in avoid
        .iter_mut()
        .zip([(0, LOW_MEMORY_END), image].into_iter().chain(kept))
    {
        *slot = range;
    }
    let candidates = usable.get(..count).unwrap_or(&[]);
    let bitmap = abide_mm::frames::place_bitmap(candidates, &avoid, bytes, LOW_MEMORY_END)
        .ok_or(MmError::NoRoomForBitmap)?;
    // SAFETY: `place_bitmap` chose `bytes` of usable RAM below 4 GiB that
    // nothing else uses (not the image, not low memory); the boot tables map
    // it through the direct map, and it is reserved in the allocator below so
    // it is never handed out. It lives as long as the kernel.
    let storage: &'static mut [u64] =
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(bitmap) as *mut u64, words) };
    let mut frames = FrameAllocator::new(storage, limit);
    for region in memory.usable() {
        frames.add_free_range(region.start, region.end);
    }
    frames.reserve_range(0, LOW_MEMORY_END);
    frames.reserve_range(image.0, image.1);
    frames.reserve_range(bitmap, bitmap + bytes);
    for archive in archives.iter().flatten() {
        frames.reserve_range(archive.start, archive.frames_end);
    }
    log::debug!(
        "frames: bitmap of {} KiB at {bitmap:#x}; {} of {} frames free",
        bytes / 1024,
        frames.free_frames(),
        frames.total_frames()
    );
    USABLE_BYTES.store(memory.usable_bytes(), Ordering::Relaxed);
    *FRAMES.lock() = Some(frames);
    Ok(())
}

/// Allocates one 4 KiB frame and returns its physical address.
pub fn alloc_frame() -> Option<u64> {
    FRAMES.lock().as_mut()?.alloc()
}

/// Whether the frame at `phys` is free in the allocator (for the kernel
/// tests: no kept archive frame ever is).
pub fn is_free(phys: u64) -> bool {
    FRAMES
        .lock()
        .as_ref()
        .is_some_and(|frames| frames.is_free(phys))
}

/// Frames user-space requests may never take: the kernel's heap and page
/// tables need them to keep running (and to end the greedy process).
pub const KERNEL_RESERVE_FRAMES: usize = 1024;

/// True when `bytes` more of kernel memory spent on a process's behalf (a
/// message it queues) would leave [`KERNEL_RESERVE_FRAMES`] untouched.
pub fn user_memory_available(bytes: u64) -> bool {
    let needed = bytes.div_ceil(PAGE_SIZE) as usize;
    FRAMES
        .lock()
        .as_ref()
        .is_some_and(|frames| frames.free_frames() > KERNEL_RESERVE_FRAMES + needed)
}

/// Allocates one frame for something a process asked for (its memory, its
/// page tables), unless that would eat into [`KERNEL_RESERVE_FRAMES`].
pub fn alloc_user_frame() -> Option<u64> {
    let mut guard = FRAMES.lock();
    let frames = guard.as_mut()?;
    if frames.free_frames() <= KERNEL_RESERVE_FRAMES {
        return None;
    }
    frames.alloc()
}

/// Allocates `count` contiguous frames aligned to `align` bytes.
pub(super) fn alloc_contiguous(count: usize, align: u64) -> Option<u64> {
    FRAMES.lock().as_mut()?.alloc_contiguous(count, align)
}

/// Returns a frame to the allocator.
pub fn free_frame(phys: u64) -> Result<(), abide_mm::frames::FrameError> {
    match FRAMES.lock().as_mut() {
        Some(frames) => frames.free(phys),
        None => Err(abide_mm::frames::FrameError::OutOfRange),
    }
}

/// Free and usable physical memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameStats {
    pub free_bytes: u64,
    /// Usable RAM in the memory map (kernel image and bitmap included).
    pub total_bytes: u64,
}

pub(super) fn stats() -> FrameStats {
    FRAMES
        .lock()
        .as_ref()
        .map_or(FrameStats::default(), |frames| FrameStats {
            free_bytes: frames.free_frames() as u64 * PAGE_SIZE,
            total_bytes: USABLE_BYTES.load(Ordering::Relaxed),
        })
}
