//! The free map: one bit per block, set when the block is in use. A block
//! is in use when the generation of either header slot references it (or
//! a generation whose header write failed might have; see `Store`), when
//! it is a header slot, or when the generation being built wrote it.
//! Nothing of this is on disk: open rebuilds it from both slots.
//!
//! Allocation is next-fit from a rotating cursor, so consecutive
//! allocations get consecutive blocks whenever the disk has free runs
//! (which lets the writer coalesce them into one disk write).

use alloc::vec::Vec;

/// The in-use bit of every block of the store.
pub(crate) struct FreeMap {
    words: Vec<u64>,
    blocks: u64,
    used: u64,
    cursor: u64,
}

impl FreeMap {
    /// A map of `blocks` blocks, all free; `None` if it does not fit in memory.
    pub fn new(blocks: u64) -> Option<Self> {
        let n = usize::try_from(blocks.div_ceil(64)).ok()?;
        let mut words = Vec::new();
        words.try_reserve_exact(n).ok()?;
        words.resize(n, 0);
        let mut map = Self {
            words,
            blocks,
            used: 0,
            cursor: 0,
        };
        map.clear();
        Some(map)
    }

    /// A copy (with the same cursor); `None` if it does not fit in memory.
    pub fn try_clone(&self) -> Option<Self> {
        let mut words = Vec::new();
        words.try_reserve_exact(self.words.len()).ok()?;
        words.extend_from_slice(&self.words);
        Some(Self { words, ..*self })
    }

    /// Marks every block free.
    pub fn clear(&mut self) {
        self.words.fill(0);
        self.used = 0;
        // The bits past the last block stay set, so allocation never
        // returns them.
        let tail = self.blocks % 64;
        if tail != 0 {
            if let Some(last) = self.words.last_mut() {
                *last = !((1u64 << tail) - 1);
            }
        }
    }

    /// Marks `block` in use (blocks outside the store are ignored).
    pub fn mark(&mut self, block: u64) {
        if block >= self.blocks {
            return;
        }
        let Ok(wi) = usize::try_from(block / 64) else {
            return;
        };
        if let Some(w) = self.words.get_mut(wi) {
            let bit = 1u64 << (block % 64);
            if *w & bit == 0 {
                *w |= bit;
                self.used += 1;
            }
        }
    }

    /// Whether `block` is in use.
    #[cfg(any(test, feature = "testing"))]
    pub fn is_used(&self, block: u64) -> bool {
        usize::try_from(block / 64)
            .ok()
            .and_then(|wi| self.words.get(wi))
            .is_some_and(|w| w & (1u64 << (block % 64)) != 0)
    }

    /// Blocks in use.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Takes a free block, the first one at or after the cursor (wrapping
    /// around); `None` when the store is full.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.used >= self.blocks || self.words.is_empty() {
            return None;
        }
        let n = self.words.len();
        let start = usize::try_from(self.cursor / 64).unwrap_or(0) % n;
        let below_cursor = (1u64 << (self.cursor % 64)) - 1;
        // One pass over every word, then the starting word again for the
        // blocks below the cursor.
        for step in 0..=n {
            let wi = (start + step) % n;
            let Some(&w) = self.words.get(wi) else {
                continue;
            };
            let w = if step == 0 { w | below_cursor } else { w };
            if w != u64::MAX {
                let block = wi as u64 * 64 + u64::from((!w).trailing_zeros());
                self.mark(block);
                self.cursor = if block + 1 >= self.blocks {
                    0
                } else {
                    block + 1
                };
                return Some(block);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_every_block_once_then_reports_full() {
        for blocks in [1u64, 63, 64, 65, 130] {
            let mut m = FreeMap::new(blocks).unwrap();
            m.mark(0);
            let mut got: Vec<u64> = core::iter::from_fn(|| m.alloc()).collect();
            got.sort_unstable();
            assert_eq!(got, (1..blocks).collect::<Vec<_>>(), "{blocks} blocks");
            assert_eq!(m.used(), blocks);
            assert_eq!(m.alloc(), None);
        }
    }

    #[test]
    fn next_fit_wraps_and_gives_consecutive_blocks() {
        let mut m = FreeMap::new(100).unwrap();
        assert_eq!(
            (0..5).map(|_| m.alloc().unwrap()).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        m.clear();
        m.mark(96);
        m.cursor = 95;
        assert_eq!(
            (0..4).map(|_| m.alloc().unwrap()).collect::<Vec<_>>(),
            [95, 97, 98, 99]
        );
        assert_eq!(m.alloc(), Some(0));
        assert!(m.is_used(96) && !m.is_used(50));
    }
}
