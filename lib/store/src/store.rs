//! The store as the kernel sees it: format or open a disk, read the
//! committed generation's pages and state blob, and start the next
//! generation ([`Store::begin`], see the `builder` module).
//!
//! Open chooses the newest header slot whose whole metadata validates and
//! loads the other slot's generation too, because the blocks of both are
//! off limits to the next generation (that is what keeps the fallback
//! generation intact while the next one is written).

use alloc::vec::Vec;

use crate::builder::{Builder, Detached};
use crate::crc::crc32c;
use crate::disk::{Disk, BLOCK_SIZE};
use crate::error::{Corruption, OpenError, Problem, ReadError, StoreError, What};
use crate::freemap::FreeMap;
use crate::generation::{load, Generation, LoadError};
use crate::header::{Header, Slot, HEADER_SLOTS};
use crate::map::PageKey;
use crate::run::{read_checked, ReadFailure, RunWriter};
use crate::MIN_BLOCKS;

/// An open store: the committed generation of a disk, ready to be read
/// and to be followed by the next one.
pub struct Store<D: Disk> {
    pub(crate) disk: D,
    /// The committed generation (the newest that validated at open, or
    /// the last one committed since).
    pub(crate) current: Generation,
    /// The generation of the other header slot, if it validated: its
    /// blocks stay in use until the next commit replaces its slot.
    pub(crate) previous: Option<Generation>,
    /// Blocks in use: both generations, the header slots, and (after a
    /// commit whose header write failed) whatever that commit wrote.
    pub(crate) free: FreeMap,
    /// Blocks a rejected generation in the other header slot was seen to
    /// reference: kept in use until the next commit replaces that slot.
    pub(crate) salvage: Vec<u64>,
    fallback: Option<Corruption>,
}

impl<D: Disk> Store<D> {
    /// Writes an empty store over the whole disk: slot 1 zeroed, flush,
    /// then slot 0 a header of generation 0 (no pages, empty state),
    /// flush. Whatever the disk held before is gone (a crash in between
    /// leaves either the old headers or an unopenable disk; format again).
    pub fn format(mut disk: D) -> Result<Self, StoreError<D::Error>> {
        let blocks = disk.block_count();
        if blocks < MIN_BLOCKS {
            return Err(StoreError::TooSmall);
        }
        let free = FreeMap::new(blocks).ok_or(StoreError::OutOfMemory)?;
        let header = Header {
            generation: 0,
            block_count: blocks,
            map_entries: 0,
            state_len: 0,
            index_block: 0,
            index_crc: 0,
        };
        let mut w = RunWriter::new();
        w.write_at(&mut disk, 1, |b| b.fill(0))?;
        disk.flush().map_err(StoreError::Disk)?;
        w.write_at(&mut disk, 0, |b| header.encode(b))?;
        disk.flush().map_err(StoreError::Disk)?;
        let mut store = Self {
            disk,
            current: Generation::empty(header, 0),
            previous: None,
            free,
            salvage: Vec::new(),
            fallback: None,
        };
        store.recompute_used();
        Ok(store)
    }

