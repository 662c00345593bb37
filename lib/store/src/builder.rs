//! Writing the next generation: pages and the state blob go to free
//! blocks as they come (coalesced into large writes), and commit adds the
//! block map and index, flushes, and only then writes the header into the
//! older slot and flushes again.
//!
//! The builder allocates from its own copy of the store's free map, so
//! abandoning it (dropping it, or a commit that fails before the header
//! write) simply forgets its blocks; they were never referenced by either
//! slot. If the header write or the flush after it fails, the header may
//! or may not be on disk, so the builder's blocks stay in use until the
//! next commit has replaced that slot.

use alloc::vec::Vec;

use crate::bytes::is_zero;
use crate::disk::{Disk, BLOCK_SIZE};
use crate::error::StoreError;
use crate::freemap::FreeMap;
use crate::generation::Generation;
use crate::header::Header;
use crate::index::{self, Ref, REFS_PER_INDEX};
use crate::map::{self, Entry, PageKey, ENTRIES_PER_BLOCK};
use crate::run::RunWriter;
use crate::store::Store;

/// The next generation of a [`Store`], being written. Keys neither kept
/// nor put are not in it. A key given more than once takes the last call.
/// Dropping the builder without [`Builder::commit`] abandons it: the
/// committed generation does not change and its blocks are free again.
pub struct Builder<'a, D: Disk> {
    store: &'a mut Store<D>,
    /// The store's free map plus every block this builder took; `None`
    /// when it could not be copied (commit then reports `OutOfMemory`).
    free: Option<FreeMap>,
    /// Kept and put pages, in call order (`block == 0`: a zero page).
    entries: Vec<Entry>,
    writer: RunWriter,
    /// The state blob's blocks.
    state: Vec<Ref>,
    state_len: u64,
    /// The first error of `set_state` (which cannot return it), or of
    /// `keep` running out of memory; commit returns it.
    deferred: Option<StoreError<D::Error>>,
}

/// A [`Builder`] set aside between pieces of work (the kernel writes a
/// generation out a few pages per timer tick while programs run): the same
/// state without the borrow of the store. [`Store::resume`] takes it back.
/// Nothing else may commit in between; if something did, the resumed
/// builder refuses to commit (`StoreError::Incomplete`).
pub struct Detached<E> {
    /// The generation it was based on.
    base: u64,
    free: Option<FreeMap>,
    entries: Vec<Entry>,
    writer: RunWriter,
    state: Vec<Ref>,
    state_len: u64,
    deferred: Option<StoreError<E>>,
}

impl<'a, D: Disk> Builder<'a, D> {
    /// Sets the builder aside, giving the store back; blocks written so
    /// far stay this builder's (see [`Detached`]).
    pub fn detach(self) -> Detached<D::Error> {
        Detached {
            base: self.store.current.header.generation,
            free: self.free,
            entries: self.entries,
            writer: self.writer,
            state: self.state,
            state_len: self.state_len,
            deferred: self.deferred,
        }
    }

    /// Takes a detached builder back on `store`.
    pub(crate) fn resume(store: &'a mut Store<D>, detached: Detached<D::Error>) -> Self {
        let mut deferred = detached.deferred;
        if store.current.header.generation != detached.base && deferred.is_none() {
            deferred = Some(StoreError::Incomplete);
        }
        Self {
            store,
            free: detached.free,
            entries: detached.entries,
            writer: detached.writer,
            state: detached.state,
            state_len: detached.state_len,
            deferred,
        }
    }

    pub(crate) fn new(store: &'a mut Store<D>) -> Self {
        let free = store.free.try_clone();
        let mut entries = Vec::new();
        // Best effort: most pages are usually kept.
        let _ = entries.try_reserve(store.current.map.len());
        let deferred = free.is_none().then_some(StoreError::OutOfMemory);
        Self {
            store,
            free,
            entries,
            writer: RunWriter::new(),
            state: Vec::new(),
            state_len: 0,
            deferred,
        }
    }

    /// The number this generation will have when committed.
    pub fn generation(&self) -> u64 {
        self.store.current.header.generation.saturating_add(1)
    }

    /// Page `key` is unchanged since the committed (base) generation: the
    /// new generation shares its block, writing nothing. Returns false,
    /// recording nothing, when the base has no such page (it was zero or
    /// absent: [`Builder::put`] it, or leave it out for a zero page).
    pub fn keep(&mut self, key: PageKey) -> bool {
        let Some(e) = self.store.current.lookup(key).copied() else {
            return false;
        };
        if self.entries.try_reserve(1).is_err() {
            self.defer(StoreError::OutOfMemory);
            return true;
        }
        self.entries.push(e);
        true
    }

    /// Page `key` has the contents `page`: it is written to a free block
    /// (queued, and written with its neighbours in one request). An
    /// all-zero page costs no block: it is simply absent from the map.
    /// After an error the generation is incomplete: [`Builder::commit`]
    /// refuses it with [`StoreError::Incomplete`].
    pub fn put(
        &mut self,
        key: PageKey,
        page: &[u8; BLOCK_SIZE],
    ) -> Result<(), StoreError<D::Error>> {
        let result = self.put_inner(key, page);
        if result.is_err() {
            self.defer(StoreError::Incomplete);
        }
        result
    }

