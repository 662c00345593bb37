//! Crash recovery by simulation: every store an operation makes is
//! recorded, and for every prefix of them (a crash right after it) a new
//! instance opens the region and must find a consistent ring in which the
//! request is committed exactly once or not at all.

mod support;

use abide_le::u64_at;
use support::{crashed, recs, req, Rec, Recorder, Rng, Store};

use abide_logring::layout::{DATA_AT, HEAD_AT, SLOT_LEN, TABLE_AT, TAIL_AT};
use abide_logring::{Appended, Recovery, Region, Ring, CLIENT_SLOTS, MAX_TEXT_LEN, MIN_REGION_LEN};

const TXID: u64 = 0xABCD;

/// What an append looked like without a crash.
struct Case {
    request: Rec,
    before: Vec<Rec>,
    after: Vec<Rec>,
    head: u64,
}

impl Case {
    fn new_seq(&self) -> u64 {
        self.head
    }

    /// Checks a ring recovered after a crash: the committed entries are the
    /// ones before the append (perhaps minus the oldest, dropped to make
    /// room) or the ones after it, according to `committed`; and the table
    /// claims nothing the log lacks.
    fn check<S: Region>(&self, ring: &Ring<S>, committed: bool, what: &str) {
        assert_eq!(ring.recovery(), Recovery::Recovered, "{what}");
        let got = recs(ring);
        if committed {
            assert_eq!(ring.head(), self.head + 1, "{what}");
            assert_eq!(got, self.after, "{what}");
            let record = ring.client_record(self.request.client).unwrap();
            assert_eq!(
                (record.token, record.seq),
                (self.request.token, self.new_seq()),
                "{what}"
            );
        } else {
            assert_eq!(ring.head(), self.head, "{what}");
            let dropped = &self.after[..self.after.len() - 1];
            assert!(got == self.before || got == dropped, "{what}: {got:?}");
        }
        check_table(ring, what);
        assert_eq!(
            ring.used(),
            ring.iter().map(|e| size_of(&e.into())).sum::<usize>()
        );
    }
}

/// Every record of the deduplication table names a committed entry of its
/// client with its token (unless that entry was overwritten since).
fn check_table<S: Region>(ring: &Ring<S>, what: &str) {
    for record in ring.client_records() {
        assert!(record.seq < ring.head(), "{what}: {record:?} not committed");
        if record.seq >= ring.first_seq() {
            let entry = ring.get(record.seq).unwrap();
            assert_eq!(
                (entry.client, entry.token),
                (record.client, record.token),
                "{what}"
            );
        }
    }
}

/// The table as a crash left it, before recovery: it may lag behind the
/// log but never claims a token the log lacks. Each slot names an entry of
/// its client with its token, except that the slot of the request's client
/// may hold the new token with the previous entry's seq while it is being
/// updated.
fn check_raw_table(image: &[u8], case: &Case, committed: bool, what: &str) {
    let mut known = case.before.clone();
    if committed {
        known.push(case.after.last().unwrap().clone());
    }
    let head = u64_at(image, HEAD_AT).unwrap();
    for slot in 0..CLIENT_SLOTS {
        let at = TABLE_AT + slot * SLOT_LEN;
        let [tag, token, seq] = [0, 8, 16].map(|o| u64_at(image, at + o).unwrap());
        if tag == 0 {
            continue;
        }
        let client = tag as u32;
        assert!(seq < head, "{what}: slot {slot} names entry {seq}");
        let updating = committed && (client, token) == (case.request.client, case.request.token);
        if let Some(entry) = known.iter().find(|r| r.seq == seq) {
            assert_eq!(entry.client, client, "{what}: slot {slot}");
            assert!(
                entry.token == token || updating,
                "{what}: slot {slot}: {token} at {seq}"
            );
        }
        if let Some(newest) = known.iter().rev().find(|r| r.client == client) {
            assert!(
                token <= newest.token,
                "{what}: slot {slot} ahead of the log"
            );
        }
    }
}

