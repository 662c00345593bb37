//! The ring without crashes: formatting and recovering a region, appends
//! and their duplicates, wrapping, the client table, and the limits.

mod support;

use abide_logring::layout::{DATA_AT, HEAD_AT};
use abide_logring::{
    AppendError, Appended, ClientRecord, Level, NewEntry, Recovery, Ring, CLIENT_SLOTS,
    MAX_COMPONENT_LEN, MAX_ENTRY_LEN, MAX_TEXT_LEN, MIN_REGION_LEN,
};
use support::{recs, req, Rec, Rng};

const KIB: usize = 1024;

fn append(ring: &mut Ring<&mut [u8]>, rec: &Rec) -> Appended {
    ring.append(&rec.new_entry()).unwrap()
}

#[test]
fn a_blank_region_is_formatted_and_then_recovered() {
    let mut region = vec![0u8; 256 * KIB];
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.recovery(), Recovery::Formatted);
    assert!(ring.is_empty());
    assert_eq!((ring.head(), ring.first_seq(), ring.len()), (0, 0, 0));
    assert_eq!(ring.capacity(), 256 * KIB - DATA_AT);
    assert_eq!(ring.used(), 0);
    assert_eq!(ring.iter().count(), 0);
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.recovery(), Recovery::Recovered);
    assert!(ring.is_empty());
}

#[test]
fn garbage_is_formatted() {
    let mut rng = Rng::new(7);
    let mut region: Vec<u8> = (0..8 * KIB).map(|_| rng.next() as u8).collect();
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.recovery(), Recovery::Formatted);
    assert!(ring.is_empty());
    // The data area was cleared, so no stale bytes can pass for entries.
    assert!(region[DATA_AT..].iter().all(|&b| b == 0));
}

#[test]
#[should_panic(expected = "too small")]
fn a_region_too_small_panics() {
    let mut region = vec![0u8; MIN_REGION_LEN - 1];
    Ring::open(&mut region[..]);
}

#[test]
fn the_smallest_region_holds_the_largest_entry() {
    let mut region = vec![0u8; MIN_REGION_LEN];
    let mut ring = Ring::open(&mut region[..]);
    assert_eq!(ring.capacity(), MAX_ENTRY_LEN);
    let big = Rec {
        component: "c".repeat(MAX_COMPONENT_LEN),
        ..req(1, 1, &"t".repeat(MAX_TEXT_LEN))
    };
    for token in 1..5 {
        let rec = Rec {
            token,
            ..big.clone()
        };
        assert_eq!(append(&mut ring, &rec), Appended::New(token - 1));
        assert_eq!(ring.len(), 1);
    }
    assert_eq!(ring.iter().next().unwrap().token, 4);
}

#[test]
fn the_data_area_is_a_multiple_of_8() {
    let mut region = vec![0u8; MIN_REGION_LEN + 13];
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.capacity(), MAX_ENTRY_LEN + 8);
}

#[test]
fn round_trip_of_every_field_and_across_reopening() {
    let mut region = vec![0u8; 16 * KIB];
    let recs_in = [
        Rec {
            level: Level::Error,
            component: "net".into(),
            time_ns: 5,
            ..req(7, 1, "link down")
        },
        Rec {
            level: Level::Debug,
            component: String::new(),
            time_ns: u64::MAX,
            ..req(u32::MAX, u64::MAX, "")
        },
        Rec {
            level: Level::Warn,
            component: "x".repeat(MAX_COMPONENT_LEN),
            ..req(0, 0, "ünïcødé ✓")
        },
    ];
    let mut ring = Ring::open(&mut region[..]);
    let mut expected = Vec::new();
    for (seq, rec) in recs_in.iter().enumerate() {
        assert_eq!(append(&mut ring, rec), Appended::New(seq as u64));
        expected.push(Rec {
            seq: seq as u64,
            ..rec.clone()
        });
    }
    assert_eq!(recs(&ring), expected);
    assert_eq!(ring.head(), 3);
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.recovery(), Recovery::Recovered);
    assert_eq!(recs(&ring), expected);
    assert_eq!(Rec::from(ring.get(1).unwrap()), expected[1]);
    assert!(ring.get(3).is_none());
}

