//! The header slots (blocks 0 and 1): the one place that says which
//! generation is committed. A header names its generation and the root of
//! its metadata (the first block of its index chain, with that block's
//! checksum); its own checksum covers the whole block, so a header torn
//! between two writes never validates.
//!
//! ```text
//! offset size field
//!    0     8  magic        "ABIDESTR"
//!    8     4  version      FORMAT_VERSION (1)
//!   12     4  reserved     0
//!   16     8  generation
//!   24     8  block_count  blocks in the store (set by format)
//!   32     8  map_entries  entries in the block map
//!   40     8  state_len    bytes in the object-state blob
//!   48     8  index_block  first block of the index chain (0: no map and no state)
//!   56     4  index_crc    CRC-32C of that block (0 when index_block is 0)
//!   60  4032  reserved     0
//! 4092     4  crc          CRC-32C of bytes 0..4092
//! ```
//!
//! Stable across format versions (so a future version is recognised and
//! left alone): the magic at 0, the version at 8 and the CRC at 4092.

use crate::bytes::{get_u32, get_u64, is_zero, put, put_u32, put_u64};
use crate::crc::crc32c;
use crate::error::Problem;
use crate::index::index_blocks_for;
use crate::{BLOCK_SIZE, FORMAT_VERSION, MIN_BLOCKS};

/// The first eight bytes of a header.
pub const MAGIC: [u8; 8] = *b"ABIDESTR";

/// The header slots are blocks `0..HEADER_SLOTS`; data starts after them.
pub const HEADER_SLOTS: u64 = 2;

const CRC_OFFSET: usize = BLOCK_SIZE - 4;
const FIELDS_END: usize = 64;

/// A validated header: one committed generation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Header {
    pub generation: u64,
    pub block_count: u64,
    pub map_entries: u64,
    pub state_len: u64,
    pub index_block: u64,
    pub index_crc: u32,
}

/// What a header slot holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Slot {
    /// All zeros: never written.
    Empty,
    /// Not a valid header (torn, flipped, or not ours).
    Bad(Problem),
    /// A valid header of another format version.
    Incompatible(u32),
    /// A valid header of this format version.
    Valid(Header),
}

impl Header {
    /// Blocks of the block map.
    pub fn map_blocks(&self) -> u64 {
        // map_entries <= block_count was checked, so this cannot overflow.
        self.map_entries
            .saturating_mul(crate::map::ENTRY_SIZE as u64)
            .div_ceil(BLOCK_SIZE as u64)
    }

    /// Blocks of the state blob.
    pub fn state_blocks(&self) -> u64 {
        self.state_len.div_ceil(BLOCK_SIZE as u64)
    }

    /// Map blocks plus state blocks: the blocks the index chain lists.
    pub fn content_blocks(&self) -> u64 {
        self.map_blocks().saturating_add(self.state_blocks())
    }

    /// Writes this header into `block`.
    pub fn encode(&self, block: &mut [u8]) {
        block.fill(0);
        put(block, 0, &MAGIC);
        put_u32(block, 8, FORMAT_VERSION);
        put_u64(block, 16, self.generation);
        put_u64(block, 24, self.block_count);
        put_u64(block, 32, self.map_entries);
        put_u64(block, 40, self.state_len);
        put_u64(block, 48, self.index_block);
        put_u32(block, 56, self.index_crc);
        let crc = crc32c(block.get(..CRC_OFFSET).unwrap_or(&[]));
        put_u32(block, CRC_OFFSET, crc);
    }

    /// Reads a header slot.
    pub fn decode(block: &[u8]) -> Slot {
        if block.len() != BLOCK_SIZE {
            return Slot::Bad(Problem::Malformed("header block has the wrong size"));
        }
        if is_zero(block) {
            return Slot::Empty;
        }
        if block.get(..8) != Some(&MAGIC[..]) {
            return Slot::Bad(Problem::Magic);
        }
        if crc32c(block.get(..CRC_OFFSET).unwrap_or(&[])) != get_u32(block, CRC_OFFSET) {
            return Slot::Bad(Problem::Checksum);
        }
        let version = get_u32(block, 8);
        if version != FORMAT_VERSION {
            return Slot::Incompatible(version);
        }
        let h = Header {
            generation: get_u64(block, 16),
            block_count: get_u64(block, 24),
            map_entries: get_u64(block, 32),
            state_len: get_u64(block, 40),
            index_block: get_u64(block, 48),
            index_crc: get_u32(block, 56),
        };
        match h.check(block) {
            Ok(()) => Slot::Valid(h),
            Err(why) => Slot::Bad(Problem::Malformed(why)),
        }
    }

    /// The consistency checks a header must pass beyond its checksum, so
    /// that nothing derived from it can overflow or allocate without bound.
    fn check(&self, block: &[u8]) -> Result<(), &'static str> {
        let reserved_zero = get_u32(block, 12) == 0
            && get_u32(block, 60) == 0
            && block.get(FIELDS_END..CRC_OFFSET).is_some_and(is_zero);
        if !reserved_zero {
            return Err("reserved header bytes are not zero");
        }
        if self.block_count < MIN_BLOCKS {
            return Err("block count below the minimum");
        }
        let data_blocks = self.block_count - HEADER_SLOTS;
        // Every map entry owns a distinct data block.
        if self.map_entries > data_blocks {
            return Err("more map entries than blocks");
        }
        if self.state_blocks() > data_blocks {
            return Err("state blob larger than the store");
        }
        let content = self.content_blocks();
        let total = content.saturating_add(index_blocks_for(content));
        if total > data_blocks {
            return Err("metadata larger than the store");
        }
        if content == 0 {
            if self.index_block != 0 || self.index_crc != 0 {
                return Err("index root set with no map and no state");
            }
        } else if self.index_block < HEADER_SLOTS || self.index_block >= self.block_count {
            return Err("index root outside the store");
        }
        Ok(())
    }
}
