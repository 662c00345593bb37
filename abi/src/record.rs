//! How structures cross the system-call boundary: as the bytes of a
//! `#[repr(C)]` struct whose declaration is the layout.
//!
//! A record derives zerocopy's `TryFromBytes`, `IntoBytes`, `KnownLayout`
//! and `Immutable` and says `impl Record for X {}`; nothing else. The
//! derives refuse a struct with padding (reserved bytes are named fields)
//! or a field that is not plain data, so the layout is exactly the fields
//! in order. Fields are the CPU's integers, little-endian on every target
//! Abide runs on (checked below); reading copies the bytes, so a user
//! buffer need not be aligned. `abi/tests/layout.rs` pins every record's
//! bytes.

pub use zerocopy::{Immutable, IntoBytes, KnownLayout, TryFromBytes};

// The records' bytes are their fields' in memory: little-endian only on a
// little-endian CPU.
const _: () = assert!(
    cfg!(target_endian = "little"),
    "the system-call records are little-endian"
);

/// A structure a system call passes through memory.
pub trait Record: TryFromBytes + IntoBytes + KnownLayout + Immutable + Sized {
    /// Its size in bytes.
    const LEN: usize = core::mem::size_of::<Self>();

    /// Its bytes, as they cross the boundary.
    fn encode(&self) -> &[u8] {
        self.as_bytes()
    }

    /// Reads one from `bytes` (at any alignment). `None` when `bytes` is
    /// not [`Record::LEN`] long or a field holds a value its type does not
    /// have (an unknown [`crate::object::ProcessState`] code, say).
    fn decode(bytes: &[u8]) -> Option<Self> {
        Self::try_read_from_bytes(bytes).ok()
    }
}