#[test]
fn over_long_fields_are_refused_and_nothing_is_written() {
    let mut region = vec![0u8; 8 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    let long_name = "n".repeat(MAX_COMPONENT_LEN + 1);
    let long_text = "t".repeat(MAX_TEXT_LEN + 1);
    let base = req(1, 1, "x");
    let e = NewEntry {
        component: &long_name,
        ..base.new_entry()
    };
    assert_eq!(ring.append(&e), Err(AppendError::ComponentTooLong));
    let e = NewEntry {
        text: &long_text,
        ..base.new_entry()
    };
    assert_eq!(ring.append(&e), Err(AppendError::TextTooLong));
    assert!(ring.is_empty());
    assert_eq!(ring.client_record(1), None);
    // The refused token is still free.
    assert_eq!(append(&mut ring, &base), Appended::New(0));
}

#[test]
fn wraps_around_over_many_entries() {
    let mut region = vec![0u8; DATA_AT + 4 * KIB];
    let mut rng = Rng::new(42);
    let mut all = Vec::new();
    for seq in 0..3000u64 {
        let len = rng.below(200) as usize;
        let text = rng.text(len);
        let rec = Rec {
            seq,
            ..req((seq % 5) as u32, seq + 1, &text)
        };
        let mut ring = Ring::open(&mut region[..]);
        assert_eq!(append(&mut ring, &rec), Appended::New(seq));
        all.push(rec);
        let got = recs(&ring);
        // A suffix of everything appended, as large as fits.
        assert_eq!(got[..], all[all.len() - got.len()..]);
        assert!(ring.used() <= ring.capacity());
        if got.len() < all.len() {
            let older = &all[all.len() - got.len() - 1];
            let older_size = (48 + older.component.len() + older.text.len()).next_multiple_of(8);
            assert!(ring.used() + older_size > ring.capacity());
        }
        assert_eq!(ring.first_seq(), seq + 1 - got.len() as u64);
    }
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.head(), 3000);
    assert!(ring.len() > 10);
}

#[test]
fn last_returns_the_newest_entries_oldest_first() {
    let mut region = vec![0u8; DATA_AT + 2 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    for token in 1..=100 {
        append(&mut ring, &req(1, token, "0123456789"));
    }
    let len = ring.len();
    assert!(len < 100);
    let seqs =
        |it: &mut dyn Iterator<Item = abide_logring::Entry>| it.map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&mut ring.last(3)), [97, 98, 99]);
    assert_eq!(seqs(&mut ring.last(0)), [] as [u64; 0]);
    assert_eq!(ring.last(1000).count(), len);
    assert_eq!(ring.last(1000).next().unwrap().seq, ring.first_seq());
    assert_eq!(ring.last(5).len(), 5);
    assert!(ring.get(ring.first_seq() - 1).is_none());
    assert_eq!(ring.get(99).map(|e| e.token), Some(100));
    assert_eq!(
        ring.get(ring.first_seq()).map(|e| e.seq),
        Some(ring.first_seq())
    );
}

