//! The block map: which data block holds each page of a generation, and
//! that block's CRC-32C (kept here, not in the data block, so a data block
//! needs no header and a stale or flipped one is caught on read).
//!
//! On disk the map is an array of 32-byte entries sorted by key, strictly
//! increasing, packed 128 to a block (the last block zero-padded):
//!
//! ```text
//! offset size field
//!    0     8  owner  PageKey::owner
//!    8     8  index  PageKey::index
//!   16     8  block  the data block
//!   24     4  crc    CRC-32C of the data block's 4096 bytes
//!   28     4  reserved 0
//! ```
//!
//! All-zero pages are not in the map: an absent key reads as zeros.

use crate::bytes::{get_u32, get_u64, is_zero, put_u32, put_u64};
use crate::error::Problem;
use crate::header::HEADER_SLOTS;
use crate::BLOCK_SIZE;

/// Bytes per map entry.
pub const ENTRY_SIZE: usize = 32;

/// Map entries per block.
pub const ENTRIES_PER_BLOCK: usize = BLOCK_SIZE / ENTRY_SIZE;

/// The identity of one page of memory: whose (`owner`, e.g. a memory
/// object id) and which (`index`, the page number within it).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct PageKey {
    /// The object the page belongs to.
    pub owner: u64,
    /// The page's number within its owner.
    pub index: u64,
}

impl PageKey {
    /// The key of page `index` of `owner`.
    pub const fn new(owner: u64, index: u64) -> Self {
        Self { owner, index }
    }
}

/// One map entry. In a [`Builder`](crate::Builder), `block == 0` stands
/// for "this key is a zero page" until the map is finished.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Entry {
    pub key: PageKey,
    pub block: u64,
    pub crc: u32,
}

/// Writes up to [`ENTRIES_PER_BLOCK`] entries into one map block.
pub(crate) fn encode(out: &mut [u8], entries: &[Entry]) {
    out.fill(0);
    for (i, e) in entries.iter().take(ENTRIES_PER_BLOCK).enumerate() {
        let off = i * ENTRY_SIZE;
        put_u64(out, off, e.key.owner);
        put_u64(out, off + 8, e.key.index);
        put_u64(out, off + 16, e.block);
        put_u32(out, off + 24, e.crc);
    }
}

/// Reads `count` (at most [`ENTRIES_PER_BLOCK`]) entries of one map block
/// (its CRC already verified) into `out`, checking that keys keep
/// increasing after the last entry already in `out` and that data blocks
/// lie in a store of `block_count` blocks.
pub(crate) fn decode(
    block: &[u8],
    count: usize,
    block_count: u64,
    out: &mut alloc::vec::Vec<Entry>,
) -> Result<(), Problem> {
    if count > ENTRIES_PER_BLOCK {
        return Err(Problem::Malformed("map block overfull"));
    }
    if !block.get(count * ENTRY_SIZE..).is_some_and(is_zero) {
        return Err(Problem::Malformed("map block padding is not zero"));
    }
    let mut last = out.last().map(|e| e.key);
    for i in 0..count {
        let off = i * ENTRY_SIZE;
        let e = Entry {
            key: PageKey::new(get_u64(block, off), get_u64(block, off + 8)),
            block: get_u64(block, off + 16),
            crc: get_u32(block, off + 24),
        };
        if get_u32(block, off + 28) != 0 {
            return Err(Problem::Malformed("reserved map entry bytes are not zero"));
        }
        if e.block < HEADER_SLOTS || e.block >= block_count {
            return Err(Problem::Malformed("map entry points outside the store"));
        }
        if last.is_some_and(|l| l >= e.key) {
            return Err(Problem::Malformed("map keys out of order"));
        }
        last = Some(e.key);
        // The caller reserved room for every entry the header announces.
        out.push(e);
    }
    Ok(())
}
