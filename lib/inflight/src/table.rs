//! The table itself: opening (formatting or recovering) a region, noting
//! and forgetting requests, sending writes with their progress, and the
//! ring of completed writes per client.

use abide_le::u64_at;

use crate::Region;

/// The first word of a formatted region ("ABREQTAB").
pub const MAGIC: u64 = u64::from_le_bytes(*b"ABREQTAB");
/// The format version this crate writes and reads.
pub const VERSION: u64 = 1;
/// How many requests can be noted at once.
pub const PENDING_SLOTS: usize = 64;
/// How many clients' completed writes are remembered.
pub const CLIENT_SLOTS: usize = 32;
/// How many completed writes are remembered per client.
pub const RECENT: usize = 16;

const MAGIC_AT: usize = 0;
const VERSION_AT: usize = 8;
const STAMP_AT: usize = 16;
/// Where the progress of a write that could not be noted goes: nobody
/// reads it, but the store is made all the same, so that sending a byte
/// is the same few instructions either way (see [`Requests::write`]).
const SCRATCH_AT: usize = 24;
/// Where the pending slots begin.
pub const PENDING_AT: usize = 32;
/// A pending slot: tag, txid, sent, total.
pub const PENDING_LEN: usize = 32;
/// Where the client slots begin.
pub const CLIENTS_AT: usize = PENDING_AT + PENDING_SLOTS * PENDING_LEN;
/// A client slot: tag, count, stamp, then the txids.
pub const CLIENT_LEN: usize = 24 + RECENT * 8;
/// The bytes the table takes at the start of its region.
pub const TABLE_LEN: usize = CLIENTS_AT + CLIENT_SLOTS * CLIENT_LEN;

/// Set in a tag word that holds a client (in its low 32 bits).
const USED: u64 = 1 << 63;
const KIND_SHIFT: u32 = 32;
const KIND_READ: u64 = 1;
const KIND_WRITE: u64 = 2;

/// What kind of request a note is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A read, waiting for input: nothing to resume, only to answer.
    Read,
    /// A write, whose progress is kept.
    Write,
}

impl Kind {
    fn code(self) -> u64 {
        match self {
            Kind::Read => KIND_READ,
            Kind::Write => KIND_WRITE,
        }
    }
}

/// Where a request is noted: valid until it is forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot(usize);

/// A noted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noted {
    /// Where it is noted.
    pub slot: Slot,
    /// Who asked (see [`client_id`](crate::client_id)).
    pub client: u32,
    /// The request's transaction id.
    pub txid: u64,
    /// Read or write.
    pub kind: Kind,
    /// For a write: how many of its bytes the device was given.
    pub sent: u64,
    /// For a write: how many bytes it has (0 for a read).
    pub total: u64,
}

impl Noted {
    /// A write some but not all of whose bytes were sent.
    pub fn is_unfinished(&self) -> bool {
        self.kind == Kind::Write && self.sent > 0 && self.sent < self.total
    }
}

/// What [`Requests::open`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The region held no table (blank, or not this format): it now holds
    /// an empty one.
    Formatted,
    /// The region held a table, which is kept.
    Recovered,
}

/// A device that takes one byte at a time.
pub trait Transmitter {
    /// Why the device failed.
    type Error;

    /// Waits until the device can take a byte at once.
    fn wait_ready(&mut self) -> Result<(), Self::Error>;

    /// Hands the device one byte; once this returns, it is sent.
    fn put(&mut self, byte: u8) -> Result<(), Self::Error>;
}

/// The requests a server holds, in a region that outlives it.
#[derive(Debug)]
pub struct Requests<R> {
    region: R,
    /// Slots noted by a predecessor and not taken up by this instance
    /// (bit `i`: pending slot `i`). They may be given to new requests when
    /// the table is full.
    inherited: u64,
    recovery: Recovery,
}

impl<R: Region> Requests<R> {
    /// The table at the start of `region`: the one a previous instance
    /// left, or a new empty one if there is none. `None` if the region is
    /// shorter than [`TABLE_LEN`].
    ///
    /// Opening may be cut by a crash at any store and redone.
    pub fn open(region: R) -> Option<Self> {
        if region.bytes().len() < TABLE_LEN {
            return None;
        }
        let mut table = Self {
            region,
            inherited: 0,
            recovery: Recovery::Recovered,
        };
        if table.word(MAGIC_AT) != MAGIC || table.word(VERSION_AT) != VERSION {
            table.format();
            table.recovery = Recovery::Formatted;
        }
        for slot in 0..PENDING_SLOTS {
            let tag = table.word(pending_at(slot));
            if tag == 0 {
                continue;
            }
            if decode_tag(tag).is_some() {
                table.inherited |= 1 << slot;
            } else {
                // Not a tag this format writes: the slot is free.
                table.region.store_u64(pending_at(slot), 0);
            }
        }
        Some(table)
    }