    fn put_inner(
        &mut self,
        key: PageKey,
        page: &[u8; BLOCK_SIZE],
    ) -> Result<(), StoreError<D::Error>> {
        let Some(free) = self.free.as_mut() else {
            return Err(StoreError::OutOfMemory);
        };
        self.entries
            .try_reserve(1)
            .map_err(|_| StoreError::OutOfMemory)?;
        if is_zero(page) {
            self.entries.push(Entry {
                key,
                block: 0,
                crc: 0,
            });
            return Ok(());
        }
        let r = self
            .writer
            .push(&mut self.store.disk, free, |b| *b = *page)?;
        self.entries.push(Entry {
            key,
            block: r.block,
            crc: r.crc,
        });
        Ok(())
    }

    /// The generation's object-state blob (any length; it is written to
    /// free blocks now, so the caller need not keep it). Calling it again
    /// replaces the blob; not calling it leaves the state empty. An error
    /// (full, disk) is returned by [`Builder::commit`].
    pub fn set_state(&mut self, state: &[u8]) {
        if let Err(e) = self.write_state(state) {
            self.defer(e);
        }
    }

    fn write_state(&mut self, state: &[u8]) -> Result<(), StoreError<D::Error>> {
        self.state.clear();
        self.state_len = 0;
        let Some(free) = self.free.as_mut() else {
            return Err(StoreError::OutOfMemory);
        };
        self.state
            .try_reserve_exact(state.len().div_ceil(BLOCK_SIZE))
            .map_err(|_| StoreError::OutOfMemory)?;
        for chunk in state.chunks(BLOCK_SIZE) {
            let r = self.writer.push(&mut self.store.disk, free, |b| {
                if let Some(dst) = b.get_mut(..chunk.len()) {
                    dst.copy_from_slice(chunk);
                }
            })?;
            self.state.push(r);
        }
        self.state_len = state.len() as u64;
        Ok(())
    }

    fn defer(&mut self, e: StoreError<D::Error>) {
        if self.deferred.is_none() {
            self.deferred = Some(e);
        }
    }

    /// Commits the generation: writes the rest of its data, its block map
    /// and index chain; flushes; writes its header into the older header
    /// slot; flushes. Returns the new generation number. On any error
    /// nothing is committed and the committed generation is intact.
    pub fn commit(mut self) -> Result<u64, StoreError<D::Error>> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        let Some(mut free) = self.free.take() else {
            return Err(StoreError::OutOfMemory);
        };
        let base = &self.store.current;
        let generation = base
            .header
            .generation
            .checked_add(1)
            .ok_or(StoreError::GenerationOverflow)?;
        let slot = base.slot ^ 1;
        let block_count = base.header.block_count;
        let disk = &mut self.store.disk;
        let w = &mut self.writer;

        let map = finish_map(core::mem::take(&mut self.entries));
        let map_blocks = map.len().div_ceil(ENTRIES_PER_BLOCK);
        let mut content: Vec<Ref> = Vec::new();
        content
            .try_reserve_exact(map_blocks.saturating_add(self.state.len()))
            .map_err(|_| StoreError::OutOfMemory)?;
        for chunk in map.chunks(ENTRIES_PER_BLOCK) {
            content.push(w.push(disk, &mut free, |b| map::encode(b, chunk))?);
        }
        content.extend_from_slice(&self.state);

        let n_index = content.len().div_ceil(REFS_PER_INDEX);
        let mut meta: Vec<u64> = Vec::new();
        meta.try_reserve_exact(content.len().saturating_add(n_index))
            .map_err(|_| StoreError::OutOfMemory)?;
        let mut prev: Option<Ref> = None;
        for (position, refs) in content.chunks(REFS_PER_INDEX).enumerate() {
            let position = u32::try_from(position).map_err(|_| StoreError::Full)?;
            let r = w.push(disk, &mut free, |b| {
                index::encode(b, generation, position, refs, prev)
            })?;
            meta.push(r.block);
            prev = Some(r);
        }
        meta.extend(content.iter().map(|r| r.block));
        let root = prev.unwrap_or_default();

        w.flush(disk)?;
        disk.flush().map_err(StoreError::Disk)?;

        let header = Header {
            generation,
            block_count,
            map_entries: map.len() as u64,
            state_len: self.state_len,
            index_block: root.block,
            index_crc: root.crc,
        };
        let written = w
            .write_at(disk, u64::from(slot), |b| header.encode(b))
            .and_then(|()| disk.flush().map_err(StoreError::Disk));
        if let Err(e) = written {
            // The header may be on disk: keep everything this generation
            // wrote in use until the next commit replaces that slot.
            self.store.free = free;
            return Err(e);
        }

        let new = Generation {
            header,
            slot,
            map,
            meta,
            state: core::mem::take(&mut self.state),
        };
        let old = core::mem::replace(&mut self.store.current, new);
        self.store.previous = Some(old);
        self.store.salvage.clear();
        self.store.free = free;
        self.store.recompute_used();
        Ok(generation)
    }
}

/// Sorts the entries by key, keeps the last call for each key and drops
/// zero pages.
fn finish_map(mut entries: Vec<Entry>) -> Vec<Entry> {
    if !entries.is_sorted_by(|a, b| a.key < b.key) {
        // Reversed then stably sorted, the last call for a key comes first.
        entries.reverse();
        entries.sort_by_key(|e| e.key);
        entries.dedup_by_key(|e| e.key);
    }
    entries.retain(|e| e.block != 0);
    entries
}
