//! What virtio-drivers needs from the kernel ([`KernelHal`]): DMA memory,
//! physical addresses of the buffers it hands the device, and the device's
//! registers mapped.
//!
//! - DMA memory is physically contiguous frames ([`DmaRegion`]) reached
//!   through the direct map, which maps all RAM linearly.
//! - `share` gives the device a buffer's physical address. Buffers in the
//!   direct map (the heap, [`DmaRegion`]s) are contiguous by construction;
//!   others (the kernel image, its static stacks) are looked up page by
//!   page, and a buffer whose pages are not contiguous is copied through a
//!   bounce buffer of fresh contiguous frames.
//! - The registers are mapped before the transport asks for them
//!   ([`map_virtio_regions`]), where a failure can still be reported: the
//!   trait's `mmio_phys_to_virt` cannot fail.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use abide_mm::PAGE_SIZE;
use virtio_drivers::transport::pci::bus::{BarInfo, DeviceFunction, PciRoot};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

use super::pci::{PortCam, VirtioRegion};
use crate::mm::{self, DIRECT_MAP_BASE, MMIO_BASE};
use crate::sync::IrqSpinLock;

/// Physically contiguous, zeroed frames for the device, freed on drop.
#[derive(Debug)]
pub struct DmaRegion {
    phys: u64,
    pages: usize,
}

impl DmaRegion {
    /// `pages` contiguous zeroed frames, or `None` when memory is short.
    pub fn new(pages: usize) -> Option<DmaRegion> {
        if pages == 0 {
            return None;
        }
        let phys = mm::alloc_contiguous_frames(pages)?;
        let region = DmaRegion { phys, pages };
        // SAFETY: the frames were just allocated for this region alone and
        // the direct map maps them read/write.
        unsafe { core::ptr::write_bytes(region.virt(), 0, region.len()) };
        Some(region)
    }

    /// Where the device sees it.
    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// Where the kernel sees it (the direct map).
    pub fn virt(&self) -> *mut u8 {
        mm::phys_to_virt(self.phys) as *mut u8
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.pages * PAGE_SIZE as usize
    }
}

impl Drop for DmaRegion {
    fn drop(&mut self) {
        free_frames(self.phys, self.pages);
    }
}

fn free_frames(phys: u64, pages: usize) {
    for page in 0..pages as u64 {
        if let Err(error) = mm::free_frame(phys + page * PAGE_SIZE) {
            log::error!(
                "disk: cannot free DMA frame {:#x}: {error:?}",
                phys + page * PAGE_SIZE
            );
        }
    }
}

/// A device register window mapped for the transport.
#[derive(Debug, Clone, Copy)]
struct Window {
    phys: u64,
    len: u64,
    virt: u64,
}

/// Every window mapped so far (mappings are never undone, so a second
/// probe of the same device reuses them).
static WINDOWS: IrqSpinLock<Vec<Window>> = IrqSpinLock::new(Vec::new());
/// Set when the transport asked for a window that could not be mapped: the
/// pointer it got must never be used (see [`take_unmapped_request`]).
static UNMAPPED_REQUEST: AtomicBool = AtomicBool::new(false);

/// True when `phys..phys + len` overlaps a register window of the store
/// disk: the kernel's device, which no driver may map.
pub fn overlaps_store_registers(phys: u64, len: u64) -> bool {
    let end = phys.saturating_add(len);
    WINDOWS
        .lock()
        .iter()
        .any(|w| phys < w.phys.saturating_add(w.len) && w.phys < end)
}

/// The physical ranges of the store's registers, as (start, length).
pub fn store_register_windows() -> Vec<(u64, u64)> {
    WINDOWS.lock().iter().map(|w| (w.phys, w.len)).collect()
}

fn find_window(phys: u64, len: u64) -> Option<u64> {
    let end = phys.checked_add(len)?;
    WINDOWS
        .lock()
        .iter()
        .find(|w| w.phys <= phys && end <= w.phys + w.len)
        .map(|w| w.virt + (phys - w.phys))
}

fn map_window(phys: u64, len: u64) -> Result<u64, mm::MapError> {
    if let Some(virt) = find_window(phys, len) {
        return Ok(virt);
    }
    let virt = mm::map_mmio(phys, len)?;
    WINDOWS.lock().push(Window { phys, len, virt });
    Ok(virt)
}

/// Checks each virtio structure against its BAR and maps it, so that the
/// PCI transport finds everything mapped and no device-provided value can
/// overflow its arithmetic. Errors name what is wrong.
pub fn map_virtio_regions(
    root: &mut PciRoot<PortCam>,
    function: DeviceFunction,
    regions: &[VirtioRegion],
) -> Result<(), &'static str> {
    for region in regions {
        if region.bar > 5 {
            return Err("a virtio capability names a BAR beyond 5");
        }
        let end = region
            .offset
            .checked_add(region.length)
            .ok_or("a virtio capability's offset + length overflows")?;
        let bar = root
            .bar_info(function, region.bar)
            .map_err(|_| "a BAR has an invalid type")?;
        let Some(BarInfo::Memory { address, size, .. }) = bar else {
            // The transport refuses I/O and missing BARs itself.
            continue;
        };
        if address == 0 || region.length == 0 || u64::from(end) > size {
            continue;
        }
        let phys = address
            .checked_add(u64::from(region.offset))
            .ok_or("a BAR address overflows")?;
        map_window(phys, u64::from(region.length))
            .map_err(|_| "cannot map the device's registers")?;
    }
    Ok(())
}

