//! Damaged disks: torn and flipped headers fall back to the previous
//! generation, flipped metadata is named by kind and block, flipped data
//! and state blocks are reported on read, and no damage at all (even with
//! checksums recomputed to match) makes the store panic.

mod support;

use std::collections::{BTreeMap, HashSet};

use abide_store::crc::crc32c;
use abide_store::testing::{MemDisk, MemDiskError};
use abide_store::{Corruption, OpenError, PageKey, Problem, ReadError, Store, What, BLOCK_SIZE};
use support::*;

const SECTOR: usize = 512;

/// A store of 300 blocks with generation 1 in slot 1 and generation 2 in
/// slot 0, each with 130 pages (two map blocks) and a 2- or 3-block state.
/// Returns the disk and both snapshots, plus slot 0's contents before
/// generation 2 was written into it.
fn two_generations() -> (MemDisk, Snapshot, Snapshot, Vec<u8>) {
    let mut store = fresh(300);
    let mut rng = Rng::new(42);
    let pages: BTreeMap<_, _> = (0..130)
        .map(|i| (key(i % 3, i), page(rng.next())))
        .collect();
    let g1 = commit(
        &mut store,
        &Snapshot::empty(),
        &pages,
        &rng.bytes(3 * BLOCK_SIZE - 100),
    );
    let old_slot0 = store.disk_mut().block(0).to_vec();
    let mut pages2 = pages.clone();
    for i in (0..130).step_by(4) {
        pages2.insert(key(i % 3, i), page(rng.next()));
    }
    let g2 = commit(&mut store, &g1, &pages2, &rng.bytes(2 * BLOCK_SIZE + 5));
    (store.into_disk(), g1, g2, old_slot0)
}

#[test]
fn a_torn_newest_header_falls_back_to_the_previous_generation() {
    let (disk, g1, g2, old) = two_generations();
    let new = disk.block(0).to_vec();
    for mask in 0u32..256 {
        let mut d = disk.clone();
        for s in 0..8 {
            let from = if mask & (1 << s) != 0 { &new } else { &old };
            d.block_mut(0)[s * SECTOR..(s + 1) * SECTOR]
                .copy_from_slice(&from[s * SECTOR..(s + 1) * SECTOR]);
        }
        let torn = d.block(0) != &new[..] && d.block(0) != &old[..];
        let mut store = Store::open(d).expect("open");
        let full = mask % 37 == 0 || mask == 255;
        if store.generation() == 2 {
            assert!(!torn, "mask {mask:#x}: a torn header was accepted");
            if full {
                assert_store_is(&mut store, &g2);
            }
        } else {
            assert_eq!(store.generation(), 1);
            if full {
                assert_store_is(&mut store, &g1);
            }
            if torn {
                let why = store.fallback().expect("fallback reported");
                assert_eq!((why.slot, why.what, why.block), (0, What::Header, 0));
                assert!(why.to_string().contains("header slot 0"), "{why}");
            }
        }
    }
}

#[test]
fn a_flipped_byte_in_the_newest_header_falls_back() {
    let (disk, g1, _, _) = two_generations();
    let positions = (0..64)
        .chain((64..BLOCK_SIZE).step_by(61))
        .chain(BLOCK_SIZE - 4..BLOCK_SIZE);
    for (n, pos) in positions.enumerate() {
        {
            let bit = if n % 2 == 0 { 0x01u8 } else { 0x80 };
            let mut d = disk.clone();
            d.block_mut(0)[pos] ^= bit;
            let mut store = Store::open(d).expect("open");
            assert_eq!(store.generation(), 1);
            if n % 20 == 0 {
                assert_store_is(&mut store, &g1);
            }
            let why = *store.fallback().expect("fallback");
            let problem = if pos < 8 {
                Problem::Magic
            } else {
                Problem::Checksum
            };
            assert_eq!(
                why,
                Corruption {
                    slot: 0,
                    generation: None,
                    what: What::Header,
                    block: 0,
                    problem
                },
                "byte {pos}"
            );
            assert_eq!(store.previous_generation(), None);
        }
    }
}

#[test]
fn damaged_newest_metadata_falls_back_naming_the_block() {
    let (disk, g1, g2, _) = two_generations();
    let newest = Store::open(disk.clone()).unwrap();
    for (what, blocks) in newest.metadata_blocks() {
        assert!(!blocks.is_empty(), "{what}");
        for &block in &blocks {
            for pos in [0, 17, 2000, BLOCK_SIZE - 1] {
                let mut d = disk.clone();
                d.block_mut(block)[pos] ^= 0x10;
                let mut store = Store::open(d).expect("open");
                assert_store_is(&mut store, &g1);
                let why = *store.fallback().expect("fallback");
                assert_eq!(
                    why,
                    Corruption {
                        slot: 0,
                        generation: Some(2),
                        what,
                        block,
                        problem: Problem::Checksum
                    }
                );
                assert!(
                    why.to_string().contains(&format!("{what} block {block}")),
                    "{why}"
                );
            }
        }
    }
    let mut store = Store::open(disk).unwrap();
    assert_store_is(&mut store, &g2);
}

