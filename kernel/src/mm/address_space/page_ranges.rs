//! Pages at addresses the caller chooses, in an address space that is not
//! necessarily the current one: what a personality does to a foreign
//! process (`process_map`, `process_unmap`, `process_protect`,
//! `process_read`, `process_write`; docs/kernel.md, "Another process's
//! memory").
//!
//! Own pages are mapped, unmapped and protected here; a memory object's
//! mapping (`process_map_memory`) is only read and written through, or
//! ended whole. A range is checked whole before anything changes. The caller
//! tells the checkpoint engine about each own page before it changes by
//! other means than a user write (`persist::own_page_changing`), so a
//! page being written out is copied aside first; the changes here keep
//! the page tables' dirty bits honest for the next checkpoint.

use alloc::sync::Arc;
use alloc::vec::Vec;

use abide_abi::trap::{PROT_ALL, PROT_EXEC, PROT_WRITE};
use abide_mm::paging::{MapError, PageFlags, PageSize};
use abide_mm::PAGE_SIZE;
use x86_64::registers::control::Cr3;

use super::{check_user_range, AddressSpace, UserTables};
use crate::mm::kernel_map::DirectTables;
use crate::mm::{frame_refs, phys_to_virt, PageSet};

/// The page-table flags for protection `prot` (`PROT_*` bits), or `None`
/// for unknown bits or writable and executable at once (W^X holds for
/// every page, as for programs the loader starts). Write implies read and
/// so does execute (x86 cannot do otherwise); `PROT_NONE` is a present
/// page without USER, so the program faults on it while the kernel still
/// counts, saves and reaches it.
pub fn prot_flags(prot: u64) -> Option<PageFlags> {
    if prot & !PROT_ALL != 0 || (prot & PROT_WRITE != 0 && prot & PROT_EXEC != 0) {
        return None;
    }
    if prot == 0 {
        return Some(PageFlags::NO_EXECUTE);
    }
    let mut flags = PageFlags::USER;
    if prot & PROT_WRITE != 0 {
        flags |= PageFlags::WRITABLE;
    }
    if prot & PROT_EXEC == 0 {
        flags |= PageFlags::NO_EXECUTE;
    }
    Some(flags)
}

/// New page-table frames mapping `count` consecutive pages may take at
/// most: at each of the three lower levels, one table per span it covers
/// and one more where the range straddles a boundary.
pub fn tables_for_range(count: u64) -> u64 {
    (1..=3u32).fold(0u64, |total, level| {
        let span = 512u64.pow(level);
        total.saturating_add(count.div_ceil(span)).saturating_add(1)
    })
}

impl AddressSpace {
    /// Its own pages at addresses in `[start, end)`: (address, frame).
    pub fn own_range(&self, start: u64, end: u64) -> &[(u64, u64)] {
        self.pages.range(start, end)
    }

    /// True when `[virt, virt + count pages)` lies in user space, is
    /// page-aligned and meets no memory object's mapping.
    pub fn range_is_free_of_shared(&self, virt: u64, count: u64) -> Result<(), MapError> {
        check_user_range(virt, count)?;
        let end = virt + count * PAGE_SIZE;
        if self
            .shared
            .iter()
            .any(|(base, set)| *base < end && virt < base.saturating_add(set.len()))
        {
            return Err(MapError::AlreadyMapped);
        }
        Ok(())
    }

    /// Maps `new` (fresh frames, owned from now on) at consecutive pages
    /// from `virt` with `flags` as given (see [`prot_flags`]; DIRTY is
    /// added so the next checkpoint saves them), unmapping and freeing
    /// its own pages there first. Returns how many it replaced. On error
    /// nothing changed and `new` is still the caller's. The caller
    /// checked the range ([`AddressSpace::range_is_free_of_shared`]).
    pub fn replace_pages(
        &mut self,
        virt: u64,
        new: &[u64],
        flags: PageFlags,
    ) -> Result<u64, MapError> {
        let count = new.len() as u64;
        self.range_is_free_of_shared(virt, count)?;
        let end = virt + count * PAGE_SIZE;
        let flags = flags | PageFlags::DIRTY;
        self.pages
            .try_reserve(new.len())
            .map_err(|_| MapError::OutOfMemory)?;
        let mut mem = UserTables(&mut self.table_pages);
        // First where nothing is mapped: only this may need new tables, and
        // undoing it leaves the space as it was.
        let fresh = || (0..count).map(|index| virt + index * PAGE_SIZE);
        let holes = |addr: &u64| self.pages.frame(*addr).is_none();
        for (done, (addr, &frame)) in fresh().zip(new).enumerate() {
            if !holes(&addr) {
                continue;
            }
            let result = self
                .tables
                .map(&mut mem, addr, frame, PageSize::Size4K, flags);
            if let Err(error) = result {
                for undo in fresh().take(done).filter(holes) {
                    let _ = self.tables.unmap(&mut mem, undo);
                }
                return Err(error);
            }
        }
        // Then over its own pages: their tables are there, so nothing
        // here can fail.
        let mut replaced = 0;
        for &(addr, old) in self.pages.range(virt, end) {
            let index = ((addr - virt) / PAGE_SIZE) as usize;
            let Some(&frame) = new.get(index) else {
                continue;
            };
            let _ = self.tables.unmap_keeping_tables(&mut mem, addr);
            frame_refs::release(old);
            let _ = self
                .tables
                .map(&mut mem, addr, frame, PageSize::Size4K, flags);
            replaced += 1;
        }
        self.pages.replace_range(virt, new);
        self.flush_if_active(virt, count);
        Ok(replaced)
    }

