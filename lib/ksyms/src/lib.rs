//! The kernel symbol table: names for code addresses in kernel backtraces.
//!
//! A kernel that crashes prints a backtrace. Raw return addresses are of little
//! use to a person reading a serial log, and the kernel cannot read its own ELF
//! symbol table at run time (the loader does not map it). So the host tool
//! extracts the function symbols from the linked kernel, encodes them in the
//! compact format defined here and embeds the bytes in the kernel image
//! (`include_bytes!`, in the last loaded section so embedding never moves code).
//! The kernel parses the table once and looks addresses up while it reports a
//! fault.
//!
//! Because the lookup runs on the fault path, the table is validated completely
//! by [`KsymTable::parse`]; afterwards [`KsymTable::lookup`] cannot fail or panic.
//! The crate is `no_std` and allocation-free for the kernel; the `std` feature
//! adds the [`encode`] function the host tool uses.
//!
//! # Format
//!
//! All integers are little endian.
//!
//! ```text
//! magic        4 bytes  "KSYM"
//! count        u32
//! entries      count × { addr u64, size u32, name_offset u32 }, sorted by addr
//! string area  the rest; name_offset is relative to its start and points at
//!              { len u16, len bytes of UTF-8 }
//! ```
//!
//! An empty input (zero bytes) is a valid, empty table, so a kernel built before
//! the first symbol extraction works unchanged.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

use abide_le::{u16_at, u32_at, u64_at};

/// The first four bytes of a non-empty table.
pub const MAGIC: [u8; 4] = *b"KSYM";

/// Size of the header: magic and entry count.
const HEADER_LEN: usize = 8;
/// Size of one entry: addr, size, name_offset.
const ENTRY_LEN: usize = 16;

/// Why bytes are not a valid symbol table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsymError {
    /// The input is not empty and does not start with [`MAGIC`].
    BadMagic,
    /// The header or the entry array runs past the end of the input.
    Truncated,
    /// A name offset or length points outside the string area, or the name is
    /// not UTF-8.
    BadOffset,
    /// The entries are not sorted by address.
    NotSorted,
}

impl core::fmt::Display for KsymError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            KsymError::BadMagic => "symbol table: bad magic",
            KsymError::Truncated => "symbol table: truncated",
            KsymError::BadOffset => "symbol table: name offset out of range or not UTF-8",
            KsymError::NotSorted => "symbol table: entries not sorted by address",
        })
    }
}

/// A validated, borrowed symbol table. Format (little endian): magic, u32
/// count, then `count` entries of { addr u64, size u32, name_offset u32 }
/// sorted by addr, then the string area; name_offset points into the string
/// area at a u16 length followed by UTF-8 bytes.
#[derive(Debug, Clone, Copy)]
pub struct KsymTable<'a> {
    /// The entry array, exactly `count * ENTRY_LEN` bytes.
    entries: &'a [u8],
    /// The string area.
    strings: &'a [u8],
}

/// One decoded entry.
#[derive(Clone, Copy)]
struct Entry {
    addr: u64,
    size: u32,
    name_offset: u32,
}

/// The name stored at `offset` in `strings`, if it is in range and UTF-8.
fn name_at(strings: &[u8], offset: u32) -> Option<&str> {
    let start = usize::try_from(offset).ok()?;
    let len = usize::from(u16_at(strings, start)?);
    let from = start.checked_add(2)?;
    let bytes = strings.get(from..from.checked_add(len)?)?;
    core::str::from_utf8(bytes).ok()
}

