//! The ring itself: opening (formatting or recovering) a region, appending
//! with exactly-once semantics, and the in-flight request journal.

use abide_le::u64_at;

use crate::entry::{
    decode, encode, padded, stored_seq, stored_size, Entry, NewEntry, MAX_COMPONENT_LEN,
    MAX_ENTRY_LEN, MAX_TEXT_LEN,
};
use crate::Region;

/// The first header word of a formatted region ("ABLOGRNG").
pub const MAGIC: u64 = u64::from_le_bytes(*b"ABLOGRNG");
/// The format version this crate writes and reads.
pub const VERSION: u64 = 1;
/// How many clients the deduplication table remembers.
pub const CLIENT_SLOTS: usize = 64;

// Header words (offsets in the region).
const MAGIC_AT: usize = 0;
const VERSION_AT: usize = 8;
const CAPACITY_AT: usize = 16;
/// The header word holding the position of the next append.
pub const HEAD_AT: usize = 24;
/// The header word holding the position of the oldest entry.
pub const TAIL_AT: usize = 32;
const JOURNAL_CLIENT_AT: usize = 40;
const JOURNAL_TXID_AT: usize = 48;
/// Where the deduplication table begins.
pub const TABLE_AT: usize = 64;
/// A deduplication slot: tag (USED | client), token, seq.
pub const SLOT_LEN: usize = 24;
/// Where the data area begins.
pub const DATA_AT: usize = TABLE_AT + CLIENT_SLOTS * SLOT_LEN;
/// The smallest region [`Ring::open`] accepts: the header and room for
/// the largest entry.
pub const MIN_REGION_LEN: usize = DATA_AT + MAX_ENTRY_LEN;

/// Set in a journal or slot tag word that holds a client; the client id is
/// in the low 32 bits and the bits between are zero.
const USED: u64 = 1 << 63;

/// What [`Ring::open`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The region was blank or did not hold a valid ring: it now holds an
    /// empty one.
    Formatted,
    /// The region held a ring; its committed entries are kept, anything a
    /// crashed instance wrote beyond them is ignored.
    Recovered,
}

/// What [`Ring::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The entry is committed with this sequence number.
    New(u64),
    /// The client's token was committed before, so nothing was appended:
    /// the earlier entry's sequence number, if the ring still knows it.
    Duplicate(Option<u64>),
}

impl Appended {
    /// The sequence number of the entry that holds the request, if known.
    pub fn seq(self) -> Option<u64> {
        match self {
            Self::New(seq) => Some(seq),
            Self::Duplicate(seq) => seq,
        }
    }
}

/// Why [`Ring::append`] refused an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The component name is longer than [`MAX_COMPONENT_LEN`].
    ComponentTooLong,
    /// The text is longer than [`MAX_TEXT_LEN`].
    TextTooLong,
}

/// What the deduplication table holds for a client: its highest committed
/// token and that entry's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client.
    pub client: u32,
    /// Its highest committed token.
    pub token: u64,
    /// The sequence number of the entry with that token.
    pub seq: u64,
}

/// The log, in a region that outlives the instance serving it.
///
/// The ring state is held twice: in the region (the truth a new instance
/// recovers) and in these fields (derived from it, so reads need not parse
/// the header).
#[derive(Debug)]
pub struct Ring<S> {
    pub(crate) region: S,
    /// Bytes in the data area, a multiple of 8.
    pub(crate) data_len: u64,
    /// The sequence number of the next entry.
    pub(crate) head: u64,
    /// The ring position where the next entry goes.
    pub(crate) head_pos: u64,
    /// The sequence number of the oldest entry (`head` when empty).
    pub(crate) tail_seq: u64,
    /// The ring position of the oldest entry (`head_pos` when empty).
    pub(crate) tail_pos: u64,
    recovery: Recovery,
    in_flight: Option<(u32, u64)>,
}

