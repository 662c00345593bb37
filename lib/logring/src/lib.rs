//! The log service's storage: a ring of log entries that survives the
//! service crashing at any instruction.
//!
//! The log service is a user-space server its supervisor restarts when it
//! dies; what it has acknowledged must not be lost or doubled by a crash.
//! Its storage is a memory region the supervisor keeps across restarts and
//! hands to each new instance, which calls [`Ring::open`] on it. Nothing
//! survives but the bytes of the region, so the format is designed for a
//! crash between any two byte stores (the instance is killed; on one core,
//! an aligned 8-byte store is never torn), and every store the ring makes
//! goes through the [`Region`] trait, so the tests can cut the sequence of
//! stores at every point and check what a new instance recovers.
//!
//! # Format
//!
//! All integers are little endian; header words are 8-aligned `u64`s.
//!
//! ```text
//! 0     magic     "ABLOGRNG" (written last when formatting)
//! 8     version   1
//! 16    capacity  bytes in the data area
//! 24    head      sequence number of the next entry: entries below it are committed
//! 32    tail      ring position of the oldest entry
//! 40    journal   USED | client (USED = 1 << 63), or 0: the request being served
//! 48    txid      its transaction id
//! 64    table     64 slots × { USED | client, highest committed token, its seq }
//! 1600  data      the entries, in a circle
//! ```
//!
//! A *ring position* counts bytes from the first entry ever written and
//! never wraps; position `p` is at offset `p % capacity` of the data area.
//! Entries follow each other without gaps, each 8-aligned, and wrap byte by
//! byte at the end of the data area:
//!
//! ```text
//! 0   seq u64     40  checksum u64 (FNV-1a of the entry but this field)
//! 8   pos u64     48  component (≤ 32 bytes), then text (≤ 512 bytes)
//! 16  time_ns u64
//! 24  token u64
//! 32  client u32, text_len u16, level u8, component_len u8
//! ```
//!
//! # Crash safety
//!
//! **Appending** stores, in order: the tail, if old entries must make room
//! (they are gone before any of their bytes is overwritten); the new
//! entry's `seq`, in one store; the rest of the entry; then the head, in
//! one store — the commit point; then the client's slot of the
//! deduplication table. Reading stops at the head, so a crash before the
//! commit leaves the log as it was (minus, perhaps, the entries dropped to
//! make room) and a crash after keeps the entry.
//!
//! **Recovery** ([`Ring::open`]) checks the header, then walks the entries
//! from the tail: each must be whole (checksum, its own `pos` equal to
//! where it is found, so stale bytes from an earlier lap are never taken
//! for an entry) and numbered one more than the previous, up to the head.
//! The first entry is one only if its `seq` is below the head: the bytes
//! of an uncommitted entry carry the head's number from the append's first
//! store on. A region that fails these checks is formatted afresh.
//!
//! **Exactly once.** Each client's tokens increase, and the table holds
//! each client's highest committed token. A token at or below it is a
//! duplicate: [`Ring::append`] answers with the earlier entry's sequence
//! number and appends nothing. The table is written only after the commit,
//! so it never claims an entry the log lacks; a crash between the commit
//! and the table update leaves only the newest entry unrecorded, and
//! recovery records it. So a request retried after a crash is appended if
//! and only if it was not committed: every acknowledged request is in the
//! log exactly once. A client the full table evicted (the one that
//! appended least recently) is looked up in the ring's entries instead;
//! only if those have been overwritten too would a retry be appended again.
//!
//! **The journal** records the request being served ([`Ring::begin`],
//! [`Ring::end`]) so the next instance can answer a request its crashed
//! predecessor had taken on ([`Ring::take_in_flight`]).
//!
//! # Using it
//!
//! ```
//! use abide_logring::{Appended, Filter, Level, NewEntry, Ring};
//!
//! let mut region = vec![0u8; 64 * 1024]; // kept by the supervisor
//! let mut ring = Ring::open(&mut region[..]);
//! if let Some((client, txid)) = ring.take_in_flight() {
//!     // Answer the predecessor's request `Restarted`.
//! }
//! let entry = NewEntry {
//!     time_ns: 1_000,
//!     level: Level::Warn,
//!     component: "net",
//!     client: 7,
//!     token: 1,
//!     text: "link down",
//! };
//! ring.begin(7, 42); // serving request 42 of client 7
//! assert_eq!(ring.append(&entry), Ok(Appended::New(0)));
//! ring.end();
//! // A retry of the same request is not appended again.
//! assert_eq!(ring.append(&entry), Ok(Appended::Duplicate(Some(0))));
//!
//! let warnings = ring.query(Filter::new().component("net").at_least(Level::Warn));
//! assert_eq!(warnings.map(|e| e.seq).collect::<Vec<_>>(), [0]);
//! assert_eq!(ring.last(10).next().unwrap().text(), "link down");
//! ```
//!
//! The crate is `no_std` and allocation-free, and has no `unsafe`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod entry;
mod query;
mod region;
mod ring;

pub use entry::{Entry, Level, NewEntry, MAX_COMPONENT_LEN, MAX_ENTRY_LEN, MAX_TEXT_LEN};
pub use query::{Entries, Filter, LevelFilter, Matching};
pub use region::Region;
pub use ring::{
    AppendError, Appended, ClientRecord, Recovery, Ring, CLIENT_SLOTS, MAGIC, MIN_REGION_LEN,
    VERSION,
};

/// Where the ring keeps its words in the region, for tests that read or
/// damage a region directly (feature `testing`).
#[cfg(feature = "testing")]
pub mod layout {
    pub use crate::ring::{DATA_AT, HEAD_AT, SLOT_LEN, TABLE_AT, TAIL_AT};
}
