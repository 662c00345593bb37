//! Reading the Multiboot2 boot information, as GRUB passes it.
//!
//! GRUB enters the kernel with `eax` = [`BOOTLOADER_MAGIC`] and `ebx` holding
//! the physical address of the boot information (MBI): a size header followed by
//! 8-byte-aligned tags. The kernel needs three of them: the command line, the
//! memory map and the copy of the ACPI RSDP.
//!
//! The MBI is walked as a stream of small reads (through [`PhysMemory`] or over a
//! byte slice) rather than copied whole, so no large buffer is needed on the
//! kernel stack; it may be up to [`MAX_MBI_SIZE`] bytes.

use crate::cmdline::{Cmdline, MAX_CMDLINE};
use crate::memmap::{MemoryMap, RegionKind};
use crate::{BootInfo, BootInfoError, BootProtocol, PhysMemory};
use abide_le::{u32_at, u64_at};

/// The value of `eax` when a Multiboot2 loader started the kernel.
pub const BOOTLOADER_MAGIC: u32 = 0x36d7_6289;

/// The largest boot information [`read_boot_info`] accepts.
pub const MAX_MBI_SIZE: u32 = 64 * 1024;

/// Size of the MBI header and of each tag header.
const HEADER_SIZE: u32 = 8;
/// Size of the memory map tag's header (tag header + entry_size + entry_version).
const MMAP_HEADER_SIZE: u32 = 16;
/// Size of the memory map entry fields we read.
const MMAP_ENTRY_MIN: u32 = 24;

const TAG_END: u32 = 0;
const TAG_CMDLINE: u32 = 1;
const TAG_MMAP: u32 = 6;
const TAG_ACPI_OLD: u32 = 14;
const TAG_ACPI_NEW: u32 = 15;

/// Reads the boot information at physical address `mbi`.
///
/// Err(BadLength) when its total size is below 8 or above [`MAX_MBI_SIZE`].
pub fn read_boot_info(mem: &impl PhysMemory, mbi: u64) -> Result<BootInfo, BootInfoError> {
    let mut header = [0u8; HEADER_SIZE as usize];
    if !mem.read(mbi, &mut header) {
        return Err(BootInfoError::Unreadable);
    }
    let total = u32_at(&header, 0).ok_or(BootInfoError::Unreadable)?;
    if !(HEADER_SIZE..=MAX_MBI_SIZE).contains(&total) {
        return Err(BootInfoError::BadLength);
    }
    parse_from(&PhysSource { mem, base: mbi }, mbi, total)
}

/// Pure parser over the boot information bytes that start at physical address
/// `mbi_phys`.
pub fn parse(mbi_phys: u64, bytes: &[u8]) -> Result<BootInfo, BootInfoError> {
    let total = u32_at(bytes, 0).ok_or(BootInfoError::Unreadable)?;
    if total < HEADER_SIZE {
        return Err(BootInfoError::BadLength);
    }
    if usize::try_from(total).map_or(true, |t| t > bytes.len()) {
        return Err(BootInfoError::Unreadable);
    }
    parse_from(&bytes, mbi_phys, total)
}

/// Where the MBI bytes come from: offsets are relative to its start.
trait Source {
    /// Fills `buf` from `offset`; false when that is not readable.
    fn read_at(&self, offset: u32, buf: &mut [u8]) -> bool;
}

impl Source for &[u8] {
    fn read_at(&self, offset: u32, buf: &mut [u8]) -> bool {
        let Ok(start) = usize::try_from(offset) else {
            return false;
        };
        match start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
        {
            Some(src) => {
                buf.copy_from_slice(src);
                true
            }
            None => false,
        }
    }
}

/// An MBI in physical memory at `base`.
struct PhysSource<'a, M: PhysMemory> {
    mem: &'a M,
    base: u64,
}

