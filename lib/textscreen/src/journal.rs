//! What the driver keeps across its restarts, in its stash.
//!
//! When the `vga` driver faults, its supervisor starts a new instance. The
//! screen itself survives in video memory, but two things would be lost
//! with the old instance's memory: where the cursor was, and the requests
//! it had taken from its clients' channels but not answered — above all
//! the deferred `read`s, which wait for a key. A client whose request
//! vanished would wait forever. So the driver notes each request in its
//! stash (memory `init` keeps across restarts) before it handles it and
//! drops the note once it has answered; a new instance answers every noted
//! request with the error `Restarted`, and the client runtime sends it
//! again (`abide_rt::ipc::Client::call`).
//!
//! [`Journal`] is that record, over the stash's bytes. A crash can come
//! between any two stores: a slot's client id is written last when a
//! request is noted and first when it is dropped, so a slot is either a
//! whole note or free; the magic is written last when the journal is
//! formatted, so a half-formatted journal counts as new.
//!
//! ```text
//! 0   magic    "ABVGACON"
//! 8   row      u16, the cursor
//! 10  column   u16 (columns: past the last column)
//! 16  slots    SLOTS × { client u32 (0: free), ordinal u32, txid u64 }
//! ```

use alloc::vec::Vec;

use abide_le::{put_u16, put_u32, put_u64, u16_at, u32_at, u64_at};

const MAGIC: [u8; 8] = *b"ABVGACON";
const ROW: usize = 8;
const COLUMN: usize = 10;
const SLOTS_AT: usize = 16;
const SLOT_BYTES: usize = 16;
/// How many requests can be noted at once.
const SLOTS: usize = 256;

/// The bytes a journal needs.
pub const JOURNAL_BYTES: usize = SLOTS_AT + SLOTS * SLOT_BYTES;

/// A request taken but not answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Noted {
    /// Who asked: the route's client, as a number (the driver uses
    /// `abide_interfaces::component::client_id`).
    pub client: u32,
    /// The method.
    pub ordinal: u32,
    /// The request's transaction id.
    pub txid: u64,
}

/// The driver's record in its stash.
#[derive(Debug)]
pub struct Journal<'a> {
    bytes: &'a mut [u8],
}

