//! The bundle: the user programs embedded in the kernel image.
//!
//! Abide has no file system the kernel could load its first programs from, and
//! the kernel must not depend on one: it starts `init` (and, until services
//! exist, test programs) from ELF images it carries itself. The host tool
//! builds the user workspace (`user/`), encodes every program binary into one
//! bundle in the format defined here and embeds the bytes in the kernel image
//! (`include_bytes!(env!("ABIDE_BUNDLE"))`). The kernel finds a program by
//! name with [`Bundle::get`].
//!
//! The bundle is validated completely by [`Bundle::parse`], once; afterwards
//! lookups and iteration cannot fail or panic. The crate is `no_std`, free of
//! `unsafe` and allocation-free for the kernel; the `std` feature adds the
//! [`encode`] function the host tool uses.
//!
//! # Format
//!
//! All integers are little endian.
//!
//! ```text
//! magic      8 bytes  "ABNDL\0\0\x01" (the last byte is the format version)
//! count      u32
//! directory  count × { name_len u16, name (name_len bytes), offset u32, len u32 }
//! data       each program's bytes at `offset` from the start of the bundle
//! ```
//!
//! Names are 1..=64 bytes of `[a-z0-9_-]` and the directory is sorted by name
//! (byte order) without repeats. The layout is canonical: the first program
//! starts at the end of the directory rounded up to 16, each next one at the
//! end of the previous rounded up to 16, the padding is zero and the bundle
//! ends with the last program. So every program starts 16-byte aligned
//! relative to the start of the bundle, and `encode(parse(b)) == b`.
//!
//! An empty input (zero bytes) is a valid, empty bundle, so a kernel built
//! without user programs works unchanged.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

use abide_le::{u16_at, u32_at};

/// The first eight bytes of a non-empty bundle; the last one is the version.
pub const MAGIC: [u8; 8] = *b"ABNDL\0\0\x01";
/// The longest program name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Every program's offset is a multiple of this.
pub const DATA_ALIGN: usize = 16;

/// Size of the header: magic and program count.
const HEADER_LEN: usize = 12;
/// Size of a directory entry besides its name: name_len, offset, len.
const ENTRY_FIXED_LEN: usize = 2 + 4 + 4;

/// Why bytes are not a valid bundle, or programs cannot be encoded into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleError {
    /// The input is not empty and does not start with [`MAGIC`].
    BadMagic,
    /// The header, the directory or a program runs past the end of the input.
    Truncated,
    /// A name is empty, longer than [`MAX_NAME_LEN`] or has a character
    /// outside `[a-z0-9_-]`.
    BadName,
    /// The directory is not sorted by name, or a name repeats.
    NotSorted,
    /// A program is not where the canonical layout puts it, padding is not
    /// zero, or bytes follow the last program.
    BadLayout,
    /// Two programs to encode have the same name.
    DuplicateName,
    /// The bundle would exceed the format's 4 GiB (32-bit offsets and count).
    TooLarge,
}

impl core::fmt::Display for BundleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            BundleError::BadMagic => "bundle: bad magic",
            BundleError::Truncated => "bundle: truncated",
            BundleError::BadName => "bundle: program name not 1..=64 bytes of [a-z0-9_-]",
            BundleError::NotSorted => "bundle: directory not sorted by name, or a name repeats",
            BundleError::BadLayout => "bundle: program data not in the canonical layout",
            BundleError::DuplicateName => "bundle: two programs have the same name",
            BundleError::TooLarge => "bundle: larger than the format's 4 GiB",
        })
    }
}

#[cfg(any(test, feature = "std"))]
impl std::error::Error for BundleError {}

/// Whether `name` may name a program: 1..=[`MAX_NAME_LEN`] bytes of
/// `[a-z0-9_-]`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A validated, borrowed bundle.
#[derive(Debug, Clone, Copy)]
pub struct Bundle<'a> {
    /// The whole bundle (empty for the empty bundle).
    bytes: &'a [u8],
    /// Number of programs.
    count: usize,
}

