//! Crash-safe request bookkeeping for a driver that its supervisor restarts:
//! which requests it has taken from its channels and not answered, how far
//! each write got, and which writes completed lately.
//!
//! A server's channels are kept by `init`, so requests not yet taken wait
//! for the next instance. A request the server *had* taken dies with it,
//! unless it was noted in the stash (memory `init` keeps across restarts):
//! the next instance answers every noted request `Restarted`, and the
//! client runtime sends it again with the same txid. For a console driver
//! that is not enough — a write cut short had already printed some of its
//! bytes, and printing them again would double them. So [`Requests`] also
//! keeps, per write, how many bytes the device was given, and per client
//! the txids of its last [`RECENT`] completed writes:
//!
//! - [`Requests::write`] gives the device only the bytes a predecessor did
//!   not, and nothing at all for a write that completed before (a client
//!   that sent it again, not knowing it had);
//! - [`Requests::answer_predecessors`] lists the requests a crashed
//!   instance held, for the `Restarted` answers, and keeps the writes that
//!   had printed something, so that their resent copies resume;
//! - [`Requests::unfinished`] is the writes cut short in the middle: a
//!   console finishes them before it prints anyone else's bytes.
//!
//! # Crash safety
//!
//! Every store goes through the [`Region`] trait, as an aligned `u64` that
//! a crash cannot tear (the process is killed between instructions), so the
//! tests cut the sequence of stores at every point. A slot's tag word is
//! written last when a request is noted and first (to 0) when it is
//! forgotten: a slot is a whole note or free. The magic is written last
//! when the region is formatted.
//!
//! **One byte.** Of a write's bytes, the one being sent when the instance
//! dies may be lost or doubled, never more. [`Requests::write`] waits until
//! the device is ready for a byte, then stores the progress *including*
//! that byte, then hands it over ([`Transmitter`]): a crash while waiting
//! repeats nothing, a crash after the hand-over loses nothing, and only a
//! crash between the store and the hand-over loses the byte. That order
//! puts the window where a kill is least likely: see the serial driver
//! (`user/drivers/serial`) for why it is, under Abide's scheduling,
//! almost never hit. To keep the window a few instructions wide, give the
//! table a [`Stash`] (its stores are inlined) and a transmitter whose
//! `put` is inlined down to the `syscall` instruction.
//!
//! # Format
//!
//! All words are 8-aligned little-endian `u64`s.
//!
//! ```text
//! 0     magic   "ABREQTAB" (written last when formatting)
//! 8     version 1
//! 16    stamp   completions recorded so far (orders client slots by use)
//! 24    scratch the progress of a write the full table could not note
//! 32    pending PENDING_SLOTS × { tag, txid, sent, total }
//!               tag: USED (1 << 63) | kind << 32 | client, or 0: free
//!               kind 1: read, 2: write; sent/total: bytes given to the
//!               device of the write's `total`
//! 2080  clients CLIENT_SLOTS × { tag, count, stamp, txids[RECENT] }
//!               tag: USED | client, or 0; the client's write with txid
//!               txids[i] completed; the next goes to txids[count % RECENT]
//! ```
//!
//! # Using it
//!
//! ```
//! use abide_inflight::{Kind, Requests, Transmitter};
//!
//! struct Uart(Vec<u8>);
//! impl Transmitter for Uart {
//!     type Error = ();
//!     fn wait_ready(&mut self) -> Result<(), ()> {
//!         Ok(())
//!     }
//!     fn put(&mut self, byte: u8) -> Result<(), ()> {
//!         self.0.push(byte);
//!         Ok(())
//!     }
//! }
//!
//! let mut stash = vec![0u8; 8192]; // kept by the supervisor
//! let mut requests = Requests::open(&mut stash[..]).unwrap();
//! requests.answer_predecessors(|noted| {
//!     // Answer `Restarted` to request `noted.txid` of client `noted.client`.
//! });
//! let mut uart = Uart(Vec::new());
//! let slot = requests.write(7, 42, b"hello\r\n", &mut uart).unwrap();
//! // Reply to the client, then:
//! if let Some(slot) = slot {
//!     requests.forget(slot);
//! }
//! // The same request again (the client resent it) prints nothing.
//! requests.write(7, 42, b"hello\r\n", &mut uart).unwrap();
//! assert_eq!(uart.0, b"hello\r\n");
//!
//! // A read waits for input: noted until it is answered.
//! let read = requests.note(7, 43, Kind::Read).unwrap();
//! requests.forget(read.slot);
//! ```
//!
//! The crate is `no_std` and allocation-free, and has no `unsafe`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod stash;
mod table;

pub use abide_logring::Region;
pub use stash::Stash;
pub use table::{
    Kind, Noted, Recovery, Requests, Slot, Transmitter, CLIENT_SLOTS, MAGIC, PENDING_SLOTS, RECENT,
    TABLE_LEN, VERSION,
};

/// Where the table keeps its slots in the region, for tests that read or
/// damage a region directly (feature `testing`).
#[cfg(feature = "testing")]
pub mod layout {
    pub use crate::table::{CLIENTS_AT, CLIENT_LEN, PENDING_AT, PENDING_LEN};
}
