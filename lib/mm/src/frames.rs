//! The physical frame allocator.
//!
//! The kernel hands out 4 KiB frames of physical memory for page tables, kernel
//! stacks and the pages of memory objects. This module keeps one bit per frame
//! in a bitmap the kernel places in usable memory at boot (see [`place_bitmap`]),
//! so the allocator itself needs no heap. Single frames come from a word scan
//! that starts where the last allocation succeeded and skips full words;
//! contiguous, aligned runs (for DMA buffers and 2 MiB pages) come from a
//! slower search that jumps past frames in use.

use core::fmt;

use crate::{align_up, PAGE_SIZE};

/// Bits in one word of the bitmap.
const BITS_PER_WORD: usize = 64;

/// Why a frame could not be freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The address is not the start of a frame.
    Misaligned,
    /// The frame lies beyond the memory the allocator tracks.
    OutOfRange,
    /// The frame is already free (double free, or never allocated).
    NotAllocated,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            FrameError::Misaligned => "address is not frame-aligned",
            FrameError::OutOfRange => "frame is beyond tracked physical memory",
            FrameError::NotAllocated => "frame is not allocated",
        };
        f.write_str(text)
    }
}

/// One bit per frame from physical address 0 up to `limit`; a set bit means in use.
#[derive(Debug)]
pub struct FrameAllocator<'a> {
    /// The bitmap; bits past `frame_count` in the last word stay set forever.
    bits: &'a mut [u64],
    /// Frames tracked, free or in use.
    frame_count: usize,
    /// Frames currently free.
    free: usize,
    /// Word where the next single-frame search starts.
    hint: usize,
}

impl<'a> FrameAllocator<'a> {
    /// Number of u64 words of bitmap needed to track physical memory [0, limit).
    pub const fn words_needed(limit: u64) -> usize {
        (limit / PAGE_SIZE).div_ceil(BITS_PER_WORD as u64) as usize
    }

    /// Creates an allocator over `storage` tracking frames below `limit`
    /// (rounded down to a frame; capped by what `storage` can hold). Every frame
    /// starts IN USE; `add_free_range` releases the usable ones.
    pub fn new(storage: &'a mut [u64], limit: u64) -> Self {
        let capacity = (storage.len() as u64).saturating_mul(BITS_PER_WORD as u64);
        let frame_count = (limit / PAGE_SIZE).min(capacity) as usize;
        let words = frame_count.div_ceil(BITS_PER_WORD);
        // `words <= storage.len()` because `frame_count <= capacity`.
        let bits = &mut storage[..words];
        bits.fill(u64::MAX);
        FrameAllocator {
            bits,
            frame_count,
            free: 0,
            hint: 0,
        }
    }

    /// Marks the whole frames inside [start, end) free (start rounded up, end
    /// rounded down; parts beyond the limit ignored). Used at init for usable memory.
    pub fn add_free_range(&mut self, start: u64, end: u64) {
        let first = self.clamp_frame(start.div_ceil(PAGE_SIZE));
        let last = self.clamp_frame(end / PAGE_SIZE);
        self.fill(first, last, false);
    }

    /// Marks every frame touching [start, end) in use (start rounded down, end
    /// rounded up). Used at init for the kernel image, the bitmap itself, low memory.
    pub fn reserve_range(&mut self, start: u64, end: u64) {
        let first = self.clamp_frame(start / PAGE_SIZE);
        let last = self.clamp_frame(end.div_ceil(PAGE_SIZE));
        self.fill(first, last, true);
    }

