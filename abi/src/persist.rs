//! The checkpoint engine's system call, `persist(op, arg, resource)`.
//!
//! The whole system is checkpointed to the store (a dedicated disk) every
//! period and on demand; at boot a valid store resumes the system instead of
//! starting it. These are the operations user space may ask for and the
//! status it may read. The store format itself is `abide-store`.
//!
//! What each operation needs, in the third argument `resource`:
//!
//! | op | needs |
//! |---|---|
//! | [`SNAPSHOT`], [`SYNC`] | `WRITE` on the hardware resource (init grants a handle with just that as `uses checkpoint from init`) |
//! | [`SET_PERIOD`] | `MANAGE` on the hardware resource |
//! | [`STATUS`] | nothing (read-only figures, public like the clock) |
//!
//! A handle that is not in the caller's table fails with `BadHandle`, one
//! without the right with `AccessDenied`, one naming another object with
//! `WrongType`. The authority is checked first: a refused call changes
//! nothing, and only a caller that holds it learns that there is no store
//! (`Unavailable`).

use crate::record::{Immutable, IntoBytes, KnownLayout, Record, TryFromBytes};

/// Take a checkpoint now; returns the committed generation's number.
/// Needs `WRITE` on the hardware resource.
pub const SNAPSHOT: u64 = 0;
/// Return once everything the caller did so far is committed (output
/// commit: call it before telling the outside world "done"); returns the
/// generation that holds it. Needs `WRITE` on the hardware resource.
pub const SYNC: u64 = 1;
/// Write a [`PersistStatus`] to user memory at `arg`. Needs nothing.
pub const STATUS: u64 = 2;
/// Set the checkpoint period to `arg` milliseconds (0: on demand only).
/// Needs `MANAGE` on the hardware resource.
pub const SET_PERIOD: u64 = 3;

/// The checkpoint period when nothing sets one, in milliseconds.
pub const DEFAULT_PERIOD_MS: u64 = 1000;

/// The longest checkpoint period `SET_PERIOD` accepts (an hour); a restore
/// refuses an image with a longer one.
pub const MAX_PERIOD_MS: u64 = 3_600_000;

/// What `persist(STATUS)` reports: 80 bytes, little-endian `u64`s in
/// field order.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct PersistStatus {
    /// 1 when a store is attached and in use, else 0.
    pub enabled: u64,
    /// The newest committed generation (0: none yet).
    pub generation: u64,
    /// The generation this boot resumed from (0: started fresh).
    pub resumed_from: u64,
    /// The checkpoint period in milliseconds (0: on demand only).
    pub period_ms: u64,
    /// Checkpoints committed since boot.
    pub checkpoints: u64,
    /// The last checkpoint's stop-the-world pause, in nanoseconds.
    pub last_pause_ns: u64,
    /// The last checkpoint's write-out (pages, state, flushes, header), in
    /// nanoseconds.
    pub last_write_ns: u64,
    /// Pages the last checkpoint wrote (the dirty set, zero pages excluded).
    pub last_pages_written: u64,
    /// Blocks the store holds in all, and blocks in use by the two newest
    /// generations.
    pub store_blocks: u64,
    pub used_blocks: u64,
}

impl Record for PersistStatus {}