    /// Unmaps and frees its own pages in `[virt, virt + count pages)`
    /// (holes skipped); returns how many there were.
    pub fn unmap_pages(&mut self, virt: u64, count: u64) -> Result<u64, MapError> {
        check_user_range(virt, count)?;
        let end = virt + count * PAGE_SIZE;
        let mut mem = UserTables(&mut self.table_pages);
        let mut freed = 0;
        for &(addr, frame) in self.pages.range(virt, end) {
            if self.tables.unmap(&mut mem, addr).is_ok() {
                frame_refs::release(frame);
            }
            freed += 1;
        }
        self.pages.remove_range(virt, end);
        self.flush_if_active(virt, count);
        Ok(freed)
    }

    /// Gives every page in `[virt, virt + count pages)` the protection
    /// `flags` (see [`prot_flags`]), keeping what the CPU recorded (dirty,
    /// accessed); `NotMapped`, and nothing changed, unless every one is
    /// its own. A writable page whose frame is shared with a copy stays
    /// read-only, copy-on-write.
    pub fn protect_pages(
        &mut self,
        virt: u64,
        count: u64,
        flags: PageFlags,
    ) -> Result<(), MapError> {
        self.check_own(virt, count)?;
        let end = virt + count * PAGE_SIZE;
        for &(addr, frame) in self.pages.range(virt, end) {
            let kept = self
                .tables
                .translate(&DirectTables, addr)
                .map_or(PageFlags::empty(), |t| {
                    t.flags & (PageFlags::DIRTY | PageFlags::ACCESSED)
                });
            let mut flags = flags;
            if flags.contains(PageFlags::WRITABLE) && frame_refs::is_shared(frame) {
                flags = (flags - PageFlags::WRITABLE) | PageFlags::COPY_ON_WRITE;
            }
            let _ = self.tables.protect(&mut DirectTables, addr, flags | kept);
        }
        self.flush_if_active(virt, count);
        Ok(())
    }

    /// The memory objects mapped wholly inside `[virt, virt + count
    /// pages)`: (base, pages), for [`unmap_shared`](Self::unmap_shared).
    pub fn shared_within(&self, virt: u64, count: u64) -> Vec<(u64, Arc<PageSet>)> {
        let end = virt.saturating_add(count.saturating_mul(PAGE_SIZE));
        self.shared
            .iter()
            .filter(|(base, set)| *base >= virt && base.saturating_add(set.len()) <= end)
            .map(|(base, set)| (*base, set.clone()))
            .collect()
    }

    /// Ends the memory-object mapping at `base` (its pages stay with their
    /// other holders; a write through it that no checkpoint took yet is
    /// kept by the set, as when a space is dropped). False when nothing
    /// is mapped at `base`.
    pub fn unmap_shared(&mut self, base: u64) -> bool {
        let Some(position) = self.shared.iter().position(|(at, _)| *at == base) else {
            return false;
        };
        let (_, set) = self.shared.swap_remove(position);
        let count = set.frames().len() as u64;
        let mut mem = UserTables(&mut self.table_pages);
        for index in 0..count {
            let virt = base + index * PAGE_SIZE;
            if let Some(translation) = self.tables.translate(&DirectTables, virt) {
                if translation.flags.contains(PageFlags::DIRTY) {
                    set.mark_dirty(index as usize);
                }
            }
            let _ = self.tables.unmap(&mut mem, virt);
        }
        self.flush_if_active(base, count);
        true
    }

