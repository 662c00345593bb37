//! User address spaces: one set of page tables per process, with the kernel
//! half shared (its top-level entries are copied from the kernel's tables and
//! never change, see `kernel_map::preallocate_kernel_half`) and supervisor-only.
//!
//! An address space owns the frames it maps into user space and frees them,
//! and its tables, when dropped (a frame it shares copy-on-write with a
//! copy of it, `mm::frame_refs`, only when it held the last mapping). Memory objects mapped into it are shared
//! ([`PageSet`]): their pages are unmapped on drop and freed only when the
//! last holder lets go. Only the lower half is ever mapped here.

use alloc::sync::Arc;
use alloc::vec::Vec;

use abide_mm::paging::{MapError, PageFlags, PageSize, PageTables, TableMemory};
use abide_mm::PAGE_SIZE;
use spin::Once;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr;

mod copy_on_write;
mod duplicate;
mod page_ranges;

pub use page_ranges::{prot_flags, tables_for_range};

use super::frame_refs;
use super::kernel_map::{self, DirectTables, KERNEL_HALF_FIRST_SLOT};
use super::own_pages::OwnPages;
use super::page_set::PageSet;
use super::{frames, phys_to_virt};

/// The highest user address (exclusive), an x86_64 fact (see there).
pub use crate::arch::context::USER_END;
/// The lowest address user mappings may use (the first pages stay unmapped so
/// null pointers fault).
pub const USER_START: u64 = 0x1_0000;
/// Where the kernel places mapped memory objects (16 TiB up, far from the
/// program image at 4 MiB and the stack just under 128 TiB).
pub const SHARED_BASE: u64 = 0x1000_0000_0000;
/// The end of the region for mapped memory objects.
pub const SHARED_END: u64 = 0x7000_0000_0000;

/// Kernel bytes one mapping record stands for (its entry in
/// [`AddressSpace`]'s list, with room for the list to grow), charged to the
/// process.
pub const MAPPING_RECORD_BYTES: u64 = 32;

/// One process's page tables and the user pages they map.
pub struct AddressSpace {
    tables: PageTables,
    /// Frames its lower-half page tables use (the root included): charged
    /// to its process.
    table_pages: u64,
    /// User pages mapped (virtual address, frame), to unmap and free on drop.
    pages: OwnPages,
    /// Memory objects mapped (base address, pages), unmapped on drop.
    shared: Vec<(u64, Arc<PageSet>)>,
    /// Where the next memory object goes.
    next_shared: u64,
}

impl AddressSpace {
    /// An address space with nothing in user space and the kernel half shared.
    pub fn new() -> Result<Self, MapError> {
        let kernel = kernel_map::kernel_root().ok_or(MapError::NotMapped)?;
        let mut table_pages = 0;
        let mut mem = UserTables(&mut table_pages);
        let mut tables = PageTables::new(&mut mem)?;
        tables.share_top_level(&mut mem, &kernel, KERNEL_HALF_FIRST_SLOT, 511);
        Ok(AddressSpace {
            tables,
            table_pages,
            pages: OwnPages::default(),
            shared: Vec::new(),
            next_shared: SHARED_BASE,
        })
    }

