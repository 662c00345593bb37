//! Typed interfaces over channels.
//!
//! Programs talk by sending messages over channels. This crate gives those
//! messages a shape and the calls a type:
//!
//! - [`wire`]: the message format, a 16-byte [`Header`] (magic, version,
//!   kind, method ordinal, transaction id) followed by a `postcard` payload;
//!   and [`RemoteError`], what a reply-error carries.
//! - [`interface!`]: declares an interface once and generates the client's
//!   request encoding and reply decoding and the server's dispatch.
//! - [`client`] and [`server`]: the generic halves the generated code calls;
//!   [`CallError`] is what a client sees when a call fails.
//!
//! The crate is transport-free: it turns calls into bytes and bytes into
//! calls, and never touches a channel. A server built on it answers every
//! message, however malformed, with a reply and never panics on its input.
//!
//! The crate is `no_std` (it needs `alloc`), has no `unsafe`, and is unit-
//! and property-tested on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod client;
pub mod macros;
pub mod server;
pub mod wire;

pub use client::CallError;
pub use wire::{Header, Kind, RemoteError, WireError};

/// What the code [`interface!`] generates refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use alloc::vec::Vec;

    /// Whether no two of `ordinals` are equal; the generated code asserts it
    /// at compile time.
    pub const fn distinct(ordinals: &[u32]) -> bool {
        let mut i = 0;
        while i < ordinals.len() {
            let mut j = i + 1;
            while j < ordinals.len() {
                if ordinals[i] == ordinals[j] {
                    return false;
                }
                j += 1;
            }
            i += 1;
        }
        true
    }
}
