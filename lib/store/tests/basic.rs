//! The format and the API on an undamaged disk: generations, the commit
//! protocol, block sharing and reuse, zero pages, coalescing, full disks,
//! abandoned builders, failed writes, foreign versions.

mod support;

use std::collections::BTreeMap;

use abide_store::crc::crc32c;
use abide_store::testing::{header_generation, MemDisk, MemDiskError, Op};
use abide_store::{OpenError, Store, StoreError, BLOCK_SIZE, FORMAT_VERSION, MAX_RUN_BLOCKS};
use support::*;

#[test]
fn format_commits_an_empty_generation_0() {
    let store = fresh(64);
    assert_eq!(store.block_count(), 64);
    assert_eq!(store.used_blocks(), 2, "only the header slots");
    let mut store = reopen(store);
    assert_store_is(&mut store, &Snapshot::empty());
    assert_eq!(store.fallback(), None);
    assert_eq!(store.previous_generation(), None);
    assert_eq!(header_generation(store.disk_mut().block(1)), Ok(None));
}

#[test]
fn blank_and_too_small_disks() {
    assert!(matches!(
        Store::open(MemDisk::new(16)),
        Err(OpenError::Blank)
    ));
    assert!(matches!(
        Store::open(MemDisk::new(1)),
        Err(OpenError::TooSmall)
    ));
    assert!(matches!(
        Store::format(MemDisk::new(2)),
        Err(StoreError::TooSmall)
    ));
    // A store whose disk shrank.
    let disk = fresh(64).into_disk();
    let image = disk.image()[..32 * BLOCK_SIZE].to_vec();
    assert!(matches!(
        Store::open(MemDisk::from_image(image)),
        Err(OpenError::TooSmall)
    ));
}

#[test]
fn committed_generations_reopen_with_their_pages_and_state() {
    // Enough pages for several map blocks and a state large enough for a
    // second index block (more than 338 content blocks).
    let mut store = fresh(1200);
    let mut snap = Snapshot::empty();
    let mut rng = Rng::new(7);
    for round in 0..3u64 {
        let mut pages = snap.pages.clone();
        for i in 0..300 {
            if rng.below(3) == 0 || round == 0 {
                pages.insert(key(i % 7, i), page(rng.next()));
            }
        }
        let state = rng.bytes(if round == 1 {
            360 * BLOCK_SIZE + 123
        } else {
            5000 + round as usize
        });
        snap = commit(&mut store, &snap, &pages, &state);
        assert_store_is(&mut store, &snap);
        store = reopen(store);
        assert_store_is(&mut store, &snap);
        assert_eq!(store.fallback(), None);
        assert_eq!(store.previous_generation(), Some(round));
    }
}

#[test]
fn commit_writes_data_flushes_then_writes_the_older_slot_and_flushes() {
    let mut store = fresh(128);
    let mut snap = Snapshot::empty();
    for g in 1..=4u64 {
        let pages = (0..20).map(|i| (key(1, i), page(g * 100 + i))).collect();
        snap = commit(&mut store, &snap, &pages, b"objects");
        let log = store.disk_mut().take_log();
        let n = log.len();
        assert!(n >= 4);
        let slot = g % 2; // generation 1 goes to slot 1, 2 to slot 0, ...
        assert_eq!(log[n - 1], Op::Flush, "final flush");
        match &log[n - 2] {
            Op::Write { block, data } => {
                assert_eq!(*block, slot, "header into the older slot");
                assert_eq!(data.len(), BLOCK_SIZE);
                match header_generation(data) {
                    Ok(Some(generation)) => assert_eq!(generation, g),
                    other => panic!("header {other:?}"),
                }
            }
            op => panic!("expected the header write, got {op:?}"),
        }
        assert_eq!(log[n - 3], Op::Flush, "flush before the header");
        let before = &log[..n - 3];
        assert!(
            before.iter().all(|op| matches!(op, Op::Write { .. })),
            "no other flush"
        );
        let blocks = written_blocks(before);
        assert!(
            blocks.iter().all(|&b| b >= 2),
            "no header slot written early"
        );
        // Every block is written once.
        let mut sorted = blocks.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), blocks.len());
    }
}