    /// Allocates one frame; returns its physical address.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.bits.len();
        let word = (self.hint..words)
            .chain(0..self.hint)
            .find(|&w| self.bits[w] != u64::MAX)?;
        let bit = self.bits[word].trailing_ones() as usize;
        self.bits[word] |= 1 << bit;
        self.free -= 1;
        self.hint = word;
        Some(frame_address(word * BITS_PER_WORD + bit))
    }

    /// Allocates `count` physically contiguous frames whose first address is a
    /// multiple of `align` bytes (a power of two >= PAGE_SIZE); takes the lowest
    /// such run. Returns `None` when no such run is free, `count` is zero or
    /// `align` is invalid.
    pub fn alloc_contiguous(&mut self, count: usize, align: u64) -> Option<u64> {
        if count == 0 || count > self.free || !align.is_power_of_two() || align < PAGE_SIZE {
            return None;
        }
        let first = self.find_free_run(count, align / PAGE_SIZE)?;
        self.fill(first, first + count, true);
        Some(frame_address(first))
    }

    /// Frees one frame. Errors: Misaligned, OutOfRange, NotAllocated (frame already free).
    pub fn free(&mut self, addr: u64) -> Result<(), FrameError> {
        self.free_contiguous(addr, 1)
    }

    /// Frees `count` frames starting at `addr`; checks all of them first and
    /// frees nothing on error.
    pub fn free_contiguous(&mut self, addr: u64, count: usize) -> Result<(), FrameError> {
        if addr & (PAGE_SIZE - 1) != 0 {
            return Err(FrameError::Misaligned);
        }
        let first = addr / PAGE_SIZE;
        let last = first
            .checked_add(count as u64)
            .filter(|&last| last <= self.frame_count as u64)
            .ok_or(FrameError::OutOfRange)?;
        let (first, last) = (first as usize, last as usize);
        if self.any_free(first, last) {
            return Err(FrameError::NotAllocated);
        }
        self.fill(first, last, false);
        Ok(())
    }

    /// Whether the frame containing `addr` is tracked and free.
    pub fn is_free(&self, addr: u64) -> bool {
        let frame = addr / PAGE_SIZE;
        frame < self.frame_count as u64 && self.any_free(frame as usize, frame as usize + 1)
    }

    /// Number of frames currently free.
    pub fn free_frames(&self) -> usize {
        self.free
    }

    /// Frames tracked (free or in use) = limit / PAGE_SIZE.
    pub fn total_frames(&self) -> usize {
        self.frame_count
    }

    /// Converts a frame number to an index no greater than `frame_count`.
    fn clamp_frame(&self, frame: u64) -> usize {
        frame.min(self.frame_count as u64) as usize
    }

    /// Sets (`used`) or clears every bit of frames [first, last), keeping the
    /// free count right. `last` must not exceed `frame_count`.
    fn fill(&mut self, first: usize, last: usize, used: bool) {
        for (word, mask) in word_masks(first, last) {
            let old = self.bits[word];
            let new = if used { old | mask } else { old & !mask };
            let changed = (old ^ new).count_ones() as usize;
            if used {
                self.free -= changed;
            } else {
                self.free += changed;
            }
            self.bits[word] = new;
        }
    }

    /// Whether any frame in [first, last) is free.
    fn any_free(&self, first: usize, last: usize) -> bool {
        word_masks(first, last).any(|(word, mask)| !self.bits[word] & mask != 0)
    }

    /// The highest frame in [first, last) that is in use, if any.
    fn last_used(&self, first: usize, last: usize) -> Option<usize> {
        word_masks(first, last)
            .filter_map(|(word, mask)| {
                let used = self.bits[word] & mask;
                let top = (BITS_PER_WORD as u32 - 1).checked_sub(used.leading_zeros())?;
                Some(word * BITS_PER_WORD + top as usize)
            })
            .last()
    }

    /// The lowest frame `f`, a multiple of `step` frames, such that frames
    /// [f, f + count) are all tracked and free.
    fn find_free_run(&self, count: usize, step: u64) -> Option<usize> {
        let mut first = 0u64;
        loop {
            let last = first.checked_add(count as u64)?;
            if last > self.frame_count as u64 {
                return None;
            }
            match self.last_used(first as usize, last as usize) {
                None => return Some(first as usize),
                Some(used) => first = align_up(used as u64 + 1, step)?,
            }
        }
    }
}

/// Physical address of frame number `frame`.
fn frame_address(frame: usize) -> u64 {
    frame as u64 * PAGE_SIZE
}

