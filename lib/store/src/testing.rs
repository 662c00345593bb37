//! An in-memory [`Disk`] that records every write and flush, for tests of
//! the store and of its users (feature `testing`), and what the store's own
//! tests read inside a store. Its log lets a test
//! rebuild the disk as it would be after a crash at any point: durable
//! up to the last completed flush, and any subset of the later writes.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::disk::{Disk, BLOCK_SIZE};
use crate::generation::Generation;
use crate::header::{Header, Slot};
use crate::index::index_blocks_for;
use crate::{PageKey, Store, What};

/// One request seen by a [`MemDisk`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Op {
    /// `data` (a multiple of [`BLOCK_SIZE`] bytes) written at `block`.
    Write {
        /// First block written.
        block: u64,
        /// The bytes written.
        data: Vec<u8>,
    },
    /// A flush.
    Flush,
}

/// Why a [`MemDisk`] refused a request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MemDiskError {
    /// The request reaches past the end of the disk or is not whole blocks.
    OutOfRange {
        /// First block of the request.
        block: u64,
        /// Its length in bytes.
        len: usize,
    },
    /// A failure injected with [`MemDisk::fail_after`].
    Injected,
}

/// A disk in memory that logs what is done to it.
#[derive(Clone, Debug)]
pub struct MemDisk {
    bytes: Vec<u8>,
    /// Every write and flush since creation or the last
    /// [`MemDisk::take_log`].
    pub log: Vec<Op>,
    /// Read requests served.
    pub reads: u64,
    /// Every read fails with [`MemDiskError::Injected`] while set.
    pub fail_reads: bool,
    fail_after: Option<usize>,
}

impl MemDisk {
    /// A zeroed disk of `blocks` blocks.
    pub fn new(blocks: u64) -> Self {
        let len = usize::try_from(blocks).unwrap_or(0) * BLOCK_SIZE;
        Self::from_image(vec![0; len])
    }

    /// A disk holding `image` (its length rounded down to whole blocks).
    pub fn from_image(mut image: Vec<u8>) -> Self {
        image.truncate(image.len() / BLOCK_SIZE * BLOCK_SIZE);
        Self {
            bytes: image,
            log: Vec::new(),
            reads: 0,
            fail_reads: false,
            fail_after: None,
        }
    }

    /// The disk's bytes.
    pub fn image(&self) -> &[u8] {
        &self.bytes
    }

    /// The disk's bytes, to damage them.
    pub fn image_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Block `block`'s bytes.
    pub fn block(&self, block: u64) -> &[u8] {
        let start = usize::try_from(block)
            .unwrap_or(usize::MAX)
            .saturating_mul(BLOCK_SIZE);
        self.bytes
            .get(start..start.saturating_add(BLOCK_SIZE))
            .unwrap_or(&[])
    }

    /// Block `block`'s bytes, to damage them.
    pub fn block_mut(&mut self, block: u64) -> &mut [u8] {
        let start = usize::try_from(block)
            .unwrap_or(usize::MAX)
            .saturating_mul(BLOCK_SIZE);
        self.bytes
            .get_mut(start..start.saturating_add(BLOCK_SIZE))
            .unwrap_or(&mut [])
    }

    /// Returns and clears the log.
    pub fn take_log(&mut self) -> Vec<Op> {
        core::mem::take(&mut self.log)
    }

    /// After `n` more successful writes and flushes, every write and flush
    /// fails with [`MemDiskError::Injected`] (without effect) until
    /// [`MemDisk::heal`].
    pub fn fail_after(&mut self, n: usize) {
        self.fail_after = Some(n);
    }

    /// Stops injecting failures.
    pub fn heal(&mut self) {
        self.fail_after = None;
    }