#[test]
fn kept_pages_share_their_blocks_and_cost_no_data_write() {
    let mut store = fresh(256);
    let pages: BTreeMap<_, _> = (0..100).map(|i| (key(3, i), page(i))).collect();
    let snap = commit(&mut store, &Snapshot::empty(), &pages, &[9; 10]);
    let used = store.used_blocks();
    store.disk_mut().take_log();

    let snap2 = commit(&mut store, &snap, &pages, &[9; 10]);
    let written = written_blocks(&store.disk_mut().take_log());
    // One map block (100 entries), one state block, one index block, the header.
    assert_eq!(written.len(), 4, "written: {written:?}");
    assert!(!written
        .iter()
        .any(|b| store.map_entries().iter().any(|e| e.block == *b)));
    assert_eq!(store.used_blocks(), used + 3, "only the new metadata");
    for (a, b) in store
        .map_entries()
        .iter()
        .zip(&store.previous_map_entries().unwrap())
    {
        assert_eq!(a, b, "same block, same CRC");
    }
    let mut store = reopen(store);
    assert_store_is(&mut store, &snap2);
}

#[test]
fn zero_pages_cost_no_block_and_read_as_zeros() {
    let mut store = fresh(64);
    let mut b = store.begin();
    b.put(key(1, 1), &page(1)).unwrap();
    b.put(key(1, 2), &zero_page()).unwrap();
    b.commit().unwrap();
    let written = written_blocks(&store.disk_mut().take_log());
    assert_eq!(written.len(), 4, "data, map, index, header: {written:?}");
    assert_eq!(store.keys().collect::<Vec<_>>(), [key(1, 1)]);
    let mut buf = [0xFFu8; BLOCK_SIZE];
    store.read_page(key(1, 2), &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    // A page that becomes zero leaves the map; keep of it then fails.
    let mut b = store.begin();
    b.put(key(1, 1), &zero_page()).unwrap();
    assert!(!b.keep(key(1, 2)));
    b.commit().unwrap();
    assert_eq!(store.page_count(), 0);
}

#[test]
fn consecutive_pages_are_written_in_runs() {
    let mut store = fresh(256);
    let mut b = store.begin();
    for i in 0..40 {
        b.put(key(1, i), &page(i)).unwrap();
    }
    b.commit().unwrap();
    let log = store.disk_mut().take_log();
    let writes: Vec<(u64, usize)> = log
        .iter()
        .filter_map(|op| match op {
            Op::Write { block, data } => Some((*block, data.len() / BLOCK_SIZE)),
            Op::Flush => None,
        })
        .collect();
    // 40 data + 1 map + 1 index blocks in 3 runs, then the header.
    assert_eq!(
        writes,
        [(2, MAX_RUN_BLOCKS), (18, MAX_RUN_BLOCKS), (34, 10), (1, 1)]
    );
}

#[test]
fn rewriting_the_same_pages_reuses_blocks_and_never_fills_the_disk() {
    // 10 pages + 1 state block + map + index = 13 blocks a generation.
    // While one is written, three coexist: 2 + 3 * 13 = 41 blocks; the
    // disk has 48, so any leak fills it within a few generations.
    let mut store = fresh(48);
    let mut snap = Snapshot::empty();
    for g in 1..=60u64 {
        let pages = (0..10).map(|i| (key(2, i), page(g * 1000 + i))).collect();
        let referenced: Vec<u64> = store.referenced_blocks();
        snap = commit(&mut store, &snap, &pages, &g.to_le_bytes());
        let written = written_blocks(&store.disk_mut().take_log());
        assert!(
            !written.iter().any(|b| referenced.contains(b)),
            "generation {g} overwrote a block of a header slot's generation"
        );
        assert!(
            store.used_blocks() <= 2 + 2 * 13,
            "used {} at {g}",
            store.used_blocks()
        );
        if g % 10 == 0 {
            store = reopen(store);
            assert_store_is(&mut store, &snap);
            assert!(store.used_blocks() <= 2 + 2 * 13);
        }
    }
}

#[test]
fn a_full_disk_is_reported_and_the_committed_generation_survives() {
    let mut store = fresh(20);
    let pages: BTreeMap<_, _> = (0..5).map(|i| (key(1, i), page(i))).collect();
    let snap = commit(&mut store, &Snapshot::empty(), &pages, b"state");
    let used = store.used_blocks();

    // Pages: 20 - 10 used = 10 free blocks.
    let mut b = store.begin();
    let mut result = Ok(());
    for i in 0..20 {
        result = b.put(key(1, 100 + i), &page(100 + i));
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(StoreError::Full));
    // The generation lacks a page: commit refuses it.
    assert_eq!(b.commit(), Err(StoreError::Incomplete));
    assert_eq!(
        store.used_blocks(),
        used,
        "the abandoned blocks are free again"
    );

    // State: full at commit.
    let mut b = store.begin();
    assert!(b.keep(key(1, 0)));
    b.set_state(&vec![1u8; 12 * BLOCK_SIZE]);
    assert_eq!(b.commit(), Err(StoreError::Full));

    // Metadata: the pages fit, the map and index do not.
    let mut b = store.begin();
    for i in 0..10 {
        b.put(key(1, 100 + i), &page(100 + i)).unwrap();
    }
    assert_eq!(b.commit(), Err(StoreError::Full));
    assert!(StoreError::<MemDiskError>::Full
        .to_string()
        .contains("full"));

    assert_store_is(&mut store, &snap);
    let mut store = reopen(store);
    assert_store_is(&mut store, &snap);
    // And the store still works.
    let snap2 = commit(&mut store, &snap, &BTreeMap::new(), b"");
    let mut store = reopen(store);
    assert_store_is(&mut store, &snap2);
}

#[test]
fn an_abandoned_builder_changes_nothing() {
    let mut store = fresh(64);
    let pages: BTreeMap<_, _> = (0..5).map(|i| (key(1, i), page(i))).collect();
    let snap = commit(&mut store, &Snapshot::empty(), &pages, b"s");
    let used = store.used_blocks();
    let headers = store.disk_mut().image()[..2 * BLOCK_SIZE].to_vec();
    {
        let mut b = store.begin();
        for i in 0..30 {
            b.put(key(1, i), &page(1000 + i)).unwrap();
        }
        b.set_state(&[7; 9000]);
    }
    assert_eq!(store.used_blocks(), used);
    assert_eq!(&store.disk_mut().image()[..2 * BLOCK_SIZE], &headers[..]);
    assert_store_is(&mut store, &snap);
    let mut store = reopen(store);
    assert_store_is(&mut store, &snap);
}

#[test]
fn the_last_call_for_a_key_wins() {
    let mut store = fresh(64);
    let base = commit(
        &mut store,
        &Snapshot::empty(),
        &[(key(1, 1), page(1))].into(),
        b"",
    );
    let mut b = store.begin();
    b.put(key(1, 1), &page(2)).unwrap();
    assert!(b.keep(key(1, 1)));
    b.put(key(1, 3), &page(3)).unwrap();
    b.put(key(1, 3), &zero_page()).unwrap();
    b.put(key(1, 2), &zero_page()).unwrap();
    b.put(key(1, 2), &page(4)).unwrap();
    b.set_state(b"first");
    b.set_state(b"second");
    b.commit().unwrap();
    let want = Snapshot {
        generation: 2,
        pages: [(key(1, 1), page(1)), (key(1, 2), page(4))].into(),
        state: b"second".to_vec(),
    };
    assert_ne!(base, want);
    let mut store = reopen(store);
    assert_store_is(&mut store, &want);
}

#[test]
fn a_failed_header_write_keeps_that_generation_protected() {
    let mut store = fresh(64);
    let pages: BTreeMap<_, _> = (0..4).map(|i| (key(1, i), page(i))).collect();
    let g1 = commit(&mut store, &Snapshot::empty(), &pages, b"one");

    // Generation 2: every write lands, but the flush after the header
    // fails, so commit reports an error although the header is on disk.
    let pages2: BTreeMap<_, _> = (0..4).map(|i| (key(1, i), page(20 + i))).collect();
    let build2 = |b: &mut abide_store::Builder<'_, MemDisk>| {
        for (k, p) in &pages2 {
            b.put(*k, p).unwrap();
        }
        b.set_state(b"two");
    };
    // A dry run on a copy counts the requests of the commit.
    let mut dry = Store::open(store.disk_mut().clone()).unwrap();
    dry.disk_mut().take_log();
    let mut b = dry.begin();
    build2(&mut b);
    b.commit().unwrap();
    let requests = dry.disk_mut().log.len();
    assert_eq!(dry.disk_mut().log.last(), Some(&Op::Flush));

    store.disk_mut().fail_after(requests - 1);
    let mut b = store.begin();
    build2(&mut b);
    assert_eq!(b.commit(), Err(StoreError::Disk(MemDiskError::Injected)));
    store.disk_mut().heal();
    assert_eq!(
        store.generation(),
        1,
        "not committed as far as the store knows"
    );
    let g2 = Snapshot {
        generation: 2,
        pages: pages2.clone(),
        state: b"two".to_vec(),
    };
    let mut on_disk = Store::open(store.disk_mut().clone()).unwrap();
    assert_store_is(&mut on_disk, &g2);
    let protected: Vec<u64> = on_disk.referenced_blocks();

    // The next commit must not touch generation 2's blocks before its own
    // header replaces slot 0.
    let before = store.disk_mut().clone();
    store.disk_mut().take_log();
    let pages3: BTreeMap<_, _> = (0..4).map(|i| (key(1, i), page(30 + i))).collect();
    let g3 = commit(&mut store, &g1, &pages3, b"three");
    assert_eq!(g3.generation, 2, "the failed generation's number is reused");
    let log = store.disk_mut().take_log();
    let data: Vec<u64> = written_blocks(&log)
        .into_iter()
        .filter(|&b| b >= 2)
        .collect();
    assert!(
        !data.iter().any(|b| protected.contains(b)),
        "{data:?} overlaps {protected:?}"
    );
    // A crash just before that header leaves generation 2.
    let mut crashed = before;
    for op in &log {
        if let Op::Write { block, data } = op {
            if *block >= 2 {
                abide_store::Disk::write(&mut crashed, *block, data).unwrap();
            }
        }
    }
    let mut crashed = Store::open(crashed).unwrap();
    assert_store_is(&mut crashed, &g2);

    let mut store = reopen(store);
    assert_store_is(&mut store, &g3);
    assert_eq!(store.previous_generation(), Some(1));
}