    /// Maps `count` fresh zeroed pages at `virt` with `flags` (USER is added).
    pub fn map_zeroed(&mut self, virt: u64, count: u64, flags: PageFlags) -> Result<(), MapError> {
        check_user_range(virt, count)?;
        for page in 0..count {
            let addr = virt + page * PAGE_SIZE;
            let frame = frames::alloc_user_frame().ok_or(MapError::OutOfMemory)?;
            // SAFETY: a freshly allocated frame is ours alone.
            unsafe {
                core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize)
            };
            if self.pages.try_reserve(1).is_err() {
                let _ = frames::free_frame(frame);
                return Err(MapError::OutOfMemory);
            }
            if let Err(error) = self.tables.map(
                &mut UserTables(&mut self.table_pages),
                addr,
                frame,
                PageSize::Size4K,
                flags | PageFlags::USER,
            ) {
                let _ = frames::free_frame(frame);
                return Err(error);
            }
            self.pages.insert(addr, frame);
        }
        Ok(())
    }

    /// Pages of its own it maps (program image and stack; not shared ones).
    pub fn page_count(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Frames its page tables use (lower half and root).
    pub fn table_pages(&self) -> u64 {
        self.table_pages
    }

    /// Kernel bytes its mapping records stand for.
    pub fn record_bytes(&self) -> u64 {
        self.shared.len() as u64 * MAPPING_RECORD_BYTES
    }

    /// A bound on the new page-table frames mapping `pages` more pages of
    /// memory objects may take (one per 512 pages, and one at each of the
    /// three lower levels at either end of the range).
    pub fn tables_bound(pages: u64) -> u64 {
        pages.div_ceil(512).saturating_add(6)
    }

    /// Maps all of `pages` at an address chosen here (with an unmapped guard
    /// page after it) and returns the address. Device pages are uncached.
    pub fn map_shared(&mut self, pages: Arc<PageSet>, writable: bool) -> Result<u64, MapError> {
        let base = self.next_shared;
        let end = base
            .checked_add(pages.len())
            .filter(|end| *end <= SHARED_END)
            .ok_or(MapError::OutOfMemory)?;
        self.map_shared_at(base, pages, writable)?;
        self.next_shared = end + PAGE_SIZE;
        Ok(base)
    }

    /// Maps all of `pages` at `base`, anywhere in user space where nothing
    /// is mapped (`AlreadyMapped` otherwise, and nothing changed): a
    /// restore puts them back where they were, a copy where the source
    /// has them, a personality where its process asked
    /// (`process_map_memory`). [`map_shared`](Self::map_shared) keeps
    /// Abide's own programs to the window from [`SHARED_BASE`].
    pub fn map_shared_at(
        &mut self,
        base: u64,
        pages: Arc<PageSet>,
        writable: bool,
    ) -> Result<(), MapError> {
        self.range_is_free_of_shared(base, pages.frames().len() as u64)?;
        let mut flags = PageFlags::USER | PageFlags::NO_EXECUTE;
        if writable {
            flags |= PageFlags::WRITABLE;
        }
        if pages.is_device() {
            flags |= PageFlags::NO_CACHE | PageFlags::WRITE_THROUGH;
        }
        self.shared
            .try_reserve(1)
            .map_err(|_| MapError::OutOfMemory)?;
        let mut mem = UserTables(&mut self.table_pages);
        for (index, &frame) in pages.frames().iter().enumerate() {
            let addr = base + index as u64 * PAGE_SIZE;
            if let Err(error) = self
                .tables
                .map(&mut mem, addr, frame, PageSize::Size4K, flags)
            {
                for undo in 0..index as u64 {
                    let _ = self.tables.unmap(&mut mem, base + undo * PAGE_SIZE);
                }
                return Err(error);
            }
        }
        self.shared.push((base, pages));
        Ok(())
    }

    /// Where the next memory object will be mapped.
    pub fn next_shared(&self) -> u64 {
        self.next_shared
    }

    /// Sets where the next memory object goes (a restore continues there).
    pub fn set_next_shared(&mut self, next: u64) {
        self.next_shared = next.clamp(SHARED_BASE, SHARED_END);
    }

    /// Its own user pages: (virtual address, frame).
    pub fn own_pages(&self) -> &[(u64, u64)] {
        self.pages.as_slice()
    }

    /// The memory objects it maps: (base address, pages).
    pub fn shared_mappings(&self) -> &[(u64, Arc<PageSet>)] {
        &self.shared
    }

    /// The flags of the page at `virt` (without address bits), if mapped.
    pub fn page_flags(&self, virt: u64) -> Option<PageFlags> {
        self.tables
            .translate(&DirectTables, virt)
            .map(|translation| translation.flags)
    }

    /// Whether the CPU wrote the page at `virt` since the last call, and
    /// clears the mark. The caller reloads CR3 (or switches address space)
    /// before user code runs again, so no stale TLB entry skips the mark.
    pub fn take_dirty(&mut self, virt: u64) -> bool {
        let Some(flags) = self.page_flags(virt) else {
            return false;
        };
        if !flags.contains(PageFlags::DIRTY) {
            return false;
        }
        let _ = self
            .tables
            .protect(&mut DirectTables, virt, flags - PageFlags::DIRTY);
        true
    }

    /// Its page tables (to give a page back its write permission later,
    /// see [`make_writable`]).
    pub fn page_tables(&self) -> PageTables {
        self.tables
    }

    /// Maps `frame`, a page this space owns from now on (contents already in
    /// place), at `virt` with `flags` as they were captured: a restore puts
    /// a process's pages back this way. Every page is USER but a foreign
    /// process's `PROT_NONE` pages (see [`prot_flags`]), which stay so.
    pub fn map_own(&mut self, virt: u64, frame: u64, flags: PageFlags) -> Result<(), MapError> {
        check_user_range(virt, 1)?;
        let flags =
            flags - (PageFlags::DIRTY | PageFlags::ACCESSED | PageFlags::GLOBAL | PageFlags::HUGE);
        self.pages
            .try_reserve(1)
            .map_err(|_| MapError::OutOfMemory)?;
        self.tables.map(
            &mut UserTables(&mut self.table_pages),
            virt,
            frame,
            PageSize::Size4K,
            flags,
        )?;
        self.pages.insert(virt, frame);
        Ok(())
    }

    /// Copies `bytes` into already mapped user pages starting at `virt`,
    /// through the direct map (the pages need not be writable by the user).
    pub fn write(&mut self, virt: u64, bytes: &[u8]) -> Result<(), MapError> {
        let mut rest = bytes;
        let mut addr = virt;
        while !rest.is_empty() {
            let t = self
                .tables
                .translate(&DirectTables, addr)
                .ok_or(MapError::NotMapped)?;
            let in_page = (PAGE_SIZE - addr % PAGE_SIZE) as usize;
            let (chunk, after) = rest.split_at(in_page.min(rest.len()));
            // SAFETY: `t.phys` is a frame this address space owns (only its
            // own frames are mapped in the lower half), reached through the
            // direct map; the chunk stays inside that page.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    chunk.as_ptr(),
                    phys_to_virt(t.phys) as *mut u8,
                    chunk.len(),
                );
            }
            addr += chunk.len() as u64;
            rest = after;
        }
        Ok(())
    }

    /// Makes this address space the current one.
    pub fn activate(&self) {
        let root = self.tables.root();
        if Cr3::read().0.start_address().as_u64() == root {
            return;
        }
        // SAFETY: the kernel half is shared with the kernel's own tables, so
        // the kernel keeps running; the root stays allocated while `self` lives,
        // and `Drop` switches away before freeing it.
        unsafe {
            Cr3::write(
                PhysFrame::from_start_address_unchecked(PhysAddr::new(root)),
                Cr3Flags::empty(),
            );
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        // Never free the tables the CPU is using.
        if Cr3::read().0.start_address().as_u64() == self.tables.root() {
            if let Some(kernel) = kernel_map::kernel_root() {
                // SAFETY: the kernel's own tables map everything the kernel needs.
                unsafe {
                    Cr3::write(
                        PhysFrame::from_start_address_unchecked(PhysAddr::new(kernel.root())),
                        Cr3Flags::empty(),
                    );
                }
            }
        }
        let mut mem = DirectTables;
        // A frame shared copy-on-write goes with its last mapping.
        for &(virt, frame) in self.pages.as_slice() {
            if self.tables.unmap(&mut mem, virt).is_ok() {
                frame_refs::release(frame);
            }
        }
        // Shared pages are freed by their last holder, not here. A write
        // through this mapping that no checkpoint has taken yet is known
        // only to its dirty bit: the set keeps it (see `PageSet::mark_dirty`).
        for (base, pages) in &self.shared {
            for index in 0..pages.frames().len() {
                let virt = base + index as u64 * PAGE_SIZE;
                if self
                    .page_flags(virt)
                    .is_some_and(|flags| flags.contains(PageFlags::DIRTY))
                {
                    pages.mark_dirty(index);
                }
                let _ = self.tables.unmap(&mut mem, virt);
            }
        }
        // The lower half is now empty; the kernel half's tables are shared and
        // must stay. Free the root alone.
        mem.free_table(self.tables.root());
    }
}