    /// Whether [`open`](Self::open) formatted or recovered the region.
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    /// The region, back.
    pub fn into_region(self) -> R {
        self.region
    }

    /// Writes an empty table. The magic goes last, so a format cut by a
    /// crash is redone by the next open.
    fn format(&mut self) {
        self.region.store_u64(MAGIC_AT, 0);
        for at in (VERSION_AT..TABLE_LEN).step_by(8) {
            if self.word(at) != 0 {
                self.region.store_u64(at, 0);
            }
        }
        self.region.store_u64(VERSION_AT, VERSION);
        self.region.store_u64(MAGIC_AT, MAGIC);
    }

    // ---- Noting requests ----

    /// Every noted request, by slot.
    pub fn noted(&self) -> impl Iterator<Item = Noted> + '_ {
        (0..PENDING_SLOTS).filter_map(|slot| self.get(Slot(slot)))
    }

    /// The noted request `txid` of `client`, if there is one.
    pub fn find(&self, client: u32, txid: u64) -> Option<Noted> {
        self.noted()
            .find(|noted| noted.client == client && noted.txid == txid)
    }

    /// The request noted in `slot`, if the slot holds one.
    pub fn get(&self, slot: Slot) -> Option<Noted> {
        let at = pending_at(slot.0);
        let (kind, client) = decode_tag(self.word(at))?;
        Some(Noted {
            slot,
            client,
            txid: self.word(at + 8),
            kind,
            sent: self.word(at + 16),
            total: self.word(at + 24),
        })
    }

    /// Notes request `txid` of `client`, just taken from its channel, so
    /// that a next instance answers it if this one dies first. The same
    /// request noted before (a client's repeat of it, or a request a
    /// predecessor held) keeps its note: that one is returned, with its
    /// progress.
    ///
    /// `None` if every slot is taken by a request of this instance (a slot
    /// a predecessor noted is given up for the new request first).
    pub fn note(&mut self, client: u32, txid: u64, kind: Kind) -> Option<Noted> {
        self.note_request(client, txid, kind, 0)
    }

    fn note_request(&mut self, client: u32, txid: u64, kind: Kind, total: u64) -> Option<Noted> {
        if let Some(noted) = self.find(client, txid) {
            self.inherited &= !(1 << noted.slot.0);
            return Some(noted);
        }
        let slot = match (0..PENDING_SLOTS).find(|&slot| self.word(pending_at(slot)) == 0) {
            Some(slot) => slot,
            None => {
                let slot = (0..PENDING_SLOTS).find(|&slot| self.inherited & (1 << slot) != 0)?;
                self.region.store_u64(pending_at(slot), 0);
                self.inherited &= !(1 << slot);
                slot
            }
        };
        let at = pending_at(slot);
        self.region.store_u64(at + 8, txid);
        self.region.store_u64(at + 16, 0);
        self.region.store_u64(at + 24, total);
        // Last: the slot holds the note only once it is whole.
        let tag = USED | kind.code() << KIND_SHIFT | u64::from(client);
        self.region.store_u64(at, tag);
        self.get(Slot(slot))
    }

    /// Drops the note in `slot`: the request was answered. Answer first,
    /// then forget — a crash between makes the next instance answer
    /// `Restarted` to a request the client has its reply for, which it
    /// ignores.
    pub fn forget(&mut self, slot: Slot) {
        let at = pending_at(slot.0);
        if self.word(at) != 0 {
            self.region.store_u64(at, 0);
        }
        self.inherited &= !(1 << slot.0);
    }

    /// Calls `restarted` with every request a previous instance noted and
    /// did not answer, for the `Restarted` reply to it; then drops the
    /// note, except for a write that had sent some of its bytes: its note
    /// stays, so that when the client sends it again the rest follows
    /// ([`write`](Self::write)).
    ///
    /// Call it once, after opening and before taking requests. A crash
    /// halfway makes the next instance answer some of them again.
    pub fn answer_predecessors(&mut self, mut restarted: impl FnMut(Noted)) {
        for slot in 0..PENDING_SLOTS {
            if self.inherited & (1 << slot) == 0 {
                continue;
            }
            let Some(noted) = self.get(Slot(slot)) else {
                continue;
            };
            restarted(noted);
            let keep = noted.kind == Kind::Write
                && noted.sent > 0
                && !self.is_complete(noted.client, noted.txid);
            if !keep {
                self.forget(noted.slot);
            }
        }
    }

    /// The writes a previous instance sent only some bytes of: until they
    /// are finished, the device shows half a write.
    pub fn unfinished(&self) -> impl Iterator<Item = Noted> + '_ {
        self.noted().filter(Noted::is_unfinished)
    }

    // ---- Writing ----

    /// Serves write request `txid` of `client`, whose bytes for the device
    /// are `output`: gives `device` the bytes no instance gave it before,
    /// and records the write as complete. A write that completed before
    /// sends nothing.
    ///
    /// Returns the request's slot, for [`forget`](Self::forget) once the
    /// reply is sent (`None` if the table was full: then the write was not
    /// noted, and a crash in the middle would repeat it whole).
    ///
    /// Each byte: [`Transmitter::wait_ready`], then the progress is stored
    /// with the byte counted, then [`Transmitter::put`]. A crash loses at
    /// most the byte between the store and the hand-over, and repeats
    /// nothing.
    pub fn write<T: Transmitter>(
        &mut self,
        client: u32,
        txid: u64,
        output: &[u8],
        device: &mut T,
    ) -> Result<Option<Slot>, T::Error> {
        let total = output.len() as u64;
        if self.is_complete(client, txid) {
            let noted = self.find(client, txid);
            if let Some(noted) = noted {
                self.inherited &= !(1 << noted.slot.0);
            }
            return Ok(noted.map(|noted| noted.slot));
        }
        let noted = self.note_request(client, txid, Kind::Write, total);
        let slot = noted.map(|noted| noted.slot);
        let from = noted.map_or(0, |noted| noted.sent.min(total) as usize);
        let progress_at = slot.map_or(SCRATCH_AT, |slot| pending_at(slot.0) + 16);
        for (at, &byte) in output.iter().enumerate().skip(from) {
            device.wait_ready()?;
            // The progress counting the byte, then the byte, with nothing
            // between the two (not even a branch) once both are inlined.
            self.region.store_u64(progress_at, at as u64 + 1);
            device.put(byte)?;
        }
        self.complete(client, txid);
        Ok(slot)
    }

    // ---- Completed writes ----

    /// Whether write `txid` of `client` is among its last [`RECENT`]
    /// completed ones.
    pub fn is_complete(&self, client: u32, txid: u64) -> bool {
        if txid == 0 {
            return false;
        }
        self.client_slot(client).is_some_and(|slot| {
            let at = client_at(slot) + 24;
            (0..RECENT).any(|i| self.word(at + i * 8) == txid)
        })
    }

    /// Records write `txid` of `client` as complete. A crash may leave the
    /// ring without it, or without the oldest txid it replaces.
    fn complete(&mut self, client: u32, txid: u64) {
        if txid == 0 || self.is_complete(client, txid) {
            return;
        }
        let stamp = self.word(STAMP_AT).wrapping_add(1);
        self.region.store_u64(STAMP_AT, stamp);
        let slot = match self.client_slot(client) {
            Some(slot) => slot,
            None => self.take_client_slot(client),
        };
        let at = client_at(slot);
        let count = self.word(at + 8);
        self.region
            .store_u64(at + 24 + (count as usize % RECENT) * 8, txid);
        self.region.store_u64(at + 8, count.wrapping_add(1));
        self.region.store_u64(at + 16, stamp);
    }

    fn client_slot(&self, client: u32) -> Option<usize> {
        let tag = USED | u64::from(client);
        (0..CLIENT_SLOTS).find(|&slot| self.word(client_at(slot)) == tag)
    }

    /// A client slot for `client`, which has none: a free one, or else the
    /// one whose client completed a write least recently. The slot is
    /// freed before its txids are cleared and given to `client` after, so
    /// a slot never pairs one client with another's txids.
    fn take_client_slot(&mut self, client: u32) -> usize {
        let tag = |slot: usize| self.word(client_at(slot));
        let stamp = |slot: usize| self.word(client_at(slot) + 16);
        let slot = (0..CLIENT_SLOTS)
            .find(|&slot| tag(slot) == 0)
            .or_else(|| (0..CLIENT_SLOTS).min_by_key(|&slot| stamp(slot)))
            .unwrap_or(0);
        let at = client_at(slot);
        if self.word(at) != 0 {
            self.region.store_u64(at, 0);
        }
        for word in (at + 8..at + CLIENT_LEN).step_by(8) {
            if self.word(word) != 0 {
                self.region.store_u64(word, 0);
            }
        }
        self.region.store_u64(at, USED | u64::from(client));
        slot
    }

    fn word(&self, at: usize) -> u64 {
        u64_at(self.region.bytes(), at).unwrap_or(0)
    }
}

fn pending_at(slot: usize) -> usize {
    PENDING_AT + slot * PENDING_LEN
}

fn client_at(slot: usize) -> usize {
    CLIENTS_AT + slot * CLIENT_LEN
}

/// The kind and client of a pending slot's tag; `None` for a free slot or
/// a tag this format does not write.
fn decode_tag(tag: u64) -> Option<(Kind, u32)> {
    if tag & USED == 0 {
        return None;
    }
    let kind = match (tag & !USED) >> KIND_SHIFT {
        KIND_READ => Kind::Read,
        KIND_WRITE => Kind::Write,
        _ => return None,
    };
    Some((kind, tag as u32))
}
