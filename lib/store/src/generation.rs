//! One generation in memory: its block map, the blocks of its metadata,
//! and where its state blob lies; and loading it from a header, which is
//! where everything read from disk is validated (every index, map and
//! state block against its recorded CRC, every field against the store's
//! bounds) before the store trusts it.

use alloc::vec::Vec;

use crate::bytes::is_zero;
use crate::crc::crc32c;
use crate::disk::{Disk, BLOCK_SIZE};
use crate::error::{Corruption, Problem, What};
use crate::header::Header;
use crate::index::{self, Ref, REFS_PER_INDEX};
use crate::map::{self, Entry, PageKey, ENTRIES_PER_BLOCK};
use crate::run::{read_checked, ReadFailure};

/// A committed generation.
pub(crate) struct Generation {
    /// Its header (generation number, sizes, index root).
    pub header: Header,
    /// The header slot (0 or 1) it is committed in.
    pub slot: u8,
    /// The block map, sorted by key, zero pages absent.
    pub map: Vec<Entry>,
    /// Its index, map and state blocks.
    pub meta: Vec<u64>,
    /// The state blob's blocks, in order.
    pub state: Vec<Ref>,
}

impl Generation {
    /// The generation with no pages and no state (what format commits).
    pub fn empty(header: Header, slot: u8) -> Self {
        Self {
            header,
            slot,
            map: Vec::new(),
            meta: Vec::new(),
            state: Vec::new(),
        }
    }

    /// The entry of `key`.
    pub fn lookup(&self, key: PageKey) -> Option<&Entry> {
        self.map
            .binary_search_by_key(&key, |e| e.key)
            .ok()
            .and_then(|i| self.map.get(i))
    }

    /// Every block this generation references.
    pub fn blocks(&self) -> impl Iterator<Item = u64> + '_ {
        self.map
            .iter()
            .map(|e| e.block)
            .chain(self.meta.iter().copied())
    }
}

/// Why a generation did not load.
pub(crate) enum LoadError<E> {
    Disk(E),
    OutOfMemory,
    /// Rejected; with the blocks it was seen to reference before the
    /// failure (index blocks that validated, the blocks they list, the
    /// data blocks of map blocks that validated).
    Corrupt(Corruption, Vec<u64>),
}

/// What loading has read so far.
#[derive(Default)]
struct Parts {
    /// The content blocks (map, then state) the index lists.
    refs: Vec<Ref>,
    /// The index blocks read.
    index: Vec<u64>,
    /// The block map read.
    map: Vec<Entry>,
}

/// Loads and validates the generation of header `h` in slot `slot`.
pub(crate) fn load<D: Disk>(
    disk: &mut D,
    slot: u8,
    h: &Header,
) -> Result<Generation, LoadError<D::Error>> {
    let mut parts = Parts::default();
    match load_parts(disk, slot, h, &mut parts) {
        Ok(()) => {}
        Err(LoadError::Corrupt(c, _)) => return Err(LoadError::Corrupt(c, seen_blocks(parts))),
        Err(e) => return Err(e),
    }
    let Parts {
        refs,
        index: mut meta,
        map,
    } = parts;
    let map_blocks = usize::try_from(h.map_blocks())
        .unwrap_or(usize::MAX)
        .min(refs.len());
    meta.try_reserve_exact(refs.len())
        .map_err(|_| LoadError::OutOfMemory)?;
    meta.extend(refs.iter().map(|r| r.block));
    let mut state = refs;
    state.drain(..map_blocks);
    Ok(Generation {
        header: *h,
        slot,
        map,
        meta,
        state,
    })
}

/// Every block `parts` names, as far as memory allows (the store keeps
/// them in use until the rejected generation's slot is replaced, so
/// nothing that might still be recovered by hand is overwritten early).
fn seen_blocks(parts: Parts) -> Vec<u64> {
    let Parts {
        refs,
        index: mut blocks,
        map,
    } = parts;
    if blocks
        .try_reserve(refs.len().saturating_add(map.len()))
        .is_ok()
    {
        blocks.extend(refs.iter().map(|r| r.block).filter(|&b| b != 0));
        blocks.extend(map.iter().map(|e| e.block));
    }
    blocks
}