#[test]
fn a_repeated_token_is_a_duplicate() {
    let mut region = vec![0u8; 16 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    assert_eq!(append(&mut ring, &req(1, 10, "a")), Appended::New(0));
    assert_eq!(append(&mut ring, &req(2, 10, "b")), Appended::New(1));
    assert_eq!(append(&mut ring, &req(1, 11, "c")), Appended::New(2));
    // The same token again, even with other content: the earlier entry.
    assert_eq!(
        append(&mut ring, &req(1, 11, "c")),
        Appended::Duplicate(Some(2))
    );
    assert_eq!(
        append(&mut ring, &req(1, 11, "zz")),
        Appended::Duplicate(Some(2))
    );
    // An older token: found in the ring.
    assert_eq!(
        append(&mut ring, &req(1, 10, "a")),
        Appended::Duplicate(Some(0))
    );
    // A token below every committed one was never appended but is stale.
    assert_eq!(
        append(&mut ring, &req(1, 3, "?")),
        Appended::Duplicate(None)
    );
    assert_eq!(ring.len(), 3);
    assert_eq!(
        ring.client_record(1),
        Some(ClientRecord {
            client: 1,
            token: 11,
            seq: 2
        })
    );
    assert_eq!(Appended::Duplicate(Some(2)).seq(), Some(2));
    assert_eq!(Appended::New(4).seq(), Some(4));
    // The table survives reopening.
    let mut ring = Ring::open(&mut region[..]);
    assert_eq!(
        ring.append(&req(1, 11, "c").new_entry()),
        Ok(Appended::Duplicate(Some(2)))
    );
    assert_eq!(
        ring.append(&req(1, 12, "d").new_entry()),
        Ok(Appended::New(3))
    );
}

#[test]
fn a_duplicate_whose_entry_was_overwritten_has_no_seq() {
    let mut region = vec![0u8; DATA_AT + KIB];
    let mut ring = Ring::open(&mut region[..]);
    for token in 1..=50 {
        append(&mut ring, &req(1, token, "some text"));
    }
    assert!(ring.first_seq() > 0);
    assert_eq!(
        append(&mut ring, &req(1, 1, "x")),
        Appended::Duplicate(None)
    );
    assert_eq!(
        append(&mut ring, &req(1, 50, "x")),
        Appended::Duplicate(Some(49))
    );
}

#[test]
fn a_full_table_gives_the_least_recent_clients_slot_away() {
    let mut region = vec![0u8; 256 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    let clients = CLIENT_SLOTS as u32 + 6;
    for client in 0..clients {
        append(&mut ring, &req(client, 5, "hello"));
    }
    // Clients 0..6 lost their slots to 64..70.
    for client in 0..6 {
        assert_eq!(ring.client_record(client), None);
    }
    for client in 6..clients {
        assert_eq!(ring.client_record(client).unwrap().token, 5);
    }
    assert_eq!(ring.client_records().count(), CLIENT_SLOTS);
    // Their entries are still in the ring, so retries are still caught.
    assert_eq!(
        append(&mut ring, &req(0, 5, "hello")),
        Appended::Duplicate(Some(0))
    );
    assert_eq!(
        append(&mut ring, &req(3, 4, "hello")),
        Appended::Duplicate(None)
    );
    assert_eq!(
        append(&mut ring, &req(0, 6, "again")),
        Appended::New(u64::from(clients))
    );
    assert_eq!(ring.client_record(0).unwrap().token, 6);
    assert_eq!(ring.len(), clients as usize + 1);
}

#[test]
fn the_journal_is_left_to_the_next_instance() {
    let mut region = vec![0u8; 8 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    assert_eq!(ring.take_in_flight(), None);
    ring.begin(3, 77);
    assert_eq!(ring.journal(), Some((3, 77)));
    ring.end();
    assert_eq!(ring.journal(), None);
    ring.begin(4, 78);
    // Crash: a new instance opens the region.
    let mut ring = Ring::open(&mut region[..]);
    assert_eq!(ring.take_in_flight(), Some((4, 78)));
    assert_eq!(ring.take_in_flight(), None);
    assert_eq!(ring.journal(), None);
    let mut ring = Ring::open(&mut region[..]);
    assert_eq!(ring.take_in_flight(), None);
    // A request begun before the old one is taken is not cleared by taking.
    ring.begin(5, 1);
    let mut ring = Ring::open(&mut region[..]);
    ring.begin(6, 2);
    assert_eq!(ring.take_in_flight(), Some((5, 1)));
    assert_eq!(ring.journal(), Some((6, 2)));
    ring.begin(7, 3);
    assert_eq!(ring.journal(), Some((7, 3)));
}

#[test]
fn a_region_of_another_size_is_formatted() {
    let mut region = vec![0u8; 16 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    append(&mut ring, &req(1, 1, "x"));
    let ring = Ring::open(&mut region[..8 * KIB]);
    assert_eq!(ring.recovery(), Recovery::Formatted);
    assert!(ring.is_empty());
}

#[test]
fn a_corrupt_committed_entry_makes_the_region_invalid() {
    let mut region = vec![0u8; 16 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    for token in 1..=3 {
        append(&mut ring, &req(1, token, "hello"));
    }
    region[DATA_AT + 64 + 50] ^= 1; // in the second entry's text
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.recovery(), Recovery::Formatted);
    assert!(ring.is_empty());
}

#[test]
fn a_head_beyond_the_entries_makes_the_region_invalid() {
    let mut region = vec![0u8; 16 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    append(&mut ring, &req(1, 1, "hello"));
    region[HEAD_AT..HEAD_AT + 8].copy_from_slice(&5u64.to_le_bytes());
    assert_eq!(Ring::open(&mut region[..]).recovery(), Recovery::Formatted);
}

#[test]
fn stale_entries_from_an_earlier_lap_are_not_taken_for_new_ones() {
    // Fill a small ring, then leave it with the tail pointing where an old
    // entry still sits (as after a crash that dropped every entry to make
    // room): the old entry's position field tells it apart.
    let mut region = vec![0u8; DATA_AT + KIB];
    let (head_pos, physical) = {
        let mut ring = Ring::open(&mut region[..]);
        for token in 1..=40 {
            append(&mut ring, &req(1, token, "abcdefgh"));
        }
        let physical = DATA_AT + (ring.head_pos() % ring.data_len()) as usize;
        (ring.head_pos(), physical)
    };
    assert_ne!(
        region[physical..physical + 8],
        [0; 8],
        "an old entry is there"
    );
    region[abide_logring::layout::TAIL_AT..abide_logring::layout::TAIL_AT + 8]
        .copy_from_slice(&head_pos.to_le_bytes());
    let ring = Ring::open(&mut region[..]);
    assert_eq!(ring.recovery(), Recovery::Recovered);
    assert!(ring.is_empty());
    assert_eq!(ring.head(), 40);
}

#[test]
fn levels_order_by_severity() {
    assert!(Level::Error < Level::Warn && Level::Warn < Level::Info && Level::Info < Level::Debug);
    for v in 1..=4 {
        assert_eq!(Level::from_u8(v).unwrap() as u8, v);
    }
    assert_eq!(Level::from_u8(0), None);
    assert_eq!(Level::from_u8(5), None);
    assert_eq!(Level::Warn.as_str(), "warn");
    assert_eq!(Level::Debug.as_str(), "debug");
}

#[test]
fn entry_debug_shows_the_strings() {
    let mut region = vec![0u8; 8 * KIB];
    let mut ring = Ring::open(&mut region[..]);
    append(&mut ring, &req(1, 1, "hello"));
    let shown = format!("{:?}", ring.iter().next().unwrap());
    assert!(
        shown.contains("\"hello\"") && shown.contains("\"comp1\""),
        "{shown}"
    );
}

#[test]
fn kernel_lines_keep_the_level_the_kernel_logged() {
    let line = |level| format!("[    1.000200] {level} process 3 (nop) exited with status 0");
    assert_eq!(Level::of_kernel_line(&line("ERROR")), Level::Error);
    assert_eq!(Level::of_kernel_line(&line("WARN ")), Level::Warn);
    assert_eq!(Level::of_kernel_line(&line("INFO ")), Level::Info);
    assert_eq!(Level::of_kernel_line(&line("DEBUG")), Level::Debug);
    assert_eq!(Level::of_kernel_line(&line("TRACE")), Level::Debug);
    // Lines printed without the logger's prefix.
    assert_eq!(Level::of_kernel_line("kernel panic: oops"), Level::Error);
    assert_eq!(Level::of_kernel_line("store: read error"), Level::Error);
    assert_eq!(Level::of_kernel_line("Abide 0.1.0 starting"), Level::Info);
    assert_eq!(Level::of_kernel_line("[unclosed WARN"), Level::Info);
}