impl<S: Region> Ring<S> {
    /// The ring in `region`: the one a previous instance left, recovered,
    /// or a new empty one if the region is blank or invalid.
    ///
    /// Recovery keeps the entries up to the committed head, ignores
    /// anything beyond it, and brings the deduplication table up to date
    /// with the last committed entry. It may be cut by a crash at any store
    /// and redone.
    ///
    /// # Panics
    ///
    /// If the region is shorter than [`MIN_REGION_LEN`].
    pub fn open(region: S) -> Self {
        let len = region.bytes().len();
        assert!(
            len >= MIN_REGION_LEN,
            "log region of {len} bytes is too small"
        );
        let mut ring = Self {
            region,
            data_len: ((len - DATA_AT) & !7) as u64,
            head: 0,
            head_pos: 0,
            tail_seq: 0,
            tail_pos: 0,
            recovery: Recovery::Formatted,
            in_flight: None,
        };
        if ring.recover().is_some() {
            ring.recovery = Recovery::Recovered;
        } else {
            ring.format();
        }
        ring
    }

    /// Whether [`open`](Self::open) formatted or recovered the region.
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    /// The region, back.
    pub fn into_region(self) -> S {
        self.region
    }

    /// The sequence number the next entry will get: every entry below it
    /// was committed (the oldest ones may have been overwritten since).
    pub fn head(&self) -> u64 {
        self.head
    }

    /// The sequence number of the oldest entry still in the ring
    /// ([`head`](Self::head) when it is empty).
    pub fn first_seq(&self) -> u64 {
        self.tail_seq
    }

    /// How many entries the ring holds.
    pub fn len(&self) -> usize {
        (self.head - self.tail_seq) as usize
    }

    /// Whether the ring holds no entry.
    pub fn is_empty(&self) -> bool {
        self.head == self.tail_seq
    }

    /// The size of the data area in bytes.
    pub fn capacity(&self) -> usize {
        self.data_len as usize
    }

    /// The bytes of the data area the entries take.
    pub fn used(&self) -> usize {
        (self.head_pos - self.tail_pos) as usize
    }

    // ---- Appending ----

    /// Appends `entry` once: unless its client's token was committed
    /// before, the entry is written and committed, overwriting the oldest
    /// entries if the ring is full, and gets the next sequence number.
    ///
    /// The entry is committed by one store inside this call: a crash before
    /// it leaves the log without the entry (though the oldest entries may
    /// already be dropped to make room), a crash after it keeps the entry.
    /// Either way, retrying the request (same client and token) after
    /// recovery appends it if and only if it was not committed.
    ///
    /// A client the deduplication table does not hold (a new one, or one
    /// whose slot went to another client) costs a scan of the ring for its
    /// newest token.
    pub fn append(&mut self, entry: &NewEntry) -> Result<Appended, AppendError> {
        if entry.component.len() > MAX_COMPONENT_LEN {
            return Err(AppendError::ComponentTooLong);
        }
        if entry.text.len() > MAX_TEXT_LEN {
            return Err(AppendError::TextTooLong);
        }
        if let Some(seq) = self.committed_seq(entry.client, entry.token) {
            return Ok(Appended::Duplicate(seq));
        }
        let seq = self.head;
        let mut buf = [0; MAX_ENTRY_LEN];
        let len = encode(seq, self.head_pos, entry, &mut buf);
        self.make_room(padded(len));
        self.write_entry(&buf[..len]);
        self.commit(padded(len));
        self.record(entry.client, entry.token, seq);
        Ok(Appended::New(seq))
    }

    /// Advances the tail past the oldest entries until `size` more bytes
    /// fit, with one store of the tail. Those entries are gone from then
    /// on, before any of their bytes is overwritten.
    fn make_room(&mut self, size: u64) {
        let (mut tail_pos, mut tail_seq) = (self.tail_pos, self.tail_seq);
        while tail_seq < self.head && self.head_pos + size - tail_pos > self.data_len {
            tail_pos += self.size_at(tail_pos);
            tail_seq += 1;
        }
        if tail_pos != self.tail_pos {
            self.region.store_u64(TAIL_AT, tail_pos);
            (self.tail_pos, self.tail_seq) = (tail_pos, tail_seq);
        }
    }

    /// Writes an encoded entry at the head position. Its sequence number,
    /// which is not committed yet, goes first in one store: from then on
    /// the bytes there cannot pass for a committed entry, whatever part of
    /// the rest a crash leaves written.
    fn write_entry(&mut self, bytes: &[u8]) {
        let seq = stored_seq(bytes).unwrap_or(u64::MAX);
        let at = self.physical(self.head_pos);
        self.region.store_u64(at, seq);
        self.store_data(self.head_pos + 8, &bytes[8..]);
    }

