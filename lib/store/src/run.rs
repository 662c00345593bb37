//! Runs of consecutive blocks: the writer that turns block-at-a-time
//! allocation into few large `Disk::write`s, and the splitting of a block
//! list into runs so reads are large too. Under QEMU every disk request
//! costs an exit to the host, so a generation of tens of thousands of
//! pages must not be tens of thousands of requests.

use alloc::vec::Vec;

use crate::crc::crc32c;
use crate::disk::{Disk, BLOCK_SIZE};
use crate::error::StoreError;
use crate::freemap::FreeMap;
use crate::index::Ref;

/// The most blocks one disk request moves (64 KiB).
pub const MAX_RUN_BLOCKS: usize = 16;

/// Buffers blocks bound for consecutive free blocks and writes each run
/// with one `Disk::write`.
pub(crate) struct RunWriter {
    /// `MAX_RUN_BLOCKS` blocks once the first block is pushed.
    buf: Vec<u8>,
    /// The disk block of the first buffered block.
    start: u64,
    /// Buffered blocks.
    len: usize,
}

impl RunWriter {
    pub const fn new() -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            len: 0,
        }
    }

    fn ensure_buffer<E>(&mut self) -> Result<(), StoreError<E>> {
        let size = MAX_RUN_BLOCKS * BLOCK_SIZE;
        if self.buf.len() < size {
            self.buf
                .try_reserve_exact(size - self.buf.len())
                .map_err(|_| StoreError::OutOfMemory)?;
            self.buf.resize(size, 0);
        }
        Ok(())
    }

    /// The buffer of block `i` of the run.
    fn slot(&mut self, i: usize) -> Option<&mut [u8; BLOCK_SIZE]> {
        let off = i.checked_mul(BLOCK_SIZE)?;
        let s = self.buf.get_mut(off..off.checked_add(BLOCK_SIZE)?)?;
        <&mut [u8; BLOCK_SIZE]>::try_from(s).ok()
    }

    /// Allocates a block from `free`, lets `fill` write its contents
    /// (into a zeroed buffer), and queues it; returns the block and the
    /// CRC-32C of its contents. A run is written when it reaches
    /// [`MAX_RUN_BLOCKS`] or the next block is not consecutive.
    pub fn push<D: Disk>(
        &mut self,
        disk: &mut D,
        free: &mut FreeMap,
        fill: impl FnOnce(&mut [u8; BLOCK_SIZE]),
    ) -> Result<Ref, StoreError<D::Error>> {
        self.ensure_buffer()?;
        let block = free.alloc().ok_or(StoreError::Full)?;
        if self.len > 0 && self.start.checked_add(self.len as u64) != Some(block) {
            self.flush(disk)?;
        }
        if self.len == 0 {
            self.start = block;
        }
        let Some(dst) = self.slot(self.len) else {
            return Err(StoreError::OutOfMemory);
        };
        dst.fill(0);
        fill(dst);
        let crc = crc32c(dst);
        self.len += 1;
        if self.len == MAX_RUN_BLOCKS {
            self.flush(disk)?;
        }
        Ok(Ref { block, crc })
    }

    /// Writes the buffered run, if any.
    pub fn flush<D: Disk>(&mut self, disk: &mut D) -> Result<(), StoreError<D::Error>> {
        if self.len == 0 {
            return Ok(());
        }
        let n = self.len;
        self.len = 0;
        let bytes = self
            .buf
            .get(..n * BLOCK_SIZE)
            .ok_or(StoreError::OutOfMemory)?;
        disk.write(self.start, bytes).map_err(StoreError::Disk)
    }

    /// Writes one block at `block` (a header slot, not allocated) at once,
    /// after flushing the buffered run.
    pub fn write_at<D: Disk>(
        &mut self,
        disk: &mut D,
        block: u64,
        fill: impl FnOnce(&mut [u8; BLOCK_SIZE]),
    ) -> Result<(), StoreError<D::Error>> {
        self.flush(disk)?;
        self.ensure_buffer()?;
        let Some(dst) = self.slot(0) else {
            return Err(StoreError::OutOfMemory);
        };
        dst.fill(0);
        fill(dst);
        disk.write(block, &dst[..]).map_err(StoreError::Disk)
    }
}

/// Splits `refs` into runs of consecutive blocks of at most
/// [`MAX_RUN_BLOCKS`], in order.
pub(crate) fn runs(mut refs: &[Ref]) -> impl Iterator<Item = &[Ref]> {
    core::iter::from_fn(move || {
        let first = refs.first()?;
        let mut n = 1;
        while n < MAX_RUN_BLOCKS
            && refs
                .get(n)
                .is_some_and(|r| first.block.checked_add(n as u64) == Some(r.block))
        {
            n += 1;
        }
        let (run, rest) = refs.split_at(n);
        refs = rest;
        Some(run)
    })
}

/// Reads the blocks of `refs` with one request per run into `buf` (a
/// run's worth), checking each against its CRC; `each` sees every block
/// in order (with its position in `refs`).
pub(crate) fn read_checked<D: Disk, T>(
    disk: &mut D,
    refs: &[Ref],
    buf: &mut Vec<u8>,
    mut each: impl FnMut(usize, &Ref, &[u8]) -> Result<(), T>,
) -> Result<(), ReadFailure<D::Error, T>> {
    let size = MAX_RUN_BLOCKS * BLOCK_SIZE;
    if buf.len() < size {
        buf.try_reserve_exact(size - buf.len())
            .map_err(|_| ReadFailure::OutOfMemory)?;
        buf.resize(size, 0);
    }
    let mut i = 0usize;
    for run in runs(refs) {
        let Some(first) = run.first() else { continue };
        let bytes = buf
            .get_mut(..run.len() * BLOCK_SIZE)
            .ok_or(ReadFailure::OutOfMemory)?;
        disk.read(first.block, bytes).map_err(ReadFailure::Disk)?;
        for (data, r) in bytes.chunks_exact(BLOCK_SIZE).zip(run) {
            if crc32c(data) != r.crc {
                return Err(ReadFailure::Mismatch(r.block));
            }
            each(i, r, data).map_err(|t| ReadFailure::Rejected(r.block, t))?;
            i += 1;
        }
    }
    Ok(())
}

/// Why [`read_checked`] stopped.
pub(crate) enum ReadFailure<E, T> {
    Disk(E),
    OutOfMemory,
    /// The block's contents do not match its CRC.
    Mismatch(u64),
    /// `each` refused the block.
    Rejected(u64, T),
}