impl<M: PhysMemory> Source for PhysSource<'_, M> {
    fn read_at(&self, offset: u32, buf: &mut [u8]) -> bool {
        match self.base.checked_add(u64::from(offset)) {
            Some(addr) => self.mem.read(addr, buf),
            None => false,
        }
    }
}

/// A tag's position and header.
#[derive(Debug, Clone, Copy)]
struct Tag {
    offset: u32,
    kind: u32,
    size: u32,
}

/// What the tag walk collects.
struct Collected {
    memory: MemoryMap,
    has_mmap: bool,
    cmdline: Cmdline,
    rsdp_old: Option<u64>,
    rsdp_new: Option<u64>,
}

/// Walks the tags of an MBI of `total` bytes.
fn parse_from(src: &impl Source, mbi_phys: u64, total: u32) -> Result<BootInfo, BootInfoError> {
    let mut found = Collected {
        memory: MemoryMap::new(),
        has_mmap: false,
        cmdline: Cmdline::empty(),
        rsdp_old: None,
        rsdp_new: None,
    };
    let mut offset = HEADER_SIZE;
    while offset < total {
        let tag = read_tag(src, offset, total)?;
        if tag.kind == TAG_END {
            break;
        }
        handle_tag(src, mbi_phys, tag, &mut found)?;
        offset = next_tag_offset(tag);
    }
    if !found.has_mmap {
        return Err(BootInfoError::NoMemoryMap);
    }
    found.memory.normalize();
    Ok(BootInfo {
        protocol: BootProtocol::Multiboot2,
        memory: found.memory,
        cmdline: found.cmdline,
        rsdp: found.rsdp_new.or(found.rsdp_old),
    })
}

/// Reads and checks the tag header at `offset`.
fn read_tag(src: &impl Source, offset: u32, total: u32) -> Result<Tag, BootInfoError> {
    let mut header = [0u8; HEADER_SIZE as usize];
    let header_end = offset
        .checked_add(HEADER_SIZE)
        .ok_or(BootInfoError::BadLength)?;
    if header_end > total {
        return Err(BootInfoError::BadLength);
    }
    if !src.read_at(offset, &mut header) {
        return Err(BootInfoError::Unreadable);
    }
    let kind = u32_at(&header, 0).ok_or(BootInfoError::Unreadable)?;
    let size = u32_at(&header, 4).ok_or(BootInfoError::Unreadable)?;
    let fits = offset.checked_add(size).is_some_and(|end| end <= total);
    if size < HEADER_SIZE || !fits {
        return Err(BootInfoError::BadLength);
    }
    Ok(Tag { offset, kind, size })
}

/// The offset after `tag`, rounded up to 8 bytes (saturating: a tag that ends
/// at the very top just stops the walk).
fn next_tag_offset(tag: Tag) -> u32 {
    tag.offset.saturating_add(tag.size).saturating_add(7) & !7
}

/// Records what the kernel needs from one tag.
fn handle_tag(
    src: &impl Source,
    mbi_phys: u64,
    tag: Tag,
    found: &mut Collected,
) -> Result<(), BootInfoError> {
    match tag.kind {
        TAG_CMDLINE => found.cmdline = read_cmdline(src, tag)?,
        TAG_MMAP => {
            read_mmap(src, tag, &mut found.memory)?;
            found.has_mmap = true;
        }
        TAG_ACPI_OLD => found.rsdp_old = Some(tag_body_address(mbi_phys, tag)?),
        TAG_ACPI_NEW => found.rsdp_new = Some(tag_body_address(mbi_phys, tag)?),
        _ => {}
    }
    Ok(())
}

/// The physical address of the bytes after the tag header.
fn tag_body_address(mbi_phys: u64, tag: Tag) -> Result<u64, BootInfoError> {
    mbi_phys
        .checked_add(u64::from(tag.offset))
        .and_then(|a| a.checked_add(u64::from(HEADER_SIZE)))
        .ok_or(BootInfoError::BadLength)
}

