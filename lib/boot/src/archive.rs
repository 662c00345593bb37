//! The archives the host tool loads into guest RAM beside the kernel, as the
//! command line names them.
//!
//! A PVH boot (QEMU `-kernel`) carries no initrd, so the host tool puts the
//! root tree and the `--add` archive into guest memory with QEMU's generic
//! loader and tells the kernel where with one option per archive:
//! `archive=<name>@<address>+<length>` (key
//! [`abide_abi::host::cmdline::ARCHIVE`]). The kernel keeps those frames out
//! of its allocator and serves the bytes by name. This module is the one
//! place that writes ([`ArchiveRange`]'s `Display`) and reads
//! ([`archives`]) that option.

use core::fmt;

use abide_abi::host::{cmdline::ARCHIVE, ARCHIVES};

use crate::{Cmdline, MemoryMap};

/// Page size the archives are aligned to.
const PAGE: u64 = 4096;

/// An archive in guest-physical memory: `[start, start + len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveRange<'a> {
    /// One of [`ARCHIVES`].
    pub name: &'a str,
    /// Page-aligned physical address of its first byte.
    pub start: u64,
    /// Its length in bytes (not 0).
    pub len: u64,
}

impl ArchiveRange<'_> {
    /// The end of the range rounded up to a whole page: the frames to keep
    /// are `[start, frames_end())`.
    pub fn frames_end(&self) -> u64 {
        self.start.saturating_add(self.len).div_ceil(PAGE) * PAGE
    }

    /// Whether the kernel may keep and serve these frames: they lie inside
    /// one usable region of `memory` (so the direct map covers them) and
    /// overlap none of the `avoid` ranges (the kernel image, low memory;
    /// each `(start, end)`, end exclusive).
    pub fn may_keep(&self, memory: &MemoryMap, avoid: &[(u64, u64)]) -> bool {
        let (start, end) = (self.start, self.frames_end());
        let inside = memory.usable().any(|r| r.start <= start && end <= r.end);
        let overlaps = avoid.iter().any(|&(s, e)| start.max(s) < end.min(e));
        inside && !overlaps
    }
}

/// Writes the command-line option, `archive=rootfs@0xf600000+0x1f4a00`.
impl fmt::Display for ArchiveRange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ARCHIVE}={}@{:#x}+{:#x}",
            self.name, self.start, self.len
        )
    }
}

/// Why an `archive=` option was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveError {
    /// Not `<name>@0x<address>+0x<length>`.
    Malformed,
    /// The name is not one of [`ARCHIVES`].
    UnknownName,
    /// The address is not page-aligned, the length is 0, or the range
    /// wraps around.
    BadRange,
    /// An earlier option already named this archive.
    Duplicate,
}

/// Parses the value of one `archive=` option.
pub fn parse(value: &str) -> Result<ArchiveRange<'_>, ArchiveError> {
    let (name, range) = value.split_once('@').ok_or(ArchiveError::Malformed)?;
    let (start, len) = range.split_once('+').ok_or(ArchiveError::Malformed)?;
    let start = hex(start).ok_or(ArchiveError::Malformed)?;
    let len = hex(len).ok_or(ArchiveError::Malformed)?;
    if !ARCHIVES.contains(&name) {
        return Err(ArchiveError::UnknownName);
    }
    let aligned = start % PAGE == 0;
    let fits = start
        .checked_add(len)
        .and_then(|end| end.checked_add(PAGE))
        .is_some();
    if !aligned || len == 0 || !fits {
        return Err(ArchiveError::BadRange);
    }
    Ok(ArchiveRange { name, start, len })
}

/// `0x`-prefixed hexadecimal.
fn hex(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("0x")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// Every `archive=` option of `cmdline`, in order, each parsed; a second
/// option naming an archive already named is [`ArchiveError::Duplicate`]
/// (the first one counts).
pub fn archives(
    cmdline: &Cmdline,
) -> impl Iterator<Item = (&str, Result<ArchiveRange<'_>, ArchiveError>)> {
    let values = || {
        cmdline
            .options()
            .filter(|(key, _)| *key == ARCHIVE)
            .map(|(_, value)| value.unwrap_or(""))
    };
    values().enumerate().map(move |(index, value)| {
        let parsed = parse(value).and_then(|range| {
            let earlier = values()
                .take(index)
                .filter_map(|v| parse(v).ok())
                .any(|other| other.name == range.name);
            if earlier {
                Err(ArchiveError::Duplicate)
            } else {
                Ok(range)
            }
        });
        (value, parsed)
    })
}

/// The valid archives of `cmdline` (see [`archives`]), the rest left out.
pub fn valid_archives(cmdline: &Cmdline) -> impl Iterator<Item = ArchiveRange<'_>> {
    archives(cmdline).filter_map(|(_, parsed)| parsed.ok())
}

