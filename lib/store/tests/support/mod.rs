//! Helpers shared by the store's tests (`basic.rs`, `damage.rs`,
//! `crash.rs`): they describe a generation as plain data ([`Snapshot`]) and
//! check a store against it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use abide_splitmix::SplitMix64;
use abide_store::testing::{MemDisk, Op};
use abide_store::{PageKey, Store, BLOCK_SIZE};

/// A page of memory.
pub type Page = Box<[u8; BLOCK_SIZE]>;

/// The tests' deterministic generator: SplitMix64, plus random bytes.
pub struct Rng(SplitMix64);

impl Rng {
    /// The generator whose draws `seed` fixes.
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    pub fn next(&mut self) -> u64 {
        self.0.next()
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A page whose contents follow from `seed` (never all zeros).
pub fn page(seed: u64) -> Page {
    let mut rng = Rng::new(seed ^ 0x5EED);
    let mut p = Box::new([0u8; BLOCK_SIZE]);
    for chunk in p.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes());
    }
    p[0] |= 1;
    p
}

pub fn zero_page() -> Page {
    Box::new([0u8; BLOCK_SIZE])
}

pub fn key(owner: u64, index: u64) -> PageKey {
    PageKey::new(owner, index)
}

/// What a generation holds: its number, its non-zero pages and its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub generation: u64,
    pub pages: BTreeMap<PageKey, Page>,
    pub state: Vec<u8>,
}

impl Snapshot {
    pub fn empty() -> Self {
        Self {
            generation: 0,
            pages: BTreeMap::new(),
            state: Vec::new(),
        }
    }
}

/// Asserts that the store's committed generation is exactly `want`.
pub fn assert_store_is(store: &mut Store<MemDisk>, want: &Snapshot) {
    assert_eq!(store.generation(), want.generation, "generation");
    let keys: Vec<PageKey> = store.keys().collect();
    let want_keys: Vec<PageKey> = want.pages.keys().copied().collect();
    assert_eq!(keys, want_keys, "keys of generation {}", want.generation);
    let mut buf = [0u8; BLOCK_SIZE];
    for (k, p) in &want.pages {
        store.read_page(*k, &mut buf).expect("read_page");
        assert!(buf == **p, "page {k:?} of generation {}", want.generation);
    }
    buf.fill(0xAA);
    store
        .read_page(key(u64::MAX, u64::MAX), &mut buf)
        .expect("absent page");
    assert!(buf.iter().all(|&b| b == 0), "an absent page reads as zeros");
    assert_eq!(
        store.state().expect("state"),
        want.state,
        "state of generation {}",
        want.generation
    );
}

/// Commits `next` (pages and state) on top of the store's generation
/// `base`: unchanged pages are kept, changed and new ones put, missing
/// ones left out. Returns the committed snapshot.
pub fn commit(
    store: &mut Store<MemDisk>,
    base: &Snapshot,
    pages: &BTreeMap<PageKey, Page>,
    state: &[u8],
) -> Snapshot {
    let mut b = store.begin();
    for (k, p) in pages {
        if base.pages.get(k) == Some(p) {
            assert!(b.keep(*k), "keep {k:?}");
        } else {
            b.put(*k, p).expect("put");
        }
    }
    b.set_state(state);
    let generation = b.commit().expect("commit");
    assert_eq!(generation, base.generation + 1);
    let pages = pages
        .iter()
        .filter(|(_, p)| p.iter().any(|&b| b != 0))
        .map(|(k, p)| (*k, p.clone()))
        .collect();
    Snapshot {
        generation,
        pages,
        state: state.to_vec(),
    }
}

/// A fresh store on a zeroed disk of `blocks` blocks, its log cleared.
pub fn fresh(blocks: u64) -> Store<MemDisk> {
    let mut s = Store::format(MemDisk::new(blocks)).expect("format");
    s.disk_mut().take_log();
    s
}

/// Reopens the store's disk (log cleared).
pub fn reopen(store: Store<MemDisk>) -> Store<MemDisk> {
    let mut disk = store.into_disk();
    disk.take_log();
    Store::open(disk).expect("open")
}

/// The blocks written by `log`, one entry per block.
pub fn written_blocks(log: &[Op]) -> Vec<u64> {
    log.iter()
        .flat_map(|op| match op {
            Op::Write { block, data } => {
                (*block..*block + (data.len() / BLOCK_SIZE) as u64).collect()
            }
            Op::Flush => Vec::new(),
        })
        .collect()
}