#[test]
fn a_store_of_another_version_is_refused_and_left_untouched() {
    let mut store = fresh(64);
    commit(
        &mut store,
        &Snapshot::empty(),
        &[(key(1, 1), page(1))].into(),
        b"x",
    );
    let mut disk = store.into_disk();
    // Slot 0 becomes a valid header of version 2.
    let block = disk.block_mut(0);
    block[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let crc = crc32c(&block[..BLOCK_SIZE - 4]);
    block[BLOCK_SIZE - 4..].copy_from_slice(&crc.to_le_bytes());
    disk.take_log();
    let image = disk.image().to_vec();
    let err = Store::open(disk.clone()).err().unwrap();
    assert_eq!(err, OpenError::Incompatible { version: 2 });
    assert!(err.to_string().contains("version 2"));
    // Open wrote nothing: compare the bytes of a fresh attempt's disk.
    let mut d = disk;
    assert!(Store::open(&mut d).is_err());
    assert!(d.log.is_empty());
    assert_eq!(d.image(), &image[..]);
}

#[test]
fn a_detached_builder_resumes_where_it_was_and_refuses_a_stale_base() {
    let mut store = fresh(256);
    let mut builder = store.begin();
    builder.put(key(1, 0), &page(1)).unwrap();
    let detached = builder.detach();
    // Between pieces of work the store is free to read.
    assert_eq!(store.generation(), 0);
    let mut builder = store.resume(detached);
    builder.put(key(1, 1), &page(2)).unwrap();
    builder.set_state(b"state");
    let generation = builder.detach();
    let generation = store.resume(generation).commit().unwrap();
    assert_eq!(generation, 1);
    let mut store = reopen(store);
    let mut buf = [0u8; BLOCK_SIZE];
    store.read_page(key(1, 0), &mut buf).unwrap();
    assert_eq!(buf, *page(1));
    store.read_page(key(1, 1), &mut buf).unwrap();
    assert_eq!(buf, *page(2));
    assert_eq!(store.state().unwrap(), b"state");

    // A builder whose base was replaced meanwhile must not commit.
    let stale = store.begin().detach();
    store.begin().commit().unwrap();
    assert!(matches!(
        store.resume(stale).commit(),
        Err(StoreError::Incomplete)
    ));
    assert_eq!(store.generation(), 2);
}