fn load_parts<D: Disk>(
    disk: &mut D,
    slot: u8,
    h: &Header,
    parts: &mut Parts,
) -> Result<(), LoadError<D::Error>> {
    let bad = |what, block, problem| {
        LoadError::Corrupt(
            Corruption {
                slot,
                generation: Some(h.generation),
                what,
                block,
                problem,
            },
            Vec::new(),
        )
    };
    let oom = |_| LoadError::OutOfMemory;
    // The header check bounded all of these by the store's block count.
    let content = h.content_blocks();
    let n_index = index::index_blocks_for(content);
    let content_len = usize::try_from(content).map_err(|_| LoadError::OutOfMemory)?;
    let n_index_len = usize::try_from(n_index).map_err(|_| LoadError::OutOfMemory)?;
    let map_len = usize::try_from(h.map_entries).map_err(|_| LoadError::OutOfMemory)?;

    let refs = &mut parts.refs;
    refs.try_reserve_exact(content_len).map_err(oom)?;
    refs.resize(content_len, Ref::default());
    parts.index.try_reserve_exact(n_index_len).map_err(oom)?;
    let mut buf: Vec<u8> = Vec::new();
    buf.try_reserve_exact(BLOCK_SIZE).map_err(oom)?;
    buf.resize(BLOCK_SIZE, 0);

    // The index chain, from its last block (the header's root) back.
    let mut next = (content > 0).then_some(Ref {
        block: h.index_block,
        crc: h.index_crc,
    });
    for position in (0..n_index).rev() {
        let Some(r) = next.take() else {
            return Err(bad(
                What::Index,
                h.index_block,
                Problem::Malformed("index chain too short"),
            ));
        };
        disk.read(r.block, &mut buf).map_err(LoadError::Disk)?;
        if crc32c(&buf) != r.crc {
            return Err(bad(What::Index, r.block, Problem::Checksum));
        }
        parts.index.push(r.block);
        let first = usize::try_from(position)
            .unwrap_or(usize::MAX)
            .saturating_mul(REFS_PER_INDEX);
        let count = usize::try_from(index::refs_in(position, content)).unwrap_or(0);
        let Some(out) = first
            .checked_add(count)
            .and_then(|end| refs.get_mut(first..end))
        else {
            return Err(bad(
                What::Index,
                r.block,
                Problem::Malformed("index chain too long"),
            ));
        };
        next = index::decode(&buf, h.generation, position, content, h.block_count, out)
            .map_err(|p| bad(What::Index, r.block, p))?;
    }

    let map_blocks = usize::try_from(h.map_blocks()).unwrap_or(usize::MAX);
    let (map_refs, state_refs) = refs.split_at(map_blocks.min(refs.len()));

    // The block map.
    let entries = &mut parts.map;
    entries.try_reserve_exact(map_len).map_err(oom)?;
    let mut left = map_len;
    read_checked(disk, map_refs, &mut buf, |_, _, data| {
        let count = left.min(ENTRIES_PER_BLOCK);
        left -= count;
        map::decode(data, count, h.block_count, entries)
    })
    .map_err(|f| failure(f, What::Map, &bad))?;

    // The state blob: checked now so that a generation whose state is
    // damaged is not chosen over an intact older one.
    let tail = usize::try_from(h.state_len % BLOCK_SIZE as u64).unwrap_or(0);
    let last = state_refs.len().saturating_sub(1);
    read_checked(disk, state_refs, &mut buf, |i, _, data| {
        if i == last && tail != 0 && !data.get(tail..).is_some_and(is_zero) {
            return Err(Problem::Malformed("state blob padding is not zero"));
        }
        Ok(())
    })
    .map_err(|f| failure(f, What::State, &bad))?;
    Ok(())
}

/// Turns a failed checked read of `what` blocks into a load error.
fn failure<E>(
    f: ReadFailure<E, Problem>,
    what: What,
    bad: &impl Fn(What, u64, Problem) -> LoadError<E>,
) -> LoadError<E> {
    match f {
        ReadFailure::Disk(e) => LoadError::Disk(e),
        ReadFailure::OutOfMemory => LoadError::OutOfMemory,
        ReadFailure::Mismatch(block) => bad(what, block, Problem::Checksum),
        ReadFailure::Rejected(block, p) => bad(what, block, p),
    }
}