    /// Opens the store: the newest header slot whose header (magic,
    /// version, checksum, fields) and metadata (index chain, block map,
    /// state blob, each block against its CRC) validate. When the newest
    /// slot is rejected the other one is used and [`Store::fallback`] says
    /// why. Writes nothing.
    ///
    /// Refuses with [`OpenError::Incompatible`] if either slot holds a
    /// valid header of another format version, and gives up on any disk
    /// read error rather than treat it as corruption.
    pub fn open(mut disk: D) -> Result<Self, OpenError<D::Error>> {
        let disk_blocks = disk.block_count();
        if disk_blocks < HEADER_SLOTS {
            return Err(OpenError::TooSmall);
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(2 * BLOCK_SIZE)
            .map_err(|_| OpenError::OutOfMemory)?;
        buf.resize(2 * BLOCK_SIZE, 0);
        disk.read(0, &mut buf).map_err(OpenError::Disk)?;
        let (b0, b1) = buf.split_at(BLOCK_SIZE);
        let slots = [Header::decode(b0), Header::decode(b1)];
        drop(buf);

        for s in slots {
            if let Slot::Incompatible(version) = s {
                return Err(OpenError::Incompatible { version });
            }
        }
        if slots == [Slot::Empty, Slot::Empty] {
            return Err(OpenError::Blank);
        }
        for s in slots {
            if let Slot::Valid(h) = s {
                if h.block_count > disk_blocks {
                    return Err(OpenError::TooSmall);
                }
            }
        }

        // Valid headers, newest first (slot 0 first on a tie).
        let generation_of = |s: &Slot| match s {
            Slot::Valid(h) => Some(h.generation),
            _ => None,
        };
        let order: [u8; 2] = if generation_of(&slots[1]) > generation_of(&slots[0]) {
            [1, 0]
        } else {
            [0, 1]
        };
        let mut rejected: [Option<(Corruption, Vec<u64>)>; 2] = [None, None];
        let mut chosen = None;
        for s in order {
            let Some(Slot::Valid(h)) = slots.get(usize::from(s)) else {
                continue;
            };
            match load(&mut disk, s, h) {
                Ok(g) => {
                    chosen = Some(g);
                    break;
                }
                Err(e) => rejected[usize::from(s)] = Some(load_failure(e)?),
            }
        }
        let header_problem = |s: u8| match slots.get(usize::from(s)) {
            Some(Slot::Bad(problem)) => Some(Corruption {
                slot: s,
                generation: None,
                what: What::Header,
                block: u64::from(s),
                problem: *problem,
            }),
            _ => None,
        };
        let Some(current) = chosen else {
            let why = order
                .iter()
                .find_map(|&s| rejected[usize::from(s)].as_ref().map(|r| r.0))
                .or_else(|| header_problem(0))
                .or_else(|| header_problem(1))
                .unwrap_or(Corruption {
                    slot: 0,
                    generation: None,
                    what: What::Header,
                    block: 0,
                    problem: Problem::Malformed("no valid header"),
                });
            return Err(OpenError::Corrupt(why));
        };

        let other = current.slot ^ 1;
        let mut fallback = header_problem(other);
        let mut previous = None;
        let mut salvage = Vec::new();
        if let Some(Slot::Valid(h)) = slots.get(usize::from(other)) {
            if let Some((why, seen)) = rejected[usize::from(other)].take() {
                // Tried before the chosen one: it was newer.
                fallback = Some(why);
                salvage = seen;
            } else if h.block_count == current.header.block_count {
                // Older: loaded for its blocks, which the next generation
                // must not overwrite while it is the fallback.
                match load(&mut disk, other, h) {
                    Ok(g) => previous = Some(g),
                    Err(e) => salvage = load_failure(e)?.1,
                }
            }
        }

        let free = FreeMap::new(current.header.block_count).ok_or(OpenError::OutOfMemory)?;
        let mut store = Self {
            disk,
            current,
            previous,
            free,
            salvage,
            fallback,
        };
        store.recompute_used();
        Ok(store)
    }

    /// Rebuilds the free map from the two generations of the header slots.
    pub(crate) fn recompute_used(&mut self) {
        let free = &mut self.free;
        free.clear();
        for b in 0..HEADER_SLOTS {
            free.mark(b);
        }
        for b in self.current.blocks() {
            free.mark(b);
        }
        if let Some(p) = &self.previous {
            for b in p.blocks() {
                free.mark(b);
            }
        }
        for &b in &self.salvage {
            free.mark(b);
        }
    }

    /// The committed generation's number (0: format's empty generation).
    pub fn generation(&self) -> u64 {
        self.current.header.generation
    }

    /// The generation of the other header slot, when it validated (the
    /// one open would fall back to).
    pub fn previous_generation(&self) -> Option<u64> {
        self.previous.as_ref().map(|g| g.header.generation)
    }

    /// Why the newest header slot was rejected when the store was opened
    /// (`None` when the newest one was used). A slot holding anything but
    /// zeros or a valid header counts as newest, since that is what a
    /// torn header write leaves.
    pub fn fallback(&self) -> Option<&Corruption> {
        self.fallback.as_ref()
    }

    /// The keys of the committed generation's pages, in increasing order.
    /// All-zero pages are not stored and not listed: an absent key is a
    /// zero page.
    pub fn keys(&self) -> impl Iterator<Item = PageKey> + '_ {
        self.current.map.iter().map(|e| e.key)
    }

