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
//! `NoMemory`, every request a process makes is charged to it and checked
//! against the frames user requests may take
//! (`frames::user_memory_available`), which leaves the kernel's reserve
//! (`KERNEL_RESERVE_FRAMES`) to the heap, and before a call that may make
//! an infallible allocation the system-call gate asks [`has_free_run`] for
//! the call's worst case and answers `NoMemory` when the heap cannot hold
//! it (docs/reliability.md, "When the kernel heap cannot grow").

use core::alloc::{GlobalAlloc, Layout};

use abide_mm::PAGE_SIZE;
use talc::base::Talc;
use talc::DefaultBinning;

use super::{frames, phys_to_virt, MmError};
use crate::sync::IrqSpinLock;

const INITIAL_HEAP: u64 = 4 << 20;
const MIN_GROWTH: u64 = 1 << 20;
/// What talc needs of a new run beyond the allocation it is claimed for:
/// its metadata (in the first run) and the run's boundary tags.
const HEAP_BOOKKEEPING: u64 = 512;

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
        // Room for the request, its alignment and talc's bookkeeping; a run
        // of at least `MIN_GROWTH` when there is one, else the least that
        // holds the request, so scattered free frames still serve small
        // allocations (a B-tree node fits one frame).
        let needed = layout.size() as u64 + layout.align() as u64 + HEAP_BOOKKEEPING;
        let least = abide_mm::align_up(needed, PAGE_SIZE).ok_or(())?;
        let preferred = least.max(MIN_GROWTH);
        let (phys, bytes) = frames::alloc_contiguous((preferred / PAGE_SIZE) as usize, PAGE_SIZE)
            .map(|phys| (phys, preferred))
            .or_else(|| {
                frames::alloc_contiguous((least / PAGE_SIZE) as usize, PAGE_SIZE)
                    .map(|phys| (phys, least))
            })
            .ok_or(())?;
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

/// True when the heap holds one free run of `bytes`: it has one already,
/// or it has just grown by one without touching the frames kept for the
/// kernel (`frames::user_memory_available`). Until the next allocation
/// that does not come from the checker, every allocation totalling at most
/// `bytes` (with `heap_cost::ALLOCATION_OVERHEAD` each) then succeeds
/// without growing the heap: they fit that run. The system-call gate
/// (`syscall::heap_gate`) calls this before every call that allocates.
pub(super) fn has_free_run(bytes: usize) -> bool {
    let Ok(layout) = Layout::from_size_align(bytes.max(1), 16) else {
        return false;
    };
    let mut heap = HEAP.0.lock();
    // SAFETY: the size is not zero; the block is freed right away with the
    // same layout and never touched.
    if let Some(block) = unsafe { heap.try_allocate(layout) } {
        // SAFETY: `block` was just allocated with `layout`.
        unsafe { heap.deallocate(block.as_ptr(), layout) };
        return true;
    }
    let growth = bytes as u64 + layout.align() as u64 + HEAP_BOOKKEEPING;
    frames::user_memory_available(growth.max(MIN_GROWTH))
        && <FrameSource as talc::source::Source>::acquire(&mut heap, layout).is_ok()
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