/// Takes write permission from the page at `virt` in `tables` until
/// [`make_writable`] (a checkpoint protects a page it has yet to save);
/// false if the page was not writable. The caller flushes the TLB before
/// user code runs again.
pub fn write_protect(tables: PageTables, virt: u64) -> bool {
    let mut tables = tables;
    match tables.translate(&DirectTables, virt) {
        Some(translation) if translation.flags.contains(PageFlags::WRITABLE) => tables
            .protect(
                &mut DirectTables,
                virt,
                translation.flags - PageFlags::WRITABLE,
            )
            .is_ok(),
        _ => false,
    }
}

/// Gives the page at `virt` in `tables` its write permission back (see
/// [`write_protect`]) and drops its stale TLB entry. The
/// tables must still be alive: the caller forgets a space's pages before
/// the space is dropped.
pub fn make_writable(tables: PageTables, virt: u64) {
    let mut tables = tables;
    if let Some(translation) = tables.translate(&DirectTables, virt) {
        let _ = tables.protect(
            &mut DirectTables,
            virt,
            translation.flags | PageFlags::WRITABLE,
        );
        x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(virt));
    }
}

/// Copies the whole page in frame `from` into frame `to`, a fresh frame
/// of the caller's (a clone's copy of a page, a copy-on-write page's own).
fn copy_frame(from: u64, to: u64) {
    // SAFETY: `to` is a fresh frame, the caller's alone; `from` is a user
    // page nothing writes while the kernel runs here (the source of a
    // clone, or a frame mapped read-only everywhere); both are whole
    // pages reached through the direct map.
    unsafe {
        core::ptr::copy_nonoverlapping(
            phys_to_virt(from) as *const u8,
            phys_to_virt(to) as *mut u8,
            PAGE_SIZE as usize,
        );
    }
}