    /// `NotMapped` unless every page in `[virt, virt + count pages)` is
    /// one of its own or a RAM memory object's it maps (what
    /// `process_read` and `process_write` reach).
    pub fn check_mapped(&self, virt: u64, count: u64) -> Result<(), MapError> {
        check_user_range(virt, count)?;
        for index in 0..count {
            self.frame_at(virt + index * PAGE_SIZE)
                .ok_or(MapError::NotMapped)?;
        }
        Ok(())
    }

    /// The frame of the page at `virt` (page-aligned): its own, or a
    /// memory object's it maps there. Never device memory (MMIO), which
    /// the direct map does not reach and whose reads have effects.
    pub fn frame_at(&self, virt: u64) -> Option<u64> {
        self.pages.frame(virt).or_else(|| {
            self.shared.iter().find_map(|(base, set)| {
                if set.is_device() {
                    return None;
                }
                let index = virt.checked_sub(*base)? / PAGE_SIZE;
                set.frames().get(usize::try_from(index).ok()?).copied()
            })
        })
    }

    /// `NotMapped` unless every page in `[virt, virt + count pages)` is
    /// one of its own.
    pub fn check_own(&self, virt: u64, count: u64) -> Result<(), MapError> {
        check_user_range(virt, count)?;
        let end = virt + count * PAGE_SIZE;
        if self.pages.range(virt, end).len() as u64 == count {
            Ok(())
        } else {
            Err(MapError::NotMapped)
        }
    }

    /// Copies its memory at `virt` (within one page: its own or a memory
    /// object's it maps) into `out`, through the direct map, whatever the
    /// page's protection.
    pub fn read_mapped(&self, virt: u64, out: &mut [u8]) -> Result<(), MapError> {
        let (frame, offset) = self.spot(virt, out.len())?;
        // SAFETY: `frame` is a page this space maps in user space, reached
        // through the direct map; `offset + out.len()` stays inside it
        // (`spot`).
        unsafe {
            core::ptr::copy_nonoverlapping(
                (phys_to_virt(frame) + offset) as *const u8,
                out.as_mut_ptr(),
                out.len(),
            );
        }
        Ok(())
    }

    /// Copies `bytes` into its memory at `virt` (within one page, as for
    /// [`read_mapped`](Self::read_mapped)) through the direct map, whatever
    /// the page's protection, and marks the page dirty, as if the program
    /// had written it. The caller told the checkpoint engine the page's
    /// frame is changing (a page shared copy-on-write is written in place
    /// by the last process mapping it).
    pub fn write_mapped(&mut self, virt: u64, bytes: &[u8]) -> Result<(), MapError> {
        // A page shared with a copy gets its own frame first, as a write
        // by the program would (`OutOfMemory` when no frame is left).
        self.unshare_for_write(virt)?;
        let (frame, offset) = self.spot(virt, bytes.len())?;
        // SAFETY: as in `read_mapped`; nothing else holds a Rust reference
        // to a user frame.
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (phys_to_virt(frame) + offset) as *mut u8,
                bytes.len(),
            );
        }
        let page = virt - offset;
        if let Some(translation) = self.tables.translate(&DirectTables, page) {
            let _ = self.tables.protect(
                &mut DirectTables,
                page,
                translation.flags | PageFlags::DIRTY,
            );
        }
        Ok(())
    }

    /// The frame of the page holding `[virt, virt + len)` ([`frame_at`](Self::frame_at))
    /// and the offset of `virt` in it; `NotMapped` when that is not one
    /// mapped page.
    fn spot(&self, virt: u64, len: usize) -> Result<(u64, u64), MapError> {
        let offset = virt % PAGE_SIZE;
        if offset + len as u64 > PAGE_SIZE {
            return Err(MapError::Misaligned);
        }
        let frame = self.frame_at(virt - offset).ok_or(MapError::NotMapped)?;
        Ok((frame, offset))
    }

    /// Drops stale TLB entries of `count` pages from `virt` when this is
    /// the space on the CPU (switching spaces drops all of them: the
    /// kernel uses no PCIDs).
    pub(super) fn flush_if_active(&self, virt: u64, count: u64) {
        if Cr3::read().0.start_address().as_u64() != self.tables.root() {
            return;
        }
        if count > 64 {
            x86_64::instructions::tlb::flush_all();
            return;
        }
        for index in 0..count {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(
                virt + index * PAGE_SIZE,
            ));
        }
    }
}
