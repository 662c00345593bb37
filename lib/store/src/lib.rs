//! The on-disk format of Abide's persistent store (see `docs/store.md`).
//!
//! The kernel checkpoints the whole user-level system into a dedicated
//! disk and resumes it after power loss. This crate is that disk's format
//! and nothing else: the kernel supplies the block device ([`Disk`]) and
//! decides what a page and the object state are; the store keeps
//! generations of them so that a crash at any moment leaves the last
//! committed generation (or, if its header was torn, the one before)
//! readable, and any damaged block is reported, never returned.
//!
//! - [`Store::format`] / [`Store::open`]: an empty store, or the newest
//!   generation that validates.
//! - [`Store::read_page`], [`Store::state`]: the committed pages (by
//!   [`PageKey`]) and object-state blob, checked against their CRC-32C.
//! - [`Store::begin`] → [`Builder`]: the next generation, sharing the
//!   blocks of unchanged pages ([`Builder::keep`]), writing changed ones
//!   ([`Builder::put`]), committed by [`Builder::commit`].
//!
//! `no_std` + `alloc`, no dependencies, no `unsafe`. Nothing read from the
//! disk can make it panic, and every allocation sized by the disk is
//! bounded by the store's block count and made with `try_reserve`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod builder;
mod bytes;
pub mod crc;
mod freemap;
// The kernel's contract, kept as the kernel implements it.
#[allow(missing_docs)]
pub mod disk;
mod error;
mod generation;
mod header;
mod index;
mod map;
mod run;
mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use builder::{Builder, Detached};
pub use disk::{Disk, BLOCK_SIZE};
pub use error::{Corruption, OpenError, Problem, ReadError, StoreError, What};
pub use map::PageKey;
pub use run::MAX_RUN_BLOCKS;
pub use store::Store;

/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The smallest disk [`Store::format`] accepts: the two header slots and
/// one block.
pub const MIN_BLOCKS: u64 = 3;