#[test]
fn no_valid_generation_is_corrupt() {
    let (disk, _, _, _) = two_generations();
    let mut d = disk.clone();
    d.block_mut(0)[20] ^= 1;
    d.block_mut(1)[20] ^= 1;
    match Store::open(d) {
        Err(e @ OpenError::Corrupt(c)) => {
            assert_eq!((c.what, c.problem), (What::Header, Problem::Checksum));
            assert!(e.to_string().contains("corrupt"), "{e}");
        }
        other => panic!("{:?}", other.map(|s| s.generation())),
    }
    // Newest header torn, older generation's map damaged.
    let older = {
        let mut d = disk.clone();
        d.block_mut(0)[20] ^= 1;
        let s = Store::open(d).unwrap();
        s.metadata_blocks()[1].1[0]
    };
    let mut d = disk;
    d.block_mut(0)[20] ^= 1;
    d.block_mut(older)[100] ^= 1;
    match Store::open(d) {
        Err(OpenError::Corrupt(c)) => {
            assert_eq!(
                (c.slot, c.generation, c.what, c.block),
                (1, Some(1), What::Map, older)
            );
        }
        other => panic!("{:?}", other.map(|s| s.generation())),
    }
    let mut garbage = MemDisk::new(8);
    garbage.block_mut(1)[7] = 1;
    assert!(matches!(
        Store::open(garbage),
        Err(OpenError::Corrupt(Corruption {
            slot: 1,
            problem: Problem::Magic,
            ..
        }))
    ));
}

#[test]
fn a_flipped_byte_in_a_data_block_is_reported_by_read_page() {
    let (disk, _, g2, _) = two_generations();
    let store = Store::open(disk.clone()).unwrap();
    let victim = store.map_entries()[37];
    let mut d = disk;
    d.block_mut(victim.block)[1234] ^= 4;
    let mut store = Store::open(d).unwrap();
    assert_eq!(
        store.generation(),
        2,
        "data blocks are checked on read, not at open"
    );
    let mut buf = [0u8; BLOCK_SIZE];
    let err = store.read_page(victim.key, &mut buf).unwrap_err();
    assert_eq!(
        err,
        ReadError::Checksum {
            what: What::Data,
            block: victim.block
        }
    );
    assert!(
        err.to_string()
            .contains(&format!("data block {}", victim.block)),
        "{err}"
    );
    for (k, p) in &g2.pages {
        if *k != victim.key {
            store.read_page(*k, &mut buf).unwrap();
            assert!(buf == **p);
        }
    }
}

#[test]
fn a_flipped_byte_in_the_state_is_reported_by_state_and_at_open() {
    let (disk, g1, _, _) = two_generations();
    let mut store = Store::open(disk).unwrap();
    let block = store.metadata_blocks()[2].1[1];
    store.disk_mut().block_mut(block)[9] ^= 1;
    assert_eq!(
        store.state(),
        Err(ReadError::Checksum {
            what: What::State,
            block
        })
    );
    let mut store = Store::open(store.into_disk()).unwrap();
    assert_store_is(&mut store, &g1);
    assert_eq!(
        store.fallback().map(|c| (c.what, c.block)),
        Some((What::State, block))
    );
}

#[test]
fn a_damaged_older_generation_is_no_fallback_and_is_replaced_by_the_next_commit() {
    let (disk, _, g2, _) = two_generations();
    let mut d = disk.clone();
    d.block_mut(0)[20] ^= 1;
    let older = Store::open(d).unwrap();
    let older_meta: Vec<u64> = older.meta_blocks();
    let older_map = older.metadata_blocks()[1].1[0];
    let mut d = disk;
    d.block_mut(older_map)[5] ^= 1;
    let mut store = Store::open(d).unwrap();
    assert_store_is(&mut store, &g2);
    assert_eq!(store.fallback(), None);
    assert_eq!(store.previous_generation(), None);
    // What could be read of it (its index, map and state blocks) stays in
    // use until its slot is replaced.
    for b in &older_meta {
        assert!(
            store.is_block_used(*b),
            "block {b} of the damaged generation"
        );
    }
    store.disk_mut().take_log();
    let g3 = commit(&mut store, &g2, &g2.pages, b"three");
    let written = written_blocks(&store.disk_mut().take_log());
    assert!(!written.iter().any(|b| older_meta.contains(b)));
    let both: HashSet<u64> = store.referenced_blocks().into_iter().collect();
    assert_eq!(
        store.used_blocks(),
        2 + both.len() as u64,
        "only generations 2 and 3 remain"
    );
    let mut store = reopen(store);
    assert_store_is(&mut store, &g3);
    assert_eq!(store.previous_generation(), Some(2));
}

