//! The kernel's page tables: built at boot from the memory map and the image's
//! sections, then edited through `abide_mm::paging`.
//!
//! Replacing the boot tables drops the identity map (a null or low-address
//! access now faults), maps each kernel section with only the rights it needs
//! (text read+execute, rodata read, data read+write), leaves an unmapped
//! guard page below every kernel stack (the boot stack, the syscall stack and
//! each interrupt stack), and maps the direct map never-executable.

use core::sync::atomic::{AtomicU64, Ordering};

use abide_boot::MemoryMap;
use abide_mm::paging::{MapError, PageFlags, PageSize, PageTables, TableMemory, Translation};
use abide_mm::{align_down, align_up, HUGE_PAGE_SIZE, PAGE_SIZE};
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr;

use super::{frames, phys, phys_to_virt, MmError, DIRECT_MAP_BASE, KERNEL_VMA, MMIO_BASE};
use crate::sync::IrqSpinLock;

/// Page tables reached through the direct map; new tables come from the
/// frame allocator.
pub(super) struct DirectTables;

impl TableMemory for DirectTables {
    fn read_entry(&self, table: u64, index: usize) -> u64 {
        // SAFETY: `table` is a page-table frame (the walker only follows
        // entries it or the boot code wrote), reachable via the direct map;
        // `index` < 512 keeps the access inside the frame.
        unsafe { core::ptr::read_volatile((phys_to_virt(table) as *const u64).add(index % 512)) }
    }

    fn write_entry(&mut self, table: u64, index: usize, value: u64) {
        // SAFETY: as for `read_entry`; the tables lock serializes writers.
        unsafe {
            core::ptr::write_volatile((phys_to_virt(table) as *mut u64).add(index % 512), value)
        }
    }

    fn alloc_table(&mut self) -> Option<u64> {
        let frame = frames::alloc_frame()?;
        // SAFETY: a freshly allocated frame belongs to us alone.
        unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize) };
        Some(frame)
    }

    fn free_table(&mut self, table: u64) {
        if let Err(error) = frames::free_frame(table) {
            log::error!("page table frame {table:#x} could not be freed: {error}");
        }
    }
}

static KERNEL_TABLES: IrqSpinLock<Option<PageTables>> = IrqSpinLock::new(None);
/// Next free address in the MMIO window.
static NEXT_MMIO: AtomicU64 = AtomicU64::new(MMIO_BASE);

extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
    static __stack_guard: u8;
    static __ksyms_start: u8;
    static __kernel_virt_end: u8;
}

fn addr(symbol: &u8) -> u64 {
    symbol as *const u8 as u64
}

pub(super) fn init(memory: &MemoryMap) -> Result<(), MmError> {
    // Every mapping below sets NO_EXECUTE where it applies, which is a
    // reserved bit (a page fault on every access) unless EFER.NXE is on; the
    // boot stub turns it on when the CPU has NX.
    if !Efer::read().contains(EferFlags::NO_EXECUTE_ENABLE) {
        crate::fail(format_args!(
            "this CPU has no NX (no-execute) support, which the kernel's page tables need"
        ));
    }
    let mut mem = DirectTables;
    let mut tables = PageTables::new(&mut mem)?;
    preallocate_kernel_half(&tables, &mut mem)?;
    map_direct(&mut tables, &mut mem, memory)?;
    map_image(&mut tables, &mut mem)?;
    // SAFETY: the new tables map the kernel image at the addresses it runs
    // at, the current stack, and the direct map, so execution continues; the
    // root frame stays allocated for the kernel's life.
    unsafe {
        let root = PhysFrame::from_start_address_unchecked(PhysAddr::new(tables.root()));
        Cr3::write(root, Cr3Flags::empty());
    }
    phys::set_direct_map_end(memory.max_end());
    *KERNEL_TABLES.lock() = Some(tables);
    Ok(())
}

/// First top-level slot of the kernel half.
pub(super) const KERNEL_HALF_FIRST_SLOT: usize = 256;

/// Gives every kernel-half top-level slot its next-level table now, so the
/// slots never change again: address spaces copy them once at creation and
/// still see every later kernel mapping.
fn preallocate_kernel_half(tables: &PageTables, mem: &mut DirectTables) -> Result<(), MmError> {
    for slot in KERNEL_HALF_FIRST_SLOT..512 {
        let table = mem.alloc_table().ok_or(MapError::OutOfMemory)?;
        let flags = PageFlags::PRESENT | PageFlags::WRITABLE;
        mem.write_entry(tables.root(), slot, table | flags.bits());
    }
    Ok(())
}

/// The kernel's top-level table (to share its kernel half).
pub(super) fn kernel_root() -> Option<PageTables> {
    *KERNEL_TABLES.lock()
}

/// Maps every region of the memory map at `DIRECT_MAP_BASE + phys`, with
/// 2 MiB pages wherever alignment allows.
fn map_direct(
    tables: &mut PageTables,
    mem: &mut DirectTables,
    memory: &MemoryMap,
) -> Result<(), MmError> {
    let flags = PageFlags::WRITABLE | PageFlags::NO_EXECUTE | PageFlags::GLOBAL;
    for region in memory.regions() {
        let mut phys = align_down(region.start, PAGE_SIZE);
        let end = align_up(region.end, PAGE_SIZE).unwrap_or(u64::MAX - PAGE_SIZE + 1);
        while phys < end {
            let size = if phys.is_multiple_of(HUGE_PAGE_SIZE) && end - phys >= HUGE_PAGE_SIZE {
                PageSize::Size2M
            } else {
                PageSize::Size4K
            };
            match tables.map(mem, DIRECT_MAP_BASE + phys, phys, size, flags) {
                // Regions rounded out to whole pages can share an edge page.
                Ok(()) | Err(MapError::AlreadyMapped) | Err(MapError::HugePageInTheWay) => {}
                Err(error) => return Err(error.into()),
            }
            phys += size.bytes();
        }
    }
    Ok(())
}

