//! The table's operations without crashes: formatting and recovery, notes,
//! writes sent once, each client's recent writes, a new instance answering
//! what its predecessor held, and the slots where the format puts them.

mod support;

use abide_inflight::layout::{CLIENTS_AT, CLIENT_LEN, PENDING_AT, PENDING_LEN};
use abide_inflight::{
    Kind, Recovery, Requests, Transmitter, CLIENT_SLOTS, MAGIC, PENDING_SLOTS, RECENT, TABLE_LEN,
};
use support::*;

#[test]
fn a_region_too_small_holds_no_table() {
    let mut bytes = vec![0u8; TABLE_LEN - 1];
    assert!(Requests::open(&mut bytes[..]).is_none());
}

#[test]
fn blank_and_garbage_regions_are_formatted_and_a_table_is_recovered() {
    let mut bytes = vec![0u8; LEN];
    assert_eq!(open(&mut bytes).recovery(), Recovery::Formatted);
    assert_eq!(&bytes[..8], &MAGIC.to_le_bytes());
    assert_eq!(open(&mut bytes).recovery(), Recovery::Recovered);

    let mut garbage: Vec<u8> = (0..LEN).map(|i| (i * 7 + 3) as u8).collect();
    let requests = open(&mut garbage);
    assert_eq!(requests.recovery(), Recovery::Formatted);
    assert_eq!(requests.noted().count(), 0);
    assert!(!requests.is_complete(1, 1));
    // Only the table's bytes are touched.
    assert!(garbage[TABLE_LEN..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == ((i + TABLE_LEN) * 7 + 3) as u8));
}

#[test]
fn a_tag_this_format_never_writes_frees_its_slot() {
    let mut bytes = vec![0u8; LEN];
    open(&mut bytes);
    let tag: u64 = (1 << 63) | (9 << 32) | 5;
    bytes[PENDING_AT..PENDING_AT + 8].copy_from_slice(&tag.to_le_bytes());
    let requests = open(&mut bytes);
    assert_eq!(requests.noted().count(), 0);
    assert_eq!(&bytes[PENDING_AT..PENDING_AT + 8], &[0; 8]);
}

#[test]
fn notes_survive_reopening_and_a_repeat_keeps_its_note() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    let read = requests.note(7, 100, Kind::Read).unwrap();
    assert_eq!((read.client, read.txid, read.kind), (7, 100, Kind::Read));
    // The client sent the same read again: one note.
    assert_eq!(requests.note(7, 100, Kind::Read), Some(read));
    let other = requests.note(8, 100, Kind::Read).unwrap();
    assert_ne!(other.slot, read.slot);
    requests.forget(other.slot);
    assert_eq!(requests.noted().collect::<Vec<_>>(), [read]);
    let requests = open(&mut bytes);
    assert_eq!(requests.find(7, 100), Some(read));
    assert_eq!(requests.find(8, 100), None);
}

#[test]
fn a_write_is_sent_once_and_a_repeat_is_not_sent_again() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    assert_eq!(write(&mut requests, 3, 10, b"line 1\r\n"), b"line 1\r\n");
    assert!(requests.is_complete(3, 10));
    assert_eq!(requests.noted().count(), 0);
    assert_eq!(write(&mut requests, 3, 10, b"line 1\r\n"), b"");
    // Another client's txids are its own.
    assert_eq!(write(&mut requests, 4, 10, b"x"), b"x");
    // And the record outlives the instance.
    let mut requests = open(&mut bytes);
    assert_eq!(write(&mut requests, 3, 10, b"line 1\r\n"), b"");
    assert_eq!(write(&mut requests, 3, 11, b"line 2\r\n"), b"line 2\r\n");
}

#[test]
fn a_client_remembers_its_last_writes_only() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    for txid in 1..=RECENT as u64 + 1 {
        write(&mut requests, 1, txid, b"a");
    }
    assert!(!requests.is_complete(1, 1));
    assert!((2..=RECENT as u64 + 1).all(|txid| requests.is_complete(1, txid)));
    // Txid 0 is never a client's.
    assert!(!requests.is_complete(1, 0));
}

#[test]
fn the_client_that_completed_least_recently_gives_up_its_slot() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    for client in 1..=CLIENT_SLOTS as u32 {
        write(&mut requests, client, 50, b"a");
    }
    // Client 1 writes again, so client 2 is the least recent.
    write(&mut requests, 1, 51, b"a");
    write(&mut requests, 1000, 50, b"a");
    assert!(!requests.is_complete(2, 50));
    assert!(requests.is_complete(1, 50) && requests.is_complete(1, 51));
    assert!((3..=CLIENT_SLOTS as u32).all(|client| requests.is_complete(client, 50)));
    assert!(requests.is_complete(1000, 50));
    // The evicted slot kept none of client 2's txids.
    let slot = (0..CLIENT_SLOTS)
        .find(|slot| {
            let at = CLIENTS_AT + slot * CLIENT_LEN;
            bytes[at..at + 4] == 1000u32.to_le_bytes()
        })
        .unwrap();
    let at = CLIENTS_AT + slot * CLIENT_LEN + 24;
    let txids: Vec<u64> = (0..RECENT)
        .map(|i| u64::from_le_bytes(bytes[at + i * 8..at + i * 8 + 8].try_into().unwrap()))
        .collect();
    assert_eq!(txids.iter().filter(|&&t| t != 0).count(), 1);
}

