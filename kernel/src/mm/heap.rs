//! The kernel heap: the `talc` allocator over contiguous runs of frames,
//! reached through the direct map. It starts with a few MiB and grows by
//! taking more frames when an allocation does not fit.
//!
//! The heap lock disables interrupts; interrupt handlers never allocate.
//!
//! When no frames are left for it, an allocation returns null; for
//! infallible allocations (`Box::new`, `Vec::push`, map inserts) Rust's
//! allocation-error handler then panics, which stops the machine (stable
//! Rust offers no other handler). So nothing a system call does may lean on
//! it: calls reserve what they keep with `try_reserve` and answer
//! `NoMemory`, and every request a process makes is charged to it and
//! checked against the frames user requests may take
//! (`frames::user_memory_available`), which leaves the kernel's reserve
//! (`KERNEL_RESERVE_FRAMES`) to the heap's own small allocations.

use core::alloc::{GlobalAlloc, Layout};

use abide_mm::PAGE_SIZE;
use talc::base::Talc;
use talc::DefaultBinning;

use super::{frames, phys_to_virt, MmError};
use crate::sync::IrqSpinLock;

const INITIAL_HEAP: u64 = 4 << 20;
const MIN_GROWTH: u64 = 1 << 20;

/// Feeds talc more memory from the frame allocator when it runs out.
#[derive(Debug)]
struct FrameSource {
    claimed_bytes: u64,
}

// SAFETY: `acquire` only talks to the frame allocator, never to the heap.
unsafe impl talc::source::Source for FrameSource {
    fn acquire<B: talc::base::binning::Binning>(
        talc: &mut Talc<Self, B>,
        layout: Layout,
    ) -> Result<(), ()> {
        // Room for the request, its alignment and talc's bookkeeping.
        let wanted = (layout.size() as u64 + layout.align() as u64 + 4096).max(MIN_GROWTH);
        let bytes = abide_mm::align_up(wanted, PAGE_SIZE).ok_or(())?;
        let phys = frames::alloc_contiguous((bytes / PAGE_SIZE) as usize, PAGE_SIZE).ok_or(())?;
        // SAFETY: the frames were just allocated for the heap alone and are
        // mapped read/write through the direct map for the kernel's life.
        let claimed = unsafe { talc.claim(phys_to_virt(phys) as *mut u8, bytes as usize) };
        if claimed.is_none() {
            return Err(());
        }
        talc.source.claimed_bytes += bytes;
        Ok(())
    }
}

struct KernelHeap(IrqSpinLock<Talc<FrameSource, DefaultBinning>>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(IrqSpinLock::new(Talc::new(FrameSource {
    claimed_bytes: 0,
})));

// SAFETY: talc is a correct allocator; the lock makes it exclusive.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.0.lock().allocate(layout) }.map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { self.0.lock().deallocate(ptr, layout) }
    }
}

pub(super) fn init() -> Result<(), MmError> {
    let phys = frames::alloc_contiguous((INITIAL_HEAP / PAGE_SIZE) as usize, PAGE_SIZE)
        .ok_or(MmError::NoHeap)?;
    let mut heap = HEAP.0.lock();
    // SAFETY: as in `FrameSource::acquire`.
    unsafe { heap.claim(phys_to_virt(phys) as *mut u8, INITIAL_HEAP as usize) }
        .ok_or(MmError::NoHeap)?;
    heap.source.claimed_bytes = INITIAL_HEAP;
    Ok(())
}

/// How much memory the heap holds and hands out.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeapStats {
    /// Bytes taken from the frame allocator.
    pub claimed_bytes: u64,
    /// Bytes in live allocations.
    pub allocated_bytes: u64,
}

pub(super) fn stats() -> HeapStats {
    let heap = HEAP.0.lock();
    HeapStats {
        claimed_bytes: heap.source.claimed_bytes,
        allocated_bytes: heap.counters().allocated_bytes as u64,
    }
}
