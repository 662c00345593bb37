//! The pages an address space owns, as (virtual address, frame) pairs kept
//! sorted by address: a page is found by binary search, a range of pages
//! is one slice, and every change that grows the list reserves its room
//! first (`try_reserve`), so running out of kernel heap is an error the
//! caller can answer, never a panic. A `fork` copies a few hundred to a
//! few thousand of them at once; `process_map` and `process_unmap` change
//! ranges of them.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use abide_mm::PAGE_SIZE;

/// (virtual address, frame), sorted by address, no address twice.
#[derive(Default)]
pub struct OwnPages {
    pages: Vec<(u64, u64)>,
}

impl OwnPages {
    /// How many pages.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Every page, by address.
    pub fn as_slice(&self) -> &[(u64, u64)] {
        &self.pages
    }

    /// The frame mapped at page address `virt`, if it is one of these.
    pub fn frame(&self, virt: u64) -> Option<u64> {
        self.pages
            .binary_search_by_key(&virt, |&(page, _)| page)
            .ok()
            .and_then(|index| self.pages.get(index))
            .map(|&(_, frame)| frame)
    }

    /// Puts `frame` at page `virt` (one of these) in place of the frame
    /// there (a copy-on-write page got its own copy).
    pub fn set_frame(&mut self, virt: u64, frame: u64) {
        if let Ok(index) = self.pages.binary_search_by_key(&virt, |&(page, _)| page) {
            if let Some(entry) = self.pages.get_mut(index) {
                entry.1 = frame;
            }
        }
    }

    /// The index range of the pages at addresses in `[start, end)`.
    fn span(&self, start: u64, end: u64) -> core::ops::Range<usize> {
        let first = self.pages.partition_point(|&(page, _)| page < start);
        let last = self.pages.partition_point(|&(page, _)| page < end);
        first..last.max(first)
    }

    /// The pages at addresses in `[start, end)`, by address.
    pub fn range(&self, start: u64, end: u64) -> &[(u64, u64)] {
        self.pages.get(self.span(start, end)).unwrap_or(&[])
    }

    /// Makes room for `additional` more pages, so the next inserts of that
    /// many do not allocate.
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.pages.try_reserve(additional)
    }

    /// Adds the page at `virt` (not one of these yet). Allocates only when
    /// [`OwnPages::try_reserve`] was not called first: call it first.
    pub fn insert(&mut self, virt: u64, frame: u64) {
        let index = self.pages.partition_point(|&(page, _)| page < virt);
        self.pages.insert(index, (virt, frame));
    }

    /// Replaces the pages at addresses in `[start, end)` with `frames`, one
    /// per page from `start` (so `end` is `start + frames.len()` pages).
    /// Allocates only beyond the room [`OwnPages::try_reserve`] made: call
    /// it first for `frames.len()`.
    pub fn replace_range(&mut self, start: u64, frames: &[u64]) {
        let end = start.saturating_add(frames.len() as u64 * PAGE_SIZE);
        let span = self.span(start, end);
        let new = frames
            .iter()
            .enumerate()
            .map(|(index, &frame)| (start + index as u64 * PAGE_SIZE, frame));
        // An exact-size iterator: the splice moves the tail once, within
        // the reserved room.
        drop(self.pages.splice(span, new));
    }

    /// Forgets the pages at addresses in `[start, end)`.
    pub fn remove_range(&mut self, start: u64, end: u64) {
        let span = self.span(start, end);
        self.pages.drain(span);
    }
}