impl<'a> KsymTable<'a> {
    /// Validates everything once (sorted addresses, offsets and lengths in
    /// range, UTF-8), so lookups never fail or panic afterwards. An empty input
    /// (len 0) is a valid empty table.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, KsymError> {
        if bytes.is_empty() {
            return Ok(KsymTable {
                entries: &[],
                strings: &[],
            });
        }
        // A prefix of the magic is as wrong as a different magic.
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(KsymError::BadMagic);
        }
        let count = u32_at(bytes, MAGIC.len()).ok_or(KsymError::Truncated)?;
        let entries_len = usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(ENTRY_LEN))
            .ok_or(KsymError::Truncated)?;
        let entries_end = HEADER_LEN
            .checked_add(entries_len)
            .ok_or(KsymError::Truncated)?;
        let entries = bytes
            .get(HEADER_LEN..entries_end)
            .ok_or(KsymError::Truncated)?;
        let strings = &bytes[entries_end..];
        let table = KsymTable { entries, strings };

        let mut previous = 0u64;
        for i in 0..table.len() {
            let e = table.entry(i);
            if e.addr < previous {
                return Err(KsymError::NotSorted);
            }
            previous = e.addr;
            if name_at(strings, e.name_offset).is_none() {
                return Err(KsymError::BadOffset);
            }
        }
        Ok(table)
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.entries.len() / ENTRY_LEN
    }

    /// Whether the table has no symbols.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `i`; `i < self.len()`. The entry array was sized by `parse`, so
    /// the reads cannot fail; zeros are a harmless fallback that keeps this
    /// function free of panics.
    fn entry(&self, i: usize) -> Entry {
        let at = i * ENTRY_LEN;
        Entry {
            addr: u64_at(self.entries, at).unwrap_or(0),
            size: u32_at(self.entries, at + 8).unwrap_or(0),
            name_offset: u32_at(self.entries, at + 12).unwrap_or(0),
        }
    }

    /// The name of an entry (validated by `parse`).
    fn name(&self, e: Entry) -> &'a str {
        name_at(self.strings, e.name_offset).unwrap_or("")
    }

    /// Symbol `i` as (address, size, name), or `None` past the end.
    pub fn get(&self, i: usize) -> Option<(u64, u32, &'a str)> {
        if i >= self.len() {
            return None;
        }
        let e = self.entry(i);
        Some((e.addr, e.size, self.name(e)))
    }

    /// All symbols in address order, as (address, size, name).
    pub fn iter(&self) -> impl Iterator<Item = (u64, u32, &'a str)> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    /// The symbol containing `addr` (addr in [sym.addr, sym.addr + max(size,1)))
    /// → (name, offset from symbol start). Binary search.
    ///
    /// When several symbols start at the same address (aliases), the first one
    /// in table order that contains `addr` wins.
    pub fn lookup(&self, addr: u64) -> Option<(&'a str, u64)> {
        // Index of the first entry whose address is > addr.
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry(mid).addr <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // Candidates are the entries that start at the greatest address <= addr.
        let last = lo.checked_sub(1)?;
        let start = self.entry(last).addr;
        let mut first = last;
        while first > 0 && self.entry(first - 1).addr == start {
            first -= 1;
        }
        let offset = addr - start;
        (first..=last)
            .map(|i| self.entry(i))
            .find(|e| offset < u64::from(e.size.max(1)))
            .map(|e| (self.name(e), offset))
    }
}

