//! The global allocator: `talc` over memory objects the heap maps as it
//! grows, so `alloc` (`Vec`, `Box`, `String`, `format!`) works and a program
//! pays only for the heap it uses.
//!
//! When `talc` runs out, its [`Source`] ([`MemoryObjects`]) creates a memory
//! object of at least [`CHUNK_LEN`] (or the request rounded up to pages, plus
//! `talc`'s overhead), maps it writable where the kernel chooses, and gives
//! it to `talc`: appended to the previous chunk when the kernel placed it
//! right behind, otherwise as a heap of its own. Chunks are never unmapped
//! and their handles never closed, so the memory under an allocation lives
//! as long as the process, whatever the kernel's rules for closing handles.
//!
//! There is no static bootstrap arena: mapping needs no allocation, so the
//! first allocation can map the first chunk. A program that never allocates
//! costs no heap at all. A spin lock makes the allocator safe for threads.

use core::alloc::Layout;
use core::ptr::NonNull;

use abide_abi::object::MAP_WRITE;
use talc::base::binning::Binning;
use talc::base::{Talc, CHUNK_UNIT};
use talc::source::Source;
use talc::TalcLock;

use crate::syscall;

/// The smallest chunk the heap maps at a time.
const CHUNK_LEN: usize = 256 << 10;

/// The page size memory objects are made of.
const PAGE: usize = 4096;

#[global_allocator]
static HEAP: TalcLock<spin::mutex::SpinMutex<()>, MemoryObjects> =
    TalcLock::new(MemoryObjects { last: None });

/// A `talc` [`Source`] that maps a new memory object when the heap is full.
#[derive(Debug)]
struct MemoryObjects {
    /// The chunk mapped last: where `talc`'s heap in it ends and where the
    /// mapping ends, so a chunk mapped right behind it can extend it.
    last: Option<LastChunk>,
}

#[derive(Debug, Clone, Copy)]
struct LastChunk {
    heap_end: NonNull<u8>,
    mapping_end: usize,
}

// SAFETY: the heap ends are addresses in mappings that live as long as the
// process; `MemoryObjects` only ever runs under `TalcLock`'s mutex.
unsafe impl Send for MemoryObjects {}

/// How many bytes to map so that an allocation of `layout` fits in a new
/// heap: the request with room for its alignment and `talc`'s tags (and its
/// metadata for the first heap), rounded up to pages, at least [`CHUNK_LEN`].
fn chunk_len<B: Binning>(layout: Layout) -> Option<usize> {
    let needed = layout
        .size()
        .checked_add(layout.align())?
        .checked_add(4 * CHUNK_UNIT)?
        .checked_add(talc::min_first_heap_size::<B>())?;
    let pages = needed.checked_add(PAGE - 1)? / PAGE;
    Some(pages.checked_mul(PAGE)?.max(CHUNK_LEN))
}

// SAFETY: `acquire` makes system calls only; it never allocates, so it never
// reenters the allocator.
unsafe impl Source for MemoryObjects {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let len = chunk_len::<B>(layout).ok_or(())?;
        let memory = syscall::memory_create(len as u64).map_err(|_| ())?;
        let base = match syscall::memory_map(memory, MAP_WRITE) {
            Ok(base) if !base.is_null() => base,
            _ => {
                let _ = syscall::handle_close(memory);
                return Err(());
            }
        };
        // The memory handle stays open (see the module documentation).
        let mapping_end = base as usize + len;
        let heap_end = match talc.source.last {
            Some(last) if last.mapping_end == base as usize => {
                // SAFETY: the memory from the old heap end to the end of its
                // mapping and the new mapping right behind are ours, mapped
                // writable for the life of the process and used by nothing
                // else.
                unsafe { talc.extend(last.heap_end, base.wrapping_add(len)) }
            }
            // SAFETY: the new mapping is `len` writable bytes at `base`, ours
            // for the life of the process, used by nothing else.
            _ => unsafe { talc.claim(base, len) }.ok_or(())?,
        };
        talc.source.last = Some(LastChunk {
            heap_end,
            mapping_end,
        });
        Ok(())
    }
}
