//! A copy of an address space for `process_clone` (`fork`): every own page
//! copied now, into fresh frames, with its protection; every memory-object
//! mapping shared at the same address. Copy-on-write would defer the
//! copies; it is a later optimisation (docs/kernel.md, "Another process's
//! memory").

use abide_mm::paging::{MapError, PageFlags, PageSize};
use abide_mm::PAGE_SIZE;

use super::{AddressSpace, UserTables};
use crate::mm::{frames, phys_to_virt};

impl AddressSpace {
    /// A new space with a copy of every own page (flags kept; a page for
    /// which `write_protected(virt)` says a checkpoint took its write
    /// permission for a while gets it back in the copy) and the same
    /// memory-object mappings. `OutOfMemory` when frames, tables or the
    /// kernel heap run out; nothing stays allocated then.
    pub fn duplicate(
        &self,
        write_protected: impl Fn(u64) -> bool,
    ) -> Result<AddressSpace, MapError> {
        let mut copy = AddressSpace::new()?;
        copy.pages
            .try_reserve(self.pages.len())
            .map_err(|_| MapError::OutOfMemory)?;
        for &(virt, frame) in self.pages.as_slice() {
            let mut flags = self.page_flags(virt).ok_or(MapError::NotMapped)?
                - (PageFlags::DIRTY | PageFlags::ACCESSED | PageFlags::GLOBAL | PageFlags::HUGE);
            if write_protected(virt) {
                flags |= PageFlags::WRITABLE;
            }
            // Dropping `copy` on failure frees what it holds so far.
            let new = frames::alloc_user_frame().ok_or(MapError::OutOfMemory)?;
            // SAFETY: `new` is a fresh frame, ours alone; `frame` is a page
            // of `self`, which nothing writes while the kernel runs here;
            // both are whole pages reached through the direct map.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    phys_to_virt(frame) as *const u8,
                    phys_to_virt(new) as *mut u8,
                    PAGE_SIZE as usize,
                );
            }
            let mapped = copy.tables.map(
                &mut UserTables(&mut copy.table_pages),
                virt,
                new,
                PageSize::Size4K,
                flags,
            );
            if let Err(error) = mapped {
                let _ = frames::free_frame(new);
                return Err(error);
            }
            copy.pages.insert(virt, new);
        }
        for (base, set) in &self.shared {
            let writable = self
                .page_flags(*base)
                .is_some_and(|flags| flags.contains(PageFlags::WRITABLE))
                || write_protected(*base);
            copy.map_shared_at(*base, set.clone(), writable)?;
        }
        copy.next_shared = self.next_shared;
        Ok(copy)
    }
}