/// Reads the command line tag's string (up to a little over [`MAX_CMDLINE`]
/// bytes, so truncation happens at a character boundary).
fn read_cmdline(src: &impl Source, tag: Tag) -> Result<Cmdline, BootInfoError> {
    let mut buf = [0u8; MAX_CMDLINE + 4];
    let body_len = usize::try_from(tag.size.saturating_sub(HEADER_SIZE)).unwrap_or(usize::MAX);
    let len = body_len.min(buf.len());
    let body = buf.get_mut(..len).ok_or(BootInfoError::BadLength)?;
    if !src.read_at(tag.offset.saturating_add(HEADER_SIZE), body) {
        return Err(BootInfoError::Unreadable);
    }
    Ok(Cmdline::from_bytes(body))
}

/// Adds the memory map tag's entries to `map`.
fn read_mmap(src: &impl Source, tag: Tag, map: &mut MemoryMap) -> Result<(), BootInfoError> {
    if tag.size < MMAP_HEADER_SIZE {
        return Err(BootInfoError::BadLength);
    }
    let mut sizes = [0u8; 4];
    if !src.read_at(tag.offset.saturating_add(HEADER_SIZE), &mut sizes) {
        return Err(BootInfoError::Unreadable);
    }
    let entry_size = u32::from_le_bytes(sizes);
    if entry_size < MMAP_ENTRY_MIN {
        return Err(BootInfoError::BadLength);
    }
    let count = (tag.size - MMAP_HEADER_SIZE) / entry_size;
    for index in 0..count {
        let offset = index
            .checked_mul(entry_size)
            .and_then(|o| o.checked_add(tag.offset))
            .and_then(|o| o.checked_add(MMAP_HEADER_SIZE))
            .ok_or(BootInfoError::BadLength)?;
        let (start, len, kind) = read_mmap_entry(src, offset)?;
        map.push_compacting(start, len, kind)?;
    }
    Ok(())
}