/// Before the commit, the bytes where the new entry goes are untouched or
/// carry its (uncommitted) sequence number: the append stores that first,
/// so no torn write can look like a committed entry, checksum or not.
fn check_seq_first(before: &[u8], image: &[u8], case: &Case, what: &str) {
    let mut ring = Ring::open(Recorder::new(before.to_vec()));
    let at = DATA_AT + (ring.head_pos() % ring.data_len()) as usize;
    let end = DATA_AT + ring.capacity();
    let size = size_of(&case.request).min(end - at);
    let touched = image[at + 8..at + size] != before[at + 8..at + size];
    let seq = u64_at(image, at).unwrap();
    assert!(
        !touched || seq == case.head,
        "{what}: entry bytes before its seq"
    );
    ring.region_mut().log.clear();
}

/// The bytes an entry takes in the ring.
fn size_of(rec: &Rec) -> usize {
    (48 + rec.component.len() + rec.text.len()).next_multiple_of(8)
}

/// A region holding a ring with `recs` appended.
fn ring_with(len: usize, requests: &[Rec]) -> Vec<u8> {
    let mut region = vec![0u8; len];
    let mut ring = Ring::open(&mut region[..]);
    for r in requests {
        assert!(matches!(ring.append(&r.new_entry()), Ok(Appended::New(_))));
    }
    region
}

/// Runs `begin`, the append of `request` and `end` on `before`, then
/// crashes after every prefix of their stores and checks the recovered ring,
/// a crash at every store of that recovery, and a retry of the request.
/// Returns the number of stores.
fn check_every_crash_point(before: &[u8], request: &Rec, reverse: bool) -> usize {
    let mut ring = Ring::open(Recorder::new(before.to_vec()));
    assert!(
        ring.region().log.is_empty(),
        "opening a consistent ring stores nothing"
    );
    let before_recs = recs(&ring);
    let head = ring.head();
    ring.region_mut().reverse = reverse;
    ring.begin(request.client, TXID);
    let begun = ring.region().log.len();
    assert_eq!(ring.append(&request.new_entry()), Ok(Appended::New(head)));
    let appended = ring.region().log.len();
    ring.end();
    let case = Case {
        request: request.clone(),
        before: before_recs,
        after: recs(&ring),
        head,
    };
    assert_eq!(
        case.after.last().unwrap(),
        &Rec {
            seq: head,
            ..request.clone()
        }
    );
    let log = ring.into_region().log;
    let commit = log
        .iter()
        .position(|&s| s == Store::Word(HEAD_AT, head + 1))
        .unwrap();
    assert_eq!(
        log.iter()
            .filter(|s| matches!(s, Store::Word(HEAD_AT, _)))
            .count(),
        1
    );
    for k in 0..=log.len() {
        let image = crashed(before, &log, k);
        let committed = k > commit;
        check_raw_table(
            &image,
            &case,
            committed,
            &format!("raw image after {k} stores"),
        );
        if !committed {
            check_seq_first(before, &image, &case, &format!("after {k} stores"));
        }
        let in_flight = (begun..=appended).contains(&k);
        check_crash(
            &case,
            image,
            committed,
            in_flight,
            &format!("crash after {k} stores"),
        );
    }
    log.len()
}

