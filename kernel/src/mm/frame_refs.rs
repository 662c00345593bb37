//! How many address spaces map each user frame that more than one maps:
//! `process_clone` shares a foreign process's own pages with its copy
//! (copy-on-write, docs/kernel.md "Another process's memory"), and a
//! frame goes back to the allocator only when its last mapping goes.
//!
//! A frame absent from the table has one owner, so the common case (a
//! page nobody shares) costs one binary search when it is freed. Entries
//! are kept sorted by frame in one vector whose growth is reserved first:
//! running out of kernel heap is an error the caller answers.

use alloc::vec::Vec;

use super::frames;
use crate::sync::IrqSpinLock;

/// (frame, mappings), sorted by frame; mappings is 2 or more.
static SHARED: IrqSpinLock<Vec<(u64, u32)>> = IrqSpinLock::new(Vec::new());

/// Adds one mapping to each of `frames` (no frame twice): they are now
/// shared with one more address space. `Err` when the kernel heap cannot
/// hold the records; nothing changed then.
pub fn share(frames: &[u64]) -> Result<(), ()> {
    let mut table = SHARED.lock();
    table.try_reserve(frames.len()).map_err(|_| ())?;
    let sorted_len = table.len();
    for &frame in frames {
        let found = table
            .get(..sorted_len)
            .and_then(|sorted| sorted.binary_search_by_key(&frame, |&(f, _)| f).ok());
        match found.and_then(|index| table.get_mut(index)) {
            Some((_, count)) => *count = count.saturating_add(1),
            None => table.push((frame, 2)),
        }
    }
    if table.len() > sorted_len {
        table.sort_unstable_by_key(|&(frame, _)| frame);
    }
    Ok(())
}

/// Whether another address space maps `frame` too.
pub fn is_shared(frame: u64) -> bool {
    let table = SHARED.lock();
    table.binary_search_by_key(&frame, |&(f, _)| f).is_ok()
}

/// One mapping of `frame` goes: the frame is freed when it was the last.
pub fn release(frame: u64) {
    let last = {
        let mut table = SHARED.lock();
        match table.binary_search_by_key(&frame, |&(f, _)| f) {
            Ok(index) => {
                if let Some((_, count)) = table.get_mut(index) {
                    *count = count.saturating_sub(1);
                    if *count <= 1 {
                        table.remove(index);
                    }
                }
                false
            }
            Err(_) => true,
        }
    };
    if last {
        let _ = frames::free_frame(frame);
    }
}
