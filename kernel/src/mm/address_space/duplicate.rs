//! A copy of an address space for `process_clone` (`fork`): every own page
//! shared copy-on-write (a foreign process's) or copied now into a fresh
//! frame (an Abide process's: the kernel writes its memory through user
//! addresses, where no copy-on-write fault is resolved), with its
//! protection; every memory-object mapping shared at the same address
//! (docs/kernel.md, "Another process's memory").

use alloc::vec::Vec;

use abide_mm::paging::{MapError, PageFlags, PageSize};
use abide_mm::PAGE_SIZE;

use super::{copy_frame, AddressSpace, UserTables, USER_END, USER_START};
use crate::mm::kernel_map::DirectTables;
use crate::mm::{frame_refs, frames};

/// What a page's copy keeps of its flags (the CPU's marks go).
const NOT_COPIED: PageFlags = PageFlags::DIRTY
    .union(PageFlags::ACCESSED)
    .union(PageFlags::GLOBAL)
    .union(PageFlags::HUGE);

impl AddressSpace {
    /// A new space with the same own pages (flags kept; a page for which
    /// `write_protected(virt)` says a checkpoint took its write permission
    /// for a while counts as writable) and the same memory-object
    /// mappings. With `copy_on_write`, both spaces map the same frames
    /// and every writable page becomes read-only and copy-on-write in both
    /// ([`AddressSpace::resolve_copy_on_write`]); without, each page is
    /// copied into a fresh frame. `OutOfMemory` when frames, tables or the
    /// kernel heap run out; nothing stays allocated then (this space's
    /// pages may stay copy-on-write: their next write takes them back).
    pub fn duplicate(
        &mut self,
        write_protected: impl Fn(u64) -> bool,
        copy_on_write: bool,
    ) -> Result<AddressSpace, MapError> {
        let mut copy = AddressSpace::new()?;
        copy.pages
            .try_reserve(self.pages.len())
            .map_err(|_| MapError::OutOfMemory)?;
        if copy_on_write {
            self.share_pages(&mut copy, &write_protected)?;
        } else {
            self.copy_pages(&mut copy, &write_protected)?;
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

    /// Copies every own page into a fresh frame of `copy`.
    fn copy_pages(
        &self,
        copy: &mut AddressSpace,
        write_protected: &impl Fn(u64) -> bool,
    ) -> Result<(), MapError> {
        for &(virt, frame) in self.pages.as_slice() {
            let mut flags = self.page_flags(virt).ok_or(MapError::NotMapped)? - NOT_COPIED;
            if write_protected(virt) {
                flags |= PageFlags::WRITABLE;
            }
            // Dropping `copy` on failure frees what it holds so far.
            let new = frames::alloc_user_frame().ok_or(MapError::OutOfMemory)?;
            copy_frame(frame, new);
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
        Ok(())
    }

    /// Maps every own page's frame into `copy` too, one more reference
    /// each, and takes write permission from both sides' writable pages
    /// (they become copy-on-write). This space changes only once nothing
    /// can fail any more.
    fn share_pages(
        &mut self,
        copy: &mut AddressSpace,
        write_protected: &impl Fn(u64) -> bool,
    ) -> Result<(), MapError> {
        let mut shared: Vec<u64> = Vec::new();
        shared
            .try_reserve_exact(self.pages.len())
            .map_err(|_| MapError::OutOfMemory)?;
        shared.extend(self.pages.as_slice().iter().map(|&(_, frame)| frame));
        frame_refs::share(&shared).map_err(|_| MapError::OutOfMemory)?;
        let mut mem = UserTables(&mut copy.table_pages);
        for (index, &(virt, frame)) in self.pages.as_slice().iter().enumerate() {
            let flags = self.page_flags(virt).map(|flags| flags - NOT_COPIED);
            let mapped = flags.ok_or(MapError::NotMapped).and_then(|flags| {
                copy.tables.map(
                    &mut mem,
                    virt,
                    frame,
                    PageSize::Size4K,
                    copy_on_write_flags(flags, write_protected(virt)),
                )
            });
            if let Err(error) = mapped {
                // `copy` gives back the references of the pages it maps
                // when dropped; the others go here.
                for &later in shared.get(index..).unwrap_or(&[]) {
                    frame_refs::release(later);
                }
                return Err(error);
            }
            copy.pages.insert(virt, frame);
        }
        for &(virt, _) in self.pages.as_slice() {
            let Some(flags) = self.page_flags(virt) else {
                continue;
            };
            let new = copy_on_write_flags(flags, write_protected(virt));
            if new != flags {
                let _ = self.tables.protect(&mut DirectTables, virt, new);
            }
        }
        self.flush_if_active(USER_START, (USER_END - USER_START) / PAGE_SIZE);
        Ok(())
    }
}

/// The flags of a page whose frame is now shared: read-only and
/// copy-on-write where it was writable (or held write-protected by a
/// checkpoint, `write_protected`), as they were otherwise.
fn copy_on_write_flags(flags: PageFlags, write_protected: bool) -> PageFlags {
    if flags.contains(PageFlags::WRITABLE) || write_protected {
        (flags - PageFlags::WRITABLE) | PageFlags::COPY_ON_WRITE
    } else {
        flags
    }
}