/// Checks one crashed image: its recovery, every crash during that
/// recovery, the journal, and a retry.
fn check_crash(case: &Case, image: Vec<u8>, committed: bool, in_flight: bool, what: &str) {
    let mut ring = Ring::open(Recorder::new(image.clone()));
    case.check(&ring, committed, what);
    let expected_journal = in_flight.then_some((case.request.client, TXID));
    assert_eq!(ring.take_in_flight(), expected_journal, "{what}");
    // Recovery stores nothing unless the table lagged behind the commit.
    let recovery_log = ring.into_region().log;
    let journal_cleared = usize::from(in_flight);
    let recovery_log = &recovery_log[..recovery_log.len() - journal_cleared];
    for j in 0..recovery_log.len() {
        let mut again = crashed(&image, recovery_log, j);
        let ring = Ring::open(&mut again[..]);
        case.check(
            &ring,
            committed,
            &format!("{what}, then after {j} recovery stores"),
        );
    }
    // The client retries: the request ends up in the log exactly once.
    let mut image = image;
    let mut ring = Ring::open(&mut image[..]);
    let expected = if committed {
        Appended::Duplicate(Some(case.new_seq()))
    } else {
        Appended::New(case.new_seq())
    };
    assert_eq!(
        ring.append(&case.request.new_entry()),
        Ok(expected),
        "{what}: retry"
    );
    assert_eq!(recs(&ring), case.after, "{what}: after the retry");
    let ring = Ring::open(&mut image[..]);
    assert_eq!(recs(&ring), case.after, "{what}: reopened after the retry");
    check_table(&ring, what);
}

fn both_orders(before: &[u8], request: &Rec) {
    let stores = check_every_crash_point(before, request, false);
    assert_eq!(check_every_crash_point(before, request, true), stores);
}

#[test]
fn first_append_to_an_empty_ring() {
    let before = ring_with(DATA_AT + 2048, &[]);
    both_orders(&before, &req(1, 1, "the first entry"));
}

#[test]
fn append_by_a_client_the_table_knows() {
    let earlier: Vec<Rec> = (1..=5)
        .map(|t| req(1 + t as u32 % 2, t, "earlier"))
        .collect();
    let before = ring_with(DATA_AT + 4096, &earlier);
    both_orders(&before, &req(1, 9, "a later entry of client 1"));
}

#[test]
fn append_that_wraps_around_and_drops_old_entries() {
    let mut rng = Rng::new(3);
    // 15 entries of 120 bytes: the ring has wrapped once and the next entry
    // starts 776 bytes into the 1024-byte data area.
    let earlier: Vec<Rec> = (1..=15).map(|t| req(2, t, &rng.text(60))).collect();
    let before = ring_with(DATA_AT + 1024, &earlier);
    let request = req(2, 16, &rng.text(200));
    {
        let mut image = before.clone();
        let ring = Ring::open(&mut image[..]);
        let start = ring.head_pos() % ring.data_len();
        assert!(
            start as usize + size_of(&request) > ring.capacity(),
            "wraps"
        );
        assert!(
            ring.used() + size_of(&request) > ring.capacity(),
            "drops entries"
        );
    }
    both_orders(&before, &request);
}

#[test]
fn append_that_drops_every_entry() {
    let before = ring_with(MIN_REGION_LEN + 64, &[req(5, 1, &"a".repeat(400))]);
    both_orders(&before, &req(6, 1, &"b".repeat(MAX_TEXT_LEN)));
}

#[test]
fn append_by_a_new_client_when_the_table_is_full() {
    // The evicted client's token is above the new client's: a slot that
    // paired the new client with it would refuse the new client's tokens.
    let earlier: Vec<Rec> = (0..CLIENT_SLOTS as u32).map(|c| req(c, 7, "hi")).collect();
    let before = ring_with(DATA_AT + 8192, &earlier);
    both_orders(&before, &req(1000, 1, "a client more"));
}