#[test]
fn read_errors_make_open_give_up() {
    let (mut disk, _, _, _) = two_generations();
    disk.fail_reads = true;
    let err = Store::open(disk).err().unwrap();
    assert_eq!(err, OpenError::Disk(MemDiskError::Injected));
    assert!(err.to_string().contains("disk error"));
}

/// Recomputes the CRC of `block` and stores it where its parent keeps it:
/// a header's own trailer, the header's index root, or an index entry.
fn reseal(d: &mut MemDisk, index_block: u64, target: u64) {
    let crc = crc32c(d.block(target));
    if target != index_block {
        let idx = d.block_mut(index_block);
        for i in 0..338 {
            let off = 40 + i * 12;
            if u64::from_le_bytes(idx[off..off + 8].try_into().unwrap()) == target {
                idx[off + 8..off + 12].copy_from_slice(&crc.to_le_bytes());
            }
        }
    }
    let idx_crc = crc32c(d.block(index_block));
    let h = d.block_mut(0);
    if u64::from_le_bytes(h[48..56].try_into().unwrap()) == index_block {
        h[56..60].copy_from_slice(&idx_crc.to_le_bytes());
    }
    let crc = crc32c(&h[..BLOCK_SIZE - 4]);
    h[BLOCK_SIZE - 4..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn damage_with_matching_checksums_never_panics() {
    let (disk, _, _, _) = two_generations();
    let newest = Store::open(disk.clone()).unwrap();
    let [(_, index), (_, map), (_, state)] = newest.metadata_blocks();
    assert_eq!(index.len(), 1);
    let index = index[0];
    let data: Vec<u64> = newest
        .map_entries()
        .iter()
        .map(|e| e.block)
        .take(3)
        .collect();
    let targets: Vec<u64> = [0, index]
        .into_iter()
        .chain(map)
        .chain(state)
        .chain(data)
        .collect();
    let interesting = [
        0u64,
        1,
        2,
        3,
        47,
        48,
        49,
        127,
        128,
        129,
        299,
        300,
        301,
        338,
        339,
        1 << 32,
        u64::MAX / 32,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut rng = Rng::new(99);
    let mut opened = 0;
    for _ in 0..300 {
        let mut d = disk.clone();
        let target = targets[rng.below(targets.len() as u64) as usize];
        for _ in 0..1 + rng.below(3) {
            let limit = if target == 0 { 64 } else { BLOCK_SIZE as u64 };
            let pos = (rng.below(limit) & !7) as usize;
            let b = d.block_mut(target);
            match rng.below(3) {
                0 => b[pos + rng.below(8) as usize] ^= 1 << rng.below(8),
                1 => b[pos..pos + 8].copy_from_slice(
                    &interesting[rng.below(interesting.len() as u64) as usize].to_le_bytes(),
                ),
                _ => b[pos..pos + 8].copy_from_slice(&rng.next().to_le_bytes()),
            }
        }
        reseal(&mut d, index, target);
        let Ok(mut store) = Store::open(d) else {
            continue;
        };
        opened += 1;
        assert!(matches!(store.generation(), 1 | 2));
        let keys: Vec<PageKey> = store.keys().collect();
        let mut buf = [0u8; BLOCK_SIZE];
        for k in keys.iter().step_by(13) {
            let _ = store.read_page(*k, &mut buf);
        }
        let _ = store.state();
        let mut b = store.begin();
        for k in keys.iter().take(50) {
            b.keep(*k);
        }
        let _ = b.put(key(9, 9), &page(9));
        b.set_state(b"after");
        if b.commit().is_ok() {
            let _ = Store::open(store.into_disk());
        }
    }
    assert!(opened > 20, "only {opened} damaged images opened");
}

#[test]
fn random_header_fields_with_valid_checksums_never_panic() {
    let (disk, _, _, _) = two_generations();
    let mut rng = Rng::new(5);
    for _ in 0..300 {
        let mut d = disk.clone();
        let slot = rng.below(2);
        let b = d.block_mut(slot);
        for off in (16..64).step_by(8) {
            if rng.below(3) == 0 {
                let v = match rng.below(4) {
                    0 => rng.below(1000),
                    1 => u64::MAX - rng.below(1000),
                    2 => 1 << rng.below(64),
                    _ => rng.next(),
                };
                b[off..off + 8].copy_from_slice(&v.to_le_bytes());
            }
        }
        let crc = crc32c(&b[..BLOCK_SIZE - 4]);
        b[BLOCK_SIZE - 4..].copy_from_slice(&crc.to_le_bytes());
        if let Ok(mut s) = Store::open(d) {
            let _ = s.state();
        }
    }
}
