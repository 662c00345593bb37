//! A set of physical pages that a memory object and the address spaces
//! mapping it share.
//!
//! The pages live as long as anyone holds the set (`Arc<PageSet>`): the memory
//! object, or a mapping of it after the last handle was closed. Ordinary
//! pages are zeroed at creation and freed with the set; device pages (MMIO)
//! belong to the hardware and are never freed or zeroed.
//!
//! A set also remembers which of its pages were written through a mapping
//! that has gone since (its process ended): the page-table dirty bits that
//! recorded those writes go with the mapping, and the next checkpoint must
//! still save the pages ([`PageSet::mark_dirty`], [`PageSet::take_dirty`]).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use abide_mm::PAGE_SIZE;

use super::{frames, phys_to_virt};

/// The last page-set id issued; ids are never reused (a checkpoint names
/// a set's pages by it, and a restore continues the sequence).
static LAST_ID: AtomicU64 = AtomicU64::new(0);

fn next_id() -> u64 {
    LAST_ID.fetch_add(1, Ordering::Relaxed) + 1
}

/// Pages per word of a set's dirty bitmap.
const BITS: usize = u64::BITS as usize;

/// The pages of one memory object, in order.
pub struct PageSet {
    id: u64,
    frames: Vec<u64>,
    device: bool,
    /// One bit per page: written through a mapping that is gone, and not
    /// yet seen by a checkpoint (empty for device memory).
    dirty: Vec<AtomicU64>,
    /// Dirty state the bitmap could not hold (it could not be allocated):
    /// every page counts as dirty.
    all_dirty: AtomicBool,
}

impl PageSet {
    /// The set's stable id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The last id issued (for the checkpoint image).
    pub fn last_id() -> u64 {
        LAST_ID.load(Ordering::Relaxed)
    }

    /// Continues issuing ids after `last` (after a restore).
    pub fn continue_ids_after(last: u64) {
        LAST_ID.fetch_max(last, Ordering::Relaxed);
    }

    /// A restored set: `frames` (owned from now on, contents already in
    /// place) under its old `id`.
    pub fn restored(id: u64, frames: Vec<u64>) -> PageSet {
        let count = frames.len();
        let mut set = PageSet {
            id,
            frames,
            device: false,
            dirty: Vec::new(),
            all_dirty: AtomicBool::new(false),
        };
        // Without a bitmap, a page written through a mapping that goes
        // counts every page as dirty: more writing, nothing lost.
        let _ = set.allocate_bitmap(count);
        set
    }

    /// Restored device memory under its old `id`.
    pub fn restored_device(id: u64, frames: Vec<u64>) -> PageSet {
        PageSet {
            id,
            frames,
            device: true,
            dirty: Vec::new(),
            all_dirty: AtomicBool::new(false),
        }
    }

    /// `count` zeroed pages, or `None` if memory (outside the kernel's
    /// reserve) ran out; nothing stays allocated then.
    pub fn zeroed(count: usize) -> Option<PageSet> {
        let mut set = PageSet {
            id: next_id(),
            frames: Vec::new(),
            device: false,
            dirty: Vec::new(),
            all_dirty: AtomicBool::new(false),
        };
        set.frames.try_reserve_exact(count).ok()?;
        set.allocate_bitmap(count)?;
        for _ in 0..count {
            // Dropping `set` on failure frees what was allocated so far.
            let frame = frames::alloc_user_frame()?;
            // SAFETY: a freshly allocated frame is ours alone, reached through
            // the direct map.
            unsafe {
                core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize)
            };
            set.frames.push(frame);
        }
        Some(set)
    }

    /// The device pages `phys..phys + count * PAGE_SIZE` (the caller has
    /// checked they are not RAM).
    pub fn device(phys: u64, count: usize) -> PageSet {
        PageSet {
            id: next_id(),
            frames: (0..count as u64).map(|i| phys + i * PAGE_SIZE).collect(),
            device: true,
            dirty: Vec::new(),
            all_dirty: AtomicBool::new(false),
        }
    }

    /// A clear dirty bitmap for `count` pages, or `None` if memory ran out.
    fn allocate_bitmap(&mut self, count: usize) -> Option<()> {
        let words = count.div_ceil(BITS);
        self.dirty.try_reserve_exact(words).ok()?;
        self.dirty.extend((0..words).map(|_| AtomicU64::new(0)));
        Some(())
    }

    /// Page `index` was written through a mapping that is going away: the
    /// next checkpoint saves it although no page table says so any more.
    /// Device memory is never saved, so nothing is recorded for it.
    pub fn mark_dirty(&self, index: usize) {
        if self.device || index >= self.frames.len() {
            return;
        }
        match self.dirty.get(index / BITS) {
            Some(word) => {
                word.fetch_or(1 << (index % BITS), Ordering::Relaxed);
            }
            None => self.all_dirty.store(true, Ordering::Relaxed),
        }
    }

    /// Adds the pages marked by [`PageSet::mark_dirty`] to `marks` (one
    /// per page, in order) and clears them: a checkpoint takes them with
    /// the page tables' dirty bits.
    pub fn take_dirty(&self, marks: &mut [bool]) {
        if self.all_dirty.swap(false, Ordering::Relaxed) {
            marks.iter_mut().for_each(|mark| *mark = true);
        }
        for (word, marks) in self.dirty.iter().zip(marks.chunks_mut(BITS)) {
            let bits = word.swap(0, Ordering::Relaxed);
            for (bit, mark) in marks.iter_mut().enumerate() {
                if bits & (1 << bit) != 0 {
                    *mark = true;
                }
            }
        }
    }

    /// The physical address of each page.
    pub fn frames(&self) -> &[u64] {
        &self.frames
    }

    /// True for device memory (mapped uncached, never freed).
    pub fn is_device(&self) -> bool {
        self.device
    }

    /// Size in bytes.
    pub fn len(&self) -> u64 {
        self.frames.len() as u64 * PAGE_SIZE
    }

    /// A copy of the contents (ordinary pages only; `None` for device memory).
    pub fn read_all(&self) -> Option<Vec<u8>> {
        if self.device {
            return None;
        }
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(self.len() as usize).ok()?;
        for &frame in &self.frames {
            // SAFETY: the frame belongs to this set (allocated in `zeroed`,
            // freed only on drop) and is reached through the direct map.
            let page = unsafe {
                core::slice::from_raw_parts(phys_to_virt(frame) as *const u8, PAGE_SIZE as usize)
            };
            bytes.extend_from_slice(page);
        }
        Some(bytes)
    }
}

impl Drop for PageSet {
    fn drop(&mut self) {
        if !self.device {
            for &frame in &self.frames {
                let _ = frames::free_frame(frame);
            }
        }
    }
}