#[test]
fn every_crash_point_of_formatting() {
    // A valid ring of another size: formatting must not leave its entries
    // (or its magic) looking valid.
    let mut rng = Rng::new(11);
    let requests: Vec<Rec> = (1..=60).map(|t| req(3, t, &rng.text(50))).collect();
    let mut image = ring_with(16 * 1024, &requests);
    image.truncate(DATA_AT + 2048);
    let mut ring = Ring::open(Recorder::new(image.clone()));
    assert_eq!(ring.recovery(), Recovery::Formatted);
    ring.region_mut().reverse = true;
    let log = ring.into_region().log;
    assert!(log.len() > 100);
    for k in 0..=log.len() {
        let mut crashed_image = crashed(&image, &log, k);
        let mut ring = Ring::open(&mut crashed_image[..]);
        assert!(ring.is_empty(), "crash after {k} format stores");
        assert_eq!(ring.take_in_flight(), None);
        assert_eq!(ring.client_records().count(), 0);
        assert_eq!(
            ring.append(&req(1, 1, "x").new_entry()),
            Ok(Appended::New(0))
        );
        let ring = Ring::open(&mut crashed_image[..]);
        assert_eq!(ring.recovery(), Recovery::Recovered);
        assert_eq!(ring.len(), 1);
    }
}

#[test]
fn every_crash_point_of_the_journal() {
    let before = ring_with(DATA_AT + 1024, &[]);
    let mut ring = Ring::open(Recorder::new(before.clone()));
    ring.begin(1, 10);
    let first = ring.region().log.len();
    ring.begin(2, 20); // replaces a request that was not ended
    let second = ring.region().log.len();
    ring.end();
    let log = ring.into_region().log;
    for k in 0..=log.len() {
        let mut image = crashed(&before, &log, k);
        let mut ring = Ring::open(&mut image[..]);
        let expected = if k == log.len() {
            None
        } else if k >= second {
            Some((2, 20))
        } else if k >= first {
            Some((1, 10))
        } else {
            None
        };
        // A half-replaced journal may have lost the first request (it is
        // being replaced), but never shows a mix of the two.
        let got = ring.take_in_flight();
        assert!(
            got == expected || (got.is_none() && k > first && k < second),
            "{k}: {got:?}"
        );
    }
}

#[test]
fn recovery_raises_the_table_after_a_crash_between_commit_and_record() {
    let before = ring_with(DATA_AT + 1024, &[req(1, 1, "one")]);
    let mut ring = Ring::open(Recorder::new(before.clone()));
    ring.append(&req(1, 2, "two").new_entry()).unwrap();
    let log = ring.into_region().log;
    let commit = log
        .iter()
        .position(|s| matches!(s, Store::Word(HEAD_AT, _)))
        .unwrap();
    let mut image = crashed(&before, &log, commit + 1);
    {
        let ring = Ring::open(&mut image[..]);
        assert_eq!(ring.client_record(1).unwrap().token, 2);
    }
    // The stale table was the only thing recovery had to fix.
    let mut stale = crashed(&before, &log, commit + 1);
    let ring = Ring::open(Recorder::new(stale.clone()));
    let fixes = ring.into_region().log;
    assert!(!fixes.is_empty());
    assert!(fixes
        .iter()
        .all(|s| matches!(s, Store::Word(at, _) if *at >= 64 && *at < DATA_AT)));
    let _ = Ring::open(&mut stale[..]);
    assert_eq!(stale, image);
}

#[test]
fn the_tail_moves_in_one_store_before_old_bytes_are_overwritten() {
    let earlier: Vec<Rec> = (1..=20)
        .map(|t| req(2, t, "0123456789012345678901234567890123456789"))
        .collect();
    let before = ring_with(DATA_AT + 1024, &earlier);
    let mut ring = Ring::open(Recorder::new(before.clone()));
    let tail_before = ring.tail_pos();
    ring.append(&req(2, 21, &"z".repeat(300)).new_entry())
        .unwrap();
    let log = ring.into_region().log;
    let tails: Vec<usize> = (0..log.len())
        .filter(|&i| matches!(log[i], Store::Word(TAIL_AT, _)))
        .collect();
    assert_eq!(tails.len(), 1);
    assert!(tails[0] == 0, "the tail is the first store");
    assert_ne!(log[0], Store::Word(TAIL_AT, tail_before));
}