/// The archive called `name`, when the command line names a valid one.
pub fn find<'a>(cmdline: &'a Cmdline, name: &str) -> Option<ArchiveRange<'a>> {
    valid_archives(cmdline).find(|range| range.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Cmdline {
        Cmdline::from_bytes(text.as_bytes())
    }

    #[test]
    fn the_option_round_trips() {
        let range = ArchiveRange {
            name: "rootfs",
            start: 0xf60_0000,
            len: 0x1f_4a00,
        };
        let text = std::format!("{range}");
        assert_eq!(text, "archive=rootfs@0xf600000+0x1f4a00");
        let value = text.strip_prefix("archive=").unwrap();
        assert_eq!(parse(value), Ok(range));
        assert_eq!(range.frames_end(), 0xf60_0000 + 0x1f_5000);
        let whole = ArchiveRange {
            len: 0x2000,
            ..range
        };
        assert_eq!(whole.frames_end(), 0xf60_2000);
    }

    #[test]
    fn malformed_values_are_refused() {
        use ArchiveError::*;
        for (value, error) in [
            ("", Malformed),
            ("rootfs", Malformed),
            ("rootfs@0x1000", Malformed),
            ("rootfs@4096+0x10", Malformed),
            ("rootfs@0x1000+16", Malformed),
            ("rootfs@0x+0x10", Malformed),
            ("rootfs@0x1000+0xzz", Malformed),
            ("rootfs@0x1000+0x1ffffffffffffffff", Malformed),
            ("etc@0x1000+0x10", UnknownName),
            ("rootfs@0x1001+0x10", BadRange),
            ("rootfs@0x1000+0x0", BadRange),
            ("add@0xfffffffffffff000+0x10", BadRange),
        ] {
            assert_eq!(parse(value), Err(error), "{value}");
        }
        assert!(parse("add@0x1000+0x1").is_ok());
    }

    #[test]
    fn every_option_is_read_and_the_first_of_a_name_counts() {
        let c = line(
            "log=debug archive=rootfs@0x8000000+0x2000 archive=add@0x7000000+0x10 \
             archive=rootfs@0x9000000+0x10 archive=bad archive",
        );
        let all: std::vec::Vec<_> = archives(&c).map(|(_, r)| r).collect();
        assert_eq!(all.len(), 5);
        assert_eq!(all[2], Err(ArchiveError::Duplicate));
        assert_eq!(all[3], Err(ArchiveError::Malformed));
        assert_eq!(all[4], Err(ArchiveError::Malformed));
        let valid: std::vec::Vec<_> = valid_archives(&c).collect();
        assert_eq!(
            valid,
            [
                ArchiveRange {
                    name: "rootfs",
                    start: 0x800_0000,
                    len: 0x2000
                },
                ArchiveRange {
                    name: "add",
                    start: 0x700_0000,
                    len: 0x10
                }
            ]
        );
        assert_eq!(find(&c, "rootfs").map(|r| r.start), Some(0x800_0000));
        assert_eq!(find(&line("log=debug"), "rootfs"), None);
        assert_eq!(archives(&line("")).count(), 0);
    }

    #[test]
    fn only_ranges_inside_usable_memory_and_clear_of_the_kernel_are_kept() {
        use crate::RegionKind;
        let mut memory = MemoryMap::default();
        memory.push(0, 0x9_f000, RegionKind::Usable).unwrap();
        memory
            .push(0x10_0000, 0xff0_0000, RegionKind::Usable)
            .unwrap();
        memory
            .push(0xfff_0000, 0x1_0000, RegionKind::Reserved)
            .unwrap();
        memory.normalize();
        let kernel = [(0, 0x10_0000), (0x20_0000, 0x80_0000)];
        let at = |start, len| ArchiveRange {
            name: "add",
            start,
            len,
        };
        assert!(at(0xf00_0000, 0xf0_0000).may_keep(&memory, &kernel));
        // The last page is partly used: the whole page must be usable.
        assert!(at(0xffe_f000, 0x1000).may_keep(&memory, &kernel));
        assert!(!at(0xffe_f000, 0x1001).may_keep(&memory, &kernel));
        assert!(!at(0x7f_f000, 0x10).may_keep(&memory, &kernel));
        assert!(!at(0x9_e000, 0x10_0000).may_keep(&memory, &kernel));
        assert!(!at(0x2000_0000, 0x10).may_keep(&memory, &kernel));
    }
}