/// Reads one memory map entry: (base address, length, kind).
fn read_mmap_entry(
    src: &impl Source,
    offset: u32,
) -> Result<(u64, u64, RegionKind), BootInfoError> {
    let mut entry = [0u8; MMAP_ENTRY_MIN as usize];
    if !src.read_at(offset, &mut entry) {
        return Err(BootInfoError::Unreadable);
    }
    let decoded = (|| {
        Some((
            u64_at(&entry, 0)?,
            u64_at(&entry, 8)?,
            RegionKind::from_e820(u32_at(&entry, 16)?),
        ))
    })();
    decoded.ok_or(BootInfoError::Unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memmap::MemoryRegion;
    use crate::testmem::TestMem;
    use proptest::prelude::*;

    const MBI: u64 = 0x10_000;

    /// Builds an MBI from (type, body) tags, adding the end tag and sizes.
    fn mbi(tags: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        for (kind, body) in tags.iter().chain([(TAG_END, Vec::new())].iter()) {
            b.extend_from_slice(&kind.to_le_bytes());
            b.extend_from_slice(&(body.len() as u32 + 8).to_le_bytes());
            b.extend_from_slice(body);
            while !b.len().is_multiple_of(8) {
                b.push(0);
            }
        }
        let total = b.len() as u32;
        b[..4].copy_from_slice(&total.to_le_bytes());
        b
    }

    fn mmap_body(entry_size: u32, entries: &[(u64, u64, u32)]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&entry_size.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        for &(base, len, kind) in entries {
            let start = b.len();
            b.extend_from_slice(&base.to_le_bytes());
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(&kind.to_le_bytes());
            b.resize(start + entry_size as usize, 0);
        }
        b
    }

    fn grub_like() -> Vec<u8> {
        let rsdp_v1 = b"RSD PTR \x00BOCHS \x00\x00\x00\x00\x00\x00\x00".to_vec();
        let rsdp_v2 = vec![0xaa; 36];
        mbi(&[
            (TAG_CMDLINE, b"log=info test=all\0".to_vec()),
            (2, b"GRUB 2.12\0".to_vec()), // boot loader name
            (
                TAG_MMAP,
                mmap_body(
                    24,
                    &[
                        (0, 0x9_fc00, 1),
                        (0x9_fc00, 0x400, 2),
                        (0xf_0000, 0x1_0000, 2),
                        (0x10_0000, 0x7ee_0000, 1),
                        (0x7fe_0000, 0x2_0000, 2),
                    ],
                ),
            ),
            (TAG_ACPI_OLD, rsdp_v1),
            (TAG_ACPI_NEW, rsdp_v2),
        ])
    }

    #[test]
    fn parses_a_grub_like_mbi() {
        let bytes = grub_like();
        let info = parse(MBI, &bytes).unwrap();
        assert_eq!(info.protocol, BootProtocol::Multiboot2);
        assert_eq!(info.cmdline.as_str(), "log=info test=all");
        let region = |start, end, kind| MemoryRegion { start, end, kind };
        assert_eq!(
            info.memory.regions(),
            &[
                region(0, 0x9_f000, RegionKind::Usable),
                region(0x9_fc00, 0xa_0000, RegionKind::Reserved),
                region(0xf_0000, 0x10_0000, RegionKind::Reserved),
                region(0x10_0000, 0x7fe_0000, RegionKind::Usable),
                region(0x7fe_0000, 0x800_0000, RegionKind::Reserved),
            ]
        );
        // The new RSDP tag is preferred; its bytes follow the tag header.
        let rsdp = info.rsdp.unwrap();
        let offset = (rsdp - MBI) as usize;
        assert_eq!(&bytes[offset - 8..offset - 4], &TAG_ACPI_NEW.to_le_bytes());
        assert_eq!(bytes[offset], 0xaa);
    }

    #[test]
    fn read_boot_info_matches_parse() {
        let bytes = grub_like();
        let mut mem = TestMem::new();
        mem.add(MBI, &bytes);
        let from_mem = read_boot_info(&mem, MBI).unwrap();
        let from_bytes = parse(MBI, &bytes).unwrap();
        assert_eq!(from_mem.memory.regions(), from_bytes.memory.regions());
        assert_eq!(from_mem.cmdline.as_str(), from_bytes.cmdline.as_str());
        assert_eq!(from_mem.rsdp, from_bytes.rsdp);
    }

    #[test]
    fn old_rsdp_when_no_new_one_and_larger_entries() {
        let bytes = mbi(&[
            (
                TAG_MMAP,
                mmap_body(32, &[(0, 0x20_0000, 1), (0x1000, 0x1000, 4)]),
            ),
            (TAG_ACPI_OLD, vec![0; 20]),
        ]);
        let info = parse(MBI, &bytes).unwrap();
        assert_eq!(info.rsdp, Some(MBI + 8 + 16 + 64 + 8));
        assert_eq!(info.cmdline.as_str(), "");
        assert_eq!(info.memory.regions().len(), 3);
        assert_eq!(info.memory.usable_bytes(), 0x20_0000 - 0x1000);
    }

    #[test]
    fn no_memory_map() {
        let bytes = mbi(&[(TAG_CMDLINE, b"x\0".to_vec())]);
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::NoMemoryMap);
    }

    #[test]
    fn bad_tag_sizes() {
        let good = mbi(&[(TAG_MMAP, mmap_body(24, &[(0, 0x1000, 1)]))]);
        // Tag size below the header size.
        let mut bytes = good.clone();
        bytes[12..16].copy_from_slice(&4u32.to_le_bytes());
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::BadLength);
        // Tag size beyond the total size.
        let mut bytes = good.clone();
        bytes[12..16].copy_from_slice(&0x1000u32.to_le_bytes());
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::BadLength);
        let mut bytes = good.clone();
        bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::BadLength);
        // Memory map entry size too small (0 would never advance).
        let mut bytes = good.clone();
        bytes[16..20].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::BadLength);
        // Memory map tag too short for its own header.
        let bytes = mbi(&[(TAG_MMAP, vec![24, 0, 0, 0])]);
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::BadLength);
        // Total size leaving half a tag header.
        let mut bytes = good.clone();
        bytes.truncate(bytes.len() - 4);
        let total = bytes.len() as u32;
        bytes[..4].copy_from_slice(&total.to_le_bytes());
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::BadLength);
    }

    #[test]
    fn bad_total_sizes() {
        assert_eq!(parse(MBI, &[]).unwrap_err(), BootInfoError::Unreadable);
        assert_eq!(
            parse(MBI, &[4, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            BootInfoError::BadLength
        );
        let mut bytes = grub_like();
        bytes.truncate(bytes.len() - 8);
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::Unreadable);

        let mut mem = TestMem::new();
        assert_eq!(
            read_boot_info(&mem, MBI).unwrap_err(),
            BootInfoError::Unreadable
        );
        mem.add(MBI, &(MAX_MBI_SIZE + 8).to_le_bytes());
        mem.add(0x20_000, &[7, 0, 0, 0, 0, 0, 0, 0]);
        mem.add(0x30_000, &[64, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            read_boot_info(&mem, MBI).unwrap_err(),
            BootInfoError::Unreadable
        );
        assert_eq!(
            read_boot_info(&mem, 0x20_000).unwrap_err(),
            BootInfoError::BadLength
        );
        // Total size claims more than is readable.
        assert_eq!(
            read_boot_info(&mem, 0x30_000).unwrap_err(),
            BootInfoError::Unreadable
        );
        let mut big = vec![0u8; 8];
        big[..4].copy_from_slice(&(MAX_MBI_SIZE + 8).to_le_bytes());
        mem.add(0x40_000, &big);
        assert_eq!(
            read_boot_info(&mem, 0x40_000).unwrap_err(),
            BootInfoError::BadLength
        );
    }

    #[test]
    fn long_cmdline_is_truncated() {
        let mut body = vec![b'q'; 3000];
        body.push(0);
        let bytes = mbi(&[
            (TAG_CMDLINE, body),
            (TAG_MMAP, mmap_body(24, &[(0, 0x1000, 1)])),
        ]);
        let info = parse(MBI, &bytes).unwrap();
        assert_eq!(info.cmdline.as_str().len(), MAX_CMDLINE);
    }

    #[test]
    fn many_adjacent_entries_fit() {
        let entries: Vec<(u64, u64, u32)> = (0..300).map(|i| (i * 0x1000, 0x1000, 1)).collect();
        let bytes = mbi(&[(TAG_MMAP, mmap_body(24, &entries))]);
        let info = parse(MBI, &bytes).unwrap();
        assert_eq!(info.memory.usable_bytes(), 300 * 0x1000);
    }

    #[test]
    fn too_fragmented_map() {
        let entries: Vec<(u64, u64, u32)> = (0..300).map(|i| (i * 0x2000, 0x1000, 2)).collect();
        let bytes = mbi(&[(TAG_MMAP, mmap_body(24, &entries))]);
        assert_eq!(parse(MBI, &bytes).unwrap_err(), BootInfoError::BadLength);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(MBI, &bytes);
            let mut mem = TestMem::new();
            mem.add(MBI, &bytes);
            let _ = read_boot_info(&mem, MBI);
        }

        #[test]
        fn mutated_mbi_never_panics(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
        ) {
            let mut bytes = grub_like();
            for (index, value) in flips {
                let i = index.index(bytes.len());
                bytes[i] = value;
            }
            let _ = parse(MBI, &bytes);
            let mut mem = TestMem::new();
            mem.add(MBI, &bytes);
            let _ = read_boot_info(&mem, MBI);
        }
    }
}