    /// The commit point: one store of the head.
    fn commit(&mut self, size: u64) {
        self.region.store_u64(HEAD_AT, self.head + 1);
        self.head += 1;
        self.head_pos += size;
    }

    // ---- Deduplication ----

    /// `Some` if `token` from `client` was committed before: with the
    /// entry's sequence number, if the ring still knows it.
    fn committed_seq(&self, client: u32, token: u64) -> Option<Option<u64>> {
        let newest = match self.client_record(client) {
            Some(record) => record,
            None => self.newest_in_ring(client)?,
        };
        if token > newest.token {
            None
        } else if token == newest.token {
            Some(Some(newest.seq))
        } else {
            Some(
                self.iter()
                    .find(|e| e.client == client && e.token == token)
                    .map(|e| e.seq),
            )
        }
    }

    /// The highest token the ring's entries hold for `client`: what the
    /// table would say, for a client whose slot was given to another one.
    fn newest_in_ring(&self, client: u32) -> Option<ClientRecord> {
        let entries = self.iter().filter(|e| e.client == client);
        let newest = entries.max_by_key(|e| e.token)?;
        Some(ClientRecord {
            client,
            token: newest.token,
            seq: newest.seq,
        })
    }

    /// What the deduplication table holds for `client`.
    pub fn client_record(&self, client: u32) -> Option<ClientRecord> {
        self.slots().find(|r| r.client == client)
    }

