//! Helpers shared by the ring's tests: a region that records every store, so a crash can be
//! simulated after any prefix of them, and a plain description of entries
//! to compare rings with.

#![allow(dead_code)]

use abide_logring::{Entry, Level, NewEntry, Region, Ring};

/// One store the ring made: a byte (a piece of a non-atomic `store`) or a
/// whole aligned `u64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Byte(usize, u8),
    Word(usize, u64),
}

impl Store {
    pub fn apply(self, bytes: &mut [u8]) {
        match self {
            Store::Byte(at, b) => bytes[at] = b,
            Store::Word(at, w) => bytes[at..at + 8].copy_from_slice(&w.to_le_bytes()),
        }
    }
}

/// A region that applies and records every store, splitting `store` into
/// byte stores (in reverse order if `reverse`: nothing may depend on the
/// order within one `store`).
#[derive(Debug, Clone)]
pub struct Recorder {
    pub bytes: Vec<u8>,
    pub log: Vec<Store>,
    pub reverse: bool,
}

impl Recorder {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            log: Vec::new(),
            reverse: false,
        }
    }
}

impl Region for Recorder {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn store(&mut self, offset: usize, data: &[u8]) {
        let mut stores: Vec<Store> = (0..data.len())
            .map(|i| Store::Byte(offset + i, data[i]))
            .collect();
        if self.reverse {
            stores.reverse();
        }
        for s in stores {
            s.apply(&mut self.bytes);
            self.log.push(s);
        }
    }

    fn store_u64(&mut self, offset: usize, value: u64) {
        assert_eq!(offset % 8, 0, "unaligned u64 store at {offset}");
        let s = Store::Word(offset, value);
        s.apply(&mut self.bytes);
        self.log.push(s);
    }
}

/// `before` with the first `k` stores of `log` applied: the region a crash
/// after those stores leaves.
pub fn crashed(before: &[u8], log: &[Store], k: usize) -> Vec<u8> {
    let mut image = before.to_vec();
    for s in &log[..k] {
        s.apply(&mut image);
    }
    image
}

/// An entry's content, owned, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rec {
    pub seq: u64,
    pub time_ns: u64,
    pub level: Level,
    pub component: String,
    pub client: u32,
    pub token: u64,
    pub text: String,
}

impl From<Entry> for Rec {
    fn from(e: Entry) -> Self {
        Rec {
            seq: e.seq,
            time_ns: e.time_ns,
            level: e.level,
            component: e.component().into(),
            client: e.client,
            token: e.token,
            text: e.text().into(),
        }
    }
}

impl Rec {
    pub fn new_entry(&self) -> NewEntry<'_> {
        NewEntry {
            time_ns: self.time_ns,
            level: self.level,
            component: &self.component,
            client: self.client,
            token: self.token,
            text: &self.text,
        }
    }
}

/// A request for the tests, sequence number not yet known.
pub fn req(client: u32, token: u64, text: &str) -> Rec {
    Rec {
        seq: u64::MAX,
        time_ns: token.wrapping_mul(1_000).wrapping_add(u64::from(client)),
        level: Level::Info,
        component: format!("comp{}", client % 3),
        client,
        token,
        text: text.into(),
    }
}

/// The ring's entries, oldest first.
pub fn recs<S: Region>(ring: &Ring<S>) -> Vec<Rec> {
    ring.iter().map(Rec::from).collect()
}

/// A tiny deterministic PRNG (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// `len` printable ASCII characters.
    pub fn text(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b' ' + self.below(95) as u8))
            .collect()
    }
}