    fn inject(&mut self) -> Result<(), MemDiskError> {
        match &mut self.fail_after {
            Some(0) => Err(MemDiskError::Injected),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn range(&self, block: u64, len: usize) -> Result<core::ops::Range<usize>, MemDiskError> {
        let err = MemDiskError::OutOfRange { block, len };
        if !len.is_multiple_of(BLOCK_SIZE) {
            return Err(err);
        }
        let start = usize::try_from(block)
            .ok()
            .and_then(|b| b.checked_mul(BLOCK_SIZE))
            .ok_or(err)?;
        let end = start.checked_add(len).ok_or(err)?;
        if end > self.bytes.len() {
            return Err(err);
        }
        Ok(start..end)
    }
}

impl Disk for MemDisk {
    type Error = MemDiskError;

    fn block_count(&self) -> u64 {
        (self.bytes.len() / BLOCK_SIZE) as u64
    }

    fn read(&mut self, block: u64, buf: &mut [u8]) -> Result<(), MemDiskError> {
        let r = self.range(block, buf.len())?;
        if self.fail_reads {
            return Err(MemDiskError::Injected);
        }
        self.reads += 1;
        buf.copy_from_slice(self.bytes.get(r).unwrap_or(&[]));
        Ok(())
    }

    fn write(&mut self, block: u64, buf: &[u8]) -> Result<(), MemDiskError> {
        let r = self.range(block, buf.len())?;
        self.inject()?;
        if let Some(dst) = self.bytes.get_mut(r) {
            dst.copy_from_slice(buf);
        }
        self.log.push(Op::Write {
            block,
            data: buf.to_vec(),
        });
        Ok(())
    }

    fn flush(&mut self) -> Result<(), MemDiskError> {
        self.inject()?;
        self.log.push(Op::Flush);
        Ok(())
    }
}

/// A disk borrowed from a test, which keeps it to look at after the store
/// is done with it.
impl Disk for &mut MemDisk {
    type Error = MemDiskError;
    fn block_count(&self) -> u64 {
        (**self).block_count()
    }
    fn read(&mut self, block: u64, buf: &mut [u8]) -> Result<(), MemDiskError> {
        (**self).read(block, buf)
    }
    fn write(&mut self, block: u64, buf: &[u8]) -> Result<(), MemDiskError> {
        (**self).write(block, buf)
    }
    fn flush(&mut self) -> Result<(), MemDiskError> {
        (**self).flush()
    }
}

/// The generation number of the header in a header slot's `block`:
/// `Ok(None)` for a slot never written, `Err` naming what else it holds.
pub fn header_generation(block: &[u8]) -> Result<Option<u64>, String> {
    match Header::decode(block) {
        Slot::Empty => Ok(None),
        Slot::Valid(header) => Ok(Some(header.generation)),
        other => Err(format!("{other:?}")),
    }
}

/// One entry of a generation's block map.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MapEntry {
    /// The page.
    pub key: PageKey,
    /// The data block holding it.
    pub block: u64,
    /// The block's checksum.
    pub crc: u32,
}

/// What the store's own tests read inside a store: the blocks its
/// generations use.
impl<D: Disk> Store<D> {
    /// The committed generation's map: each page's key, block and checksum.
    pub fn map_entries(&self) -> Vec<MapEntry> {
        entries(&self.current)
    }

    /// The map of the generation before the committed one, if a slot
    /// holds it.
    pub fn previous_map_entries(&self) -> Option<Vec<MapEntry>> {
        self.previous.as_ref().map(entries)
    }

    /// The committed generation's index and map blocks.
    pub fn meta_blocks(&self) -> Vec<u64> {
        self.current.meta.clone()
    }

    /// Whether `block` is in use (by a generation or a commit under way).
    pub fn is_block_used(&self, block: u64) -> bool {
        self.free.is_used(block)
    }

    /// Every block the committed generation and the one before it use.
    pub fn referenced_blocks(&self) -> Vec<u64> {
        self.current
            .blocks()
            .chain(self.previous.iter().flat_map(|p| p.blocks()))
            .collect()
    }

    /// The index, map and state blocks of the committed generation.
    pub fn metadata_blocks(&self) -> [(What, Vec<u64>); 3] {
        let g = &self.current;
        let n_index = index_blocks_for(g.header.content_blocks()) as usize;
        let n_map = g.header.map_blocks() as usize;
        [
            (What::Index, g.meta[..n_index].to_vec()),
            (What::Map, g.meta[n_index..n_index + n_map].to_vec()),
            (What::State, g.state.iter().map(|r| r.block).collect()),
        ]
    }
}

fn entries(generation: &Generation) -> Vec<MapEntry> {
    generation
        .map
        .iter()
        .map(|e| MapEntry {
            key: e.key,
            block: e.block,
            crc: e.crc,
        })
        .collect()
}
