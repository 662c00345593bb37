//! A generation being written out while programs run.
//!
//! The pause decides which pages go into the new generation; those that
//! must be written wait in [`WriteOut::queue`]. Each one is write-protected
//! in every mapping that could change it, so its contents stay as they
//! were at the pause until it is written. A thread (or the kernel, copying
//! to user memory) that writes such a page first faults: [`write_fault`]
//! copies the page aside and gives the write permission back. A page whose
//! address space is about to go, or whose page set is about to be mapped
//! again, is copied aside the same way. Written pages get their permission
//! back at once.
//!
//! [`write_fault`]: WriteOut::write_fault

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;

use abide_mm::paging::PageTables;
use abide_store::{Detached, PageKey, BLOCK_SIZE};

use super::pages;
use crate::disk::DiskError;
use crate::mm::{self, PageSet};

/// One page waiting to be written.
pub struct Pending {
    pub key: PageKey,
    pub frame: u64,
    /// The page-table root of the address space owning the frame (a
    /// process's own page), `None` for a page-set page.
    pub owner: Option<u64>,
}

/// The state of a generation between its pause and its commit.
pub struct WriteOut {
    /// The store's builder, set aside between pieces of work.
    pub builder: Option<Detached<DiskError>>,
    queue: VecDeque<Pending>,
    /// The frames in `queue`, with how many pages wait in each (a frame
    /// shared copy-on-write holds a page of each process sharing it).
    queued: BTreeMap<u64, usize>,
    /// The object state, written after the pages.
    pub state: Vec<u8>,
    /// What the engine's `saved` map becomes at commit.
    pub saved: BTreeMap<PageKey, u64>,
    /// Keeps the frames of page sets alive until they are written.
    pub hold: Vec<Arc<PageSet>>,
    /// Pages copied aside before they could change, by frame.
    copies: BTreeMap<u64, Box<[u8; BLOCK_SIZE]>>,
    /// A page could not be copied aside (the kernel heap ran out) and may
    /// have changed since the pause: the generation must not commit.
    pub copy_failed: bool,
    /// Protected mappings: (page-table root, page address) → frame.
    by_mapping: BTreeMap<(u64, u64), u64>,
    /// Each protected frame's mappings.
    by_frame: BTreeMap<u64, Vec<(PageTables, u64)>>,
    /// When the pause ended (ns), pages written, pages in all.
    pub resumed_ns: u64,
    pub pause_ns: u64,
    pub written: u64,
}

impl WriteOut {
    pub fn new(
        builder: Detached<DiskError>,
        state: Vec<u8>,
        saved: BTreeMap<PageKey, u64>,
    ) -> Self {
        WriteOut {
            builder: Some(builder),
            queue: VecDeque::new(),
            queued: BTreeMap::new(),
            state,
            saved,
            hold: Vec::new(),
            copies: BTreeMap::new(),
            copy_failed: false,
            by_mapping: BTreeMap::new(),
            by_frame: BTreeMap::new(),
            resumed_ns: 0,
            pause_ns: 0,
            written: 0,
        }
    }

    /// Adds a page to write.
    pub fn push(&mut self, pending: Pending) {
        *self.queued.entry(pending.frame).or_insert(0) += 1;
        self.queue.push_back(pending);
    }