/// One decoded directory entry.
#[derive(Clone, Copy)]
struct Entry<'a> {
    name: &'a str,
    offset: usize,
    len: usize,
}

/// `value` rounded up to [`DATA_ALIGN`].
fn align_up(value: usize) -> Option<usize> {
    Some(value.checked_add(DATA_ALIGN - 1)? & !(DATA_ALIGN - 1))
}

/// The directory entry at `at`, and where the next one starts.
fn read_entry(bytes: &[u8], at: usize) -> Result<(Entry<'_>, usize), BundleError> {
    let name_len = usize::from(u16_at(bytes, at).ok_or(BundleError::Truncated)?);
    if !(1..=MAX_NAME_LEN).contains(&name_len) {
        return Err(BundleError::BadName);
    }
    let name_start = at + 2;
    let name_end = name_start
        .checked_add(name_len)
        .ok_or(BundleError::Truncated)?;
    let name = bytes
        .get(name_start..name_end)
        .ok_or(BundleError::Truncated)?;
    // Valid names are ASCII, so this only fails for names that are invalid anyway.
    let name = core::str::from_utf8(name).map_err(|_| BundleError::BadName)?;
    if !is_valid_name(name) {
        return Err(BundleError::BadName);
    }
    let offset = u32_at(bytes, name_end).ok_or(BundleError::Truncated)?;
    let len = u32_at(bytes, name_end + 4).ok_or(BundleError::Truncated)?;
    let entry = Entry {
        name,
        offset: usize::try_from(offset).map_err(|_| BundleError::TooLarge)?,
        len: usize::try_from(len).map_err(|_| BundleError::TooLarge)?,
    };
    Ok((entry, name_end + 8))
}

impl<'a> Bundle<'a> {
    /// The bundle without programs.
    pub const EMPTY: Bundle<'static> = Bundle {
        bytes: &[],
        count: 0,
    };

    /// Validates everything once (names, order, layout, bounds), so lookups
    /// and iteration never fail or panic afterwards. An empty input (len 0)
    /// is a valid empty bundle.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BundleError> {
        if bytes.is_empty() {
            return Ok(Bundle { bytes, count: 0 });
        }
        // A prefix of the magic is as wrong as a different magic.
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(BundleError::BadMagic);
        }
        let count = u32_at(bytes, MAGIC.len()).ok_or(BundleError::Truncated)?;
        // Each entry takes at least ENTRY_FIXED_LEN + 1 bytes, so a count the
        // input cannot hold fails here, before any loop runs long.
        let count = usize::try_from(count).map_err(|_| BundleError::Truncated)?;
        if count > (bytes.len() - HEADER_LEN) / (ENTRY_FIXED_LEN + 1) {
            return Err(BundleError::Truncated);
        }

        // The directory: names valid and strictly ascending.
        let mut at = HEADER_LEN;
        let mut previous: Option<&str> = None;
        for _ in 0..count {
            let (entry, next) = read_entry(bytes, at)?;
            if previous.is_some_and(|p| p >= entry.name) {
                return Err(BundleError::NotSorted);
            }
            previous = Some(entry.name);
            at = next;
        }

        // The data: each program where the canonical layout puts it.
        let mut end = at;
        let mut at = HEADER_LEN;
        for _ in 0..count {
            let (entry, next) = read_entry(bytes, at)?;
            at = next;
            let start = align_up(end).ok_or(BundleError::Truncated)?;
            if entry.offset != start {
                return Err(BundleError::BadLayout);
            }
            let padding = bytes.get(end..start).ok_or(BundleError::Truncated)?;
            if padding.iter().any(|&b| b != 0) {
                return Err(BundleError::BadLayout);
            }
            end = start.checked_add(entry.len).ok_or(BundleError::Truncated)?;
            if end > bytes.len() {
                return Err(BundleError::Truncated);
            }
        }
        if end != bytes.len() {
            return Err(BundleError::BadLayout);
        }
        Ok(Bundle { bytes, count })
    }

    /// Number of programs.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the bundle holds no programs.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The ELF image of the program called `name`.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, data)| data)
    }

    /// Every program as (name, bytes), in name order.
    pub fn iter(&self) -> Programs<'a> {
        Programs {
            bytes: self.bytes,
            at: HEADER_LEN,
            remaining: self.count,
        }
    }
}

