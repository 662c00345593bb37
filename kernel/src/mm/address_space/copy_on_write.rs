//! The first write to a copy-on-write page (see `duplicate`): the page
//! gets a frame of its own, a copy, unless it holds the last mapping of
//! the shared frame, which it then takes over in place; either way it is
//! writable again and the write is retried. Resolved in the kernel, never
//! trapped to a personality's handler (docs/kernel.md, "Another process's
//! memory").

use abide_mm::paging::{MapError, PageFlags, PageSize};
use abide_mm::PAGE_SIZE;

use super::{copy_frame, AddressSpace, UserTables};
use crate::mm::kernel_map::DirectTables;
use crate::mm::{frame_refs, frames};

impl AddressSpace {
    /// The frame of its own page holding `virt` when that page is
    /// copy-on-write (the caller tells the checkpoint engine the frame
    /// may change before [`AddressSpace::resolve_copy_on_write`]).
    pub fn copy_on_write_frame(&self, virt: u64) -> Option<u64> {
        let page = virt - virt % PAGE_SIZE;
        let flags = self.page_flags(page)?;
        flags
            .contains(PageFlags::COPY_ON_WRITE)
            .then(|| self.pages.frame(page))
            .flatten()
    }

    /// Makes the copy-on-write page holding `virt` writable with a frame
    /// of its own; false when it is not a copy-on-write page (nothing
    /// changed). `OutOfMemory` when no frame is left for the copy (the
    /// page stays as it was): the process was charged for the page when
    /// it was cloned, so only the machine's memory can run out.
    pub fn resolve_copy_on_write(&mut self, virt: u64) -> Result<bool, MapError> {
        let page = virt - virt % PAGE_SIZE;
        let Some(frame) = self.copy_on_write_frame(page) else {
            return Ok(false);
        };
        let flags = self.page_flags(page).ok_or(MapError::NotMapped)?;
        let writable = (flags - PageFlags::COPY_ON_WRITE) | PageFlags::WRITABLE | PageFlags::DIRTY;
        self.take_page(page, frame, flags, writable)?;
        Ok(true)
    }

    /// Before the kernel writes the own page holding `virt` through the
    /// direct map (`process_write`): a copy-on-write page is resolved as
    /// a write fault would, and a read-only page whose frame is shared
    /// gets a copy of its own, its protection kept. A memory object's
    /// page is shared by design and left as it is.
    pub fn unshare_for_write(&mut self, virt: u64) -> Result<(), MapError> {
        let page = virt - virt % PAGE_SIZE;
        let Some(frame) = self.pages.frame(page) else {
            return Ok(());
        };
        if self.resolve_copy_on_write(page)? || !frame_refs::is_shared(frame) {
            return Ok(());
        }
        let flags = self.page_flags(page).ok_or(MapError::NotMapped)?;
        self.take_page(page, frame, flags, flags | PageFlags::DIRTY)
    }

    /// Maps `page` (now `frame` with `flags`) with `new_flags` and a frame
    /// of its own: a copy when `frame` is shared, `frame` itself when this
    /// was its last mapping.
    fn take_page(
        &mut self,
        page: u64,
        frame: u64,
        flags: PageFlags,
        new_flags: PageFlags,
    ) -> Result<(), MapError> {
        if frame_refs::is_shared(frame) {
            let new = frames::alloc_user_frame().ok_or(MapError::OutOfMemory)?;
            copy_frame(frame, new);
            let mut mem = UserTables(&mut self.table_pages);
            // The page's tables stay, so mapping it again cannot fail.
            let _ = self.tables.unmap_keeping_tables(&mut mem, page);
            if let Err(error) = self
                .tables
                .map(&mut mem, page, new, PageSize::Size4K, new_flags)
            {
                let _ = self
                    .tables
                    .map(&mut mem, page, frame, PageSize::Size4K, flags);
                let _ = frames::free_frame(new);
                return Err(error);
            }
            self.pages.set_frame(page, new);
            frame_refs::release(frame);
        } else {
            let _ = self.tables.protect(&mut DirectTables, page, new_flags);
        }
        self.flush_if_active(page, 1);
        Ok(())
    }
}