    /// The next page to write (then [`WriteOut::with_saved_contents`]).
    pub fn pop(&mut self) -> Option<Pending> {
        let pending = self.queue.pop_front()?;
        if let Some(count) = self.queued.get_mut(&pending.frame) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.queued.remove(&pending.frame);
            }
        }
        Some(pending)
    }

    /// Pages still to write.
    pub fn remaining(&self) -> usize {
        self.queue.len()
    }

    /// Records that the mapping of `frame` at `virt` in `tables` was
    /// write-protected.
    pub fn protected(&mut self, tables: PageTables, virt: u64, frame: u64) {
        self.by_mapping.insert((tables.root(), virt), frame);
        self.by_frame.entry(frame).or_default().push((tables, virt));
    }

    /// A write to `virt` in the address space with root `root` faulted: if
    /// it hit a page waiting to be written, copies the page aside, gives
    /// its mappings their write permission back, and returns true (the
    /// write is retried).
    pub fn write_fault(&mut self, root: u64, virt: u64) -> bool {
        let page = virt & !(abide_mm::PAGE_SIZE - 1);
        let Some(&frame) = self.by_mapping.get(&(root, page)) else {
            return false;
        };
        self.copy_aside(frame);
        self.release(frame);
        true
    }

    /// The address space with root `root` is about to be dropped (its
    /// process ended): its waiting pages are copied aside, its mappings
    /// forgotten.
    pub fn space_ending(&mut self, root: u64) {
        let frames: Vec<u64> = self
            .queue
            .iter()
            .filter(|pending| pending.owner == Some(root))
            .map(|pending| pending.frame)
            .collect();
        for frame in frames {
            self.copy_aside(frame);
        }
        self.forget_mappings(root);
    }

    /// Forgets the protected mappings of the address space with root
    /// `root` without giving their write permission back (the space goes,
    /// or its pages became copy-on-write).
    pub fn forget_mappings(&mut self, root: u64) {
        let gone: Vec<(u64, u64)> = self
            .by_mapping
            .range((root, 0)..=(root, u64::MAX))
            .map(|(mapping, _)| *mapping)
            .collect();
        for mapping in gone {
            if let Some(frame) = self.by_mapping.remove(&mapping) {
                if let Some(list) = self.by_frame.get_mut(&frame) {
                    list.retain(|(tables, virt)| (tables.root(), *virt) != mapping);
                }
            }
        }
    }

    /// Page set `set` is about to be mapped again: its waiting pages are
    /// copied aside, so the new (writable) mapping changes nothing saved.
    /// That includes pages no mapping protects: a set that nobody mapped
    /// at the pause (new, or written through a mapping that has gone).
    pub fn set_mapping(&mut self, set: &PageSet) {
        for &frame in set.frames() {
            self.copy_aside(frame);
            self.release(frame);
        }
    }

    /// The page in `frame` is about to change by other means than a user
    /// write through a protected mapping (the kernel writes it through the
    /// direct map, unmaps it, or changes its protection): if it waits to be
    /// written it is copied aside, and its mappings are forgotten.
    pub fn page_changing(&mut self, frame: u64) {
        self.copy_aside(frame);
        self.release(frame);
    }

    /// Whether the page at `virt` in the space with root `root` is
    /// write-protected until it is written (it was writable at the pause).
    pub fn is_protected(&self, root: u64, virt: u64) -> bool {
        self.by_mapping.contains_key(&(root, virt))
    }

    /// Runs `write` on what page `pending` (just popped) held at the
    /// pause, then, unless another page still waits in the same frame,
    /// gives its mappings their write permission back.
    pub fn with_saved_contents<R>(
        &mut self,
        pending: &Pending,
        write: impl FnOnce(&[u8; BLOCK_SIZE]) -> R,
    ) -> R {
        if self.queued.contains_key(&pending.frame) {
            return match self.copies.get(&pending.frame) {
                Some(copy) => write(copy),
                None => pages::with_contents(pending.frame, write),
            };
        }
        let result = match self.copies.remove(&pending.frame) {
            Some(copy) => write(&copy),
            None => pages::with_contents(pending.frame, write),
        };
        self.release(pending.frame);
        result
    }

    /// Gives every protected mapping its write permission back (the write-out
    /// is abandoned).
    pub fn release_all(&mut self) {
        let frames: Vec<u64> = self.by_frame.keys().copied().collect();
        for frame in frames {
            self.release(frame);
        }
    }

    /// Copies `frame` aside unless it was already (or was written).
    fn copy_aside(&mut self, frame: u64) {
        if self.copies.contains_key(&frame) || !self.queued.contains_key(&frame) {
            return;
        }
        // A page set mapped during the write-out may bring many pages at
        // once: running out of heap abandons the generation, never panics.
        match pages::with_contents(frame, copy_of) {
            Some(copy) => {
                self.copies.insert(frame, copy);
            }
            None => self.copy_failed = true,
        }
    }

    /// Gives `frame`'s mappings their write permission back.
    fn release(&mut self, frame: u64) {
        for (tables, virt) in self.by_frame.remove(&frame).unwrap_or_default() {
            self.by_mapping.remove(&(tables.root(), virt));
            mm::make_writable(tables, virt);
        }
    }
}

/// A copy of `page` on the heap, or `None` if the heap ran out.
fn copy_of(page: &[u8; BLOCK_SIZE]) -> Option<Box<[u8; BLOCK_SIZE]>> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(BLOCK_SIZE).ok()?;
    bytes.extend_from_slice(page);
    bytes.into_boxed_slice().try_into().ok()
}
