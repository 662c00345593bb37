//! What can go wrong, as values: opening a store ([`OpenError`]), reading
//! from it ([`ReadError`]), writing a generation ([`StoreError`]), and the
//! description of a rejected on-disk structure ([`Corruption`]) that the
//! first two carry. Every type prints a sentence an operator can act on.

use core::fmt;

/// The kind of block a checksum or format check failed in.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum What {
    /// A header slot (block 0 or 1).
    Header,
    /// A block of the index chain that lists a generation's map and state blocks.
    Index,
    /// A block of the block map (page key -> data block).
    Map,
    /// A block of the object-state blob.
    State,
    /// A page's data block.
    Data,
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            What::Header => "header",
            What::Index => "index",
            What::Map => "map",
            What::State => "state",
            What::Data => "data",
        })
    }
}

/// Why a block was rejected.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Problem {
    /// Its CRC-32C does not match the one recorded for it.
    Checksum,
    /// It does not start with the magic of its kind.
    Magic,
    /// Its checksum matches but a field is impossible (the text says which).
    Malformed(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Checksum => f.write_str("checksum mismatch"),
            Problem::Magic => f.write_str("not a store header (bad magic)"),
            Problem::Malformed(why) => f.write_str(why),
        }
    }
}

/// Where and why the generation of one header slot was rejected at open.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Corruption {
    /// The header slot (0 or 1) whose generation was rejected.
    pub slot: u8,
    /// Its generation number, when its header was readable.
    pub generation: Option<u64>,
    /// The kind of block that failed.
    pub what: What,
    /// The block that failed.
    pub block: u64,
    /// What was wrong with it.
    pub problem: Problem,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "header slot {}", self.slot)?;
        if let Some(g) = self.generation {
            write!(f, " (generation {g})")?;
        }
        write!(f, ": {} block {}: {}", self.what, self.block, self.problem)
    }
}

/// Why [`Store::open`](crate::Store::open) found no store to open.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OpenError<E> {
    /// Both header slots are all zeros: no store was ever written here
    /// (format one).
    Blank,
    /// A header slot holds a valid header of another format version. Nothing
    /// was written; this system must not touch the store.
    Incompatible {
        /// The format version found on disk.
        version: u32,
    },
    /// Header slots are not blank but no generation validates; the
    /// rejection of the newest-looking one.
    Corrupt(Corruption),
    /// The disk failed a read. Open gives up rather than guess (a read
    /// error is not evidence that a generation is bad).
    Disk(E),
    /// The disk has fewer than two blocks, or fewer than the store's header
    /// says it was formatted with.
    TooSmall,
    /// The metadata the disk describes does not fit in memory.
    OutOfMemory,
}

impl<E: fmt::Debug> fmt::Display for OpenError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Blank => f.write_str("no store on this disk: both header slots are blank"),
            OpenError::Incompatible { version } => write!(
                f,
                "the store has format version {version}, this system reads version {}: left untouched",
                crate::FORMAT_VERSION
            ),
            OpenError::Corrupt(c) => write!(f, "the store is corrupt, no generation validates: {c}"),
            OpenError::Disk(e) => write!(f, "disk error while opening the store: {e:?}"),
            OpenError::TooSmall => {
                f.write_str("the disk is smaller than the store (or than two blocks)")
            }
            OpenError::OutOfMemory => {
                f.write_str("not enough memory for the store's block map and free map")
            }
        }
    }
}

impl<E: fmt::Debug> core::error::Error for OpenError<E> {}

/// Why reading a page or the state blob failed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ReadError<E> {
    /// The block read back does not match the checksum recorded for it.
    Checksum {
        /// [`What::Data`] for a page, [`What::State`] for the state blob.
        what: What,
        /// The block that failed.
        block: u64,
    },
    /// The disk failed the read.
    Disk(E),
    /// The state blob does not fit in memory.
    OutOfMemory,
}

impl<E: fmt::Debug> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Checksum { what, block } => {
                write!(f, "checksum mismatch in {what} block {block} of the store")
            }
            ReadError::Disk(e) => write!(f, "disk error while reading the store: {e:?}"),
            ReadError::OutOfMemory => f.write_str("not enough memory to read the state blob"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for ReadError<E> {}

/// Why formatting, or writing or committing a generation, failed. After
/// any of these the committed generation is unchanged.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum StoreError<E> {
    /// No free block is left for the new generation. Nothing was committed;
    /// the committed generation is intact.
    Full,
    /// The disk failed a write or flush.
    Disk(E),
    /// [`Store::format`](crate::Store::format): the disk has fewer than
    /// [`MIN_BLOCKS`](crate::MIN_BLOCKS) blocks.
    TooSmall,
    /// The new generation's bookkeeping does not fit in memory.
    OutOfMemory,
    /// The committed generation number is `u64::MAX`; there is no next one.
    GenerationOverflow,
    /// [`Builder::commit`](crate::Builder::commit): a
    /// [`Builder::put`](crate::Builder::put) failed earlier, so the
    /// generation lacks a page and is not committed.
    Incomplete,
}

impl<E: fmt::Debug> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Full => f.write_str(
                "the store is full: no free block for the new generation (nothing committed, the previous generation is intact)",
            ),
            StoreError::Disk(e) => write!(f, "disk error while writing the store: {e:?}"),
            StoreError::TooSmall => write!(
                f,
                "the disk is too small for a store (at least {} blocks of {} bytes)",
                crate::MIN_BLOCKS,
                crate::BLOCK_SIZE
            ),
            StoreError::OutOfMemory => {
                f.write_str("not enough memory for the new generation's block map")
            }
            StoreError::GenerationOverflow => {
                f.write_str("the generation number cannot grow past u64::MAX")
            }
            StoreError::Incomplete => f.write_str(
                "a page of this generation failed to be written; the generation is not committed",
            ),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for StoreError<E> {}