/// Splits frames [first, last) into (word index, bit mask) pieces, one per word.
fn word_masks(first: usize, last: usize) -> impl Iterator<Item = (usize, u64)> {
    let mut frame = first;
    core::iter::from_fn(move || {
        if frame >= last {
            return None;
        }
        let bit = frame % BITS_PER_WORD;
        let len = (BITS_PER_WORD - bit).min(last - frame);
        let piece = (
            frame / BITS_PER_WORD,
            (u64::MAX >> (BITS_PER_WORD - len)) << bit,
        );
        frame += len;
        Some(piece)
    })
}

/// Picks where to put the bitmap itself: the lowest page-aligned address `a` >=
/// `min_addr` such that [a, a+bytes) lies inside one of the `usable` ranges (each
/// (start, end), end exclusive) and overlaps none of the `avoid` ranges. Pure function.
pub fn place_bitmap(
    usable: &[(u64, u64)],
    avoid: &[(u64, u64)],
    bytes: u64,
    min_addr: u64,
) -> Option<u64> {
    // The lowest fit either starts a usable range or follows an avoided one:
    // one page lower, it would leave its range or overlap that avoided range.
    let range_starts = usable.iter().map(|&(start, _)| start);
    let avoid_ends = avoid.iter().map(|&(_, end)| end);
    range_starts
        .chain(avoid_ends)
        .filter_map(|candidate| align_up(candidate.max(min_addr), PAGE_SIZE))
        .filter(|&addr| fits_at(usable, avoid, bytes, addr))
        .min()
}