/// True (once) if the transport asked for a window [`map_virtio_regions`]
/// had not mapped and mapping it then failed: the transport holds a pointer
/// it must never use, so it must be forgotten, not dropped.
pub fn take_unmapped_request() -> bool {
    UNMAPPED_REQUEST.swap(false, Ordering::Relaxed)
}

/// The physical address of `len` bytes at `virt` if they are physically
/// contiguous, `None` otherwise (or if some page is not mapped).
fn contiguous_phys(virt: u64, len: usize) -> Option<u64> {
    let last = virt.checked_add((len as u64).checked_sub(1)?)?;
    // The direct map maps all RAM linearly below the MMIO window.
    if (DIRECT_MAP_BASE..MMIO_BASE).contains(&virt) && last < MMIO_BASE {
        return Some(virt - DIRECT_MAP_BASE);
    }
    let first = mm::translate(virt)?.phys;
    let mut at = virt;
    loop {
        let translation = mm::translate(at)?;
        if translation.phys != first + (at - virt) {
            return None;
        }
        let page = translation.size.bytes();
        let next = (at / page).checked_add(1)?.checked_mul(page)?;
        if next > last {
            return Some(first);
        }
        at = next;
    }
}

/// Bytes rounded up to whole pages.
fn pages_for(len: usize) -> usize {
    len.div_ceil(PAGE_SIZE as usize)
}

/// virtio-drivers' view of the kernel.
pub struct KernelHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned, exclusively owned,
// physically contiguous memory (or the documented failure value);
// `mmio_phys_to_virt` returns mapped, uncached device windows (see
// `map_virtio_regions`); `share` returns the address at which the device
// reaches the buffer's bytes, or a bounce buffer `unshare` copies back from.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        match DmaRegion::new(pages) {
            Some(region) => {
                let region = core::mem::ManuallyDrop::new(region);
                match NonNull::new(region.virt()) {
                    Some(virt) => (region.phys(), virt),
                    None => (0, NonNull::dangling()),
                }
            }
            // virtio-drivers takes physical address 0 for failure.
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, _vaddr: NonNull<u8>, pages: usize) -> i32 {
        // virtio-drivers asserts on a non-zero result, so a frame that cannot
        // be freed is logged (by `free_frames`) and leaked, not fatal.
        free_frames(paddr, pages);
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        let virt = find_window(paddr, size as u64).or_else(|| {
            log::warn!("disk: device window {paddr:#x}+{size:#x} was not mapped at probe");
            map_window(paddr, size as u64).ok()
        });
        match virt.and_then(|virt| NonNull::new(virt as *mut u8)) {
            Some(virt) => virt,
            None => {
                // `probe` sees the flag and forgets the transport unused.
                UNMAPPED_REQUEST.store(true, Ordering::Relaxed);
                NonNull::dangling()
            }
        }
    }

    unsafe fn share(buffer: NonNull<[u8]>, direction: BufferDirection) -> PhysAddr {
        let virt = buffer.as_ptr() as *mut u8 as u64;
        let len = buffer.len();
        if len == 0 {
            // Nothing for the device to reach (virtio-drivers never asks).
            return 0;
        }
        if let Some(phys) = contiguous_phys(virt, len) {
            return phys;
        }
        // Not contiguous: bounce through fresh contiguous frames.
        let Some(bounce) = DmaRegion::new(pages_for(len)) else {
            // Out of memory, like any other failed kernel allocation.
            alloc::alloc::handle_alloc_error(
                Layout::from_size_align(len, PAGE_SIZE as usize).unwrap_or(Layout::new::<u8>()),
            );
        };
        if direction != BufferDirection::DeviceToDriver {
            // SAFETY: the caller guarantees `buffer` is valid for reads of
            // `len` bytes; the bounce region is ours and at least that long.
            unsafe { core::ptr::copy_nonoverlapping(virt as *const u8, bounce.virt(), len) };
        }
        let bounce = core::mem::ManuallyDrop::new(bounce);
        bounce.phys()
    }

    unsafe fn unshare(paddr: PhysAddr, buffer: NonNull<[u8]>, direction: BufferDirection) {
        let virt = buffer.as_ptr() as *mut u8 as u64;
        let len = buffer.len();
        if len == 0 || contiguous_phys(virt, len) == Some(paddr) {
            return;
        }
        // `share` bounced it through frames at `paddr`.
        if direction != BufferDirection::DriverToDevice {
            // SAFETY: the bounce frames hold `len` bytes the device wrote; the
            // caller guarantees `buffer` is valid for writes and not in use.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    mm::phys_to_virt(paddr) as *const u8,
                    virt as *mut u8,
                    len,
                )
            };
        }
        free_frames(paddr, pages_for(len));
    }
}