/// Maps the kernel image section by section.
fn map_image(tables: &mut PageTables, mem: &mut DirectTables) -> Result<(), MmError> {
    // SAFETY: linker-script symbols; only their addresses are used.
    let (text, rodata, data, guard, ksyms) = unsafe {
        (
            (addr(&__text_start), addr(&__text_end)),
            (addr(&__rodata_start), addr(&__rodata_end)),
            (addr(&__data_start), addr(&__data_end)),
            addr(&__stack_guard),
            (
                addr(&__ksyms_start),
                align_up(addr(&__kernel_virt_end), PAGE_SIZE).unwrap_or(0),
            ),
        )
    };
    let global = PageFlags::GLOBAL;
    map_range(tables, mem, text, global)?;
    map_range(tables, mem, rodata, global | PageFlags::NO_EXECUTE)?;
    map_range(tables, mem, ksyms, global | PageFlags::NO_EXECUTE)?;
    let rw = global | PageFlags::WRITABLE | PageFlags::NO_EXECUTE;
    // Every kernel stack has an unmapped page below it: the boot stack's
    // from the linker script, the interrupt and syscall stacks' from `arch`.
    let mut guards: heapless::Vec<u64, 8> = heapless::Vec::new();
    for page in core::iter::once(guard).chain(crate::arch::gdt::stack_guard_pages()) {
        if guards.push(page).is_err() {
            crate::fail(format_args!("too many kernel stack guard pages"));
        }
    }
    guards.sort_unstable();
    let mut start = data.0;
    for &page in &guards {
        map_range(tables, mem, (start, page), rw)?;
        start = page + PAGE_SIZE;
    }
    map_range(tables, mem, (start, data.1), rw)?;
    Ok(())
}

fn map_range(
    tables: &mut PageTables,
    mem: &mut DirectTables,
    (start, end): (u64, u64),
    flags: PageFlags,
) -> Result<(), MapError> {
    let mut virt = align_down(start, PAGE_SIZE);
    while virt < end {
        tables.map(mem, virt, virt - KERNEL_VMA, PageSize::Size4K, flags)?;
        virt += PAGE_SIZE;
    }
    Ok(())
}

fn flush(virt: u64) {
    x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(virt));
}

fn with_tables<R>(
    f: impl FnOnce(&mut PageTables, &mut DirectTables) -> Result<R, MapError>,
) -> Result<R, MapError> {
    let mut guard = KERNEL_TABLES.lock();
    let tables = guard.as_mut().ok_or(MapError::NotMapped)?;
    f(tables, &mut DirectTables)
}

pub(super) fn map_mmio(phys: u64, len: u64) -> Result<u64, MapError> {
    let first = align_down(phys, PAGE_SIZE);
    let end = phys
        .checked_add(len)
        .and_then(|end| align_up(end, PAGE_SIZE))
        .ok_or(MapError::Misaligned)?;
    let pages = (end - first) / PAGE_SIZE;
    let virt = NEXT_MMIO.fetch_add(pages * PAGE_SIZE, Ordering::Relaxed);
    let flags = PageFlags::WRITABLE
        | PageFlags::NO_EXECUTE
        | PageFlags::NO_CACHE
        | PageFlags::WRITE_THROUGH
        | PageFlags::GLOBAL;
    with_tables(|tables, mem| {
        for page in 0..pages {
            tables.map(
                mem,
                virt + page * PAGE_SIZE,
                first + page * PAGE_SIZE,
                PageSize::Size4K,
                flags,
            )?;
        }
        Ok(virt + (phys - first))
    })
}

/// Maps one 4 KiB page in the kernel's address space.
pub fn map_page(virt: u64, phys: u64, flags: PageFlags) -> Result<(), MapError> {
    with_tables(|tables, mem| tables.map(mem, virt, phys, PageSize::Size4K, flags))?;
    flush(virt);
    Ok(())
}

/// Unmaps the page at `virt` and returns the physical address it mapped.
/// Intermediate tables stay: kernel-half tables will be shared by every
/// address space, so they must never be freed from under one.
pub fn unmap_page(virt: u64) -> Result<u64, MapError> {
    let (phys, _) = with_tables(|tables, mem| tables.unmap_keeping_tables(mem, virt))?;
    flush(virt);
    Ok(phys)
}

/// Changes the rights of the page at `virt`.
pub fn protect_page(virt: u64, flags: PageFlags) -> Result<(), MapError> {
    with_tables(|tables, mem| tables.protect(mem, virt, flags))?;
    flush(virt);
    Ok(())
}

/// Looks up where `virt` is mapped.
pub fn translate(virt: u64) -> Option<Translation> {
    let guard = KERNEL_TABLES.lock();
    guard.as_ref()?.translate(&DirectTables, virt)
}