/// A device that accepts `limit` bytes, then fails.
struct Breaking {
    sent: Vec<u8>,
    limit: usize,
}

impl Transmitter for Breaking {
    type Error = ();

    fn wait_ready(&mut self) -> Result<(), ()> {
        Ok(())
    }

    fn put(&mut self, byte: u8) -> Result<(), ()> {
        if self.sent.len() == self.limit {
            return Err(());
        }
        self.sent.push(byte);
        Ok(())
    }
}

#[test]
fn a_new_instance_answers_what_its_predecessor_held_and_resumes_its_write() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    requests.note(1, 10, Kind::Read).unwrap();
    // A write cut after 4 bytes (the store counted a fifth, which failed).
    let mut device = Breaking {
        sent: Vec::new(),
        limit: 4,
    };
    assert!(requests.write(2, 20, b"line 9\r\n", &mut device).is_err());
    assert_eq!(device.sent, b"line");
    // A write noted but not begun, and one complete but not forgotten.
    requests.note(2, 21, Kind::Write).unwrap();
    let mut done = Device::default();
    requests.write(3, 30, b"ok", &mut done).unwrap();

    let mut requests = open(&mut bytes);
    let unfinished: Vec<_> = requests.unfinished().map(|n| (n.client, n.txid)).collect();
    assert_eq!(unfinished, [(2, 20)]);
    let mut answered = Vec::new();
    requests.answer_predecessors(|noted| answered.push((noted.client, noted.txid, noted.kind)));
    answered.sort();
    assert_eq!(
        answered,
        [
            (1, 10, Kind::Read),
            (2, 20, Kind::Write),
            (2, 21, Kind::Write),
            (3, 30, Kind::Write)
        ]
    );
    // Only the write with bytes out stays noted, for its resend.
    let left: Vec<_> = requests
        .noted()
        .map(|n| (n.client, n.txid, n.sent))
        .collect();
    assert_eq!(left, [(2, 20, 5)]);
    // The resend gives the device the rest (the fifth byte was lost).
    assert_eq!(write(&mut requests, 2, 20, b"line 9\r\n"), b"9\r\n");
    assert_eq!(requests.unfinished().count(), 0);
    assert_eq!(write(&mut requests, 3, 30, b"ok"), b"");
    assert_eq!(requests.noted().count(), 0);
}

#[test]
fn a_full_table_gives_inherited_slots_to_new_requests() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    for txid in 0..PENDING_SLOTS as u64 {
        requests.note(1, txid + 1, Kind::Read).unwrap();
    }
    assert_eq!(requests.note(2, 1, Kind::Read), None);
    // Unnoted, the write is still sent.
    assert_eq!(write(&mut requests, 2, 2, b"hi"), b"hi");

    let mut requests = open(&mut bytes);
    // Taken up again by this instance: not given away.
    let kept = requests.note(1, 1, Kind::Read).unwrap();
    for txid in 0..PENDING_SLOTS as u64 - 1 {
        assert!(requests.note(3, txid + 1, Kind::Read).is_some());
    }
    assert_eq!(requests.note(3, 999, Kind::Read), None);
    assert_eq!(requests.find(1, 1), Some(kept));
}

#[test]
fn a_stash_holds_the_table_as_a_slice_does() {
    let mut memory = vec![0u8; LEN + 8];
    let skip = (8 - memory.as_ptr().addr() % 8) % 8;
    let aligned = &mut memory[skip..skip + LEN];
    let mut plain = vec![0u8; LEN];
    {
        let mut requests = Requests::open(abide_inflight::Stash::new(aligned)).unwrap();
        assert_eq!(write(&mut requests, 1, 2, b"ab"), b"ab");
        requests.note(1, 3, Kind::Read).unwrap();
    }
    {
        let mut requests = open(&mut plain);
        assert_eq!(write(&mut requests, 1, 2, b"ab"), b"ab");
        requests.note(1, 3, Kind::Read).unwrap();
    }
    assert!(memory[skip..skip + LEN] == plain[..]);
}

#[test]
fn slots_are_where_the_format_says() {
    assert_eq!(PENDING_AT, 32);
    assert_eq!(PENDING_LEN, 32);
    assert_eq!(CLIENTS_AT, 2080);
    assert_eq!(TABLE_LEN, 2080 + CLIENT_SLOTS * (24 + RECENT * 8));
}