impl<'a> IntoIterator for &Bundle<'a> {
    type Item = (&'a str, &'a [u8]);
    type IntoIter = Programs<'a>;

    fn into_iter(self) -> Programs<'a> {
        self.iter()
    }
}

/// The programs of a [`Bundle`] as (name, bytes), in name order.
#[derive(Debug, Clone)]
pub struct Programs<'a> {
    bytes: &'a [u8],
    /// Where the next directory entry starts.
    at: usize,
    remaining: usize,
}

impl<'a> Iterator for Programs<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        // `parse` validated every entry, so neither read fails; if one did,
        // the iteration would just end.
        let item = read_entry(self.bytes, self.at).ok().and_then(|(e, next)| {
            self.at = next;
            let data = self.bytes.get(e.offset..e.offset.checked_add(e.len)?)?;
            Some((e.name, data))
        });
        self.remaining = if item.is_some() {
            self.remaining - 1
        } else {
            0
        };
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

/// Encodes programs (name, ELF bytes) into a bundle, sorted by name.
///
/// Fails with [`BundleError::BadName`] for a name outside the rules of
/// [`is_valid_name`], [`BundleError::DuplicateName`] when a name repeats and
/// [`BundleError::TooLarge`] when the bundle would exceed 4 GiB. No programs
/// give a bundle with just the header (count 0).
#[cfg(any(test, feature = "std"))]
pub fn encode(programs: &[(String, Vec<u8>)]) -> Result<Vec<u8>, BundleError> {
    if !programs.iter().all(|(name, _)| is_valid_name(name)) {
        return Err(BundleError::BadName);
    }
    let mut sorted: Vec<&(String, Vec<u8>)> = programs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    if sorted.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(BundleError::DuplicateName);
    }

    let count = u32::try_from(sorted.len()).map_err(|_| BundleError::TooLarge)?;
    let directory_len: usize = sorted
        .iter()
        .map(|(name, _)| ENTRY_FIXED_LEN + name.len())
        .sum();
    // Place the programs.
    let mut end = HEADER_LEN + directory_len;
    let mut offsets = Vec::with_capacity(sorted.len());
    for (_, data) in &sorted {
        let start = align_up(end).ok_or(BundleError::TooLarge)?;
        end = start.checked_add(data.len()).ok_or(BundleError::TooLarge)?;
        offsets.push(start);
    }
    if u32::try_from(end).is_err() {
        return Err(BundleError::TooLarge);
    }

    let mut out = Vec::with_capacity(end);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&count.to_le_bytes());
    for ((name, data), &offset) in sorted.iter().zip(&offsets) {
        // Checked above: names are at most 64 bytes, offsets and lengths
        // below `end`, which fits in a u32.
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(offset as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    }
    for ((_, data), &offset) in sorted.iter().zip(&offsets) {
        out.resize(offset, 0);
        out.extend_from_slice(data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn program(name: &str, data: &[u8]) -> (String, Vec<u8>) {
        (name.to_string(), data.to_vec())
    }

    #[test]
    fn empty_input_is_an_empty_bundle() {
        let b = Bundle::parse(&[]).unwrap();
        assert!(b.is_empty());
        assert_eq!(b.len(), 0);
        assert_eq!(b.get("init"), None);
        assert_eq!(b.iter().count(), 0);
        assert!(Bundle::EMPTY.is_empty());
    }

    #[test]
    fn encoding_nothing_gives_a_valid_empty_bundle() {
        let bytes = encode(&[]).unwrap();
        assert_eq!(bytes, b"ABNDL\0\0\x01\0\0\0\0");
        let b = Bundle::parse(&bytes).unwrap();
        assert!(b.is_empty());
        assert_eq!(b.get(""), None);
    }

    #[test]
    fn layout_is_sorted_aligned_and_exact() {
        let bytes = encode(&[
            program("hello", b"HELLO"),
            program("fault-ud", &[0xf; 17]),
            program("empty", b""),
        ])
        .unwrap();
        // Header 12; entries 10 + 5 ("empty"), 10 + 8 ("fault-ud"), 10 + 5
        // ("hello") end at 60; data at 64 (empty), 64 (17 bytes), 96 (5 bytes).
        assert_eq!(&bytes[..12], b"ABNDL\0\0\x01\x03\0\0\0");
        assert_eq!(&bytes[12..14], &5u16.to_le_bytes());
        assert_eq!(&bytes[14..19], b"empty");
        assert_eq!(&bytes[19..23], &64u32.to_le_bytes());
        assert_eq!(&bytes[23..27], &0u32.to_le_bytes());
        assert_eq!(&bytes[29..37], b"fault-ud");
        assert_eq!(&bytes[37..41], &64u32.to_le_bytes());
        assert_eq!(&bytes[41..45], &17u32.to_le_bytes());
        assert_eq!(&bytes[47..52], b"hello");
        assert_eq!(&bytes[52..56], &96u32.to_le_bytes());
        assert_eq!(&bytes[56..60], &5u32.to_le_bytes());
        assert_eq!(&bytes[60..64], &[0; 4]);
        assert_eq!(&bytes[64..81], &[0xf; 17]);
        assert_eq!(&bytes[96..], b"HELLO");
        assert_eq!(bytes.len(), 101);

        let b = Bundle::parse(&bytes).unwrap();
        assert_eq!(b.len(), 3);
        let all: Vec<_> = b.iter().collect();
        assert_eq!(
            all,
            vec![
                ("empty", &b""[..]),
                ("fault-ud", &[0xf; 17][..]),
                ("hello", &b"HELLO"[..])
            ]
        );
        assert_eq!(b.get("hello"), Some(&b"HELLO"[..]));
        assert_eq!(b.get("hell"), None);
        assert_eq!(b.get("hello2"), None);
        assert_eq!((&b).into_iter().count(), 3);
    }

    #[test]
    fn encoding_is_deterministic_whatever_the_input_order() {
        let a = encode(&[program("b", b"2"), program("a", b"1")]).unwrap();
        let b = encode(&[program("a", b"1"), program("b", b"2")]).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn names_follow_the_rules() {
        for good in ["a", "hello", "fault-page", "init_2", &"x".repeat(64)] {
            assert!(is_valid_name(good), "{good}");
            encode(&[program(good, b"")]).unwrap();
        }
        for bad in ["", "Hello", "a b", "a/b", "a.b", "é", &"x".repeat(65)] {
            assert!(!is_valid_name(bad), "{bad}");
            assert_eq!(
                encode(&[program(bad, b"")]).unwrap_err(),
                BundleError::BadName
            );
        }
        assert_eq!(
            encode(&[program("a", b"1"), program("b", b""), program("a", b"2")]).unwrap_err(),
            BundleError::DuplicateName
        );
    }

    #[test]
    fn rejects_bad_input() {
        use BundleError::*;
        let parse = |bytes: &[u8]| Bundle::parse(bytes).unwrap_err();
        assert_eq!(parse(b"ABNDL"), BadMagic);
        assert_eq!(parse(b"ABNDL\0\0\x02\0\0\0\0"), BadMagic, "other version");
        assert_eq!(parse(b"ABNDL\0\0\x01\0\0"), Truncated);
        assert_eq!(parse(b"ABNDL\0\0\x01\x01\0\0\0"), Truncated);
        assert_eq!(parse(b"ABNDL\0\0\x01\xff\xff\xff\xff"), Truncated);

        let good = encode(&[program("ab", b"12345"), program("cd", b"678")]).unwrap();
        // Header 12, entries 12..24 ("ab") and 24..36 ("cd"); data at 48 and 64.
        Bundle::parse(&good).unwrap();
        let with = |at: usize, patch: &[u8]| {
            let mut bytes = good.clone();
            bytes[at..at + patch.len()].copy_from_slice(patch);
            Bundle::parse(&bytes).unwrap_err()
        };
        assert_eq!(with(14, b"AB"), BadName);
        assert_eq!(with(14, b"\xff\xfe"), BadName);
        assert_eq!(with(12, &0u16.to_le_bytes()), BadName);
        assert_eq!(with(12, &65u16.to_le_bytes()), BadName);
        assert_eq!(with(26, b"ab"), NotSorted, "repeated name");
        assert_eq!(with(14, b"zz"), NotSorted);
        assert_eq!(with(16, &64u32.to_le_bytes()), BadLayout, "moved");
        assert_eq!(with(16, &49u32.to_le_bytes()), BadLayout, "misaligned");
        assert_eq!(with(28, &50u32.to_le_bytes()), BadLayout, "overlap");
        assert_eq!(with(40, &[1]), BadLayout, "padding not zero");
        assert_eq!(with(32, &2u32.to_le_bytes()), BadLayout, "trailing bytes");
        assert_eq!(with(32, &4000u32.to_le_bytes()), Truncated);
        assert_eq!(parse(&good[..good.len() - 1]), Truncated);
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(parse(&longer), BadLayout);
    }

    fn programs_strategy() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
        proptest::collection::btree_map(
            "[a-z0-9_-]{1,64}",
            proptest::collection::vec(any::<u8>(), 0..100),
            0..12,
        )
        .prop_map(|map| map.into_iter().collect())
    }

    proptest! {
        #[test]
        fn round_trip(programs in programs_strategy(), reversed in any::<bool>()) {
            let mut input = programs.clone();
            if reversed {
                input.reverse();
            }
            let bytes = encode(&input).unwrap();
            let b = Bundle::parse(&bytes).unwrap();
            prop_assert_eq!(b.len(), programs.len());
            let decoded: Vec<(String, Vec<u8>)> =
                b.iter().map(|(n, d)| (n.to_string(), d.to_vec())).collect();
            prop_assert_eq!(&decoded, &programs);
            for (name, data) in &programs {
                prop_assert_eq!(b.get(name), Some(&data[..]));
            }
            for (name, data) in b.iter() {
                let offset = data.as_ptr() as usize - bytes.as_ptr() as usize;
                prop_assert_eq!(offset % DATA_ALIGN, 0, "{} misaligned", name);
            }
        }

        #[test]
        fn random_bytes_never_panic(with_header in any::<bool>(), count in 0u32..6, tail in proptest::collection::vec(any::<u8>(), 0..256), name in "[a-z]{0,8}") {
            // With magic and a small count in front, parsing gets to the directory.
            let mut bytes = Vec::new();
            if with_header {
                bytes.extend_from_slice(&MAGIC);
                bytes.extend_from_slice(&count.to_le_bytes());
            }
            bytes.extend_from_slice(&tail);
            if let Ok(b) = Bundle::parse(&bytes) {
                let _ = b.get(&name);
                prop_assert_eq!(b.iter().count(), b.len());
                // Whatever parses is canonical.
                let programs: Vec<(String, Vec<u8>)> =
                    b.iter().map(|(n, d)| (n.to_string(), d.to_vec())).collect();
                if !bytes.is_empty() {
                    prop_assert_eq!(encode(&programs).unwrap(), bytes);
                }
            }
        }

        #[test]
        fn corrupted_bundles_never_panic(programs in programs_strategy(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), name in "[a-z]{0,8}") {
            let mut bytes = encode(&programs).unwrap();
            for (at, value) in flips {
                let len = bytes.len();
                bytes[at % len] = value;
            }
            if let Ok(b) = Bundle::parse(&bytes) {
                let _ = b.get(&name);
                prop_assert_eq!(b.iter().count(), b.len());
            }
        }
    }
}