    /// The table's records, slot by slot.
    pub(crate) fn slots(&self) -> impl Iterator<Item = ClientRecord> + '_ {
        (0..CLIENT_SLOTS).filter_map(|slot| {
            let at = TABLE_AT + slot * SLOT_LEN;
            let tag = self.word(at);
            (tag & USED != 0).then(|| ClientRecord {
                client: tag as u32,
                token: self.word(at + 8),
                seq: self.word(at + 16),
            })
        })
    }

    /// Records `token`, committed as entry `seq`, as `client`'s highest.
    ///
    /// Only after the entry is committed, so the table never claims a token
    /// the log lacks. A crash may leave the slot behind: with the previous
    /// token, or with the new token but the previous entry's seq (the token
    /// is stored first, as it decides duplicates); recovery brings it up to
    /// date from the last committed entry.
    fn record(&mut self, client: u32, token: u64, seq: u64) {
        if let Some(slot) = self.slot_of(client) {
            let at = TABLE_AT + slot * SLOT_LEN;
            self.region.store_u64(at + 8, token);
            self.region.store_u64(at + 16, seq);
            return;
        }
        let slot = self.free_slot();
        let at = TABLE_AT + slot * SLOT_LEN;
        if self.word(at) != 0 {
            // Evict the least recently appending client first, so the slot
            // never pairs one client with another's token.
            self.region.store_u64(at, 0);
        }
        self.region.store_u64(at + 8, token);
        self.region.store_u64(at + 16, seq);
        self.region.store_u64(at, USED | u64::from(client));
    }

    fn slot_of(&self, client: u32) -> Option<usize> {
        (0..CLIENT_SLOTS)
            .find(|slot| self.word(TABLE_AT + slot * SLOT_LEN) == USED | u64::from(client))
    }

    /// An empty slot, or else the one whose last entry is the oldest.
    fn free_slot(&self) -> usize {
        let tag = |slot: usize| self.word(TABLE_AT + slot * SLOT_LEN);
        let seq = |slot: usize| self.word(TABLE_AT + slot * SLOT_LEN + 16);
        (0..CLIENT_SLOTS)
            .find(|&slot| tag(slot) == 0)
            .or_else(|| (0..CLIENT_SLOTS).min_by_key(|&slot| seq(slot)))
            .unwrap_or(0)
    }

    // ---- In-flight journal ----

    /// Notes that the request `txid` from `client` is being served, so that
    /// the next instance can answer it if this one crashes before
    /// [`end`](Self::end).
    pub fn begin(&mut self, client: u32, txid: u64) {
        if self.word(JOURNAL_CLIENT_AT) != 0 {
            self.region.store_u64(JOURNAL_CLIENT_AT, 0);
        }
        self.region.store_u64(JOURNAL_TXID_AT, txid);
        self.region
            .store_u64(JOURNAL_CLIENT_AT, USED | u64::from(client));
    }

    /// Notes that the request noted by [`begin`](Self::begin) was answered.
    pub fn end(&mut self) {
        if self.word(JOURNAL_CLIENT_AT) != 0 {
            self.region.store_u64(JOURNAL_CLIENT_AT, 0);
        }
    }

    /// The request (client, txid) a crashed instance was serving when the
    /// region was opened, once: the caller answers it `Restarted`. Clears
    /// the journal unless a request was begun since.
    pub fn take_in_flight(&mut self) -> Option<(u32, u64)> {
        let request = self.in_flight.take()?;
        if self.journal() == Some(request) {
            self.region.store_u64(JOURNAL_CLIENT_AT, 0);
        }
        Some(request)
    }

    /// The request the journal holds now.
    pub fn journal(&self) -> Option<(u32, u64)> {
        let tag = self.word(JOURNAL_CLIENT_AT);
        (tag & USED != 0).then(|| (tag as u32, self.word(JOURNAL_TXID_AT)))
    }

    // ---- Opening ----

    /// Writes an empty ring. The magic goes last, so a format cut by a
    /// crash is redone by the next open.
    fn format(&mut self) {
        self.region.store_u64(MAGIC_AT, 0);
        for at in (VERSION_AT..DATA_AT).step_by(8) {
            if self.word(at) != 0 {
                self.region.store_u64(at, 0);
            }
        }
        // Stale bytes in the data area could pass for entries of this ring.
        self.zero_data();
        self.region.store_u64(VERSION_AT, VERSION);
        self.region.store_u64(CAPACITY_AT, self.data_len);
        self.region.store_u64(MAGIC_AT, MAGIC);
        (self.head, self.head_pos, self.tail_seq, self.tail_pos) = (0, 0, 0, 0);
        self.recovery = Recovery::Formatted;
        self.in_flight = None;
    }

    fn zero_data(&mut self) {
        const ZEROS: [u8; 512] = [0; 512];
        let end = DATA_AT + self.data_len as usize;
        for at in (DATA_AT..end).step_by(ZEROS.len()) {
            let len = ZEROS.len().min(end - at);
            if self.region.bytes()[at..at + len] != ZEROS[..len] {
                self.region.store(at, &ZEROS[..len]);
            }
        }
    }

    /// Reads back a valid ring's state, or `None` if the region does not
    /// hold one.
    fn recover(&mut self) -> Option<()> {
        self.check_header()?;
        self.head = self.word(HEAD_AT);
        self.tail_pos = self.word(TAIL_AT);
        if !self.tail_pos.is_multiple_of(8) || !self.table_is_valid() {
            return None;
        }
        let journal = self.word(JOURNAL_CLIENT_AT);
        if journal != 0 && !is_tag(journal) {
            return None;
        }
        self.in_flight = self.journal();
        let last = self.walk()?;
        if let Some(last) = last {
            self.raise(&last);
        }
        Some(())
    }

    fn check_header(&self) -> Option<()> {
        let valid = self.word(MAGIC_AT) == MAGIC
            && self.word(VERSION_AT) == VERSION
            && self.word(CAPACITY_AT) == self.data_len;
        valid.then_some(())
    }

    /// Every slot is empty or holds a client whose entry is committed.
    fn table_is_valid(&self) -> bool {
        (0..CLIENT_SLOTS).all(|slot| {
            let at = TABLE_AT + slot * SLOT_LEN;
            let tag = self.word(at);
            tag == 0 || (is_tag(tag) && self.word(at + 16) < self.head)
        })
    }

    /// Finds the committed entries from the tail up to the head and sets
    /// the positions; returns the newest entry, or `None` if the entries
    /// below the head are not all there (the region is not a valid ring).
    fn walk(&mut self) -> Option<Option<Entry>> {
        let first = self
            .read_entry(self.tail_pos)
            .filter(|(e, _)| e.seq < self.head);
        let Some((mut entry, mut size)) = first else {
            // Empty: the oldest entry was dropped to make room for one that
            // was not committed.
            (self.tail_seq, self.head_pos) = (self.head, self.tail_pos);
            return Some(None);
        };
        self.tail_seq = entry.seq;
        let mut pos = self.tail_pos;
        while entry.seq + 1 < self.head {
            pos += size;
            let (next, next_size) = self.read_entry(pos)?;
            if next.seq != entry.seq + 1 || pos + next_size - self.tail_pos > self.data_len {
                return None;
            }
            (entry, size) = (next, next_size);
        }
        self.head_pos = pos + size;
        Some(Some(entry))
    }

    /// Brings the table up to date with the newest entry, in case the
    /// instance that committed it crashed before recording it. The older
    /// entries were recorded before the newest one was begun.
    fn raise(&mut self, newest: &Entry) {
        let recorded = self.client_record(newest.client);
        let behind = match recorded {
            Some(r) => r.token < newest.token || (r.token == newest.token && r.seq != newest.seq),
            None => true,
        };
        if behind {
            self.record(newest.client, newest.token, newest.seq);
        }
    }

    // ---- The data area ----

    /// The region offset of ring position `pos`.
    fn physical(&self, pos: u64) -> usize {
        DATA_AT + (pos % self.data_len) as usize
    }

    /// Stores `data` at ring position `pos`, wrapping at the end of the
    /// data area.
    fn store_data(&mut self, pos: u64, data: &[u8]) {
        let at = self.physical(pos);
        let first = data.len().min(DATA_AT + self.data_len as usize - at);
        self.region.store(at, &data[..first]);
        if first < data.len() {
            self.region.store(DATA_AT, &data[first..]);
        }
    }

    /// Fills `out` from ring position `pos`, wrapping at the end.
    fn read_data(&self, pos: u64, out: &mut [u8]) {
        let at = self.physical(pos);
        let first = out.len().min(DATA_AT + self.data_len as usize - at);
        let bytes = self.region.bytes();
        out[..first].copy_from_slice(&bytes[at..at + first]);
        let rest = out.len() - first;
        out[first..].copy_from_slice(&bytes[DATA_AT..DATA_AT + rest]);
    }

    /// The whole entry written at ring position `pos`, if there is one,
    /// with the bytes it takes.
    pub(crate) fn read_entry(&self, pos: u64) -> Option<(Entry, u64)> {
        let mut buf = [0; MAX_ENTRY_LEN];
        self.read_data(pos, &mut buf);
        decode(&buf, pos)
    }

    /// The bytes the entry at `pos`, known to be whole, takes.
    pub(crate) fn size_at(&self, pos: u64) -> u64 {
        let mut header = [0; 40];
        self.read_data(pos, &mut header);
        stored_size(&header).unwrap_or(8)
    }

    /// The header word at `at`.
    fn word(&self, at: usize) -> u64 {
        u64_at(self.region.bytes(), at).unwrap_or(0)
    }
}

/// Whether `word` is a valid tag: [`USED`] and a client id.
fn is_tag(word: u64) -> bool {
    word & USED != 0 && (word >> 32) & 0x7FFF_FFFF == 0
}

/// What the tests in `tests/` read inside a ring (feature `testing`).
#[cfg(feature = "testing")]
impl<S: Region> Ring<S> {
    /// The deduplication table's records, slot by slot.
    pub fn client_records(&self) -> impl Iterator<Item = ClientRecord> + '_ {
        self.slots()
    }

    /// The position of the next append in the data area, before it wraps.
    pub fn head_pos(&self) -> u64 {
        self.head_pos
    }

    /// The position of the oldest entry in the data area, before it wraps.
    pub fn tail_pos(&self) -> u64 {
        self.tail_pos
    }

    /// The length of the data area in bytes.
    pub fn data_len(&self) -> u64 {
        self.data_len
    }

    /// The region the ring is in.
    pub fn region(&self) -> &S {
        &self.region
    }

    /// The region the ring is in, to change behind the ring's back.
    pub fn region_mut(&mut self) -> &mut S {
        &mut self.region
    }
}