/// Encodes symbols (address, size, name) into the table format.
///
/// Sorts by address (then size and name, so the output is deterministic),
/// drops exact duplicates, stores each distinct name once, and truncates names
/// longer than `u16::MAX` bytes at a character boundary.
///
/// # Panics
///
/// If the encoded table would exceed 4 GiB (the format's offsets are 32-bit).
#[cfg(any(test, feature = "std"))]
pub fn encode(symbols: &[(u64, u32, String)]) -> Vec<u8> {
    use std::collections::HashMap;

    let mut sorted: Vec<(u64, u32, &str)> = symbols
        .iter()
        .map(|(addr, size, name)| (*addr, *size, truncate_name(name)))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();

    let mut strings = Vec::new();
    let mut offsets: HashMap<&str, u32> = HashMap::new();
    let count = u32::try_from(sorted.len()).expect("too many symbols for the table format");
    let mut out = Vec::with_capacity(HEADER_LEN + sorted.len() * ENTRY_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&count.to_le_bytes());
    for &(addr, size, name) in &sorted {
        let offset = *offsets.entry(name).or_insert_with(|| {
            let offset =
                u32::try_from(strings.len()).expect("symbol names exceed the table format's 4 GiB");
            // truncate_name guarantees the length fits.
            strings.extend_from_slice(&(name.len() as u16).to_le_bytes());
            strings.extend_from_slice(name.as_bytes());
            offset
        });
        out.extend_from_slice(&addr.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
    }
    out.extend_from_slice(&strings);
    out
}

/// `name` cut to at most `u16::MAX` bytes, at a character boundary.
#[cfg(any(test, feature = "std"))]
fn truncate_name(name: &str) -> &str {
    let mut end = name.len().min(usize::from(u16::MAX));
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sym(addr: u64, size: u32, name: &str) -> (u64, u32, String) {
        (addr, size, name.to_string())
    }

    #[test]
    fn empty_input_is_an_empty_table() {
        let t = KsymTable::parse(&[]).unwrap();
        assert!(t.is_empty());
        assert_eq!(t.len(), 0);
        assert_eq!(t.lookup(0), None);
        assert_eq!(t.lookup(u64::MAX), None);
    }

    #[test]
    fn encoding_nothing_gives_a_valid_empty_table() {
        let bytes = encode(&[]);
        assert_eq!(bytes, b"KSYM\0\0\0\0");
        let t = KsymTable::parse(&bytes).unwrap();
        assert!(t.is_empty());
        assert_eq!(t.lookup(42), None);
    }

    #[test]
    fn lookup_boundaries() {
        let base = 0xffff_ffff_8000_0000u64;
        let bytes = encode(&[
            sym(base + 0x100, 0x20, "b"),
            sym(base, 0x10, "kernel::start"),
            sym(base + 0x200, 0, "zero_sized"),
            sym(u64::MAX - 3, 100, "at_the_top"),
        ]);
        let t = KsymTable::parse(&bytes).unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t.lookup(base - 1), None);
        assert_eq!(t.lookup(base), Some(("kernel::start", 0)));
        assert_eq!(t.lookup(base + 0xf), Some(("kernel::start", 0xf)));
        assert_eq!(t.lookup(base + 0x10), None, "one past the end is outside");
        assert_eq!(t.lookup(base + 0xff), None, "gap between symbols");
        assert_eq!(t.lookup(base + 0x100), Some(("b", 0)));
        assert_eq!(t.lookup(base + 0x11f), Some(("b", 0x1f)));
        assert_eq!(t.lookup(base + 0x120), None);
        // A zero-sized symbol still covers its own address.
        assert_eq!(t.lookup(base + 0x200), Some(("zero_sized", 0)));
        assert_eq!(t.lookup(base + 0x201), None);
        // No overflow near the top of the address space.
        assert_eq!(t.lookup(u64::MAX), Some(("at_the_top", 3)));
        assert_eq!(t.lookup(0), None);
    }

    #[test]
    fn aliases_at_one_address() {
        let bytes = encode(&[sym(0x1000, 4, "short"), sym(0x1000, 64, "long")]);
        let t = KsymTable::parse(&bytes).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.lookup(0x1002), Some(("short", 2)));
        assert_eq!(t.lookup(0x1010), Some(("long", 0x10)));
        assert_eq!(t.lookup(0x1040), None);
    }

    #[test]
    fn exact_duplicates_are_dropped_and_names_shared() {
        let bytes = encode(&[
            sym(0x10, 4, "generic_fn"),
            sym(0x10, 4, "generic_fn"),
            sym(0x20, 4, "generic_fn"),
        ]);
        let t = KsymTable::parse(&bytes).unwrap();
        assert_eq!(t.len(), 2);
        // One copy of the name: header + 2 entries + (2 + 10) string bytes.
        assert_eq!(bytes.len(), 8 + 2 * 16 + 2 + 10);
        assert_eq!(t.lookup(0x21), Some(("generic_fn", 1)));
    }

    #[test]
    fn long_names_are_truncated_at_a_char_boundary() {
        // 'é' is two bytes; 40000 of them is 80000 bytes.
        let long = "é".repeat(40_000);
        let bytes = encode(&[(1, 1, long.clone())]);
        let t = KsymTable::parse(&bytes).unwrap();
        let (name, _) = t.lookup(1).unwrap();
        assert_eq!(name.len(), 65_534);
        assert!(long.starts_with(name));
    }

    #[test]
    fn encoding_is_deterministic_whatever_the_input_order() {
        let a = encode(&[sym(2, 1, "x"), sym(1, 1, "y"), sym(1, 1, "a")]);
        let b = encode(&[sym(1, 1, "a"), sym(1, 1, "y"), sym(2, 1, "x")]);
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(KsymTable::parse(b"KSY").unwrap_err(), KsymError::BadMagic);
        assert_eq!(
            KsymTable::parse(b"NOPE\0\0\0\0").unwrap_err(),
            KsymError::BadMagic
        );
        assert_eq!(
            KsymTable::parse(b"KSYM\0\0").unwrap_err(),
            KsymError::Truncated
        );
        // Claims one entry but has none.
        assert_eq!(
            KsymTable::parse(b"KSYM\x01\0\0\0").unwrap_err(),
            KsymError::Truncated
        );
        // A huge count must not overflow.
        assert_eq!(
            KsymTable::parse(b"KSYM\xff\xff\xff\xff").unwrap_err(),
            KsymError::Truncated
        );

        let good = encode(&[sym(1, 1, "one"), sym(2, 1, "two")]);
        KsymTable::parse(&good).unwrap();

        // Unsorted: swap the addresses.
        let mut unsorted = good.clone();
        unsorted[8..16].copy_from_slice(&2u64.to_le_bytes());
        unsorted[24..32].copy_from_slice(&1u64.to_le_bytes());
        assert_eq!(
            KsymTable::parse(&unsorted).unwrap_err(),
            KsymError::NotSorted
        );

        // Name offset past the string area.
        let mut bad_offset = good.clone();
        bad_offset[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(
            KsymTable::parse(&bad_offset).unwrap_err(),
            KsymError::BadOffset
        );

        // Name length past the string area (the string area starts at 40).
        let mut bad_len = good.clone();
        bad_len[40..42].copy_from_slice(&100u16.to_le_bytes());
        assert_eq!(
            KsymTable::parse(&bad_len).unwrap_err(),
            KsymError::BadOffset
        );

        // Invalid UTF-8 in a name.
        let mut bad_utf8 = good.clone();
        bad_utf8[42] = 0xff;
        assert_eq!(
            KsymTable::parse(&bad_utf8).unwrap_err(),
            KsymError::BadOffset
        );

        // Truncating the string area is detected.
        assert_eq!(
            KsymTable::parse(&good[..good.len() - 1]).unwrap_err(),
            KsymError::BadOffset
        );
    }

    #[test]
    fn iter_and_get() {
        let bytes = encode(&[sym(5, 1, "five"), sym(3, 2, "three")]);
        let t = KsymTable::parse(&bytes).unwrap();
        let all: Vec<_> = t.iter().collect();
        assert_eq!(all, vec![(3, 2, "three"), (5, 1, "five")]);
        assert_eq!(t.get(2), None);
    }

    fn symbols_strategy() -> impl Strategy<Value = Vec<(u64, u32, String)>> {
        proptest::collection::vec(
            (
                prop_oneof![any::<u64>(), 0u64..64, (u64::MAX - 64)..=u64::MAX],
                prop_oneof![any::<u32>(), 0u32..8],
                "\\PC{0,24}",
            ),
            0..40,
        )
    }

    proptest! {
        #[test]
        fn round_trip(symbols in symbols_strategy()) {
            let bytes = encode(&symbols);
            let t = KsymTable::parse(&bytes).unwrap();
            let mut expected: Vec<(u64, u32, &str)> =
                symbols.iter().map(|(a, s, n)| (*a, *s, n.as_str())).collect();
            expected.sort_unstable();
            expected.dedup();
            let decoded: Vec<_> = t.iter().collect();
            prop_assert_eq!(decoded, expected);
        }

        #[test]
        fn lookup_agrees_with_a_linear_scan(symbols in symbols_strategy(), probes in proptest::collection::vec(any::<u64>(), 0..20)) {
            let bytes = encode(&symbols);
            let t = KsymTable::parse(&bytes).unwrap();
            // Probe random addresses and every symbol's first, last and one-past-last byte.
            let mut addrs = probes;
            for (a, s, _) in &symbols {
                let len = u64::from((*s).max(1));
                addrs.push(*a);
                addrs.push(a.saturating_add(len - 1));
                addrs.push(a.wrapping_add(len));
                addrs.push(a.wrapping_sub(1));
            }
            let entries: Vec<_> = t.iter().collect();
            for addr in addrs {
                // The reference: among the symbols with the greatest start <= addr,
                // the first in table order that contains addr.
                let start = entries.iter().map(|e| e.0).filter(|&a| a <= addr).max();
                let expected = start.and_then(|start| {
                    entries
                        .iter()
                        .filter(|e| e.0 == start)
                        .find(|e| addr - start < u64::from(e.1.max(1)))
                        .map(|e| (e.2, addr - start))
                });
                prop_assert_eq!(t.lookup(addr), expected);
            }
        }

        #[test]
        fn random_bytes_never_panic(with_magic in any::<bool>(), tail in proptest::collection::vec(any::<u8>(), 0..256), addr in any::<u64>()) {
            // With the magic in front, parsing gets past the first check.
            let mut bytes = if with_magic { MAGIC.to_vec() } else { Vec::new() };
            bytes.extend_from_slice(&tail);
            if let Ok(t) = KsymTable::parse(&bytes) {
                let _ = t.lookup(addr);
                for (a, _, _) in t.iter() {
                    let _ = t.lookup(a);
                }
            }
        }

        #[test]
        fn corrupted_tables_never_panic(symbols in symbols_strategy(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), addr in any::<u64>()) {
            let mut bytes = encode(&symbols);
            for (at, value) in flips {
                let len = bytes.len();
                bytes[at % len] = value;
            }
            if let Ok(t) = KsymTable::parse(&bytes) {
                let _ = t.lookup(addr);
                for (a, s, _) in t.iter() {
                    let _ = t.lookup(a.saturating_add(u64::from(s)));
                }
            }
        }
    }
}
