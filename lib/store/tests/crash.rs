//! Crash enumeration: a series of checkpoints is recorded request by
//! request, and for every flush the disk is rebuilt as a crash would
//! leave it — everything up to the previous flush, plus any prefix, any
//! suffix (the writes landing in reverse order) and, for small groups,
//! any subset of the writes issued since (random subsets for large ones),
//! and every header write torn at 512-byte sectors. Each image must open
//! as exactly one committed generation (number, every page, the state),
//! at least the one whose commit had completed, and must accept a next
//! generation without harming the ones its slots hold.

mod support;

use std::collections::{BTreeMap, HashSet};

use abide_store::crc::crc32c;
use abide_store::testing::{header_generation, MemDisk, Op};
use abide_store::{PageKey, Store, BLOCK_SIZE};
use support::*;

const BLOCKS: u64 = 96;
const SECTOR: usize = 512;

/// One block write.
#[derive(Clone)]
struct Write {
    block: u64,
    data: Vec<u8>,
}

/// The checkpoints: varied contents, so that groups are large and small,
/// pages are kept, rewritten, dropped, zeroed, and state blobs change size.
fn record() -> (Vec<u8>, Vec<Snapshot>, Vec<Op>) {
    let mut store = fresh(BLOCKS);
    let image = store.disk_mut().image().to_vec();
    let mut snaps = vec![Snapshot::empty()];
    let mut rng = Rng::new(2024);
    let mut pages: BTreeMap<PageKey, Page> = BTreeMap::new();

    // 1: twenty pages, a two-block state.
    for i in 0..20 {
        pages.insert(key(1, i), page(rng.next()));
    }
    let s = commit(&mut store, &snaps[0], &pages, &rng.bytes(5000));
    snaps.push(s);

    // 2: ten kept, five rewritten, five dropped, zero pages, new pages, no state.
    for i in 10..15 {
        pages.insert(key(1, i), page(rng.next()));
    }
    for i in 15..20 {
        pages.remove(&key(1, i));
    }
    for i in 0..3 {
        pages.insert(key(2, i), zero_page());
    }
    for i in 3..7 {
        pages.insert(key(2, i), page(rng.next()));
    }
    let s = commit(&mut store, snaps.last().unwrap(), &pages, &[]);
    snaps.push(s);

    // 3: a small group: one page rewritten, a short state.
    pages.insert(key(1, 0), page(rng.next()));
    let s = commit(&mut store, snaps.last().unwrap(), &pages, b"small");
    snaps.push(s);

    // 4: owner 1 gone, many new pages, a larger state.
    pages.retain(|k, _| k.owner != 1);
    for i in 0..30 {
        pages.insert(key(3, i), page(rng.next()));
    }
    let s = commit(
        &mut store,
        snaps.last().unwrap(),
        &pages,
        &rng.bytes(3 * BLOCK_SIZE + 1),
    );
    snaps.push(s);

    // 5: everything kept, same state: metadata only.
    let state = snaps.last().unwrap().state.clone();
    let s = commit(&mut store, snaps.last().unwrap(), &pages, &state);
    snaps.push(s);

    let log = store.disk_mut().take_log();
    (image, snaps, log)
}

fn apply(image: &mut [u8], w: &Write) {
    let start = w.block as usize * BLOCK_SIZE;
    image[start..start + w.data.len()].copy_from_slice(&w.data);
}

/// `new` over `old`, sector `s` taken from `new` when bit `s` of `mask` is set.
fn torn(old: &[u8], new: &[u8], mask: u32) -> Vec<u8> {
    (0..BLOCK_SIZE / SECTOR)
        .flat_map(|s| {
            let from = if mask & (1 << s) != 0 { new } else { old };
            from[s * SECTOR..(s + 1) * SECTOR].to_vec()
        })
        .collect()
}

/// Checks one crash image.
struct Checker {
    snaps: Vec<Snapshot>,
    seen: HashSet<Vec<(u64, u32)>>,
    images: usize,
    continued: usize,
}

