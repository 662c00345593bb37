//! The on-disk format of Abide's persistent store (see docs/store.md).
#![no_std]

extern crate alloc;

pub mod disk;

pub use disk::{Disk, BLOCK_SIZE};