    /// How many pages [`Store::keys`] lists.
    pub fn page_count(&self) -> usize {
        self.current.map.len()
    }

    /// Whether the committed generation stores page `key`.
    pub fn contains(&self, key: PageKey) -> bool {
        self.current.lookup(key).is_some()
    }

    /// The block holding page `key` in the committed generation (`None`
    /// for a zero or absent page): for tools and tests that inspect or
    /// damage a store on purpose.
    pub fn block_of(&self, key: PageKey) -> Option<u64> {
        self.current.lookup(key).map(|e| e.block)
    }

    /// Reads page `key` of the committed generation into `buf`, checked
    /// against its CRC; an absent key reads as zeros.
    pub fn read_page(
        &mut self,
        key: PageKey,
        buf: &mut [u8; BLOCK_SIZE],
    ) -> Result<(), ReadError<D::Error>> {
        let Some(e) = self.current.lookup(key) else {
            buf.fill(0);
            return Ok(());
        };
        let (block, crc) = (e.block, e.crc);
        self.disk.read(block, buf).map_err(ReadError::Disk)?;
        if crc32c(buf) != crc {
            return Err(ReadError::Checksum {
                what: What::Data,
                block,
            });
        }
        Ok(())
    }

    /// Bytes in the committed generation's object-state blob.
    pub fn state_len(&self) -> u64 {
        self.current.header.state_len
    }

    /// The committed generation's object-state blob, read and checked
    /// against its CRCs (the blob is allocated exactly, with `try_reserve`).
    pub fn state(&mut self) -> Result<Vec<u8>, ReadError<D::Error>> {
        let len =
            usize::try_from(self.current.header.state_len).map_err(|_| ReadError::OutOfMemory)?;
        let mut out = Vec::new();
        out.try_reserve_exact(len)
            .map_err(|_| ReadError::OutOfMemory)?;
        let mut buf = Vec::new();
        read_checked(
            &mut self.disk,
            &self.current.state,
            &mut buf,
            |_, _, data| {
                let take = (len - out.len()).min(data.len());
                out.extend_from_slice(data.get(..take).unwrap_or(&[]));
                Ok::<(), ()>(())
            },
        )
        .map_err(|f| match f {
            ReadFailure::Disk(e) => ReadError::Disk(e),
            ReadFailure::Mismatch(block) => ReadError::Checksum {
                what: What::State,
                block,
            },
            ReadFailure::OutOfMemory | ReadFailure::Rejected(..) => ReadError::OutOfMemory,
        })?;
        Ok(out)
    }

    /// Blocks in the store (including the two header slots).
    pub fn block_count(&self) -> u64 {
        self.current.header.block_count
    }

    /// Blocks in use: the header slots and every block referenced by the
    /// generations of both slots (shared blocks counted once), including
    /// what could be identified of a generation rejected at open.
    pub fn used_blocks(&self) -> u64 {
        self.free.used()
    }

    /// Blocks free for the next generation.
    pub fn free_blocks(&self) -> u64 {
        self.block_count().saturating_sub(self.used_blocks())
    }

    /// Starts the next generation, based on the committed one (see
    /// [`Builder`]). Nothing on disk that either header slot references is
    /// written until the builder commits, and then only the older slot.
    pub fn begin(&mut self) -> Builder<'_, D> {
        Builder::new(self)
    }

    /// Takes back a builder set aside with [`Builder::detach`].
    pub fn resume(&mut self, detached: Detached<D::Error>) -> Builder<'_, D> {
        Builder::resume(self, detached)
    }

    /// The disk, giving up the store.
    pub fn into_disk(self) -> D {
        self.disk
    }

    /// The disk. Writing to it behind the store's back voids every
    /// guarantee; this is for status and driver maintenance.
    pub fn disk_mut(&mut self) -> &mut D {
        &mut self.disk
    }
}

/// A generation that did not load: its corruption and the blocks it was
/// seen to use, or the open error that makes open give up (a disk error,
/// no memory).
fn load_failure<E>(e: LoadError<E>) -> Result<(Corruption, Vec<u64>), OpenError<E>> {
    match e {
        LoadError::Corrupt(c, seen) => Ok((c, seen)),
        LoadError::Disk(e) => Err(OpenError::Disk(e)),
        LoadError::OutOfMemory => Err(OpenError::OutOfMemory),
    }
}