impl Checker {
    /// `durable` with `writes` applied; `lo..=hi` the generations it may open as.
    fn check(&mut self, durable: &[u8], writes: &[Write], lo: u64, hi: u64, what: &str) {
        let mut image = durable.to_vec();
        for w in writes {
            apply(&mut image, w);
        }
        let mut id: Vec<(u64, u32)> = writes
            .iter()
            .map(|w| {
                (
                    w.block,
                    crc32c(&image[w.block as usize * BLOCK_SIZE..][..BLOCK_SIZE]),
                )
            })
            .collect();
        id.sort_unstable();
        id.dedup();
        id.push((lo, hi as u32));
        if !self.seen.insert(id) {
            return;
        }
        self.images += 1;
        let mut store = Store::open(MemDisk::from_image(image))
            .unwrap_or_else(|e| panic!("{what}: the crash image does not open: {e}"));
        let g = store.generation();
        assert!(
            lo <= g && g <= hi,
            "{what}: opened generation {g}, expected {lo}..={hi}"
        );
        let snap = &self.snaps[g as usize];
        assert_store_is(&mut store, snap);

        // Every few images (and every fallback), commit a next generation
        // on top: it must not write a block either slot's generation uses,
        // and must reopen exactly.
        if store.fallback().is_none() && !self.images.is_multiple_of(8) {
            return;
        }
        self.continued += 1;
        let referenced: HashSet<u64> = store.referenced_blocks().into_iter().collect();
        store.disk_mut().take_log();
        let mut pages = snap.pages.clone();
        pages.insert(key(7, g), page(1000 + g));
        let next = commit(&mut store, snap, &pages, b"after the crash");
        let written = written_blocks(&store.disk_mut().take_log());
        assert!(
            written.iter().all(|b| *b < 2 || !referenced.contains(b)),
            "{what}: the next generation overwrote a referenced block"
        );
        let mut store = reopen(store);
        assert_store_is(&mut store, &next);
    }
}

#[test]
fn every_crash_point_opens_as_exactly_one_committed_generation() {
    let (image, snaps, log) = record();
    let last = snaps.len() as u64 - 1;
    let mut checker = Checker {
        snaps,
        seen: HashSet::new(),
        images: 0,
        continued: 0,
    };
    let mut rng = Rng::new(77);

    let mut durable = image;
    let mut pending: Vec<Write> = Vec::new();
    // Generations whose final flush completed, and the one being written.
    let mut committed = 0u64;
    let mut flushes = 0;
    for op in log {
        let data = match op {
            Op::Write { block, data } => {
                for (i, chunk) in data.chunks(BLOCK_SIZE).enumerate() {
                    pending.push(Write {
                        block: block + i as u64,
                        data: chunk.to_vec(),
                    });
                }
                continue;
            }
            Op::Flush => pending.clone(),
        };
        flushes += 1;
        let (lo, hi) = (committed, committed + 1);
        let n = data.len();
        let what = |kind: &str| format!("flush {flushes} ({n} writes pending), {kind}");

        for k in 0..=n {
            checker.check(&durable, &data[..k], lo, hi, &what(&format!("prefix {k}")));
            checker.check(
                &durable,
                &data[n - k..],
                lo,
                hi,
                &what(&format!("suffix {k}")),
            );
        }
        if n <= 10 {
            for mask in 0u32..1 << n {
                let subset: Vec<Write> = (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| data[i].clone())
                    .collect();
                checker.check(
                    &durable,
                    &subset,
                    lo,
                    hi,
                    &what(&format!("subset {mask:#b}")),
                );
            }
        } else {
            for _ in 0..32 {
                let subset: Vec<Write> =
                    data.iter().filter(|_| rng.below(2) == 0).cloned().collect();
                checker.check(&durable, &subset, lo, hi, &what("random subset"));
            }
        }
        for (i, w) in data.iter().enumerate() {
            let old = &durable[w.block as usize * BLOCK_SIZE..][..BLOCK_SIZE];
            let masks: Vec<u32> = if w.block < 2 {
                (1..255).collect()
            } else {
                vec![0x0F, 0xF0]
            };
            for mask in masks {
                let t = Write {
                    block: w.block,
                    data: torn(old, &w.data, mask),
                };
                let mut before: Vec<Write> = data[..i].to_vec();
                before.push(t.clone());
                checker.check(
                    &durable,
                    &before,
                    lo,
                    hi,
                    &what(&format!("block {} torn {mask:#x}", w.block)),
                );
                let mut all = data.clone();
                all[i] = t;
                checker.check(
                    &durable,
                    &all,
                    lo,
                    hi,
                    &what(&format!("all, block {} torn {mask:#x}", w.block)),
                );
            }
        }

        for w in &data {
            apply(&mut durable, w);
        }
        if let Some(h) = data.iter().find(|w| w.block < 2) {
            match header_generation(&h.data) {
                Ok(Some(generation)) => committed = generation,
                other => panic!("header write {other:?}"),
            }
        }
        pending.clear();
    }
    assert!(pending.is_empty(), "the last request is a flush");
    assert_eq!(committed, last);
    checker.check(&durable, &[], last, last, "after the last flush");
    eprintln!(
        "{} distinct crash images, {} continued",
        checker.images, checker.continued
    );
    assert!(
        checker.images > 300,
        "only {} distinct crash images",
        checker.images
    );
    assert!(checker.continued > 40);
}