impl<'a> Journal<'a> {
    /// The journal kept in `bytes`, or `None` if they are fewer than
    /// [`JOURNAL_BYTES`].
    pub fn open(bytes: &'a mut [u8]) -> Option<Journal<'a>> {
        let bytes = bytes.get_mut(..JOURNAL_BYTES)?;
        Some(Journal { bytes })
    }

    /// Whether an instance formatted the journal before: then the screen
    /// in video memory is the driver's, and notes may be waiting.
    pub fn is_formatted(&self) -> bool {
        self.bytes[..MAGIC.len()] == MAGIC
    }

    /// Makes the journal empty (no notes, the cursor at the top left).
    pub fn format(&mut self) {
        self.bytes[..MAGIC.len()].fill(0);
        self.bytes[MAGIC.len()..].fill(0);
        self.bytes[..MAGIC.len()].copy_from_slice(&MAGIC);
    }

    /// Where the cursor was last noted: row and column.
    pub fn cursor(&self) -> (usize, usize) {
        (
            usize::from(u16_at(self.bytes, ROW).unwrap_or(0)),
            usize::from(u16_at(self.bytes, COLUMN).unwrap_or(0)),
        )
    }

    /// Notes where the cursor is (values past `u16::MAX` are clamped).
    pub fn set_cursor(&mut self, row: usize, column: usize) {
        put_u16(self.bytes, ROW, u16::try_from(row).unwrap_or(u16::MAX));
        put_u16(
            self.bytes,
            COLUMN,
            u16::try_from(column).unwrap_or(u16::MAX),
        );
    }

    /// Notes a request; `false` when every slot is taken.
    pub fn note(&mut self, noted: Noted) -> bool {
        let Some(slot) = (0..SLOTS).find(|&slot| self.client_at(slot) == 0) else {
            return false;
        };
        let at = SLOTS_AT + slot * SLOT_BYTES;
        put_u32(self.bytes, at + 4, noted.ordinal);
        put_u64(self.bytes, at + 8, noted.txid);
        // Last: the slot is taken only once it is whole.
        put_u32(self.bytes, at, noted.client.max(1));
        true
    }

    /// Drops the note of request `txid` of `client`, if there is one.
    pub fn forget(&mut self, client: u32, txid: u64) {
        let client = client.max(1);
        for slot in 0..SLOTS {
            if self.client_at(slot) == client && self.txid_at(slot) == txid {
                let at = SLOTS_AT + slot * SLOT_BYTES;
                self.bytes[at..at + 4].fill(0);
                return;
            }
        }
    }

    /// Every noted request, oldest slot first; the notes are dropped.
    pub fn take_noted(&mut self) -> Vec<Noted> {
        let mut noted = Vec::new();
        for slot in 0..SLOTS {
            let client = self.client_at(slot);
            if client == 0 {
                continue;
            }
            let at = SLOTS_AT + slot * SLOT_BYTES;
            noted.push(Noted {
                client,
                ordinal: u32_at(self.bytes, at + 4).unwrap_or(0),
                txid: self.txid_at(slot),
            });
            self.bytes[at..at + 4].fill(0);
        }
        noted
    }

    // Every offset below is inside the journal's bytes, whose length
    // `open` checked: the `None` of an `abide-le` field never happens.

    fn client_at(&self, slot: usize) -> u32 {
        u32_at(self.bytes, SLOTS_AT + slot * SLOT_BYTES).unwrap_or(0)
    }

    fn txid_at(&self, slot: usize) -> u64 {
        u64_at(self.bytes, SLOTS_AT + slot * SLOT_BYTES + 8).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noted(client: u32, txid: u64) -> Noted {
        Noted {
            client,
            ordinal: 2,
            txid,
        }
    }

    #[test]
    fn too_few_bytes_are_no_journal() {
        let mut bytes = vec![0; JOURNAL_BYTES - 1];
        assert!(Journal::open(&mut bytes).is_none());
    }

    #[test]
    fn a_zeroed_stash_is_not_formatted_until_formatted() {
        let mut bytes = vec![0; JOURNAL_BYTES + 100];
        let mut journal = Journal::open(&mut bytes).unwrap();
        assert!(!journal.is_formatted());
        journal.format();
        assert!(journal.is_formatted());
        assert_eq!(journal.cursor(), (0, 0));
        assert!(journal.take_noted().is_empty());
    }

    #[test]
    fn notes_and_the_cursor_survive_reopening() {
        let mut bytes = vec![0xee; JOURNAL_BYTES];
        {
            let mut journal = Journal::open(&mut bytes).unwrap();
            journal.format();
            journal.set_cursor(24, 80);
            assert!(journal.note(noted(7, 100)));
            assert!(journal.note(noted(8, 5)));
            assert!(journal.note(Noted {
                client: 7,
                ordinal: 1,
                txid: 101,
            }));
            journal.forget(8, 5);
            // Forgetting what was never noted changes nothing.
            journal.forget(9, 100);
            journal.forget(7, 99);
        }
        let mut journal = Journal::open(&mut bytes).unwrap();
        assert!(journal.is_formatted());
        assert_eq!(journal.cursor(), (24, 80));
        assert_eq!(
            journal.take_noted(),
            [
                noted(7, 100),
                Noted {
                    client: 7,
                    ordinal: 1,
                    txid: 101
                }
            ]
        );
        assert!(journal.take_noted().is_empty());
    }

    #[test]
    fn full_and_freed_slots() {
        let mut bytes = vec![0; JOURNAL_BYTES];
        let mut journal = Journal::open(&mut bytes).unwrap();
        journal.format();
        for txid in 0..SLOTS as u64 {
            assert!(journal.note(noted(1, txid)));
        }
        assert!(!journal.note(noted(1, 999)));
        journal.forget(1, 17);
        assert!(journal.note(noted(2, 999)));
        let all = journal.take_noted();
        assert_eq!(all.len(), SLOTS);
        assert_eq!(all[17], noted(2, 999));
    }

    #[test]
    fn a_crash_while_noting_leaves_no_half_note() {
        // `note` stores into the slot only, and its client id last: a cut
        // before that store leaves a slot without a client id, which is free.
        let mut reference = vec![0; JOURNAL_BYTES];
        let mut journal = Journal::open(&mut reference).unwrap();
        journal.format();
        let before = reference.clone();
        let mut journal = Journal::open(&mut reference).unwrap();
        journal.note(noted(3, 0x1122_3344_5566_7788));
        let changed: Vec<usize> = (0..JOURNAL_BYTES)
            .filter(|&i| before[i] != reference[i])
            .collect();
        assert!(changed
            .iter()
            .all(|&i| (SLOTS_AT..SLOTS_AT + SLOT_BYTES).contains(&i)));
        let mut cut = reference.clone();
        cut[SLOTS_AT..SLOTS_AT + 4].fill(0);
        assert!(Journal::open(&mut cut).unwrap().take_noted().is_empty());
    }
}
