//! The index chain: the list of a generation's map and state blocks, each
//! with its checksum, so that the header needs only one root pointer
//! however large the map and the state blob are.
//!
//! The chain is written front to back, each block pointing at the one
//! before it (with that block's CRC), and the header points at the last;
//! so every block is complete when written and the chain's integrity
//! follows from the header's checksum alone. Index block `i` of a chain
//! lists content blocks `i * REFS_PER_INDEX ..`, map blocks first, then
//! state blocks; only the last (newest-written) block may be partial.
//!
//! ```text
//! offset size field
//!    0     8  magic      "ABIDEIDX"
//!    8     8  generation the generation this chain belongs to
//!   16     4  position   i, this block's place in the chain (0 = first)
//!   20     4  count      references in this block
//!   24     8  prev_block index block i-1 (0 when i = 0)
//!   32     4  prev_crc   its CRC-32C (0 when i = 0)
//!   36     4  reserved   0
//!   40  12*n  refs       count times { block: u64, crc: u32 }
//!    …        zero
//! ```

use crate::bytes::{get_u32, get_u64, is_zero, put, put_u32, put_u64};
use crate::error::Problem;
use crate::header::HEADER_SLOTS;
use crate::BLOCK_SIZE;

/// The first eight bytes of an index block.
pub const INDEX_MAGIC: [u8; 8] = *b"ABIDEIDX";

const REFS_OFFSET: usize = 40;
const REF_SIZE: usize = 12;

/// Content blocks listed per index block.
pub const REFS_PER_INDEX: usize = (BLOCK_SIZE - REFS_OFFSET) / REF_SIZE;

/// A block and the CRC-32C of its contents.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Ref {
    pub block: u64,
    pub crc: u32,
}

/// Index blocks needed to list `content` blocks.
pub(crate) fn index_blocks_for(content: u64) -> u64 {
    content.div_ceil(REFS_PER_INDEX as u64)
}

/// How many references index block `position` of a chain listing
/// `content` blocks holds.
pub(crate) fn refs_in(position: u64, content: u64) -> u64 {
    let before = position.saturating_mul(REFS_PER_INDEX as u64);
    content.saturating_sub(before).min(REFS_PER_INDEX as u64)
}

/// Writes index block `position` of generation `generation` into `out`.
/// `refs` holds at most [`REFS_PER_INDEX`] references.
pub(crate) fn encode(
    out: &mut [u8],
    generation: u64,
    position: u32,
    refs: &[Ref],
    prev: Option<Ref>,
) {
    out.fill(0);
    put(out, 0, &INDEX_MAGIC);
    put_u64(out, 8, generation);
    put_u32(out, 16, position);
    put_u32(out, 20, u32::try_from(refs.len()).unwrap_or(u32::MAX));
    let prev = prev.unwrap_or_default();
    put_u64(out, 24, prev.block);
    put_u32(out, 32, prev.crc);
    for (i, r) in refs.iter().take(REFS_PER_INDEX).enumerate() {
        let off = REFS_OFFSET + i * REF_SIZE;
        put_u64(out, off, r.block);
        put_u32(out, off + 8, r.crc);
    }
}

/// Reads index block `position` of a chain of `generation` listing
/// `content` blocks in a store of `block_count` blocks (its CRC already
/// verified by the caller). Its references go to `out` (exactly
/// [`refs_in`] of them); returns the previous block of the chain.
pub(crate) fn decode(
    block: &[u8],
    generation: u64,
    position: u64,
    content: u64,
    block_count: u64,
    out: &mut [Ref],
) -> Result<Option<Ref>, Problem> {
    if block.get(..8) != Some(&INDEX_MAGIC[..]) {
        return Err(Problem::Magic);
    }
    if get_u64(block, 8) != generation {
        return Err(Problem::Malformed("index block of another generation"));
    }
    if u64::from(get_u32(block, 16)) != position {
        return Err(Problem::Malformed("index block out of place in its chain"));
    }
    let count = refs_in(position, content);
    if u64::from(get_u32(block, 20)) != count || out.len() as u64 != count {
        return Err(Problem::Malformed(
            "index block holds the wrong number of references",
        ));
    }
    let prev = Ref {
        block: get_u64(block, 24),
        crc: get_u32(block, 32),
    };
    if get_u32(block, 36) != 0 {
        return Err(Problem::Malformed("reserved index bytes are not zero"));
    }
    let end = REFS_OFFSET.saturating_add(out.len().saturating_mul(REF_SIZE));
    if !block.get(end..).is_some_and(is_zero) {
        return Err(Problem::Malformed("index block padding is not zero"));
    }
    for (i, slot) in out.iter_mut().enumerate() {
        let off = REFS_OFFSET + i * REF_SIZE;
        let r = Ref {
            block: get_u64(block, off),
            crc: get_u32(block, off + 8),
        };
        if r.block < HEADER_SLOTS || r.block >= block_count {
            return Err(Problem::Malformed(
                "index references a block outside the store",
            ));
        }
        *slot = r;
    }
    if position == 0 {
        if prev != Ref::default() {
            return Err(Problem::Malformed("first index block has a predecessor"));
        }
        Ok(None)
    } else if prev.block < HEADER_SLOTS || prev.block >= block_count {
        Err(Problem::Malformed("index chain leaves the store"))
    } else {
        Ok(Some(prev))
    }
}