/// Whether [addr, addr + bytes) lies inside one `usable` range and overlaps no
/// `avoid` range.
fn fits_at(usable: &[(u64, u64)], avoid: &[(u64, u64)], bytes: u64, addr: u64) -> bool {
    let Some(end) = addr.checked_add(bytes) else {
        return false;
    };
    let inside = usable.iter().any(|&(s, e)| s <= addr && end <= e);
    let overlaps = avoid.iter().any(|&(s, e)| addr.max(s) < end.min(e));
    inside && !overlaps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const MIB: u64 = 1024 * 1024;

    /// Bitmap storage and limit for an allocator over `frames` frames, all free.
    fn storage_for(frames: usize) -> Vec<u64> {
        vec![0; frames.div_ceil(64)]
    }

    fn all_free(storage: &mut [u64], frames: usize) -> FrameAllocator<'_> {
        let limit = frames as u64 * PAGE_SIZE;
        let mut alloc = FrameAllocator::new(storage, limit);
        alloc.add_free_range(0, limit);
        alloc
    }

    #[test]
    fn words_needed_rounds_up_to_whole_words() {
        assert_eq!(FrameAllocator::words_needed(0), 0);
        assert_eq!(FrameAllocator::words_needed(PAGE_SIZE - 1), 0);
        assert_eq!(FrameAllocator::words_needed(PAGE_SIZE), 1);
        assert_eq!(FrameAllocator::words_needed(64 * PAGE_SIZE), 1);
        assert_eq!(FrameAllocator::words_needed(65 * PAGE_SIZE), 2);
        assert_eq!(FrameAllocator::words_needed(4096 * MIB), 16384);
        assert_eq!(FrameAllocator::words_needed(u64::MAX), 1 << 46);
    }

    #[test]
    fn new_allocator_has_everything_in_use() {
        let mut storage = vec![0; 4];
        let mut alloc = FrameAllocator::new(&mut storage, 200 * PAGE_SIZE + 123);
        assert_eq!(alloc.total_frames(), 200);
        assert_eq!(alloc.free_frames(), 0);
        assert_eq!(alloc.alloc(), None);
        assert!(!alloc.is_free(0));
    }

    #[test]
    fn limit_is_capped_by_storage() {
        let mut storage = vec![0; 2];
        let mut alloc = FrameAllocator::new(&mut storage, 1 << 40);
        assert_eq!(alloc.total_frames(), 128);
        alloc.add_free_range(0, u64::MAX);
        assert_eq!(alloc.free_frames(), 128);
        assert!(!alloc.is_free(128 * PAGE_SIZE));
    }

    #[test]
    fn empty_storage_gives_an_empty_allocator() {
        let mut alloc = FrameAllocator::new(&mut [], 1 << 30);
        alloc.add_free_range(0, 1 << 30);
        assert_eq!(alloc.total_frames(), 0);
        assert_eq!(alloc.alloc(), None);
        assert_eq!(alloc.alloc_contiguous(1, PAGE_SIZE), None);
        assert_eq!(alloc.free(0), Err(FrameError::OutOfRange));
    }

    #[test]
    fn add_free_range_takes_only_whole_frames() {
        let mut storage = storage_for(100);
        let mut alloc = FrameAllocator::new(&mut storage, 100 * PAGE_SIZE);
        alloc.add_free_range(PAGE_SIZE + 1, 4 * PAGE_SIZE - 1);
        assert_eq!(alloc.free_frames(), 1);
        assert!(!alloc.is_free(PAGE_SIZE));
        assert!(alloc.is_free(2 * PAGE_SIZE));
        assert!(alloc.is_free(2 * PAGE_SIZE + 5));
        assert!(!alloc.is_free(3 * PAGE_SIZE));
        // Adding the same range again changes nothing.
        alloc.add_free_range(PAGE_SIZE, 4 * PAGE_SIZE);
        assert_eq!(alloc.free_frames(), 3);
        // Empty and reversed ranges are ignored.
        alloc.add_free_range(50 * PAGE_SIZE, 50 * PAGE_SIZE);
        alloc.add_free_range(60 * PAGE_SIZE, 50 * PAGE_SIZE);
        assert_eq!(alloc.free_frames(), 3);
    }

    #[test]
    fn reserve_range_takes_every_touched_frame() {
        let mut storage = storage_for(100);
        let mut alloc = all_free(&mut storage, 100);
        alloc.reserve_range(PAGE_SIZE + 1, 3 * PAGE_SIZE + 1);
        assert_eq!(alloc.free_frames(), 97);
        assert!(alloc.is_free(0));
        assert!(!alloc.is_free(PAGE_SIZE));
        assert!(!alloc.is_free(3 * PAGE_SIZE));
        assert!(alloc.is_free(4 * PAGE_SIZE));
        alloc.reserve_range(90 * PAGE_SIZE, u64::MAX);
        assert_eq!(alloc.free_frames(), 87);
    }

    #[test]
    fn alloc_never_returns_reserved_frames() {
        let mut storage = storage_for(300);
        let mut alloc = all_free(&mut storage, 300);
        alloc.reserve_range(0, 10 * PAGE_SIZE);
        alloc.reserve_range(100 * PAGE_SIZE, 200 * PAGE_SIZE);
        let mut seen = BTreeSet::new();
        while let Some(addr) = alloc.alloc() {
            let frame = addr / PAGE_SIZE;
            assert!(!(0..10).contains(&frame) && !(100..200).contains(&frame));
            assert!(seen.insert(frame), "frame {frame} handed out twice");
        }
        assert_eq!(seen.len(), 190);
        assert_eq!(alloc.free_frames(), 0);
    }

    #[test]
    fn free_then_alloc_reuses_the_frame() {
        let mut storage = storage_for(64);
        let mut alloc = all_free(&mut storage, 64);
        let frames: Vec<u64> = (0..64).map(|_| alloc.alloc().unwrap()).collect();
        assert_eq!(alloc.alloc(), None);
        alloc.free(frames[17]).unwrap();
        assert_eq!(alloc.free_frames(), 1);
        assert_eq!(alloc.alloc(), Some(frames[17]));
        assert_eq!(alloc.free_frames(), 0);
    }

    #[test]
    fn free_reports_bad_addresses() {
        let mut storage = storage_for(64);
        let mut alloc = all_free(&mut storage, 64);
        let addr = alloc.alloc().unwrap();
        assert_eq!(alloc.free(addr + 1), Err(FrameError::Misaligned));
        assert_eq!(alloc.free(64 * PAGE_SIZE), Err(FrameError::OutOfRange));
        assert_eq!(alloc.free(u64::MAX - 4095), Err(FrameError::OutOfRange));
        assert_eq!(alloc.free(addr), Ok(()));
        assert_eq!(alloc.free(addr), Err(FrameError::NotAllocated));
        assert_eq!(alloc.free_frames(), 64);
    }

    #[test]
    fn free_contiguous_is_all_or_nothing() {
        let mut storage = storage_for(64);
        let mut alloc = all_free(&mut storage, 64);
        let base = alloc.alloc_contiguous(8, PAGE_SIZE).unwrap();
        alloc.free(base + 3 * PAGE_SIZE).unwrap();
        let before = alloc.free_frames();
        assert_eq!(
            alloc.free_contiguous(base, 8),
            Err(FrameError::NotAllocated)
        );
        assert_eq!(alloc.free_frames(), before);
        assert!(!alloc.is_free(base));
        assert_eq!(alloc.free_contiguous(base, 3), Ok(()));
        assert_eq!(alloc.free_contiguous(base + 4 * PAGE_SIZE, 4), Ok(()));
        assert_eq!(alloc.free_frames(), 64);
        assert_eq!(
            alloc.free_contiguous(0, usize::MAX),
            Err(FrameError::OutOfRange)
        );
        assert_eq!(alloc.free_contiguous(base, 0), Ok(()));
    }

    #[test]
    fn alloc_contiguous_is_aligned_and_contiguous() {
        let mut storage = storage_for(2048);
        let mut alloc = all_free(&mut storage, 2048);
        alloc.reserve_range(0, PAGE_SIZE);
        let addr = alloc.alloc_contiguous(512, 2 * MIB).unwrap();
        assert_eq!(addr, 2 * MIB);
        for frame in 0..512 {
            assert!(!alloc.is_free(addr + frame * PAGE_SIZE));
        }
        assert!(alloc.is_free(addr + 512 * PAGE_SIZE));
        assert!(alloc.is_free(addr - PAGE_SIZE));
        assert_eq!(alloc.free_frames(), 2048 - 513);
        let small = alloc.alloc_contiguous(3, 4 * PAGE_SIZE).unwrap();
        assert_eq!(small, 4 * PAGE_SIZE);
    }

    #[test]
    fn alloc_contiguous_skips_holes_that_are_too_small() {
        let mut storage = storage_for(100);
        let mut alloc = all_free(&mut storage, 100);
        for hole_end in [3, 8, 15] {
            alloc.reserve_range(hole_end * PAGE_SIZE, (hole_end + 1) * PAGE_SIZE);
        }
        assert_eq!(alloc.alloc_contiguous(7, PAGE_SIZE), Some(16 * PAGE_SIZE));
        assert_eq!(alloc.alloc_contiguous(5, PAGE_SIZE), Some(9 * PAGE_SIZE));
        assert_eq!(alloc.alloc_contiguous(4, PAGE_SIZE), Some(4 * PAGE_SIZE));
        assert_eq!(alloc.alloc_contiguous(3, PAGE_SIZE), Some(0));
    }

    #[test]
    fn alloc_contiguous_rejects_impossible_requests() {
        let mut storage = storage_for(64);
        let mut alloc = all_free(&mut storage, 64);
        assert_eq!(alloc.alloc_contiguous(0, PAGE_SIZE), None);
        assert_eq!(alloc.alloc_contiguous(65, PAGE_SIZE), None);
        assert_eq!(alloc.alloc_contiguous(usize::MAX, PAGE_SIZE), None);
        assert_eq!(alloc.alloc_contiguous(2, 3 * PAGE_SIZE), None);
        assert_eq!(alloc.alloc_contiguous(2, 2048), None);
        assert_eq!(alloc.alloc_contiguous(2, 1 << 63), Some(0));
        assert_eq!(alloc.alloc_contiguous(2, 1 << 63), None);
        assert_eq!(alloc.free_frames(), 62);
    }

    #[test]
    fn alloc_scans_past_the_hint() {
        let mut storage = storage_for(256);
        let mut alloc = all_free(&mut storage, 256);
        let first: Vec<u64> = (0..200).map(|_| alloc.alloc().unwrap()).collect();
        for addr in &first[..10] {
            alloc.free(*addr).unwrap();
        }
        let rest: BTreeSet<u64> = (0..66).map(|_| alloc.alloc().unwrap()).collect();
        assert_eq!(rest.len(), 66);
        assert_eq!(alloc.alloc(), None);
        assert_eq!(alloc.free_frames(), 0);
    }

    #[test]
    fn frame_errors_display() {
        assert_eq!(
            FrameError::NotAllocated.to_string(),
            "frame is not allocated"
        );
        assert!(!FrameError::Misaligned.to_string().is_empty());
        assert!(!FrameError::OutOfRange.to_string().is_empty());
    }

    #[test]
    fn place_bitmap_takes_the_lowest_fit() {
        let usable = [(0x1000, 0x9f000), (0x10_0000, 0x800_0000)];
        assert_eq!(place_bitmap(&usable, &[], 0x2000, 0), Some(0x1000));
        assert_eq!(
            place_bitmap(&usable, &[], 0x2000, 0x10_0000),
            Some(0x10_0000)
        );
        // Too big for low memory.
        assert_eq!(place_bitmap(&usable, &[], 0x10_0000, 0), Some(0x10_0000));
    }

    #[test]
    fn place_bitmap_steps_over_avoided_ranges() {
        let usable = [(0x10_0000, 0x800_0000)];
        let kernel = (0x10_0000, 0x30_0123);
        let modules = (0x30_2000, 0x30_4000);
        let found = place_bitmap(&usable, &[modules, kernel], 0x2000, 0);
        assert_eq!(found, Some(0x30_4000));
        let found = place_bitmap(&usable, &[modules, kernel], 0x1000, 0);
        assert_eq!(found, Some(0x30_1000));
    }

    #[test]
    fn place_bitmap_honours_min_addr_and_alignment() {
        let usable = [(0x1234, 0x10_0000)];
        assert_eq!(place_bitmap(&usable, &[], 0x1000, 0), Some(0x2000));
        assert_eq!(place_bitmap(&usable, &[], 0x1000, 0x5001), Some(0x6000));
    }

    #[test]
    fn place_bitmap_fails_cleanly() {
        assert_eq!(place_bitmap(&[], &[], 0x1000, 0), None);
        let usable = [(0x1000, 0x3000)];
        assert_eq!(place_bitmap(&usable, &[], 0x3000, 0), None);
        assert_eq!(place_bitmap(&usable, &[(0, u64::MAX)], 0x1000, 0), None);
        let top = [(u64::MAX - 0x1fff, u64::MAX)];
        assert_eq!(place_bitmap(&top, &[], 0x1000, 0), Some(u64::MAX - 0x1fff));
        assert_eq!(place_bitmap(&top, &[], 0x1000, u64::MAX - 0x1ffe), None);
        assert_eq!(place_bitmap(&top, &[], 0x2000, 0), None);
        assert_eq!(place_bitmap(&top, &[], 1, u64::MAX), None);
    }

    /// Operations the allocator model test applies.
    #[derive(Debug, Clone)]
    enum Op {
        Alloc,
        AllocContiguous { count: usize, align_shift: u32 },
        Free { frame: u64 },
        FreeContiguous { frame: u64, count: usize },
        Reserve { frame: u64, count: u64 },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Alloc),
            2 => (1usize..40, 0u32..7)
                .prop_map(|(count, align_shift)| Op::AllocContiguous { count, align_shift }),
            3 => (0u64..320).prop_map(|frame| Op::Free { frame }),
            1 => (0u64..320, 0usize..10)
                .prop_map(|(frame, count)| Op::FreeContiguous { frame, count }),
            1 => (0u64..320, 0u64..10).prop_map(|(frame, count)| Op::Reserve { frame, count }),
        ]
    }

    /// The lowest aligned run of `count` frames free in the model.
    fn model_run(free: &BTreeSet<u64>, total: u64, count: u64, step: u64) -> Option<u64> {
        (0..total)
            .step_by(step as usize)
            .find(|&f| f + count <= total && (f..f + count).all(|g| free.contains(&g)))
    }

    fn apply(alloc: &mut FrameAllocator, free: &mut BTreeSet<u64>, total: u64, op: Op) {
        match op {
            Op::Alloc => match alloc.alloc() {
                Some(addr) => assert!(free.remove(&(addr / PAGE_SIZE)), "allocated a used frame"),
                None => assert!(free.is_empty()),
            },
            Op::AllocContiguous { count, align_shift } => {
                let step = 1u64 << align_shift;
                let expected = model_run(free, total, count as u64, step);
                let got = alloc.alloc_contiguous(count, step * PAGE_SIZE);
                assert_eq!(got, expected.map(|f| f * PAGE_SIZE));
                for f in expected.into_iter().flat_map(|f| f..f + count as u64) {
                    free.remove(&f);
                }
            }
            Op::Free { frame } => {
                let expected = if frame >= total {
                    Err(FrameError::OutOfRange)
                } else if free.contains(&frame) {
                    Err(FrameError::NotAllocated)
                } else {
                    Ok(())
                };
                assert_eq!(alloc.free(frame * PAGE_SIZE), expected);
                if expected.is_ok() {
                    free.insert(frame);
                }
            }
            Op::FreeContiguous { frame, count } => {
                let frames = frame..frame + count as u64;
                let expected = if frames.end > total {
                    Err(FrameError::OutOfRange)
                } else if frames.clone().any(|f| free.contains(&f)) {
                    Err(FrameError::NotAllocated)
                } else {
                    Ok(())
                };
                assert_eq!(alloc.free_contiguous(frame * PAGE_SIZE, count), expected);
                if expected.is_ok() {
                    free.extend(frames);
                }
            }
            Op::Reserve { frame, count } => {
                alloc.reserve_range(frame * PAGE_SIZE, (frame + count) * PAGE_SIZE);
                for f in frame..frame + count {
                    free.remove(&f);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn allocator_agrees_with_a_set_model(
            frames in 1usize..300,
            ranges in proptest::collection::vec((0u64..1_400_000, 0u64..400_000), 0..6),
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let total = frames as u64;
            let mut storage = vec![0; FrameAllocator::words_needed(total * PAGE_SIZE)];
            let mut alloc = FrameAllocator::new(&mut storage, total * PAGE_SIZE);
            let mut free = BTreeSet::new();
            for (start, len) in ranges {
                alloc.add_free_range(start, start + len);
                let first = start.div_ceil(PAGE_SIZE);
                let last = ((start + len) / PAGE_SIZE).min(total);
                free.extend(first..last);
            }
            prop_assert_eq!(alloc.free_frames(), free.len());
            for op in ops {
                apply(&mut alloc, &mut free, total, op);
                prop_assert_eq!(alloc.free_frames(), free.len());
            }
            for frame in 0..total + 2 {
                prop_assert_eq!(alloc.is_free(frame * PAGE_SIZE), free.contains(&frame));
            }
        }

        #[test]
        fn place_bitmap_finds_the_lowest_valid_page(
            usable in proptest::collection::vec((0u64..64, 0u64..16), 0..4),
            avoid in proptest::collection::vec((0u64..64, 0u64..16), 0..4),
            pages in 0u64..6,
            extra in 0u64..2,
            min_page in 0u64..40,
        ) {
            // Work in units of 1/4 page so unaligned bounds are covered too.
            let quarter = PAGE_SIZE / 4;
            let to_range = |&(s, l): &(u64, u64)| (s * quarter * 2, (s * 2 + l) * quarter);
            let usable: Vec<_> = usable.iter().map(to_range).collect();
            let avoid: Vec<_> = avoid.iter().map(to_range).collect();
            let bytes = pages * PAGE_SIZE + extra * quarter;
            let min_addr = min_page * quarter * 3;
            let fits = |a: u64| {
                usable.iter().any(|&(s, e)| s <= a && a + bytes <= e)
                    && (bytes == 0 || !avoid.iter().any(|&(s, e)| s < e && s < a + bytes && a < e))
            };
            let expected = (0..64u64)
                .map(|p| p * PAGE_SIZE)
                .find(|&a| a >= min_addr && fits(a));
            prop_assert_eq!(place_bitmap(&usable, &avoid, bytes, min_addr), expected);
        }
    }
}