/// Checks that `count` pages from `virt` lie inside user space.
fn check_user_range(virt: u64, count: u64) -> Result<(), MapError> {
    let end = count
        .checked_mul(PAGE_SIZE)
        .and_then(|len| virt.checked_add(len))
        .ok_or(MapError::NotCanonical)?;
    if virt < USER_START || end > USER_END {
        return Err(MapError::NotCanonical);
    }
    if !virt.is_multiple_of(PAGE_SIZE) {
        return Err(MapError::Misaligned);
    }
    Ok(())
}

/// The page-table memory of one address space: tables come from the frames
/// user requests may take (never the kernel's reserve), and are counted.
struct UserTables<'a>(&'a mut u64);

impl TableMemory for UserTables<'_> {
    fn read_entry(&self, table: u64, index: usize) -> u64 {
        DirectTables.read_entry(table, index)
    }

    fn write_entry(&mut self, table: u64, index: usize, value: u64) {
        DirectTables.write_entry(table, index, value);
    }

    fn alloc_table(&mut self) -> Option<u64> {
        let frame = frames::alloc_user_frame()?;
        // SAFETY: a freshly allocated frame belongs to us alone, reached
        // through the direct map.
        unsafe { core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize) };
        *self.0 += 1;
        Some(frame)
    }

    fn free_table(&mut self, table: u64) {
        *self.0 = self.0.saturating_sub(1);
        DirectTables.free_table(table);
    }
}

/// Who must hear of an address space before it is freed (the checkpoint
/// engine, which copies aside pages of it it is still writing out).
static SPACE_ENDING: Once<fn(&AddressSpace)> = Once::new();

/// Registers the hook [`space_ending`] calls (once, at boot).
pub fn on_space_ending(hook: fn(&AddressSpace)) {
    SPACE_ENDING.call_once(|| hook);
}

/// `space` is about to be dropped (its process ended): tells the
/// registered hook first.
pub fn space_ending(space: &AddressSpace) {
    if let Some(hook) = SPACE_ENDING.get() {
        hook(space);
    }
}
